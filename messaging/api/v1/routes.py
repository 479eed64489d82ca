"""The server REST API, ``/api/v1/`` (docs/API.md): the host's own backend drives the chat.

A transport like the WebSocket and the admin: each operation parses (the schemas),
names the accounts and groups through ``messaging.access``, calls one action or query,
and shapes the answer. It acts as the vendor's "app admin" (``by_admin=True``): sends
skip the block, friendship and mute checks; group changes have the owner's rights;
recalls have no time window. The token's ``identifier`` account is the app admin: the
sender when no ``From_Account`` is named, the operator in group tips, the revoker.
"""

import msgspec
from django.http import HttpRequest, JsonResponse
from ninja import NinjaAPI, Query, Router
from ninja.parser import Parser
from ninja.throttling import AuthRateThrottle

from messaging import actions, conf, rules, serialize
from messaging.access import access_account, access_group, access_membership, access_user
from messaging.actions.message_send import random_message_id
from messaging.api.v1 import errors, schemas
from messaging.api.v1.auth import GROUPS, MESSAGES, MODERATION, USERS
from messaging.errors import ChatError, ErrorCode
from messaging.queries.conversation_list import get_total_unread_count, get_unread_map
from messaging.queries.message_list import MAX_ADMIN_PAGE, get_group_history, get_message_list


class StrictJSON(Parser):
    """msgspec's decoder: lone surrogates and over-deep nesting are invalid JSON (400,
    10011), not strings that fail in the database or a RecursionError."""

    def parse_body(self, request: HttpRequest):
        return msgspec.json.decode(request.body)


class TokenThrottle(AuthRateThrottle):
    """``API_RATE`` requests per token (counted per process in Django's cache): 429, 10006."""

    def __init__(self):
        super().__init__(conf.get("API_RATE"))

    def get_cache_key(self, request):
        return self.cache_format % {"scope": self.scope, "ident": getattr(request.auth, "key_hash", "anonymous")}

    def allow_request(self, request):
        self.rate = conf.get("API_RATE")  # settings.CHAT may change it (tests do)
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request)


api = NinjaAPI(
    title="Chat server API",
    version="1",
    description="The host's backend drives the chat: accounts, messages, groups, moderation (docs/API.md).",
    urls_namespace="api-v1",
    parser=StrictJSON(),
    throttle=TokenThrottle(),
    # Swagger UI from django-ninja's own static files (the "ninja" app), no CDN and no
    # inline script: it holds under the site's CSP (tests/browser/test_csp.py).
    docs_url="/docs",
)
errors.install(api)
ERRORS = {status: schemas.Error for status in errors.ERROR_STATUSES}
users = Router(tags=["users"])
c2c = Router(tags=["c2c messages"])
groups = Router(tags=["groups"])


def ok(response):
    return {200: response, **ERRORS}


# --- accounts -----------------------------------------------------------------------------


@users.post("/import", auth=USERS, response=ok(schemas.AccountImported), summary="account_import")
def import_account(request, data: schemas.AccountImport):
    """Import one account (it cannot log in with a password). Importing an existing account changes nothing."""
    user, created = actions.import_account(data.UserID, nick=data.Nick, avatar=data.FaceUrl)
    return {"UserID": user.username, "Created": created}


@users.post("/import/batch", auth=USERS, response=ok(schemas.MultiAccountImported), summary="multiaccount_import")
def import_accounts(request, data: schemas.MultiAccountImport):
    """Import up to 100 accounts by userID; each that fails is listed, the others are made."""
    result = actions.import_accounts(data.Accounts)
    return {"Created": result["created"], "Existing": result["existing"], "FailAccounts": result["failed"]}


@users.get("/unread", auth=USERS, response=ok(schemas.Unread), summary="get_c2c_unread_msg_num")
def unread(request, UserID: Query[schemas.SomeUser]):  # noqa: N803 (the vendor's name)
    """A user's total unread count and the conversations that have unread messages."""
    user = access_account(UserID)
    return {"UserID": user.username, "TotalUnreadCount": get_total_unread_count(user), "Conversations": get_unread_map(user)}


def _set_banned(request, user_id, banned):
    user = access_account(user_id)
    if banned and user.pk == request.auth.identifier_id:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "this token's own identifier cannot be banned with it")
    changed = actions.set_user_active(user, not banned, api_caller=request.auth.identifier, audit=api_audit(request))
    return {"UserID": user.username, "Banned": banned, "Changed": changed}


@users.post("/ban", auth=MODERATION, response=ok(schemas.BanState))
def ban(request, data: schemas.Account):
    """Ban an account: its logins are refused and its open sockets get KICKED_OUT and close."""
    return _set_banned(request, data.UserID, True)


@users.post("/unban", auth=MODERATION, response=ok(schemas.BanState))
def unban(request, data: schemas.Account):
    """Lift a ban."""
    return _set_banned(request, data.UserID, False)


def api_audit(request) -> dict:
    """What the audit log keeps of a moderation call through the API: which token made it."""
    return {"via": "api", "api_token": f"{request.auth.name} ({request.auth.prefix})"}


# --- messages -----------------------------------------------------------------------------

# MsgContent's keys (the vendor's) -> the SDK payload's.
CONTENT_KEYS = {
    "Text": "text",
    "Data": "data",
    "Desc": "description",
    "Ext": "extension",
    "Index": "index",
    "Latitude": "latitude",
    "Longitude": "longitude",
}


def _sender(request, from_account):
    return request.auth.identifier if from_account is None else access_user(from_account)


def _send(sender, conversation_type, to, data, random, priority="Normal"):
    [element] = data.MsgBody
    payload = {CONTENT_KEYS[key]: value for key, value in element.MsgContent.model_dump().items()}
    sent = actions.send_message(
        sender,
        conversation_type=conversation_type,
        to=to,
        msg_type=element.MsgType,
        payload=payload,
        msg_id=random_message_id(sender.pk, conversation_type, to, random),
        random=random,
        cloud_custom_data=data.CloudCustomData,
        priority=priority,
        by_admin=True,
    )
    return {"MsgKey": sent.data["ID"], "MsgSeq": sent.data["sequence"], "MsgTime": sent.data["time"], "Message": sent.data}


@c2c.post("/messages", auth=MESSAGES, response=ok(schemas.Sent), by_alias=True, summary="sendmsg")
def send_c2c(request, data: schemas.C2CSend):
    """Send a one-to-one message as ``From_Account`` or as the app admin. No block, friendship or
    mute check. The same ``MsgRandom`` from the same sender to the same user returns the stored
    message: a retried call never sends twice."""
    return _send(_sender(request, data.From_Account), rules.C2C, data.To_Account, data, data.MsgRandom)


@c2c.post("/messages/batch", auth=MESSAGES, response=ok(schemas.BatchSent), by_alias=True, summary="batchsendmsg")
def send_c2c_batch(request, data: schemas.C2CBatchSend):
    """The same message to up to 500 users, one message each; each refusal is listed in ``ErrorList``."""
    sender = _sender(request, data.From_Account)
    sent, failures = [], []
    for to in dict.fromkeys(data.To_Account):
        try:
            sent.append(_send(sender, rules.C2C, to, data, data.MsgRandom))
        except ChatError as error:
            failures.append({"To_Account": to, "ErrorCode": error.code, "ErrorInfo": error.message})
    return {"Sent": sent, "ErrorList": failures}


@c2c.get("/messages", auth=MESSAGES, response=ok(schemas.C2CHistory), by_alias=True, summary="admin_getroammsg")
def c2c_history(
    request,
    Operator_Account: Query[schemas.SomeUser],  # noqa: N803 (the vendor's names)
    Peer_Account: Query[schemas.OtherUser],  # noqa: N803
    Count: Query[int] = 15,  # noqa: N803
    NextReqMessageID: Query[schemas.MessageID | None] = None,  # noqa: N803
):
    """The history of the conversation of two users as ``Operator_Account`` sees it, newest page
    first (as getMessageList: at most 15 a page, in time order within it)."""
    if not 1 <= Count <= conf.get("MESSAGE_PAGE_SIZE"):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"Count must be from 1 to {conf.get('MESSAGE_PAGE_SIZE')}")
    operator = access_account(Operator_Account)
    page = get_message_list(operator, rules.c2c_conversation_id(Peer_Account), next_req_message_id=NextReqMessageID, count=Count)
    return {"MsgList": page["messageList"], "NextReqMessageID": page["nextReqMessageID"], "Complete": page["isCompleted"]}


@c2c.post("/messages/recall", auth=MODERATION, response=ok(schemas.Recalled), by_alias=True, summary="admin_msgwithdraw")
def recall_c2c(request, data: schemas.C2CRecall):
    """Recall a one-to-one message, at any age: both users' open tabs get MESSAGE_REVOKED."""
    sender = access_account(data.From_Account)
    recalled = actions.revoke_message(
        request.auth.identifier,
        rules.c2c_conversation_id(data.To_Account),
        data.MsgKey,
        by_admin=True,
        viewer=sender,
        audit=api_audit(request),
    )
    return {"Message": recalled.data}


@groups.post("/messages", auth=MESSAGES, response=ok(schemas.Sent), by_alias=True, summary="send_group_msg")
def send_group(request, data: schemas.GroupSend):
    """Send a group message as the member ``From_Account`` or as the app admin (member or not). No
    mute check. The same ``Random`` from the same sender in the same group returns the stored message."""
    sender = _sender(request, data.From_Account)
    if data.From_Account is not None:
        access_membership(sender, access_group(data.GroupId))
    return _send(sender, rules.GROUP, data.GroupId, data, data.Random, data.Priority)


@groups.get("/messages", auth=MESSAGES, response=ok(schemas.GroupHistory), by_alias=True, summary="group_msg_get_simple")
def group_history(
    request,
    GroupId: Query[schemas.SomeGroup],  # noqa: N803 (the vendor's names)
    ReqMsgSeq: Query[int | None] = None,  # noqa: N803
    Count: Query[int] = MAX_ADMIN_PAGE,  # noqa: N803
):
    """A group's whole history, newest first from ``ReqMsgSeq`` down, at most 20 a call."""
    page = get_group_history(GroupId, req_msg_seq=ReqMsgSeq, count=Count)
    return {"MsgList": page["messageList"], "NextReqMsgSeq": page["nextReqMsgSeq"], "Complete": page["isCompleted"]}


@groups.post("/messages/recall", auth=MODERATION, response=ok(schemas.Recalled), by_alias=True, summary="group_msg_recall")
def recall_group(request, data: schemas.GroupRecall):
    """Recall any group message, at any age: every member's open tab gets MESSAGE_REVOKED."""
    recalled = actions.revoke_message(
        request.auth.identifier, rules.group_conversation_id(data.GroupId), data.MsgKey, by_admin=True, audit=api_audit(request)
    )
    return {"Message": recalled.data}


# --- groups -------------------------------------------------------------------------------


def _group(group, owner_id=None):
    return {
        "GroupId": group.group_id,
        "Type": group.type,
        "Name": group.name,
        "Owner_Account": owner_id if owner_id is not None else (group.owner.username if group.owner_id else None),
        "MemberNum": group.member_count,
        "MuteAllMember": group.mute_all,
    }


def _member(member):
    return {
        "GroupId": member.group.group_id,
        "Member_Account": member.user.username,
        "Role": member.role,
        "MutedUntil": serialize.epoch(member.muted_until),
    }


@groups.post("", auth=GROUPS, response=ok(schemas.Group), summary="create_group")
def create_group(request, data: schemas.GroupCreate):
    """A new Work (Private), Public or Meeting (ChatRoom) group owned by ``Owner_Account``, with its members."""
    owner = access_user(data.Owner_Account)
    group = actions.create_group(
        owner,
        group_type=data.Type,
        name=data.Name,
        group_id=data.GroupId,
        member_user_ids=data.MemberList,
        introduction=data.Introduction,
        notification=data.Notification,
        join_option=data.ApplyJoinOption,
    )
    return _group(group, owner.username)


@groups.post("/members/add", auth=GROUPS, response=ok(schemas.MembersAdded), summary="add_group_member")
def add_members(request, data: schemas.Members):
    """Add members (tip and system notice as an invitation by the app admin)."""
    result = actions.add_members(request.auth.identifier, data.GroupId, data.MemberList, by_admin=True)
    return {
        "Added": result["successUserIDList"],
        "Existing": result["existedUserIDList"],
        "FailAccounts": result["failureUserIDList"],
    }


@groups.post("/members/remove", auth=GROUPS, response=ok(schemas.MembersRemoved), summary="delete_group_member")
def remove_members(request, data: schemas.MembersRemove):
    """Remove members (not the owner); who was not a member is ignored."""
    result = actions.delete_members(request.auth.identifier, data.GroupId, data.MemberList, reason=data.Reason, by_admin=True)
    return {"Removed": result["userIDList"]}


@groups.post("/members/role", auth=GROUPS, response=ok(schemas.Member), summary="modify_group_member_info (Role)")
def set_role(request, data: schemas.MemberRole):
    """Make a member an admin or an ordinary member again (not in Work groups)."""
    member = actions.set_member_role(request.auth.identifier, data.GroupId, data.Member_Account, data.Role, by_admin=True)
    return _member(member)


@groups.post("/members/mute", auth=MODERATION, response=ok(schemas.Member), summary="forbid_send_msg")
def mute(request, data: schemas.MemberMute):
    """Mute a member for ``MuteTime`` seconds (0 unmutes); not the owner, not in Work groups."""
    member = actions.mute_member(request.auth.identifier, data.GroupId, data.Member_Account, data.MuteTime, by_admin=True)
    return _member(member)


@groups.post("/mute_all", auth=MODERATION, response=ok(schemas.Group), summary="modify_group_base_info (MuteAllMember)")
def mute_all(request, data: schemas.MuteAll):
    """Mute (or unmute) every ordinary member of the group."""
    return _group(actions.set_mute_all(request.auth.identifier, data.GroupId, data.MuteAllMember, by_admin=True))


def unknown_api(request, rest=""):
    """Any other path under /api/v1/: a JSON 404 (10003, "bad API name"), not Django's page."""
    return JsonResponse(errors.body(ErrorCode.BAD_API_NAME, "no such API"), status=404)


api.add_router("/users", users)
api.add_router("/c2c", c2c)
api.add_router("/groups", groups)
