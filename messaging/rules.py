"""The SDK's rules, written once (shared/spec/TIM.md): conversation IDs, message
types, mentions, group-tip wording and the limits.

Pure: no models, no database. Everything here that the browser needs reaches it in
the ``hello`` frame (``client_rules()``), so the UI never keeps a copy of its own:
the byte count of a body, the group-tip sentences and the limits are the server's.
"""

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path

import emoji

from messaging import conf, runtime

# --- conversations (TIM.TYPES.CONV_*) ------------------------------------------------

C2C = "C2C"
GROUP = "GROUP"
SYSTEM_CONVERSATION_ID = "@TIM#SYSTEM"


def c2c_conversation_id(user_id: str) -> str:
    return C2C + user_id


def group_conversation_id(group_id: str) -> str:
    return GROUP + group_id


@dataclass(frozen=True)
class ConversationTarget:
    kind: str  # C2C, GROUP or SYSTEM_CONVERSATION_ID (the Thread.Kind values)
    target: str  # the peer's userID or the groupID ("" for the system conversation)


def parse_conversation_id(conversation_id) -> ConversationTarget | None:
    """``C2C<userID>``, ``GROUP<groupID>`` or ``@TIM#SYSTEM``; None for anything else."""
    if not isinstance(conversation_id, str) or not conversation_id:
        return None
    if conversation_id == SYSTEM_CONVERSATION_ID:
        return ConversationTarget(SYSTEM_CONVERSATION_ID, "")
    for kind in (C2C, GROUP):
        if conversation_id.startswith(kind) and len(conversation_id) > len(kind):
            return ConversationTarget(kind, conversation_id[len(kind) :])
    return None


def conversation_id_of(kind: str, target: str) -> str:
    """The conversation ID of a C2C peer or a group (``kind`` is C2C or GROUP)."""
    return group_conversation_id(target) if kind == GROUP else c2c_conversation_id(target)


def viewer_conversation_id(kind: str, to: str, sender_id: str, viewer_id: str) -> str:
    """The conversation a message (``to``, from ``sender_id``) is in, as ``viewer_id`` sees it:
    alice's message to bob is ``C2Cbob`` for alice and ``C2Calice`` for bob. A system
    notice is in the system conversation."""
    if kind == SYSTEM_CONVERSATION_ID:
        return SYSTEM_CONVERSATION_ID
    if kind == GROUP:
        return group_conversation_id(to)
    return c2c_conversation_id(to if sender_id == viewer_id else sender_id)


# --- message types (TIM.TYPES.MSG_*) -------------------------------------------------

TEXT = "TIMTextElem"
IMAGE = "TIMImageElem"
AUDIO = "TIMSoundElem"
VIDEO = "TIMVideoFileElem"
FILE = "TIMFileElem"
CUSTOM = "TIMCustomElem"
FACE = "TIMFaceElem"
LOCATION = "TIMLocationElem"
MERGER = "TIMRelayElem"
GROUP_TIP = "TIMGroupTipElem"
GROUP_SYSTEM_NOTICE = "TIMGroupSystemNoticeElem"

SENDABLE_TYPES = (TEXT, IMAGE, AUDIO, VIDEO, FILE, CUSTOM, FACE, LOCATION, MERGER)
NOT_FORWARDABLE = frozenset({GROUP_TIP, GROUP_SYSTEM_NOTICE})
# What modifyMessage edits (the sender's text, a custom message's data); the SDK also
# edits location and face messages, which this UI never changes.
MODIFIABLE_TYPES = (TEXT, CUSTOM)
PRIORITIES = ("High", "Normal", "Low", "Lowest")
MAX_RECEIVERS = 50  # a targeted group message's receiverList (TIM.md §7)
# onlineUserOnly messages are not stored, so they carry no file: a download needs a stored
# message that names it (access_upload_for_download).
ONLINE_ONLY_TYPES = frozenset({TEXT, CUSTOM, FACE, LOCATION})

FOR_SHOW = {
    IMAGE: "[Image]",
    AUDIO: "[Voice]",
    VIDEO: "[Video]",
    FILE: "[File]",
    CUSTOM: "[Custom Message]",
    FACE: "[Emoji]",
    LOCATION: "[Location]",
    MERGER: "[Chat History]",
    GROUP_SYSTEM_NOTICE: "[Group Notice]",
}

# --- mentions ----------------------------------------------------------------------------

AT_ALL = "__kImSDK_MesssageAtALL__"  # TIM.TYPES.MSG_AT_ALL (the SDK's spelling)
AT_ME, AT_ALL_TYPE, AT_ALL_AT_ME = 1, 2, 3  # TIM.TYPES.CONV_AT_ME, CONV_AT_ALL, CONV_AT_ALL_AT_ME


def at_type(at_user_list, viewer_id: str, sender_id: str) -> int:
    """How a message mentions ``viewer_id``: 1 @me, 2 @all, 3 both, 0 not at all.
    A user's own messages never mention them."""
    if not at_user_list or sender_id == viewer_id:
        return 0
    return (AT_ME if viewer_id in at_user_list else 0) + (AT_ALL_TYPE if AT_ALL in at_user_list else 0)


# --- group tips (TIMGroupTipElem, TIM.TYPES.GRP_TIP_*) ----------------------------------

TIP_MEMBER_JOIN = 1
TIP_MEMBER_QUIT = 2
TIP_MEMBER_KICKED_OUT = 3
TIP_MEMBER_SET_ADMIN = 4
TIP_MEMBER_CANCELED_ADMIN = 5
TIP_GROUP_PROFILE_UPDATED = 6
TIP_MEMBER_PROFILE_UPDATED = 7
MAX_NAME_CARD_BYTES = 50  # a member's group name card (TIM.md 6.3)
MAX_MEMBER_PROFILE_IDS = 50  # getGroupMemberProfile's userIDList (the vendor's Web SDK reference)
# Custom fields (TIM.md 6.3): 10 group-level and 5 member-level keys, each key 1 to 16
# bytes of [A-Za-z0-9_], values at most 512 (group) / 64 (member) bytes; "" removes a key.
CUSTOM_FIELD_KEY_PATTERN = r"^[A-Za-z0-9_]{1,16}$"
MAX_GROUP_CUSTOM_FIELDS = 10
MAX_GROUP_CUSTOM_VALUE_BYTES = 512
MAX_MEMBER_CUSTOM_FIELDS = 5
MAX_MEMBER_CUSTOM_VALUE_BYTES = 64
# TIMGroupSystemNoticeElem operationType (TIM.md 2.1): the group was dismissed.
NOTICE_GROUP_DISMISSED = 5
# A group system notice in words, by operationType (TIM.md 2.1; the seed's
# parseGroupSystemNotice). Notices are personal (each is in one user's system
# conversation), so "you" is the reader. Placeholders: {operator} (the operatorID),
# {group} (the group's name). The server fills them for messageForShow, the UI with
# the names it knows.
NOTICE_TEMPLATES = {
    "1": "{operator} asked to join {group}",
    "2": "Your request to join {group} was accepted",
    "3": "Your request to join {group} was refused",
    "4": "{operator} removed you from {group}",
    "5": "{operator} dismissed {group}",
    "6": "You created {group}",
    "7": "{operator} added you to {group}",
    "8": "You left {group}",
    "9": "{operator} made you an admin of {group}",
    "10": "{operator} removed you as an admin of {group}",
    "255": "{group}: {text}",
}


def group_notice_text(payload: dict) -> str:
    """A group system notice in words (NOTICE_TEMPLATES: {operator}, {group}, and {text},
    a custom notice's ``userDefinedField``), or "[Group Notice]"."""
    template = NOTICE_TEMPLATES.get(str(payload.get("operationType")))
    if template is None:
        return FOR_SHOW[GROUP_SYSTEM_NOTICE]
    profile = payload.get("groupProfile") or {}
    group = profile.get("name") or profile.get("groupName") or profile.get("groupID") or "the group"
    text = payload.get("userDefinedField") or ""
    return template.format(operator=payload.get("operatorID") or "Someone", group=group, text=text)


# The sentence of each tip, by ``tip_key``. Placeholders: {operator} (who did it),
# {users} (the members it is about, as the subject), {objects} (the same, as the
# object), {name} (a new group name), {owner} (a new owner, as the object), {duration} (a mute's
# length). The server fills them with nicknames (messageForShow); the UI with the
# names it knows, "You"/"you" for the viewer.
TIP_TEMPLATES = {
    "1": "{users} joined the group",
    "1.2": "{operator} invited {objects} to the group",
    "2": "{users} left the group",
    "3": "{operator} removed {objects} from the group",
    "4": "{operator} made {objects} admin",
    "5": "{operator} removed {objects} as admin",
    "6": "{operator} updated the group profile",
    "6.name": "{operator} renamed the group to “{name}”",
    "6.introduction": "{operator} updated the group introduction",
    "6.notification": "{operator} updated the group notice",
    "6.avatar": "{operator} changed the group photo",
    "6.ownerID": "{operator} made {owner} the group owner",
    "6.muteAllMembers.on": "{operator} muted all members",
    "6.muteAllMembers.off": "{operator} unmuted all members",
    "7.mute": "{operator} muted {objects} for {duration}",
    "7.unmute": "{operator} unmuted {objects}",
    "7.nameCard": "{operator} changed the group name card of {objects}",
    "7.memberCustomField": "{operator} updated the member info of {objects}",
}
# For a profile tip (6) the first of these fields that newGroupProfile holds names its sentence.
TIP_PROFILE_FIELDS = ("ownerID", "name", "muteAllMembers", "notification", "introduction", "avatar")


def tip_key(payload: dict) -> str:
    """The key of a tip's sentence in TIP_TEMPLATES ("" when none fits).

    The same function is in static/chat/rules.js; tests/fixtures/group_tips.json
    holds the cases both are tested with."""
    op = payload.get("operationType")
    if op == TIP_MEMBER_JOIN:
        return "1.2" if payload.get("groupJoinType") == 2 else "1"
    if op == TIP_GROUP_PROFILE_UPDATED:
        profile = payload.get("newGroupProfile") or {}
        for name in TIP_PROFILE_FIELDS:
            if name in profile:
                if name == "muteAllMembers":
                    return "6.muteAllMembers." + ("on" if profile[name] else "off")
                return f"6.{name}"
        return "6"
    if op == TIP_MEMBER_PROFILE_UPDATED:
        muted = [m for m in payload.get("memberList") or [] if isinstance(m.get("muteTime"), int)]
        if muted:
            return "7.mute" if muted[0]["muteTime"] > 0 else "7.unmute"
        if any("nameCard" in m for m in payload.get("memberList") or []):
            return "7.nameCard"
        if any("memberCustomField" in m for m in payload.get("memberList") or []):
            return "7.memberCustomField"
        return ""
    key = str(op)
    return key if key in TIP_TEMPLATES else ""


def list_names(names) -> str:
    """ "Alice", "Alice and Bob", "Alice, Bob and Carol", "Alice, Bob, Carol and 2 others"."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    if len(names) <= 4:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{', '.join(names[:3])} and {len(names) - 3} others"


def duration_text(seconds) -> str:
    seconds = round(seconds or 0)
    if seconds < 90:
        return f"{seconds} seconds"
    if seconds < 5400:
        return f"{round(seconds / 60)} minutes"
    if seconds < 129600:
        return f"{round(seconds / 3600)} hours"
    return f"{round(seconds / 86400)} days"


def group_tip_text(payload: dict) -> str:
    """The tip in words with nicknames (``messageForShow``), as TIP_TEMPLATES says."""
    template = TIP_TEMPLATES.get(tip_key(payload))
    if template is None:
        return "[Group Tip]"
    names = {m.get("userID"): m.get("nick") or m.get("userID") for m in payload.get("memberList") or []}
    operator_id = payload.get("operatorID", "")
    operator = (payload.get("operatorInfo") or {}).get("nick") or operator_id
    names.setdefault(operator_id, operator)
    user_ids = payload.get("userIDList") or [m.get("userID") for m in payload.get("memberList") or []]
    users = list_names(names.get(u) or u for u in user_ids)
    profile = payload.get("newGroupProfile") or {}
    muted = [m for m in payload.get("memberList") or [] if isinstance(m.get("muteTime"), int)]
    return template.format(
        operator=operator,
        users=users,
        objects=users,
        name=profile.get("name", ""),
        owner=names.get(profile.get("ownerID"), profile.get("ownerID", "")),
        duration=duration_text(muted[0]["muteTime"]) if muted else "",
    )


# --- recalled messages (revokeMessage) ---------------------------------------------------

# What a recalled message shows instead of its content. The server fills {revoker} with the
# nickname (messageForShow); the UI with the name it knows, "You" for the viewer.
REVOKED_TEMPLATE = "{revoker} recalled a message"


def revoked_text(revoker_name: str) -> str:
    return REVOKED_TEMPLATE.format(revoker=revoker_name)


def message_for_show(msg_type: str, payload: dict) -> str:
    if msg_type == TEXT:
        return payload.get("text", "")
    if msg_type == GROUP_TIP:
        return group_tip_text(payload)
    if msg_type == GROUP_SYSTEM_NOTICE:
        return group_notice_text(payload)
    return FOR_SHOW.get(msg_type, "[Message]")


# --- read receipts (sendMessageReadReceipt; TIM.md §5.2) ---------------------------------

# Messages of one conversation in one sendMessageReadReceipt or getMessageReadReceiptList.
READ_RECEIPT_MAX_MESSAGES = 30
DELETE_MAX_MESSAGES = 30  # deleteMessage: at most 30 messages of one conversation a call

# setAllMessageRead's scopes: the SDK's TYPES.READ_ALL_C2C_MSG, READ_ALL_GROUP_MSG, READ_ALL_MSG.
READ_ALL_C2C_MSG = "readAllC2CMessage"
READ_ALL_GROUP_MSG = "readAllGroupMessage"
READ_ALL_MSG = "readAllMessage"
# getGroupMessageReadMemberList: userIDs in one page, and its ``filter`` values.
READ_MEMBER_PAGE = 100

# Presence (the vendor's Web SDK reference): getUserStatus takes up to 500 userIDs,
# subscribeUserStatus up to 100 a call; a socket follows at most 200 users (a new
# subscription beyond that drops the oldest, as the vendor's list does). A custom status
# is at most 100 bytes (UTF-8).
MAX_STATUS_USER_IDS = 500
MAX_SUBSCRIBE_USER_IDS = 100
MAX_SUBSCRIPTIONS = 200
MAX_CUSTOM_STATUS_BYTES = 100
READ_MEMBERS, UNREAD_MEMBERS = 0, 1


def receipts_supported(group_type: str | None) -> bool:
    """Whether a message may ask for read receipts there: C2C (``None``) and every group
    type but AVChatRoom (the SDK's Community is not a type here)."""
    return group_type != "AVChatRoom"


# --- replies (the vendor's TUIKit) -------------------------------------------------------

# A reply is an ordinary message whose cloudCustomData holds, as TUIKit writes it,
# {"messageReply": {"messageID", "messageAbstract", "messageSender", "messageType",
# "messageTime", "messageSequence", "version": 1}} (docs/PROTOCOL.md §4.8). The server
# reads only messageID; the rest is the client's own text and is delivered as sent.
MESSAGE_REPLY_KEY = "messageReply"
MESSAGE_REPLY_VERSION = 1


def replied_message_id(cloud_custom_data: str) -> str | None:
    """The ``messageID`` a reply's cloudCustomData names, or None when it is no reply
    (empty, not JSON, not an object, or no ``messageReply``: cloudCustomData stays the
    sender's own opaque string). A ``messageReply`` that is not an object with a
    non-empty string ``messageID`` is a ValueError."""
    if not cloud_custom_data or MESSAGE_REPLY_KEY not in cloud_custom_data:
        return None
    try:
        data = json.loads(cloud_custom_data)
    except ValueError:
        return None
    if not isinstance(data, dict) or MESSAGE_REPLY_KEY not in data:
        return None
    reply = data[MESSAGE_REPLY_KEY]
    message_id = reply.get("messageID") if isinstance(reply, dict) else None
    if not isinstance(message_id, str) or not message_id:
        raise ValueError("cloudCustomData.messageReply must be an object with a messageID string")
    return message_id


# --- limits ------------------------------------------------------------------------------


def body_bytes(payload, cloud_custom_data: str = "") -> int:
    """The size of a message body as the 12 KB limit counts it: the UTF-8 bytes of the
    payload as compact JSON (what ``JSON.stringify`` makes in the browser) plus those of
    ``cloudCustomData``. A newline is two bytes of JSON (``\\n``), so the browser must
    count the same way, not the raw text."""
    encoded = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return len(encoded) + len(cloud_custom_data.encode("utf-8", "surrogatepass"))


# --- message reactions (addMessageReaction; docs/PROTOCOL.md §5.54-§5.57, §6.19) ---------

# A reactionID is one emoji (a Unicode emoji, ZWJ sequences and skin tones included) or the
# code of one of the site's own emoji (static/chat/emoji/emoji.json, "[微笑]"), at most
# REACTION_ID_MAX_LENGTH characters. The vendor leaves the ID to the app; these bounds are ours.
REACTION_ID_MAX_LENGTH = 32
# Distinct reactionIDs on one message: one more is 23005 (the vendor's "too many reactions
# on the message"; its limit is not published, 20 is ours).
MAX_REACTIONS_PER_MESSAGE = 20
# getMessageReactions: messages of one conversation a call, and users per reaction (the
# vendor's ranges, [1, 20] and [0, 10]). MESSAGE_REACTIONS_UPDATED carries as many users.
REACTION_MAX_MESSAGES = 20
REACTION_MAX_PARTIAL_USERS = 10
# getAllUserListOfMessageReaction: users a page (the vendor's [0, 100], 100 by default).
REACTION_USER_PAGE = 100
CUSTOM_EMOJI_FILE = Path(__file__).resolve().parent.parent / "static" / "chat" / "emoji" / "emoji.json"


@functools.cache
def custom_reaction_ids() -> frozenset:
    """The codes of the site's own emoji set, read once from the file the UI loads."""
    try:
        entries = json.loads(CUSTOM_EMOJI_FILE.read_text("utf-8"))
    except (OSError, ValueError):
        return frozenset()
    return frozenset(e["code"] for e in entries if isinstance(e, dict) and isinstance(e.get("code"), str))


def is_reaction_id(value) -> bool:
    """Whether ``value`` may be a reactionID: one emoji, or one code of the custom set."""
    if not isinstance(value, str) or not 0 < len(value) <= REACTION_ID_MAX_LENGTH:
        return False
    return value in custom_reaction_ids() or emoji.is_emoji(value)


# --- reports to the moderators (reportMessage) ------------------------------------------

# A report's reasons and the longest free text it carries (characters); the model
# (MessageReport) and the UI's dialog use these.
REPORT_REASONS = ("spam", "abuse", "illegal", "other")
MAX_REPORT_DESCRIPTION = 500


# --- conversation management (drafts, marks, conversation groups, receive options) --------

# markConversation's standard marks (the SDK's TYPES.CONV_MARK_TYPE_*: bit flags, as the
# native V2TIM_CONVERSATION_MARK_TYPE_* are). Extended marks are 2**n with 32 <= n < 63
# (the SDK allows n < 64; 2**63 does not fit the signed 64-bit column).
MARK_STAR = 1
MARK_UNREAD = 2
MARK_FOLD = 4
MARK_HIDE = 8
STANDARD_MARKS = (MARK_STAR, MARK_UNREAD, MARK_FOLD, MARK_HIDE)
MIN_EXTENDED_MARK_BIT = 32
MAX_EXTENDED_MARK_BIT = 62
MAX_MARK_CONVERSATIONS = 100  # conversationIDList of markConversation and the group ops

# setMessageRemindType's options (TYPES.MSG_REMIND_*), the first the default.
REMIND_ACCEPT_AND_NOTIFY = "AcceptAndNotify"
REMIND_ACCEPT_NOT_NOTIFY = "AcceptNotNotify"
REMIND_DISCARD = "Discard"
REMIND_TYPES = (REMIND_ACCEPT_AND_NOTIFY, REMIND_ACCEPT_NOT_NOTIFY, REMIND_DISCARD)
MAX_REMIND_USER_IDS = 30  # setMessageRemindType's userIDList, as the SDK

# Conversation groups (createConversationGroup...): at most 20 per user (51010), names of
# 1 to 32 UTF-8 bytes (51011), at most 1,000 conversations in one group (51008).
MAX_CONVERSATION_GROUPS = 20
MAX_CONVERSATION_GROUP_NAME_BYTES = 32
MAX_CONVERSATIONS_PER_GROUP = 1000

# setConversationDraft: the draft is text the composer holds; as long as a message may be.
MAX_DRAFT_CHARS = 12 * 1024


def mark_list(marks: int) -> list:
    """The conversation's ``markList``: its marks' values, smallest first."""
    return [1 << bit for bit in range(63) if marks >> bit & 1]


def is_mark_type(mark_type) -> bool:
    """A standard mark, or an extended one (2**n, 32 <= n <= 62)."""
    if not isinstance(mark_type, int) or isinstance(mark_type, bool) or mark_type <= 0:
        return False
    if mark_type in STANDARD_MARKS:
        return True
    bit = mark_type.bit_length() - 1
    return mark_type == 1 << bit and MIN_EXTENDED_MARK_BIT <= bit <= MAX_EXTENDED_MARK_BIT


def client_rules() -> dict:
    """What the browser needs of these rules: sent once in the ``hello`` frame."""
    return {
        "limits": {
            "maxBodyBytes": conf.get("MAX_BODY_BYTES"),
            "messagePageSize": conf.get("MESSAGE_PAGE_SIZE"),
            "conversationListLimit": conf.get("CONVERSATION_LIST_LIMIT"),
            "maxClientMessageIDLength": conf.get("MAX_CLIENT_MESSAGE_ID"),
            "maxAtUsers": conf.get("MAX_AT_USERS"),
            "maxMergedMessages": conf.get("MAX_MERGED_MESSAGES"),
            "maxFrameBytes": conf.get("MAX_FRAME_BYTES"),
            "maxGroupMembers": conf.get("MAX_GROUP_MEMBERS"),
            "upload": {
                "image": runtime.get("MAX_IMAGE_BYTES"),
                "audio": runtime.get("MAX_AUDIO_BYTES"),
                "video": runtime.get("MAX_VIDEO_BYTES"),
                "file": runtime.get("MAX_FILE_BYTES"),
                "chunkBytes": conf.get("UPLOAD_CHUNK_BYTES"),
            },
        },
        "groupTips": {"templates": TIP_TEMPLATES, "profileFields": list(TIP_PROFILE_FIELDS)},
        # The sender may recall their own message for ``window`` seconds; group owners and
        # admins recall members' messages at any time.
        "revoke": {"template": REVOKED_TEMPLATE, "window": runtime.get("REVOKE_WINDOW")},
        # The sender may edit their own message of these types for ``window`` seconds.
        "modify": {"types": list(MODIFIABLE_TYPES), "window": runtime.get("EDIT_WINDOW")},
        "atAll": AT_ALL,
        "readReceipt": {"maxMessages": READ_RECEIPT_MAX_MESSAGES, "memberPage": READ_MEMBER_PAGE},
        "presence": {
            "maxCustomStatusBytes": MAX_CUSTOM_STATUS_BYTES,
            "maxSubscribeUserIDs": MAX_SUBSCRIBE_USER_IDS,
            "maxSubscriptions": MAX_SUBSCRIPTIONS,
        },
        "groupNotices": {"templates": NOTICE_TEMPLATES},
        "report": {"reasons": list(REPORT_REASONS), "maxDescription": MAX_REPORT_DESCRIPTION},
        "conversationGroups": {
            "max": MAX_CONVERSATION_GROUPS,
            "maxNameBytes": MAX_CONVERSATION_GROUP_NAME_BYTES,
            "maxConversations": MAX_CONVERSATIONS_PER_GROUP,
        },
        "maxDraftChars": MAX_DRAFT_CHARS,
        "reactions": {
            "maxIDLength": REACTION_ID_MAX_LENGTH,
            "maxPerMessage": MAX_REACTIONS_PER_MESSAGE,
            "maxMessages": REACTION_MAX_MESSAGES,
            "maxPartialUsers": REACTION_MAX_PARTIAL_USERS,
        },
    }


# Unicode's bidirectional controls (embeddings, overrides, isolates, marks). In a name
# they let "invoice\u202efdp.exe" show as "invoiceexe.pdf": names drop them.
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def without_bidi_controls(text: str) -> str:
    """``text`` without bidirectional control characters (file, group and user names)."""
    return BIDI_CONTROLS.sub("", text)


# --- the relationship chain (TIM.TYPES.SNS_* and ALLOW_TYPE_*, the SDK's values) -------------

ALLOW_ANY = "AllowType_Type_AllowAny"
NEED_CONFIRM = "AllowType_Type_NeedConfirm"
DENY_ANY = "AllowType_Type_DenyAny"
ALLOW_TYPES = (ALLOW_ANY, NEED_CONFIRM, DENY_ANY)
SNS_ADD_TYPE_SINGLE = "Add_Type_Single"
SNS_ADD_TYPE_BOTH = "Add_Type_Both"
SNS_DELETE_TYPE_SINGLE = "Delete_Type_Single"
SNS_DELETE_TYPE_BOTH = "Delete_Type_Both"
SNS_APPLICATION_SENT_TO_ME = "Pendency_Type_ComeIn"
SNS_APPLICATION_SENT_BY_ME = "Pendency_Type_SendOut"
SNS_APPLICATION_AGREE = "Response_Action_Agree"
SNS_APPLICATION_AGREE_AND_ADD = "Response_Action_AgreeAndAdd"
SNS_CHECK_TYPE_BOTH = "CheckResult_Type_Both"
SNS_CHECK_TYPE_SINGLE = "CheckResult_Type_Single"
SNS_TYPE_NO_RELATION = "CheckResult_Type_NoRelation"
SNS_TYPE_A_WITH_B = "CheckResult_Type_AWithB"
SNS_TYPE_B_WITH_A = "CheckResult_Type_BWithA"
SNS_TYPE_BOTH_WAY = "CheckResult_Type_BothWay"
MAX_REMARK_BYTES = 96
MAX_WORDING_BYTES = 256
