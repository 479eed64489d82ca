"""Every WebSocket op's arguments, declared once as typed msgspec structs.

The consumer decodes a frame's ``args`` straight into the op's struct: a wrong type,
a missing required key, an out-of-range number or a key the op does not know is
refused with an error reply (10004, or the code the field names: 2503 for a
``conversationID``, 2602 for a ``groupID``) before any op code runs. Nothing is
defaulted silently: a default is part of the declaration and of docs/PROTOCOL.md,
whose argument tables are generated from these structs (``python manage.py
protocol_tables --write``; ``tests/test_schemas.py`` fails when they drift).

msgspec, not pydantic: decoding and validating a typical ``sendMessage`` frame costs
1.5 µs with msgspec, 10 µs with pydantic 2 and 4 µs for ``json.loads`` alone
(``python -m bench.frames``, docs/PERFORMANCE.md). The frame is decoded once: the
envelope with ``args`` kept raw, then ``args`` into the op's struct.

What a message's ``payload`` holds depends on its ``type``; those rules are in
``actions/message_types.py``, one builder per type.
"""

import re
import typing
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from messaging import conf, rules
from messaging.errors import ChatError, ErrorCode

# --- the field vocabulary -----------------------------------------------------------------

MAX_SAFE_INT = 2**53  # the largest integer a JavaScript number holds exactly, plus one


def described(kind, description: str, *, code: ErrorCode | None = None):
    """``kind`` with its line in the protocol document and, when a bad value has a code
    of its own (not 10004), that code."""
    extra = {"code": int(code)} if code is not None else {}
    return Annotated[kind, Meta(description=description, extra=extra)]


SYNC_MAX_CURSORS = 1000
ConversationID = Annotated[str, Meta(min_length=1)]
GroupID = Annotated[str, Meta(min_length=1)]
UserID = Annotated[str, Meta(min_length=1)]
SafeInt = Annotated[int, Meta(ge=0, lt=MAX_SAFE_INT)]


class Args(Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """An op's arguments. A key that is not declared is refused (10004)."""


class NoArgs(Args):
    """An op that takes no arguments (``{}``)."""


class MessageRef(Args):
    """A stored message, named as the viewer sees it."""

    ID: described(Annotated[str, Meta(min_length=1)], "the message's `ID`")
    conversationID: described(ConversationID, "the conversation it is in, as you see it", code=ErrorCode.INVALID_CONVERSATION_ID)


class OutgoingMessage(Args):
    conversationType: described(str, '`"C2C"` or `"GROUP"`', code=ErrorCode.BAD_CONVERSATION_TYPE)
    to: described(str, "C2C: the peer's userID, not your own; GROUP: the groupID")
    type: described(str, "a sendable type (§3); ignored with `forward`") = ""
    payload: described(dict[str, Any], "what the type needs (§4.2.1); ignored with `forward`") = {}
    ID: described(
        Annotated[str, Meta(min_length=1, max_length=conf.DEFAULTS["MAX_CLIENT_MESSAGE_ID"])] | None,
        "1–64 characters, or `null` for a server-made ID. The **idempotency key**, see below. It must not be an ID "
        "this sender used in another conversation, nor the ID of another sender's message in the same conversation.",
    ) = None
    priority: described(Literal[rules.PRIORITIES], "`High`, `Normal`, `Low` or `Lowest`") = "Normal"
    cloudCustomData: described(str, "opaque; stored and delivered") = ""
    random: described(SafeInt, "stored; an integer from 0 to 2^53 − 1 (no fraction, no exponent, not `true`)") = 0
    clientTime: described(SafeInt, "stored as given (seconds), the same range as `random`; 0 means the server time") = 0
    atUserList: described(
        list[str],
        'group `TIMTextElem` only: up to 100 userIDs to mention, and/or `"__kImSDK_MesssageAtALL__"` for everyone. '
        "Duplicates are dropped. Mentions of non-members are kept in the message but notify nobody.",
    ) = []
    forward: described(
        MessageRef | None,
        '`{"ID", "conversationID"}` of a message you may see: the new message copies its `type` and `payload` '
        "(and refers to the same files). Mentions are not copied.",
    ) = None
    needReadReceipt: described(
        bool, "ask the receivers for read receipts (`sendMessageReadReceipt`); not in an AVChatRoom (10004)"
    ) = False
    receiverList: described(
        Annotated[list[UserID], Meta(max_length=rules.MAX_RECEIVERS)],
        "a **targeted group message**: up to 50 members who alone (with the sender) see it, live and in history; "
        "duplicates are dropped. GROUP only, not with `atUserList`, not in an AVChatRoom; every userID must be a member. "
        "`[]`: everyone",
    ) = []


class OfflinePushInfo(Args):
    """The SDK's offline-push settings (the web has no push of its own)."""

    disablePush: described(bool, "no offline push for this message") = False
    disableVoipPush: described(bool, "no VoIP push") = False
    title: described(str, "the push's title") = ""
    description: described(str, "the push's text") = ""
    extension: described(str, "data passed through the push") = ""
    ignoreIOSBadge: described(bool, "iOS: do not count it on the app badge") = False
    androidOPPOChannelID: described(str, "OPPO (Android 8+) channel ID") = ""


class MessageControlInfo(Args):
    """The SDK's messageControlInfo: stored with the message."""

    excludedFromUnreadCount: described(bool, "stored, but nobody's `unreadCount` grows") = False
    excludedFromLastMessage: described(
        bool, "stored, but no conversation's `lastMessage` (nor its place in the list) changes, the sender's included"
    ) = False
    excludedFromContentModeration: described(bool, "not checked against the banned words (no 80001, no mask)") = False


class SendOptions(Args):
    onlineUserOnly: described(
        bool,
        "deliver to the sockets open now and store nothing (no `sequence`, no history, no unread, no `lastMessage`); "
        "text, custom, face and location only; not in an AVChatRoom; not with `messageControlInfo`",
    ) = False
    offlinePushInfo: described(
        OfflinePushInfo | None, "checked and stored with the message (the web has no push of its own; a push gateway may read it)"
    ) = None
    messageControlInfo: described(MessageControlInfo | None, "stored with the message; not with `onlineUserOnly`") = None


class SendMessage(Args):
    message: described(OutgoingMessage, "the message to store and deliver")
    options: described(SendOptions, "the SDK's send options") = SendOptions()


class ConversationArgs(Args):
    conversationID: described(ConversationID, "required", code=ErrorCode.INVALID_CONVERSATION_ID)


class GetMessageList(ConversationArgs):
    nextReqMessageID: described(
        str, 'the `nextReqMessageID` of the previous page: the messages *older* than that one; `""`: the newest page'
    ) = ""
    count: described(
        Annotated[int, Meta(ge=1, lt=MAX_SAFE_INT)],
        "at least 1; values above 15 (`MESSAGE_PAGE_SIZE`) are cut to 15, as the SDK does",
    ) = conf.DEFAULTS["MESSAGE_PAGE_SIZE"]


class GetMessageListHopping(ConversationArgs):
    sequence: described(
        Annotated[int, Meta(ge=1, lt=MAX_SAFE_INT)] | None,
        "where to start: a message's `sequence` (that message is included); give this or `time`",
    ) = None
    time: described(
        Annotated[int, Meta(ge=0, lt=MAX_SAFE_INT)] | None, "where to start: a server time in seconds; give this or `sequence`"
    ) = None
    count: described(
        Annotated[int, Meta(ge=1, lt=MAX_SAFE_INT)], "at least 1; values above 15 (`MESSAGE_PAGE_SIZE`) are cut to 15"
    ) = conf.DEFAULTS["MESSAGE_PAGE_SIZE"]
    direction: described(Literal[0, 1], "`0`: up, older messages (the default); `1`: down, newer ones") = 0


class FindMessage(ConversationArgs):
    messageID: described(Annotated[str, Meta(min_length=1)], "the message's `ID`")


class Sync(Args):
    cursors: described(
        Annotated[dict[Annotated[str, Meta(max_length=64)], SafeInt], Meta(max_length=SYNC_MAX_CURSORS)],
        "conversationID → the `syncCursor` the client last applied for it (from `getConversationList`, a message or "
        "recall patch, or the previous `sync` page), at most 1,000; a conversation left out is new to the client",
    ) = {}


class PinConversation(ConversationArgs):
    isPinned: described(bool, "required; JSON `true` or `false`")


# --- conversation management (issue 11 item 6) -------------------------------------------

ConversationIDList = described(
    Annotated[list[ConversationID], Meta(min_length=1, max_length=rules.MAX_MARK_CONVERSATIONS)],
    "1–100 conversationIDs of yours; one that is not yours (or unknown) is reported in `failureConversationIDList` (2500)",
    code=ErrorCode.INVALID_CONVERSATION_ID,
)
ConversationGroupName = described(
    str,
    f"1–{rules.MAX_CONVERSATION_GROUP_NAME_BYTES} bytes of UTF-8 (else 51011)",
    code=ErrorCode.CONVERSATION_GROUP_BAD_NAME,
)


class SetConversationDraft(ConversationArgs):
    draftText: described(
        Annotated[str, Meta(max_length=rules.MAX_DRAFT_CHARS)],
        f'the draft, at most {rules.MAX_DRAFT_CHARS} characters; `""` (the default) clears it',
    ) = ""


class MarkConversation(Args):
    conversationIDList: ConversationIDList
    markType: described(
        Annotated[int, Meta(ge=1, le=2**62)],
        "`TYPES.CONV_MARK_TYPE_STAR` (1), `_UNREAD` (2), `_FOLD` (4), `_HIDE` (8), or an extended mark 2^n, 32 ≤ n ≤ 62",
    )
    enableMark: described(bool, "required; `true` sets the mark, `false` clears it")


class ConversationGroupArgs(Args):
    groupName: ConversationGroupName


class CreateConversationGroup(ConversationGroupArgs):
    conversationIDList: ConversationIDList


class ConversationGroupMembers(ConversationGroupArgs):
    conversationIDList: ConversationIDList


class RenameConversationGroup(Args):
    oldName: described(str, "the group's name now (51009 if there is none)", code=ErrorCode.CONVERSATION_GROUP_NOT_FOUND)
    newName: ConversationGroupName


class SetMessageRemindType(Args):
    messageRemindType: described(
        Literal[rules.REMIND_TYPES],
        "`TYPES.MSG_REMIND_ACPT_AND_NOTE` (`AcceptAndNotify`), `_ACPT_NOT_NOTE` (`AcceptNotNotify`) or `_DISCARD` (`Discard`)",
    )
    groupID: described(GroupID | None, "a group of yours; or give `userIDList`", code=ErrorCode.BAD_GROUP_ID) = None
    userIDList: described(
        list[UserID] | None,
        f"C2C peers, at most {rules.MAX_REMIND_USER_IDS} (more: 10005); or give `groupID`",
    ) = None


class DownloadMergerMessage(Args):
    message: described(MessageRef, "the merged message, a message you may see")
    downloadKey: described(
        str | None,
        "opens a merged message **nested** inside `message`: the `downloadKey` of a merged item in `message`'s list "
        '(at any depth); `""` or `null` opens `message` itself',
    ) = None


class RevokeMessage(Args):
    message: described(MessageRef, "the message to recall: your own within the revoke window, or a member's as group owner/admin")


class EditedMessage(MessageRef):
    """A message with its new content, as the SDK's ``modifyMessage(message)`` passes it."""

    version: described(SafeInt, "the `version` of the message you edited (from the message you hold); another: 2480")
    payload: described(
        dict[str, Any], "the new payload: `{text}` for `TIMTextElem`, `{data, description, extension}` for `TIMCustomElem`"
    )
    cloudCustomData: described(str | None, "the new cloudCustomData; `null` or absent keeps it") = None


class ModifyMessage(Args):
    message: described(EditedMessage, "your own text or custom message, within the edit window, with its new content")


class ReportMessage(Args):
    """Our extension (the SDK has no report call): a user reports a message to the moderators."""

    message: described(MessageRef, "a message you can see, sent by someone else (not a group tip or notice)")
    reason: described(Literal[rules.REPORT_REASONS], '`"spam"`, `"abuse"`, `"illegal"` or `"other"`')
    description: described(
        Annotated[str, Meta(max_length=rules.MAX_REPORT_DESCRIPTION)],
        "your words to the moderators, at most 500 characters (optional)",
    ) = ""


ReceiptMessageList = described(
    Annotated[list[MessageRef], Meta(min_length=1, max_length=rules.READ_RECEIPT_MAX_MESSAGES)],
    "1–30 messages (`{ID, conversationID}`), all of one conversation",
)


class DeleteMessage(Args):
    messageList: described(
        Annotated[list[MessageRef], Meta(min_length=1, max_length=rules.DELETE_MAX_MESSAGES)],
        "1–30 messages (`{ID, conversationID}`) you see, all of one conversation",
        code=ErrorCode.DELETE_FAILED,
    )


class SetAllMessageRead(Args):
    scope: described(
        Literal[rules.READ_ALL_MSG, rules.READ_ALL_C2C_MSG, rules.READ_ALL_GROUP_MSG],
        f'`"{rules.READ_ALL_MSG}"` (C2C and group), `"{rules.READ_ALL_C2C_MSG}"` or `"{rules.READ_ALL_GROUP_MSG}"`'
        " (the SDK's `TYPES.READ_ALL_*`)",
        code=ErrorCode.SET_ALL_READ_FAILED,
    ) = rules.READ_ALL_MSG


class SendMessageReadReceipt(Args):
    messageList: ReceiptMessageList


class GetMessageReadReceiptList(Args):
    messageList: ReceiptMessageList


class GetGroupMessageReadMemberList(Args):
    message: described(MessageRef, "a group message that asked for receipts")
    filter: described(Literal[rules.READ_MEMBERS, rules.UNREAD_MEMBERS], "`0`: who read it; `1`: who has not") = (
        rules.READ_MEMBERS
    )
    cursor: described(str, '`""` for the first page, then the `cursor` of the previous page') = ""
    count: described(Annotated[int, Meta(ge=1, lt=MAX_SAFE_INT)], "at least 1; values above 100 are cut to 100") = (
        rules.READ_MEMBER_PAGE
    )


ReactionID = described(
    Annotated[str, Meta(min_length=1, max_length=rules.REACTION_ID_MAX_LENGTH)],
    "one emoji (Unicode, or a code of the site's emoji set such as `[微笑]`), at most 32 characters",
)


class MessageReactionArgs(Args):
    message: described(MessageRef, "a message you can see (not recalled, not a group tip or notice)")
    reactionID: ReactionID


class GetMessageReactions(Args):
    messageList: described(
        Annotated[list[MessageRef], Meta(min_length=1, max_length=rules.REACTION_MAX_MESSAGES)],
        "1–20 messages (`{ID, conversationID}`), all of one conversation",
    )
    maxUserCountPerReaction: described(
        Annotated[int, Meta(ge=0, le=rules.REACTION_MAX_PARTIAL_USERS)], "0–10 users listed per reaction"
    ) = rules.REACTION_MAX_PARTIAL_USERS


class GetAllUserListOfMessageReaction(Args):
    message: described(MessageRef, "a message you can see")
    reactionID: ReactionID
    nextSeq: described(SafeInt, "`0` for the first page, then the `nextSeq` of the previous page") = 0
    count: described(Annotated[int, Meta(ge=1, le=rules.REACTION_USER_PAGE)], "1–100 users a page") = rules.REACTION_USER_PAGE


class MemberRef(Args):
    userID: described(UserID, "a user to add")


class CreateGroup(Args, kw_only=True):
    type: described(str, '`"Private"` (Work), `"Public"` or `"ChatRoom"` (Meeting)', code=ErrorCode.BAD_GROUP_TYPE) = "Private"
    name: described(str, "required; not blank; at most 30 bytes (UTF-8); stored trimmed")
    groupID: described(
        str | None,
        'printable ASCII `0x21`–`0x7E`, 1–47 characters, not starting with `@TGS#`; `""` or `null`: a generated `@TGS#…`',
        code=ErrorCode.BAD_GROUP_ID,
    ) = None
    memberList: described(
        list[MemberRef | UserID],
        '`{"userID"}` objects (the SDK\'s form) or userID strings; the creator is the `Owner` and skipped if listed',
    ) = []
    introduction: described(str, "at most 240 bytes") = ""
    notification: described(str, "at most 300 bytes") = ""
    avatar: described(str, "at most 100 bytes") = ""
    joinOption: described(
        Literal["FreeAccess", "NeedPermission", "DisableApply"] | None,
        "Public and Meeting groups: `FreeAccess` (the default) or `DisableApply`; Public groups also "
        "`NeedPermission` (joins are applications, §5.43). Work groups are always `DisableApply`.",
    ) = None

    def member_ids(self) -> list[str]:
        return [m if isinstance(m, str) else m.userID for m in self.memberList]


class GroupArgs(Args):
    groupID: described(GroupID, "required", code=ErrorCode.BAD_GROUP_ID)


class GroupMembersArgs(GroupArgs):
    userIDList: described(Annotated[list[UserID], Meta(min_length=1)], "required, not empty")


class DeleteGroupMember(GroupMembersArgs):
    reason: described(str, "optional; accepted and not stored") = ""


class GetGroupMemberList(GroupArgs):
    count: described(Annotated[int, Meta(ge=1, lt=MAX_SAFE_INT)], "at least 1; values above 100 are cut to 100") = 100
    offset: described(Annotated[int, Meta(ge=0, lt=2**31)], "at least 0 (the `offset` of the previous page)") = 0


class CustomField(Args):
    """One ``{key, value}`` of ``groupCustomField`` / ``memberCustomField`` (TIM.md 6.3)."""

    key: described(Annotated[str, Meta(pattern=rules.CUSTOM_FIELD_KEY_PATTERN)], "1 to 16 of `A-Z a-z 0-9 _`")
    value: described(str, 'the value; `""` removes the key')


class UpdateGroupProfile(GroupArgs):
    """The SDK's updateGroupProfile: a field left out (or ``null``) stays as it is."""

    name: described(str | None, "not blank; at most 30 bytes (UTF-8); stored trimmed") = None
    introduction: described(str | None, "at most 240 bytes") = None
    notification: described(str | None, "at most 300 bytes") = None
    avatar: described(str | None, "at most 100 bytes") = None
    joinOption: described(
        Literal["FreeAccess", "NeedPermission", "DisableApply"] | None,
        "Public and Meeting groups: `FreeAccess` or `DisableApply`; Public groups also `NeedPermission`",
    ) = None
    muteAllMembers: described(bool | None, "`true` mutes every ordinary member (owner and admins only)") = None
    groupCustomField: described(
        Annotated[list[CustomField], Meta(min_length=1, max_length=rules.MAX_GROUP_CUSTOM_FIELDS)] | None,
        '`[{key, value}]`: 1 to 10 keys; a value at most 512 bytes, `""` removes the key; the group keeps at most 10',
    ) = None


class GroupMemberArgs(GroupArgs):
    userID: described(UserID, "a member of the group")


class SetGroupMemberRole(GroupMemberArgs):
    role: described(Literal["Admin", "Member"], '`"Admin"` or `"Member"`')


class SetGroupMemberMuteTime(GroupMemberArgs):
    muteTime: described(Annotated[int, Meta(ge=0, lt=2**32)], "seconds from now, at most 2^32 − 1; `0` unmutes")


class SetGroupMemberNameCard(GroupArgs):
    nameCard: described(str, 'at most 50 bytes (UTF-8); `""` clears it')
    userID: described(UserID | None, "a member of the group; left out: yourself") = None


class SetGroupMemberCustomField(GroupArgs):
    memberCustomField: described(
        Annotated[list[CustomField], Meta(min_length=1, max_length=rules.MAX_MEMBER_CUSTOM_FIELDS)],
        '`[{key, value}]`: 1 to 5 keys; a value at most 64 bytes, `""` removes the key; a member keeps at most 5',
    )
    userID: described(UserID | None, "a member of the group; left out: yourself") = None


class GetGroupMemberProfile(GroupArgs):
    userIDList: described(
        Annotated[list[UserID], Meta(min_length=1, max_length=rules.MAX_MEMBER_PROFILE_IDS)], "required; 1 to 50 userIDs"
    )


class ChangeGroupOwner(GroupArgs):
    newOwnerID: described(UserID, "a member of the group, not the owner")


class JoinGroup(GroupArgs):
    applyMessage: described(str, "a NeedPermission group: your words to its admins, at most 300 bytes") = ""


class NoticeRef(Args):
    """A group system notice, named by its ID in your system conversation."""

    ID: described(Annotated[str, Meta(min_length=1)], "the notice message's `ID`")
    conversationID: described(
        Literal[rules.SYSTEM_CONVERSATION_ID], '`"@TIM#SYSTEM"` (optional)', code=ErrorCode.INVALID_CONVERSATION_ID
    ) = rules.SYSTEM_CONVERSATION_ID


class HandleGroupApplication(Args):
    handleAction: described(Literal["Agree", "Reject"], '`"Agree"` or `"Reject"`')
    message: described(NoticeRef, "the join application notice (operationType 1) you received")
    handleMessage: described(str, "your words to the applicant, at most 300 bytes") = ""


class GetUserProfile(Args):
    userIDList: described(Annotated[list[str], Meta(max_length=100)], "required; at most 100 userIDs")


# --- profiles and the directory (issue 8 items 4 and 6) ---------------------------------------

GENDERS = ("Gender_Type_Unknown", "Gender_Type_Female", "Gender_Type_Male")
ALLOW_TYPES = ("AllowType_Type_NeedConfirm", "AllowType_Type_AllowAny", "AllowType_Type_DenyAny")
UInt32 = Annotated[int, Meta(ge=0, le=2**32 - 1)]


class ProfileCustomItem(Args):
    key: described(str, "`Tag_Profile_Custom_` and 1–8 letters, digits or `_`")
    value: described(str, 'at most 500 bytes (UTF-8); `""` removes the key')


class UpdateMyProfile(Args):
    """The SDK's updateMyProfile: a field left out (or ``null``) stays as it is."""

    nick: described(str | None, "at most 64 characters and 500 bytes (40601)") = None
    avatar: described(
        str | None,
        "an image on this site: `/media/...` (see `POST /api/uploads/<uuid>/avatar`), `/static/...`; "
        'another host: 10004; at most 500 bytes; `""` clears it',
    ) = None
    selfSignature: described(str | None, "at most 500 bytes (40601)") = None
    gender: described(
        Literal[GENDERS] | None, "`TYPES.GENDER_UNKNOWN`, `GENDER_FEMALE` or `GENDER_MALE`", code=ErrorCode.PROFILE_BAD_VALUE
    ) = None
    birthday: described(UInt32 | None, "a uint32, by convention `YYYYMMDD` (`0`: none)", code=ErrorCode.PROFILE_BAD_VALUE) = None
    location: described(str | None, "at most 16 bytes (40601)") = None
    allowType: described(
        Literal[ALLOW_TYPES] | None,
        "who may add you as a friend: `TYPES.ALLOW_TYPE_NEED_CONFIRM`, `ALLOW_TYPE_ALLOW_ANY` or `ALLOW_TYPE_DENY_ANY`",
        code=ErrorCode.PROFILE_BAD_VALUE,
    ) = None
    profileCustomField: described(
        Annotated[list[ProfileCustomItem], Meta(max_length=20)] | None,
        '`[{"key", "value"}]`, merged into the stored custom fields; at most 20 keys in all',
    ) = None

    def model_fields(self) -> dict:
        """The given fields under their model names (``actions.update_user_profile``)."""
        given = {
            "nick": self.nick,
            "avatar": self.avatar,
            "self_signature": self.selfSignature,
            "gender": self.gender,
            "birthday": self.birthday,
            "location": self.location,
            "allow_type": self.allowType,
        }
        fields = {name: value for name, value in given.items() if value is not None}
        if self.profileCustomField is not None:
            fields["profile_custom_field"] = {item.key: item.value for item in self.profileCustomField}
        return fields


class SearchCloudUsers(Args):
    """The SDK's searchCloudUsers: the people directory (prefix match, see §5)."""

    keywordList: described(
        Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(min_length=1, max_length=5)],
        "1–5 keywords of at most 64 characters; each is a case-insensitive prefix of the userID or the nick",
    )
    keywordListMatchType: described(Literal["or", "and"], "`or`: any keyword matches; `and`: every keyword") = "or"
    gender: described(Literal["Gender_Type_Female", "Gender_Type_Male"] | None, "only this gender") = None
    miniBirthday: described(UInt32 | None, "only birthdays from this one (`YYYYMMDD`)") = None
    maxBirthday: described(UInt32 | None, "only birthdays up to this one") = None
    cursor: described(str, 'the `cursor` of the previous page; `""`: the first page') = ""
    count: described(Annotated[int, Meta(ge=1, le=100)], "1–100 results a page") = 20


class SearchCloudMessages(Args):
    """The SDK's searchCloudMessages: messages by text across the user's conversations or in one (§5)."""

    keywordList: described(
        Annotated[list[Annotated[str, Meta(max_length=64)]], Meta(max_length=5)],
        "0–5 keywords of at most 64 characters, each a case-insensitive substring of the text (any script); "
        "required when neither `senderUserIDList` nor `messageTypeList` is given",
    ) = []
    keywordListMatchType: described(Literal["or", "and"], "`or`: any keyword matches; `and`: every keyword") = "or"
    senderUserIDList: described(
        Annotated[list[Annotated[str, Meta(min_length=1, max_length=64)]], Meta(max_length=5)],
        "only messages of these senders (at most 5)",
    ) = []
    messageTypeList: described(
        Annotated[
            list[
                Literal[
                    "TIMTextElem",
                    "TIMImageElem",
                    "TIMSoundElem",
                    "TIMVideoFileElem",
                    "TIMFileElem",
                    "TIMCustomElem",
                    "TIMFaceElem",
                    "TIMLocationElem",
                    "TIMRelayElem",
                ]
            ],
            Meta(max_length=9),
        ],
        "only these message types (`TIM.TYPES.MSG_*`); empty: every type people send",
    ) = []
    conversationID: described(
        str, 'search this conversation only; `""`: every conversation', code=ErrorCode.INVALID_CONVERSATION_ID
    ) = ""
    timePosition: described(UInt32, "seconds since the epoch: messages up to then; 0: now") = 0
    timePeriod: described(UInt32, "seconds back from `timePosition`; 0: no limit") = 0
    cursor: described(str, 'the `cursor` of the previous page; `""`: the first page') = ""
    count: described(Annotated[int, Meta(ge=1, le=100)], "our extension: 1–100 results a page") = 20


class GetPublicGroupList(Args):
    """Our extension (the SDK has no browse list): Public and Meeting groups one may join."""

    cursor: described(str, 'the `cursor` of the previous page; `""`: the first page') = ""
    count: described(Annotated[int, Meta(ge=1, le=100)], "1–100 groups a page") = 20


# --- the relationship chain (actions/friends.py) ---------------------------------------------

FRIENDSHIP_CODE = ErrorCode.FRIENDSHIP_INVALID_PARAMETERS
FriendIDList = described(
    Annotated[list[UserID], Meta(min_length=1, max_length=1000)], "required; 1 to 1,000 userIDs", code=FRIENDSHIP_CODE
)
Remark = described(Annotated[str, Meta(max_length=rules.MAX_REMARK_BYTES)], "at most 96 bytes (UTF-8)", code=FRIENDSHIP_CODE)


class AddFriend(Args):
    to: described(UserID, "the user to add, not yourself", code=FRIENDSHIP_CODE)
    source: described(
        Annotated[str, Meta(max_length=64)], "where the request comes from, `AddSource_Type_<keyword>`", code=FRIENDSHIP_CODE
    ) = ""
    wording: described(
        Annotated[str, Meta(max_length=rules.MAX_WORDING_BYTES)], "the request's message, at most 256 bytes", code=FRIENDSHIP_CODE
    ) = ""
    type: described(
        Literal[rules.SNS_ADD_TYPE_SINGLE, rules.SNS_ADD_TYPE_BOTH],
        "`Add_Type_Both` (both lists, the default) or `Add_Type_Single` (yours only)",
        code=FRIENDSHIP_CODE,
    ) = rules.SNS_ADD_TYPE_BOTH
    remark: Remark = ""
    groupName: described(str, "a friend group: accepted and not kept") = ""


class FriendUserIDs(Args):
    userIDList: FriendIDList


class DeleteFriend(FriendUserIDs):
    type: described(
        Literal[rules.SNS_DELETE_TYPE_SINGLE, rules.SNS_DELETE_TYPE_BOTH],
        "`Delete_Type_Both` (the default: you leave their list too) or `Delete_Type_Single`",
        code=FRIENDSHIP_CODE,
    ) = rules.SNS_DELETE_TYPE_BOTH


class GetFriendProfile(Args):
    userIDList: described(
        Annotated[list[UserID], Meta(min_length=1, max_length=100)], "required; 1 to 100 userIDs", code=FRIENDSHIP_CODE
    )


class UpdateFriend(Args):
    userID: described(UserID, "a user in your friend list", code=FRIENDSHIP_CODE)
    remark: Remark


class CheckFriend(FriendUserIDs):
    type: described(
        Literal[rules.SNS_CHECK_TYPE_SINGLE, rules.SNS_CHECK_TYPE_BOTH],
        "`CheckResult_Type_Both` (the default) or `CheckResult_Type_Single`",
        code=FRIENDSHIP_CODE,
    ) = rules.SNS_CHECK_TYPE_BOTH


class FriendApplicationArgs(Args):
    userID: described(UserID, "the other party of the request", code=FRIENDSHIP_CODE)


class AcceptFriendApplication(FriendApplicationArgs):
    remark: Remark = ""
    type: described(
        Literal[rules.SNS_APPLICATION_AGREE, rules.SNS_APPLICATION_AGREE_AND_ADD],
        "`Response_Action_AgreeAndAdd` (the default: you add them too) or `Response_Action_Agree`",
        code=FRIENDSHIP_CODE,
    ) = rules.SNS_APPLICATION_AGREE_AND_ADD


class DeleteFriendApplication(FriendApplicationArgs):
    type: described(
        Literal[rules.SNS_APPLICATION_SENT_TO_ME, rules.SNS_APPLICATION_SENT_BY_ME],
        "required: `Pendency_Type_ComeIn` (a request to you) or `Pendency_Type_SendOut` (yours)",
        code=FRIENDSHIP_CODE,
    )


# --- presence (messaging/presence.py) ---------------------------------------------------------


class GetUserStatus(Args):
    userIDList: described(list[UserID], "at most 500 userIDs (more: 10005); `[]` or left out: yourself") = []


class SetSelfStatus(Args):
    customStatus: described(str, 'your custom status text, at most 100 bytes (UTF-8); `""` clears it')


class SubscribeUserStatus(Args):
    userIDList: described(list[UserID], "required, 1 to 100 userIDs (more: 10005; none: 10004); not yourself")


class UnsubscribeUserStatus(Args):
    userIDList: described(
        list[UserID], "at most 100 userIDs (more: 10005); `[]` or left out: every subscription of this socket"
    ) = []


# The ops and their arguments, in the order of docs/PROTOCOL.md §5.
OPS: dict[str, type[Args]] = {
    "sendMessage": SendMessage,
    "getMessageList": GetMessageList,
    "setMessageRead": ConversationArgs,
    "getConversationList": NoArgs,
    "getConversationProfile": ConversationArgs,
    "deleteConversation": ConversationArgs,
    "pinConversation": PinConversation,
    "getTotalUnreadMessageCount": NoArgs,
    "createGroup": CreateGroup,
    "joinGroup": JoinGroup,
    "quitGroup": GroupArgs,
    "addGroupMember": GroupMembersArgs,
    "deleteGroupMember": DeleteGroupMember,
    "getGroupList": NoArgs,
    "getGroupProfile": GroupArgs,
    "getGroupMemberList": GetGroupMemberList,
    "getUserProfile": GetUserProfile,
    "getMyProfile": NoArgs,
    "downloadMergerMessage": DownloadMergerMessage,
    "revokeMessage": RevokeMessage,
    "sendMessageReadReceipt": SendMessageReadReceipt,
    "getMessageReadReceiptList": GetMessageReadReceiptList,
    "getGroupMessageReadMemberList": GetGroupMessageReadMemberList,
    "sync": Sync,
    "updateGroupProfile": UpdateGroupProfile,
    "setGroupMemberRole": SetGroupMemberRole,
    "setGroupMemberMuteTime": SetGroupMemberMuteTime,
    "changeGroupOwner": ChangeGroupOwner,
    "dismissGroup": GroupArgs,
    "setGroupMemberNameCard": SetGroupMemberNameCard,
    "setGroupMemberCustomField": SetGroupMemberCustomField,
    "getGroupMemberProfile": GetGroupMemberProfile,
    "searchGroupByID": GroupArgs,
    # profiles and the directory
    "updateMyProfile": UpdateMyProfile,
    "searchCloudUsers": SearchCloudUsers,
    "getPublicGroupList": GetPublicGroupList,
    "searchCloudMessages": SearchCloudMessages,
    # the relationship chain
    "getFriendList": NoArgs,
    "addFriend": AddFriend,
    "deleteFriend": DeleteFriend,
    "getFriendProfile": GetFriendProfile,
    "updateFriend": UpdateFriend,
    "checkFriend": CheckFriend,
    "getFriendApplicationList": NoArgs,
    "acceptFriendApplication": AcceptFriendApplication,
    "refuseFriendApplication": FriendApplicationArgs,
    "deleteFriendApplication": DeleteFriendApplication,
    "setFriendApplicationRead": NoArgs,
    "addToBlacklist": FriendUserIDs,
    "removeFromBlacklist": FriendUserIDs,
    "getBlacklist": NoArgs,
    # presence
    "getUserStatus": GetUserStatus,
    "setSelfStatus": SetSelfStatus,
    "subscribeUserStatus": SubscribeUserStatus,
    "unsubscribeUserStatus": UnsubscribeUserStatus,
    "getGroupOnlineMemberCount": GroupArgs,
    # Join applications and the system conversation (issue 8 item 2).
    "handleGroupApplication": HandleGroupApplication,
    "getGroupApplicationList": NoArgs,
    # Reports to the moderators (issue 9).
    "reportMessage": ReportMessage,
    # Delete for me and read everything (issue 11 item 2).
    "deleteMessage": DeleteMessage,
    "clearHistoryMessage": ConversationArgs,
    "setAllMessageRead": SetAllMessageRead,
    # Conversation management (issue 11 item 6).
    "setConversationDraft": SetConversationDraft,
    "markConversation": MarkConversation,
    "setMessageRemindType": SetMessageRemindType,
    "createConversationGroup": CreateConversationGroup,
    "deleteConversationGroup": ConversationGroupArgs,
    "renameConversationGroup": RenameConversationGroup,
    "addConversationsToGroup": ConversationGroupMembers,
    "deleteConversationsFromGroup": ConversationGroupMembers,
    "getConversationGroupList": NoArgs,
    "modifyMessage": ModifyMessage,
    "getMessageListHopping": GetMessageListHopping,
    "findMessage": FindMessage,
    "addMessageReaction": MessageReactionArgs,
    "removeMessageReaction": MessageReactionArgs,
    "getMessageReactions": GetMessageReactions,
    "getAllUserListOfMessageReaction": GetAllUserListOfMessageReaction,
}


# --- decoding -------------------------------------------------------------------------------


class Frame(Struct):
    """A request frame: ``{"id": 7, "op": "sendMessage", "args": {...}}``. ``args`` stays raw
    until the op is known; a missing ``args`` is ``{}``."""

    id: Any = None
    op: Any = None
    args: msgspec.Raw = msgspec.Raw(b"{}")


FRAME_DECODER = msgspec.json.Decoder(Frame)
ARGS_DECODERS = {op: msgspec.json.Decoder(schema) for op, schema in OPS.items()}


def decode_frame(text: str | bytes) -> Frame:
    """The frame's envelope, or ChatError 10011 (not JSON, not an object, nested too deep)."""
    try:
        return FRAME_DECODER.decode(text)
    except msgspec.ValidationError:
        raise ChatError(ErrorCode.JSON_PARSE_ERROR, "frame must be a JSON object") from None
    except (msgspec.DecodeError, RecursionError):
        raise ChatError(ErrorCode.JSON_PARSE_ERROR, "frame is not valid JSON") from None


def decode_args(op: str, raw: msgspec.Raw) -> Args:
    """``args`` as the op's struct, or ChatError with the field's code (10004 by default)."""
    try:
        return ARGS_DECODERS[op].decode(raw)
    except msgspec.ValidationError as error:
        text = str(error)
        path = _error_path(text)
        code = _field_code(OPS[op], path)
        readable = text.replace("`$.", "`args.").replace("`$`", "`args`")
        if not path and text.startswith("Expected `object`"):
            readable = "args must be an object"
        raise ChatError(code, readable) from None
    except (msgspec.DecodeError, RecursionError):
        raise ChatError(ErrorCode.JSON_PARSE_ERROR, "args is not valid JSON") from None


_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<name>[^`]+)`")


def _error_path(text: str) -> list[str]:
    """The field names on the way to the bad value (list indices dropped)."""
    at = _AT.search(text)
    path = [p for p in re.split(r"\.|\[\d+\]", at.group("path") if at else "") if p]
    missing = _MISSING.match(text)
    if missing:
        path.append(missing.group("name"))
    return path


def _field_code(schema, path) -> int:
    """The code the failing field declares (``described(..., code=...)``), else 10004."""
    code = ErrorCode.INVALID_PARAMETERS
    kind = schema
    for name in path:
        struct = _struct_in(kind)
        if struct is None:
            break
        hints = typing.get_type_hints(struct, include_extras=True)
        if name not in hints:
            break
        kind = hints[name]
        code = _meta_code(kind) or code
    return int(code)


def _struct_in(kind):
    """The Struct class inside ``kind`` (through Annotated, Optional, list)."""
    if isinstance(kind, type) and issubclass(kind, Struct):
        return kind
    for inner in typing.get_args(kind):
        found = _struct_in(inner)
        if found is not None:
            return found
    return None


def _meta_code(kind):
    for meta in getattr(kind, "__metadata__", ()):
        if isinstance(meta, Meta) and meta.extra and "code" in meta.extra:
            return meta.extra["code"]
    return None
