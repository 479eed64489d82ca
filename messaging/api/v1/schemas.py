"""The server API's request and response bodies (pydantic, through django-ninja).

Field names are the vendor's server API's (TIM.md §9: ``From_Account``, ``To_Account``,
``MsgRandom``, ``MsgBody``, ``GroupId``...); a message in a response is the SDK's
Message object, as the WebSocket sends it. Unknown fields are refused (10004), as the
WebSocket refuses unknown arguments. Every string that names an account or a group
is printable ASCII (the SDK's rule), so no control character reaches a query.
"""

from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints

from messaging import rules
from messaging.actions.group_admin import MAX_MUTE_SECONDS
from messaging.actions.users import MAX_IMPORT_ACCOUNTS, MAX_USER_ID_BYTES

UserID = Annotated[str, StringConstraints(pattern=rf"^[\x21-\x7e]{{1,{MAX_USER_ID_BYTES}}}$")]
GroupID = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,47}$")]
MessageID = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,64}$")]
# Free text: anything but NUL, which PostgreSQL refuses in text and JSON.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
Uint32 = Annotated[int, Field(ge=0, le=2**32 - 1)]
# The same, with an example (the OpenAPI schema's, and schemathesis's first guesses).
SomeUser = Annotated[UserID, Field(examples=["alice"])]
OtherUser = Annotated[UserID, Field(examples=["bob"])]
SomeGroup = Annotated[GroupID, Field(examples=["g1"])]
MAX_BATCH_TARGETS = 500  # the vendor's batchsendmsg: at most 500 To_Account (90011 beyond)


class Body(Schema):
    """A request body: unknown fields and values of another JSON type ("5" for 5) are refused."""

    model_config = ConfigDict(extra="forbid", strict=True)


# --- errors ------------------------------------------------------------------------------


class Error(Schema):
    ActionStatus: Literal["FAIL"] = "FAIL"
    ErrorCode: int = Field(description="the SDK's / server API's error code (docs/API.md)")
    ErrorInfo: str = Field(description="what went wrong, in words")


# --- accounts ----------------------------------------------------------------------------


class AccountImport(Body):
    UserID: Annotated[UserID, Field(examples=["erin"])]
    Nick: Annotated[Text, Field(max_length=64)] = ""
    FaceUrl: Annotated[Text, Field(max_length=500, description="an image on this site (an upload's URL)")] = ""


class AccountImported(Schema):
    UserID: str
    Created: bool = Field(description="false when the account already existed (it is left unchanged)")


class MultiAccountImport(Body):
    Accounts: Annotated[list[UserID], Field(min_length=1, max_length=MAX_IMPORT_ACCOUNTS)]


class MultiAccountImported(Schema):
    Created: list[str]
    Existing: list[str]
    FailAccounts: list[str] = Field(description="userIDs that could not be imported (a bad userID)")


class Account(Body):
    UserID: Annotated[UserID, Field(examples=["carol"])]


class BanState(Schema):
    UserID: str
    Banned: bool
    Changed: bool = Field(description="false when the account already was in that state")


class Unread(Schema):
    UserID: str
    TotalUnreadCount: int = Field(
        description="getTotalUnreadMessageCount: C2C and group, the system conversation and muted conversations excluded"
    )
    Conversations: dict[str, int] = Field(description="conversationID -> unread count, for those with unread messages")


# --- messages ----------------------------------------------------------------------------


class TextContent(Body):
    Text: Annotated[Text, Field(min_length=1)]


class CustomContent(Body):
    Data: Text = ""
    Desc: Text = ""
    Ext: Text = ""


class FaceContent(Body):
    Index: Annotated[int, Field(ge=-(2**31), le=2**31 - 1)]
    Data: Text = ""


class LocationContent(Body):
    Desc: Text = ""
    Latitude: Annotated[float, Field(ge=-90, le=90)]
    Longitude: Annotated[float, Field(ge=-180, le=180)]


class TextElem(Body):
    MsgType: Literal["TIMTextElem"]
    MsgContent: TextContent


class CustomElem(Body):
    MsgType: Literal["TIMCustomElem"]
    MsgContent: CustomContent


class FaceElem(Body):
    MsgType: Literal["TIMFaceElem"]
    MsgContent: FaceContent


class LocationElem(Body):
    MsgType: Literal["TIMLocationElem"]
    MsgContent: LocationContent


MsgElement = Annotated[TextElem | CustomElem | FaceElem | LocationElem, Field(discriminator="MsgType")]
# One element per message (this server's messages have one); files go through the browser's uploads.
MsgBody = Annotated[list[MsgElement], Field(min_length=1, max_length=1)]

SENDER_DOC = "the sender; absent: the token's identifier (the app admin account)"
RANDOM_DOC = "the caller's random: the same value from the same sender to the same conversation returns the stored message"


class MessageFields(Body):
    From_Account: Annotated[UserID | None, Field(description=SENDER_DOC, examples=["alice"])] = None
    MsgBody: MsgBody
    CloudCustomData: Text = ""


class C2CSend(MessageFields):
    To_Account: Annotated[UserID, Field(examples=["bob"])]
    MsgRandom: Annotated[Uint32, Field(description=RANDOM_DOC)]


class C2CBatchSend(MessageFields):
    To_Account: Annotated[list[UserID], Field(min_length=1, max_length=MAX_BATCH_TARGETS)]
    MsgRandom: Annotated[Uint32, Field(description=RANDOM_DOC)]


class GroupSend(MessageFields):
    GroupId: Annotated[GroupID, Field(examples=["g1"])]
    Random: Annotated[Uint32, Field(description=RANDOM_DOC)]
    Priority: Literal[tuple(rules.PRIORITIES)] = "Normal"


class Message(Schema):
    """The SDK's Message object (the WebSocket's shape; docs/PROTOCOL.md)."""

    model_config = ConfigDict(populate_by_name=True)

    ID: str
    type: str
    payload: dict[str, Any]
    conversationType: str
    to: str
    from_: str = Field(alias="from")
    nick: str
    avatar: str
    nameCard: str
    time: int
    clientTime: int
    sequence: int
    random: int
    priority: str
    isRevoked: bool
    revoker: str | None
    atUserList: list[str]
    cloudCustomData: str
    messageForShow: str


class Sent(Schema):
    MsgKey: str = Field(description="the message's ID, for recalls")
    MsgSeq: int
    MsgTime: int
    Message: Message


class BatchFailure(Schema):
    To_Account: str
    ErrorCode: int
    ErrorInfo: str


class BatchSent(Schema):
    Sent: list[Sent]
    ErrorList: list[BatchFailure]


class C2CRecall(Body):
    From_Account: Annotated[UserID, Field(description="the message's sender", examples=["alice"])]
    To_Account: Annotated[UserID, Field(description="the message's receiver", examples=["bob"])]
    MsgKey: MessageID


class GroupRecall(Body):
    GroupId: GroupID
    MsgKey: MessageID


class Recalled(Schema):
    Message: Message


class C2CHistory(Schema):
    MsgList: list[Message]
    NextReqMessageID: str = Field(description="pass it back for the older page; empty when complete")
    Complete: bool


class GroupHistory(Schema):
    MsgList: list[Message] = Field(description="newest first")
    NextReqMsgSeq: int = Field(description="ReqMsgSeq of the older page; 0 when complete")
    Complete: bool


# --- groups ------------------------------------------------------------------------------


class GroupCreate(Body):
    Owner_Account: Annotated[UserID, Field(examples=["alice"])]
    Type: Annotated[
        Literal["Private", "Public", "ChatRoom"], Field(description="Private: a Work group; ChatRoom: a Meeting group")
    ]
    Name: Annotated[Text, Field(min_length=1, max_length=30)]
    GroupId: GroupID | None = None
    MemberList: Annotated[list[UserID], Field(max_length=MAX_IMPORT_ACCOUNTS)] = []
    Introduction: Annotated[Text, Field(max_length=240)] = ""
    Notification: Annotated[Text, Field(max_length=300)] = ""
    ApplyJoinOption: Literal["FreeAccess", "NeedPermission", "DisableApply"] | None = None


class Group(Schema):
    GroupId: str
    Type: str
    Name: str
    Owner_Account: str | None
    MemberNum: int
    MuteAllMember: bool


class Members(Body):
    GroupId: Annotated[GroupID, Field(examples=["g1"])]
    MemberList: Annotated[list[UserID], Field(min_length=1, max_length=MAX_IMPORT_ACCOUNTS)]


class MembersRemove(Members):
    Reason: Annotated[Text, Field(max_length=100)] = ""


class MembersAdded(Schema):
    Added: list[str]
    Existing: list[str]
    FailAccounts: list[str] = Field(description="userIDs that are no (active) account")


class MembersRemoved(Schema):
    Removed: list[str]


class MemberRole(Body):
    GroupId: Annotated[GroupID, Field(examples=["g1"])]
    Member_Account: Annotated[UserID, Field(examples=["bob"])]
    Role: Literal["Admin", "Member"]


class MemberMute(Body):
    GroupId: Annotated[GroupID, Field(examples=["g1"])]
    Member_Account: Annotated[UserID, Field(examples=["carol"])]
    MuteTime: Annotated[int, Field(ge=0, le=MAX_MUTE_SECONDS, description="seconds; 0 unmutes")]


class Member(Schema):
    GroupId: str
    Member_Account: str
    Role: str
    MutedUntil: int = Field(description="unix time the mute ends; 0 when not muted")


class MuteAll(Body):
    GroupId: Annotated[GroupID, Field(examples=["g1"])]
    MuteAllMember: bool
