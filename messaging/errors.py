"""The one exception of the chat, with the SDK's error codes as named constants.

Codes are the Tencent Cloud Chat codes (shared/spec/TIM.md section 8). Where the SDK
has no dedicated code, the choice is written next to the constant and in
docs/PROTOCOL.md.
"""

from enum import IntEnum


class ErrorCode(IntEnum):
    # Web SDK codes
    NOT_LOGGED_IN = 2024
    EMPTY_FILE = 2108
    UNSUPPORTED_AUDIO = 2119
    IMAGE_NOT_SELECTED = 2251
    IMAGE_FORMAT = 2252
    IMAGE_TOO_LARGE = 2253
    AUDIO_UPLOAD_FAILED = 2300
    AUDIO_TOO_LARGE = 2301
    VIDEO_UPLOAD_FAILED = 2350
    VIDEO_TOO_LARGE = 2351
    VIDEO_FORMAT = 2352
    FILE_UPLOAD_FAILED = 2400  # also: the upload is not finished (not checked yet)
    FILE_NOT_SELECTED = 2401
    FILE_TOO_LARGE = 2402
    UPLOAD_NOT_FOUND = 2403  # "missing file URL": no such upload of this user
    NOT_A_MERGER_MESSAGE = 2450
    BAD_MERGER_KEY = 2451
    MERGER_DOWNLOAD_FAILED = 2452
    CANNOT_FORWARD = 2453  # e.g. group tips
    SEND_FAILED = 2100
    # No vendor code: the client's sync cursor is unknown to the server or too far behind
    # (messaging/queries/sync.py); it refetches the conversation list and open histories.
    RESYNC_REQUIRED = 2290
    BAD_CONVERSATION_TYPE = 2106  # also: sending to the system conversation
    DELETE_FAILED = 2111  # deleteMessage: more than 30 messages, or not all of one conversation
    SET_ALL_READ_FAILED = 2112  # setAllMessageRead: a scope the SDK does not know
    SYSTEM_NOTICE_NOT_DELETABLE = 2116  # deleteMessage/clearHistoryMessage in the system conversation
    NO_RECEIPT_NEEDED = 2114  # sendMessageReadReceipt: none of the messages asked for a receipt
    MODIFY_CONFLICT = 2480  # modifyMessage: the message changed since the version named (data: the current one)
    MODIFY_NOT_SUPPORTED = 2481  # modifyMessage: this message cannot be edited (type, recalled, window, AVChatRoom)
    CONVERSATION_NOT_FOUND = 2500
    INVALID_CONVERSATION_ID = 2503
    BAD_GROUP_TYPE = 2600
    CANNOT_JOIN_WORK_GROUP = 2601
    BAD_GROUP_ID = 2602
    CANNOT_TRANSFER_TO_SELF = 2621
    WORK_GROUP_NOT_DISMISSABLE = 2622  # by its owner: only the app admin dismisses a Work group
    USER_NOT_IN_GROUP = 2623
    # Server: group
    INTERNAL_ERROR = 10002
    BAD_API_NAME = 10003  # unknown op
    INVALID_PARAMETERS = 10004  # malformed or missing arguments, empty text
    FREQUENCY_LIMIT = 10006  # too many operations: unfinished uploads at once, reports in an hour
    TOO_MANY_ACCOUNTS = 10005  # more userIDs in one request than the op takes (presence ops)
    PERMISSION_DENIED = 10007  # not a member, or a role that may not do it
    OWNER_MAY_NOT_QUIT = 10009
    GROUP_NOT_FOUND = 10010
    JSON_PARSE_ERROR = 10011
    ALREADY_MEMBER = 10013
    GROUP_FULL = 10014
    MUTED_IN_GROUP = 10017
    ACCOUNT_NOT_FOUND = 10019
    GROUP_ID_IN_USE = 10021
    GROUP_SEND_RATE_EXCEEDED = 10023  # the group's send rate limit shed this priority (messaging/ratelimit.py)
    APPLICATION_HANDLED = 10024  # handleGroupApplication: the application was already handled
    MESSAGE_NOT_FOUND = 10030  # no such message in a conversation the user may see
    GROUP_REVOKE_WINDOW_PASSED = 10031  # a group message's sender recalls it after the window
    MESSAGE_NOT_REVOCABLE = 10032  # a group tip or a system notice cannot be recalled
    AVCHATROOM_NOT_DELETABLE = 10035  # deleteMessage/clearHistoryMessage in an AVChatRoom
    RECEIPT_INFO_NOT_FOUND = 10062  # getGroupMessageReadMemberList: not a group message that asked for receipts
    # Server: C2C
    INVALID_USER_ID = 20003  # C2C to a user that does not exist
    IN_PEER_BLACKLIST = 20007  # C2C from a user the receiver has blocked: nothing stored
    NOT_FRIENDS = 20009  # C2C to a non-friend while FRIENDSHIP_CHECK is on (conf.py)
    MUTED = 20012
    C2C_REVOKE_WINDOW_PASSED = 20016  # a C2C message's sender recalls it after the window
    # Server: profiles (the vendor's portrait_set codes)
    PROFILE_VALUE_TOO_LONG = 40601  # a profile field's value is longer than its limit
    PROFILE_BAD_VALUE = 40605  # a standard profile field's value is not one it takes (gender, allowType, birthday)
    # Server: relationship chain (TIMErrorCode.h ERR_SVR_FRIENDSHIP_*)
    FRIENDSHIP_INVALID_PARAMETERS = 30001  # also: already a friend / blocked, not a friend / not blocked
    FRIENDSHIP_ACCOUNT_NOT_FOUND = 30003
    FRIEND_COUNT_LIMIT = 30010
    PENDENCY_LIMIT = 30012
    BLACKLIST_LIMIT = 30013
    PEER_FRIEND_LIMIT = 30014
    IN_SELF_BLACKLIST = 30515  # addFriend: the target is on your block list
    ALLOW_TYPE_DENY_ANY = 30516  # addFriend: the target accepts no friend requests
    IN_PEER_BLACKLIST_ADD = 30525  # addFriend: you are on the target's block list
    ALLOW_TYPE_NEED_CONFIRM = 30539  # addFriend's result code (not an error): the request is pending
    PENDENCY_NOT_FOUND = 30614  # no such friend application
    DEL_NONFRIEND = 31704  # deleteFriend: not a friend (in failureUserIDList)

    # Server: message reactions (the vendor's codes: addMessageReaction's documentation)
    TOO_MANY_REACTIONS = 23005  # the message has rules.MAX_REACTIONS_PER_MESSAGE distinct reactions
    ALREADY_REACTED = 23007  # addMessageReaction: the reaction already holds you
    NOT_REACTED = 23008  # removeMessageReaction: the reaction does not hold you (the vendor's next code; unverified)

    # Server: accounts
    ACCOUNT_DOES_NOT_EXIST = 70107  # getUserStatus / subscribeUserStatus: in failureUserList
    # Server: conversation groups (createConversationGroup and the others)
    CONVERSATION_GROUP_FULL = 51008  # more than 1,000 conversations in one group
    CONVERSATION_GROUP_NOT_FOUND = 51009
    CONVERSATION_GROUP_LIMIT = 51010  # more than 20 conversation groups
    CONVERSATION_GROUP_BAD_NAME = 51011  # empty, longer than 32 bytes, or (ours) already taken
    # Common
    SENSITIVE_WORDS = 80001
    BODY_TOO_LONG = 80002


class ChatError(Exception):
    """Raised by access checks and actions; transports turn it into an error reply."""

    def __init__(self, code: ErrorCode, message: str, data=None):
        super().__init__(message)
        self.code = int(code)
        self.message = message
        # What the error reply carries besides code and message (None: nothing), e.g. the
        # current version of a message that a modifyMessage conflicted with.
        self.data = data

    def as_reply(self):
        reply = {"code": self.code, "message": self.message}
        if self.data is not None:
            reply["data"] = self.data
        return reply
