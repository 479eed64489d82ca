"""The authorization matrix (issue 9 item 4): every WebSocket op and every HTTP URL, tried
by each actor an attacker could be, with the outcome stated row by row.

The actors (tests/authz_world.py): anonymous, a banned user, a logged-out session (these
three have no working session), a non-member, a removed member, a muted member, and a
plain member acting on someone else's message, upload, card or request. A refusal must
answer the stated code AND write nothing (every table of the database, and the stored
files, compared before and after). An allowed row says what the actor may see.

The tables are dicts keyed by op name (``OP_MATRIX``) and by URL name (``URL_MATRIX``):
a new op in ``consumers.HANDLERS``/``schemas.OPS`` or a new URL in ``chatsite/urls.py``
without rows fails ``test_every_op_has_rows`` / ``test_every_url_has_rows``, naming it.
"""

import asyncio
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from chatsite.asgi import application
from messaging import consumers, schemas
from tests import authz_world
from tests.authz_world import (
    ANONYMOUS,
    BANNED,
    LOGGED_OUT,
    MUTED,
    NON_MEMBER,
    OTHERS,
    PASSWORD,
    REMOVED,
    ROLE_OF_ACTOR,
    SESSIONLESS,
    SIGNED_IN,
    build_world,
)
from tests.chat_helpers import fast_passwords  # noqa: F401
from tests.conftest import session_cookie
from tests.media_helpers import stored_files, use_filesystem_storage
from tests.ws import ProtocolError, Tab

# --- the outcomes a row states -----------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """One actor's outcome. ``args`` overrides the op's arguments for this actor."""

    kind: str  # "refused", "allowed" or "n/a"
    why: str
    code: int | None = None
    check: Callable | None = None  # (reply data, world): what an allowed actor may see
    args: Callable | None = None


def refused(code, why="", *, args=None):
    return Expect("refused", why, code=int(code), args=args)


def allowed(why, check=None, *, args=None):
    return Expect("allowed", why, check=check, args=args)


def na(why):
    """Not applicable: the op names nothing that belongs to someone else."""
    return Expect("n/a", why)


@dataclass(frozen=True)
class Op:
    args: Callable  # world -> the request's args, aimed at the owner's Public group "team" and objects
    rows: dict  # actor -> Expect or a tuple of Expects


def op(args, *, non_member, removed, muted, others):
    """An op's row: every signed-in actor must be stated (a missing one is a TypeError at
    import). The sessionless actors get the same outcome for every op:
    ``test_no_session_runs_no_op``."""
    return Op(args, {NON_MEMBER: non_member, REMOVED: removed, MUTED: muted, OTHERS: others})


NOT_MEMBER = 10007
NO_GROUP = 10010  # a Work group is its members' only: to anyone else it does not exist
NO_MESSAGE = 10030
MUTED_CODE = 10017
NO_UPLOAD = 2403
NO_FRIEND_REQUEST = 30614
NOT_REACTED = 23008
OWN_ONLY = na("names only the actor's own data")
CONVERSATION_IS_OWN = na("a conversationID is always the viewer's own conversation")


def edited(message):
    """``message`` (``{ID, conversationID}``) with new content, as modifyMessage takes it."""
    return {**message, "version": 0, "payload": {"text": "changed"}}


def members_only(muted_note="a muted member still reads", *, muted=None):
    """The usual row of a group read: 10007 for a non-member and a removed member."""
    return {
        "non_member": refused(NOT_MEMBER, "not a member"),
        "removed": refused(NOT_MEMBER, "removed: no longer a member"),
        "muted": muted or allowed(muted_note),
    }


def not_their_group():
    """A conversation-group op aimed at the owner's group: to anyone else there is no such group (51009)."""
    why = "the owner's conversation group: groups are per user, the actor has none of that name"
    return {key: refused(51009, why) for key in ("non_member", "removed", "muted", "others")}


def SEARCH_ALL(w):  # noqa: N802  (an args factory, as the rows' lambdas)
    """searchCloudMessages across every conversation of the actor's, for the group's words."""
    return {"keywordList": ["secret", "please", "notification"]}


def others_c2c_message(**extra):
    """10030: the owner's C2C message to someone else, named by a third user (with ``extra`` args)."""
    return refused(NO_MESSAGE, "the owner's C2C message to someone else", args=lambda w: {"message": w.private_message, **extra})


def reaction_op(reaction_id, *, muted, others):
    """add/removeMessageReaction's row: the owner's group message (the owner has a 👍 on it);
    the owner's C2C message to someone else is out of sight (10030)."""
    return op(
        lambda w: {"message": w.group_message, "reactionID": reaction_id},
        **members_only(muted=muted),
        others=(others, others_c2c_message(reactionID=reaction_id)),
    )


def own_data(why="the actor's own data", check=None):
    """An op open to every logged-in user on their own data."""
    return {"non_member": allowed(why, check), "removed": allowed(why, check), "muted": allowed(why, check), "others": OWN_ONLY}


# --- what an allowed actor may see ------------------------------------------------------------


def leaks_nothing_of_the_groups(data, world):
    """The reply names neither of the owner's groups nor their messages."""
    text = json.dumps(data)
    for secret in (world.work, world.team, "team secret", "please read", "c2c secret", "notification", "team custom"):
        assert secret not in text, f"{secret!r} leaked: {text[:500]}"


def no_conversation_of_the_groups(data, world):
    """The actor's list (or sync) holds no conversation of the owner's groups (a removed
    member's system notice may name the group: they were told they were removed)."""
    ids = {c["conversationID"] for c in data.get("conversationList", data.get("conversations", []))}
    assert not ids & {world.team_conv, "GROUP" + world.work}, ids


def team_conversation_not_theirs(data, world):
    """A list op on the team's conversation by someone not in the team: it is not theirs."""
    assert data["successConversationIDList"] == [], data
    assert [f["conversationID"] for f in data["failureConversationIDList"]] == [world.team_conv], data
    assert {f["code"] for f in data["failureConversationIDList"]} == {2500}, data


def team_conversation_done(data, world):
    assert data["successConversationIDList"] == [world.team_conv], data


def not_the_owners_groups(data, world):
    assert world.conversation_group not in data["groupList"], data


def stranger_view_of_public_group(data, world):
    group = data["group"]
    assert group["groupID"] == world.team
    assert "selfInfo" not in group
    assert not set(group) & {"notification", "nextMessageSeq", "groupCustomField"}, f"members' fields shown: {group}"


def already_in_group(data, world):
    assert data["status"] == "AlreadyInGroup", data


def not_in_group_list(data, world):
    assert not {g["groupID"] for g in data["groupList"]} & {world.team, world.work}, data


def directory_entry(data, world):
    listed = {g["groupID"]: g for g in data["groupList"]}
    assert world.work not in listed, "a Work group in the directory"
    return listed[world.team]


def directory_as_stranger(data, world):
    stranger_view_of_public_group({"group": directory_entry(data, world)}, world)


def directory_as_member(data, world):
    assert directory_entry(data, world)["notification"] == "team notification"


def member_view(data, world):
    assert "selfInfo" in data["group"], data


def only_own_applications(data, world):
    assert data["applicationList"] == [], data


# --- the WebSocket table ---------------------------------------------------------------------------


def text_to_team(w):
    return {"message": {"to": w.team, "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": "hi"}}}


def image_of_owners_upload(w):
    return {"message": {"to": w.team, "conversationType": "GROUP", "type": "TIMImageElem", "payload": {"uuid": w.upload_uuid}}}


def team(**extra):
    return lambda w: {"groupID": w.team, **extra}


def team_conversation(**extra):
    return lambda w: {"conversationID": w.team_conv, **extra}


# One row per op: its arguments (aimed at the owner's Public group and objects), then what
# each signed-in actor gets. A new op: add its row here, e.g.
#     "getGroupFoo": op(team(), **members_only(), others=OWN_ONLY),
# ``refused(code, why)`` also asserts that nothing was written; ``allowed(why, check)``
# runs ``check(reply, world)`` on what the actor may see; ``na(why)`` is for the
# others_object column of an op that names nothing of anyone else's. A tuple states
# several cases for one actor (each may aim elsewhere with ``args=``).
OP_MATRIX = {
    "sendMessage": op(
        text_to_team,
        non_member=refused(NOT_MEMBER, "not a member"),
        removed=refused(NOT_MEMBER, "removed"),
        muted=refused(MUTED_CODE, "muted"),
        others=(
            refused(NO_UPLOAD, "an image message naming the owner's upload", args=image_of_owners_upload),
            refused(
                NO_MESSAGE,
                "forwarding the owner's C2C message to someone else",
                args=lambda w: {
                    "message": {"to": w.owner, "conversationType": "C2C", "forward": w.private_message},
                },
            ),
        ),
    ),
    "getMessageList": op(team_conversation(), **members_only(), others=CONVERSATION_IS_OWN),
    "setMessageRead": op(team_conversation(), **members_only(), others=CONVERSATION_IS_OWN),
    "getConversationList": op(
        lambda w: {},
        non_member=allowed("the actor's own list", no_conversation_of_the_groups),
        removed=allowed("the actor's own list: the group's conversation went with the membership", no_conversation_of_the_groups),
        muted=allowed("the actor's own list, the group's conversation in it"),
        others=OWN_ONLY,
    ),
    "getConversationProfile": op(team_conversation(), **members_only(), others=CONVERSATION_IS_OWN),
    "deleteConversation": op(team_conversation(), **members_only("hides the actor's own row"), others=CONVERSATION_IS_OWN),
    "pinConversation": op(team_conversation(isPinned=True), **members_only("the actor's own row"), others=CONVERSATION_IS_OWN),
    "getTotalUnreadMessageCount": op(lambda w: {}, **own_data()),
    # Conversation management (§5.49): each names only the actor's own conversations and groups.
    "setConversationDraft": op(
        team_conversation(draftText="hi"), **members_only("the actor's own row"), others=CONVERSATION_IS_OWN
    ),
    "markConversation": op(
        lambda w: {"conversationIDList": [w.team_conv], "markType": 1, "enableMark": True},
        non_member=allowed("not the actor's conversation: a failure (2500), nothing marked", team_conversation_not_theirs),
        removed=allowed("the conversation went with the membership: a failure (2500)", team_conversation_not_theirs),
        muted=allowed("the actor's own row", team_conversation_done),
        others=CONVERSATION_IS_OWN,
    ),
    "setMessageRemindType": op(team(messageRemindType="AcceptNotNotify"), **members_only("the actor's own row"), others=OWN_ONLY),
    "getConversationGroupList": op(lambda w: {}, **own_data("the actor's own groups", not_the_owners_groups)),
    "createConversationGroup": op(
        lambda w: {"groupName": w.conversation_group, "conversationIDList": [w.team_conv]},
        non_member=allowed("a group of the actor's own (names are per user), without the team", team_conversation_not_theirs),
        removed=allowed("a group of the actor's own, without the team", team_conversation_not_theirs),
        muted=allowed("a group of the actor's own with their own row", team_conversation_done),
        others=OWN_ONLY,
    ),
    "deleteConversationGroup": op(lambda w: {"groupName": w.conversation_group}, **not_their_group()),
    "renameConversationGroup": op(lambda w: {"oldName": w.conversation_group, "newName": "Mine"}, **not_their_group()),
    "addConversationsToGroup": op(
        lambda w: {"groupName": w.conversation_group, "conversationIDList": [w.team_conv]}, **not_their_group()
    ),
    "deleteConversationsFromGroup": op(
        lambda w: {"groupName": w.conversation_group, "conversationIDList": [w.team_conv]}, **not_their_group()
    ),
    "createGroup": op(lambda w: {"name": "Mine", "type": "Public"}, **own_data("a new group of the actor's own")),
    "joinGroup": op(
        team(applyMessage="hi"),
        non_member=(
            allowed("applies: the owner decides (NeedPermission)"),
            refused(2601, "a Work group cannot be joined", args=lambda w: {"groupID": w.work}),
        ),
        removed=allowed("may apply again; the owner decides"),
        muted=allowed("already a member: the SDK's AlreadyInGroup status", already_in_group),
        others=OWN_ONLY,
    ),
    "quitGroup": op(team(), **members_only("a muted member may leave"), others=OWN_ONLY),
    "addGroupMember": op(
        lambda w: {"groupID": w.team, "userIDList": [w.outsider]},
        **members_only(muted=refused(NOT_MEMBER, "an ordinary member of a Public group may not add")),
        others=na("covered by the muted row: the added user is not the actor"),
    ),
    "deleteGroupMember": op(
        lambda w: {"groupID": w.team, "userIDList": [w.owner]},
        **members_only(muted=refused(NOT_MEMBER, "an ordinary member removes nobody")),
        others=refused(
            NOT_MEMBER,
            "an ordinary member removing another member",
            args=lambda w: {"groupID": w.team, "userIDList": [w.uid("muted")]},
        ),
    ),
    "getGroupList": op(
        lambda w: {},
        **own_data("the actor's own groups", lambda data, w: None),
    ),
    "getGroupProfile": op(
        team(),
        non_member=(
            allowed("a Public group: what a stranger needs to join, no members' fields", stranger_view_of_public_group),
            refused(NO_GROUP, "a Work group is its members' only", args=lambda w: {"groupID": w.work}),
        ),
        removed=(
            allowed("a Public group: as a stranger", stranger_view_of_public_group),
            refused(NO_GROUP, "a Work group: no longer theirs", args=lambda w: {"groupID": w.work}),
        ),
        muted=allowed("a member's view", member_view),
        others=OWN_ONLY,
    ),
    "getGroupMemberList": op(team(), **members_only(), others=OWN_ONLY),
    "getUserProfile": op(lambda w: {"userIDList": [w.owner]}, **own_data("public profiles, to every logged-in user")),
    "getMyProfile": op(lambda w: {}, **own_data()),
    "downloadMergerMessage": op(
        lambda w: {"message": w.group_message},
        **members_only(muted=refused(2450, "a member may open it; it is not a merged message")),
        others=refused(NO_MESSAGE, "the owner's C2C message to someone else", args=lambda w: {"message": w.private_message}),
    ),
    "revokeMessage": op(
        lambda w: {"message": w.group_message},
        **members_only(muted=refused(NOT_MEMBER, "an ordinary member recalls only their own")),
        others=(
            refused(NOT_MEMBER, "the owner's group message, as an ordinary member"),
            refused(NO_MESSAGE, "the owner's C2C message to someone else", args=lambda w: {"message": w.private_message}),
        ),
    ),
    "modifyMessage": op(
        lambda w: {"message": edited(w.group_message)},
        **members_only(muted=refused(NOT_MEMBER, "only the sender edits a message")),
        others=(
            refused(NOT_MEMBER, "the owner's group message: only its sender edits it"),
            refused(NO_MESSAGE, "the owner's C2C message to someone else", args=lambda w: {"message": edited(w.private_message)}),
        ),
    ),
    "deleteMessage": op(
        lambda w: {"messageList": [w.group_message]},
        **members_only("deletes it from the actor's own view only"),
        others=(
            allowed("the owner's group message, from the actor's own view only (the owner's stays)"),
            refused(NO_MESSAGE, "the owner's C2C message to someone else", args=lambda w: {"messageList": [w.private_message]}),
        ),
    ),
    "getMessageListHopping": op(
        team_conversation(sequence=1, direction=1),
        **members_only(),
        others=allowed(
            "a hop in the actor's own C2C chat with the owner shows nothing of the owner's other chats",
            leaks_nothing_of_the_groups,
            args=lambda w: {"conversationID": "C2C" + w.owner, "sequence": 1, "direction": 1},
        ),
    ),
    "findMessage": op(
        lambda w: {"conversationID": w.team_conv, "messageID": w.team_msg_id},
        **members_only(),
        others=refused(
            NO_MESSAGE,
            "the owner's C2C message to someone else, looked up in the actor's own chat with the owner",
            args=lambda w: {"conversationID": "C2C" + w.owner, "messageID": w.c2c_msg_id},
        ),
    ),
    "clearHistoryMessage": op(
        team_conversation(), **members_only("clears the actor's own view only"), others=CONVERSATION_IS_OWN
    ),
    "setAllMessageRead": op(lambda w: {}, **own_data("the actor's own conversations")),
    "searchCloudMessages": op(
        lambda w: {"keywordList": ["secret", "please", "notification"], "conversationID": w.team_conv},
        non_member=(
            refused(NOT_MEMBER, "not a member: the group's conversation is not theirs to search"),
            allowed("every conversation of the actor's: none of the groups'", leaks_nothing_of_the_groups, args=SEARCH_ALL),
        ),
        removed=(
            refused(NOT_MEMBER, "removed: no longer a member"),
            allowed(
                "every conversation of the actor's: the group's went with the membership",
                leaks_nothing_of_the_groups,
                args=SEARCH_ALL,
            ),
        ),
        muted=allowed("a muted member still reads, and searches what they read"),
        others=CONVERSATION_IS_OWN,
    ),
    "reportMessage": op(
        lambda w: {"message": w.group_message, "reason": "spam"},
        **members_only(muted=allowed("a muted member still reads, and may report what they read")),
        others=others_c2c_message(reason="spam"),
    ),
    "addMessageReaction": reaction_op(
        "🎉",
        muted=allowed("a muted member may react: a reaction is not a message (the vendor's mute)"),
        others=allowed("the owner's group message: any member reacts"),
    ),
    "removeMessageReaction": reaction_op(
        "👍",
        muted=refused(NOT_REACTED, "only one's own reaction is taken back; the owner's stays"),
        others=refused(NOT_REACTED, "the owner's 👍 on their message is the owner's: nobody else takes it back"),
    ),
    "getMessageReactions": op(
        lambda w: {"messageList": [w.group_message]},
        **members_only(),
        others=allowed(
            "the owner's C2C message to someone else is left out",
            lambda data, w: data == {"resultList": []},
            args=lambda w: {"messageList": [w.private_message]},
        ),
    ),
    "getAllUserListOfMessageReaction": op(
        lambda w: {"message": w.group_message, "reactionID": "👍"},
        **members_only(),
        others=others_c2c_message(reactionID="👍"),
    ),
    "sendMessageReadReceipt": op(
        lambda w: {"messageList": [w.receipt_message]},
        **members_only("a muted member still reads"),
        others=refused(
            NO_MESSAGE, "the owner's C2C message to someone else", args=lambda w: {"messageList": [w.private_message]}
        ),
    ),
    "getMessageReadReceiptList": op(
        lambda w: {"messageList": [w.receipt_message]},
        **members_only(),
        others=refused(
            NO_MESSAGE, "the owner's C2C message to someone else", args=lambda w: {"messageList": [w.private_message]}
        ),
    ),
    "getGroupMessageReadMemberList": op(
        lambda w: {"message": w.receipt_message},
        **members_only(),
        others=refused(NO_MESSAGE, "the owner's C2C message to someone else", args=lambda w: {"message": w.private_message}),
    ),
    "sync": op(
        lambda w: {"cursors": {w.team_conv: 0, "GROUP" + w.work: 0, "C2C" + w.owner: 0}},
        non_member=allowed("only the actor's own conversations: cursors of others' are ignored", no_conversation_of_the_groups),
        removed=allowed(
            "only the actor's own conversations: the groups' went with the membership", no_conversation_of_the_groups
        ),
        muted=allowed("a member's conversations"),
        others=OWN_ONLY,
    ),
    "updateGroupProfile": op(
        team(introduction="taken over"),
        **members_only(muted=refused(NOT_MEMBER, "an ordinary member of a Public group")),
        others=OWN_ONLY,
    ),
    "setGroupMemberRole": op(
        lambda w: {"groupID": w.team, "userID": w.member, "role": "Admin"},
        **members_only(muted=refused(NOT_MEMBER, "not the owner")),
        others=OWN_ONLY,
    ),
    "setGroupMemberMuteTime": op(
        lambda w: {"groupID": w.team, "userID": w.member, "muteTime": 60},
        **members_only(muted=refused(NOT_MEMBER, "an ordinary member mutes nobody")),
        others=refused(
            NOT_MEMBER, "unmuting the muted member", args=lambda w: {"groupID": w.team, "userID": w.uid("muted"), "muteTime": 0}
        ),
    ),
    "changeGroupOwner": op(
        lambda w: {"groupID": w.team, "newOwnerID": w.me},
        **members_only(muted=refused(NOT_MEMBER, "not the owner")),
        others=OWN_ONLY,
    ),
    "dismissGroup": op(team(), **members_only(muted=refused(NOT_MEMBER, "not the owner")), others=OWN_ONLY),
    "setGroupMemberNameCard": op(
        team(nameCard="me"),
        **members_only("a muted member sets their own card"),
        others=refused(NOT_MEMBER, "the owner's card", args=lambda w: {"groupID": w.team, "userID": w.owner, "nameCard": "x"}),
    ),
    "setGroupMemberCustomField": op(
        team(memberCustomField=[{"key": "k", "value": "v"}]),
        **members_only("a muted member sets their own fields"),
        others=refused(
            NOT_MEMBER,
            "the owner's fields",
            args=lambda w: {"groupID": w.team, "userID": w.owner, "memberCustomField": [{"key": "k", "value": "v"}]},
        ),
    ),
    "getGroupMemberProfile": op(lambda w: {"groupID": w.team, "userIDList": [w.owner]}, **members_only(), others=OWN_ONLY),
    "searchGroupByID": op(
        team(),
        non_member=(
            allowed("a Public group: what a stranger needs to join", stranger_view_of_public_group),
            refused(NO_GROUP, "a Work group cannot be searched", args=lambda w: {"groupID": w.work}),
        ),
        removed=refused(NO_GROUP, "a Work group: no longer theirs", args=lambda w: {"groupID": w.work}),
        muted=allowed("a member"),
        others=OWN_ONLY,
    ),
    "updateMyProfile": op(lambda w: {"nick": "Me"}, **own_data("the actor's own profile")),
    "searchCloudUsers": op(lambda w: {"keywordList": [w.owner]}, **own_data("the directory: public profiles")),
    "getPublicGroupList": op(
        lambda w: {"count": 100},
        non_member=allowed("Public groups, as a stranger sees them; no Work group", directory_as_stranger),
        removed=allowed("Public groups, as a stranger sees them; no Work group", directory_as_stranger),
        muted=allowed("Public groups; a member's view of their own", directory_as_member),
        others=OWN_ONLY,
    ),
    "getFriendList": op(lambda w: {}, **own_data()),
    "addFriend": op(lambda w: {"to": w.owner}, **own_data("a request: the owner decides")),
    "deleteFriend": op(lambda w: {"userIDList": [w.owner]}, **own_data("the actor's own list (not a friend: a failure item)")),
    "getFriendProfile": op(lambda w: {"userIDList": [w.owner]}, **own_data("the actor's own list")),
    "updateFriend": op(
        lambda w: {"userID": w.owner, "remark": "x"},
        **{
            actor: refused(30001, "only the actor's own friends: the owner is not one")
            for actor in ("non_member", "removed", "muted")
        },
        others=OWN_ONLY,
    ),
    "checkFriend": op(lambda w: {"userIDList": [w.owner]}, **own_data("the actor's own relation")),
    "getFriendApplicationList": op(lambda w: {}, **own_data("the actor's own requests", leaks_nothing_of_the_groups)),
    "acceptFriendApplication": op(
        lambda w: {"userID": w.uid("applicant")},
        **{actor: refused(NO_FRIEND_REQUEST, "the request was to the owner") for actor in ("non_member", "removed", "muted")},
        others=refused(NO_FRIEND_REQUEST, "the request was to the owner"),
    ),
    "refuseFriendApplication": op(
        lambda w: {"userID": w.uid("applicant")},
        **{actor: refused(NO_FRIEND_REQUEST, "the request was to the owner") for actor in ("non_member", "removed", "muted")},
        others=refused(NO_FRIEND_REQUEST, "the request was to the owner"),
    ),
    "deleteFriendApplication": op(
        lambda w: {"userID": w.uid("applicant"), "type": "Pendency_Type_ComeIn"},
        **{actor: refused(NO_FRIEND_REQUEST, "the request was to the owner") for actor in ("non_member", "removed", "muted")},
        others=refused(NO_FRIEND_REQUEST, "the request was to the owner"),
    ),
    "setFriendApplicationRead": op(lambda w: {}, **own_data("the actor's own requests")),
    "addToBlacklist": op(lambda w: {"userIDList": [w.owner]}, **own_data("the actor's own block list")),
    "removeFromBlacklist": op(
        lambda w: {"userIDList": [w.owner]},
        **{
            actor: refused(30001, "only the actor's own block list: the owner is not on it")
            for actor in ("non_member", "removed", "muted")
        },
        others=OWN_ONLY,
    ),
    "getBlacklist": op(lambda w: {}, **own_data()),
    "getUserStatus": op(lambda w: {"userIDList": [w.owner]}, **own_data("anyone's online status")),
    "setSelfStatus": op(lambda w: {"customStatus": "away"}, **own_data()),
    "subscribeUserStatus": op(lambda w: {"userIDList": [w.owner]}, **own_data("anyone's online status")),
    "unsubscribeUserStatus": op(lambda w: {}, **own_data()),
    "getGroupOnlineMemberCount": op(team(), **members_only(), others=OWN_ONLY),
    "handleGroupApplication": op(
        lambda w: {"handleAction": "Agree", "message": {"ID": w.application_notice_id}},
        **{
            actor: refused(NO_MESSAGE, "the notice is in the owner's system conversation")
            for actor in ("non_member", "removed", "muted")
        },
        others=refused(NO_MESSAGE, "the notice is in the owner's system conversation"),
    ),
    "getGroupApplicationList": op(lambda w: {}, **own_data("applications to the actor's groups only", only_own_applications)),
}


# --- running the WebSocket rows ---------------------------------------------------------------------


# Tables a refusal may write: logins and logouts are logged, and failed logins counted,
# by design (django-axes, the login lockout); a session is made by logging in.
NOT_STATE = {"sessions.Session", "axes.AccessAttempt", "axes.AccessLog", "axes.AccessFailureLog"}


def full_snapshot():
    """Every row of every table, and every stored file: what a refusal must leave as it was."""
    tables = {}
    for model in apps.get_models():
        if model._meta.label in NOT_STATE:
            continue
        tables[model._meta.label] = list(model.objects.order_by("pk").values())
    root = settings.MEDIA_ROOT
    tables["files"] = [(name, hashlib.sha256((Path(root) / name).read_bytes()).hexdigest()) for name in stored_files(Path(root))]
    return tables


def changes(before, after):
    return sorted(name for name in before if before[name] != after[name])


class Runner:
    """Runs rows as one actor, in a world kept fresh: a row that changed the world
    (an allowed write) gets the next row a new world."""

    def __init__(self, actor):
        self.actor, self.count, self.world, self.tab = actor, 0, None, None

    async def fresh(self):
        if self.tab is not None:
            await self.tab.close()
        self.count += 1
        self.world = await database_sync_to_async(build_world)(f"{self.actor[:3]}{self.count}")
        self.world.me = self.world.uid(ROLE_OF_ACTOR[self.actor])
        self.tab = await Tab.open(self.world.users[ROLE_OF_ACTOR[self.actor]])

    async def run(self, op_name, expect: Expect, default_args):
        """None when the row holds, else what went wrong."""
        if self.world is None:
            await self.fresh()
        world = self.world
        args = (expect.args or default_args)(world)
        before = await database_sync_to_async(full_snapshot)()
        try:
            data, code = await self.tab.request(op_name, **args), None
        except ProtocolError as error:
            data, code = error.message, error.code
        after = await database_sync_to_async(full_snapshot)()
        if after != before:
            self.world = None  # the next row needs a world as it was
        label = f"{op_name} as {self.actor} ({expect.why})"
        if expect.kind == "refused":
            if code != expect.code:
                return f"{label}: expected {expect.code}, got {'ok ' + json.dumps(data)[:300] if code is None else code}"
            if after != before:
                return f"{label}: refused with {code} but wrote to {changes(before, after)}"
            return None
        if code is not None:
            return f"{label}: expected allowed, got {code} {data}"
        if expect.check:
            try:
                expect.check(data, world)
            except AssertionError as error:
                return f"{label}: {error}"
        return None


def cases(expect):
    return expect if isinstance(expect, tuple) else (expect,)


@pytest.fixture
def media_root(settings, tmp_path):
    return use_filesystem_storage(settings, tmp_path)


def test_every_op_has_rows():
    """A new op fails here until the table says what each actor gets from it."""
    missing = sorted(set(consumers.HANDLERS) - set(OP_MATRIX))
    unknown = sorted(set(OP_MATRIX) - set(schemas.OPS))
    assert not missing, (
        f"ops with no rows in OP_MATRIX (tests/test_authorization_matrix.py): {missing}. Add a row stating what a "
        "non-member, a removed member, a muted member and a member acting on someone else's object get."
    )
    assert not unknown, f"OP_MATRIX names ops that no longer exist: {unknown}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("actor", SIGNED_IN)
async def test_every_op_as(actor, media_root):
    runner = Runner(actor)
    failures = []
    for op_name, row in OP_MATRIX.items():
        for expect in cases(row.rows[actor]):
            if expect.kind == "n/a":
                continue
            failure = await runner.run(op_name, expect, row.args)
            if failure:
                failures.append(failure)
    if runner.tab is not None:
        await runner.tab.close()
    assert not failures, "\n".join(failures)


# --- the sessionless actors: no op runs at all --------------------------------------------------


async def socket_with(cookie):
    """A socket opened with the ``sessionid`` ``cookie`` (None: none); (communicator, first output)."""
    headers = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
    if cookie:
        headers.append((b"cookie", f"sessionid={cookie}".encode()))
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator, await communicator.receive_output(timeout=3)


async def kicked(tab):
    """The KICKED_OUT push and the close that follows it, on an open tab."""
    reason = await tab.wait_event("KICKED_OUT")
    return reason, await tab.communicator.receive_output(timeout=3)


def log_out(cookie):
    client = Client()
    client.cookies["sessionid"] = cookie
    return client.post("/accounts/logout/").status_code


async def every_op_frame_unanswered(communicator, world):
    """Send one frame of every op (aimed at the owner's group and objects); the names of
    the ops that got any answer."""
    for number, (op_name, row) in enumerate(OP_MATRIX.items()):
        await communicator.send_to(text_data=json.dumps({"id": number, "op": op_name, "args": row.args(world)}))
    answered = []
    while not await communicator.receive_nothing(timeout=0.3):
        output = await communicator.receive_output()
        if output.get("type") == "websocket.send":
            frame = json.loads(output["text"])
            answered.append(list(OP_MATRIX)[frame["id"]] if isinstance(frame.get("id"), int) else frame)
    return answered


@pytest.mark.django_db(transaction=True)
async def test_no_session_runs_no_op(media_root):
    """Anonymous, banned and logged-out: the socket is closed at connect (4001), or kicked
    when the session ends while it is open (KICKED_OUT, then 4003 for a ban, 4001 for a
    logout); every op's frame sent anyway gets no answer and writes nothing."""
    world = await database_sync_to_async(build_world)("nos")
    users = world.users
    sockets = {}

    sockets[f"{ANONYMOUS}: no cookie"] = await socket_with(None)
    banned_cookie = await database_sync_to_async(session_cookie)(users["banned"])
    sockets[f"{BANNED}: a session of the banned account"] = await socket_with(banned_cookie)

    open_when_banned = await Tab.open(users["member"])
    await database_sync_to_async(authz_world.actions.set_user_active)(users["member"], False)
    sockets[f"{BANNED} while the socket was open"] = (open_when_banned.communicator, await kicked(open_when_banned))

    open_at_logout = await Tab.open(users["logged_out"])
    assert await database_sync_to_async(log_out)(open_at_logout.cookie) == 302
    sockets[f"{LOGGED_OUT} while the socket was open"] = (open_at_logout.communicator, await kicked(open_at_logout))
    sockets[f"{LOGGED_OUT}: the ended session"] = await socket_with(open_at_logout.cookie)

    expected_close = {
        f"{ANONYMOUS}: no cookie": {"type": "websocket.close", "code": 4001},
        f"{BANNED}: a session of the banned account": {"type": "websocket.close", "code": 4001},
        f"{BANNED} while the socket was open": ({"type": "banned"}, {"type": "websocket.close", "code": 4003}),
        f"{LOGGED_OUT} while the socket was open": (
            {"type": "userSigExpired"},
            {"type": "websocket.close", "code": 4001},
        ),
        f"{LOGGED_OUT}: the ended session": {"type": "websocket.close", "code": 4001},
    }
    before = await database_sync_to_async(full_snapshot)()
    failures = []
    for name, (communicator, closed) in sockets.items():
        if closed != expected_close[name]:
            failures.append(f"{name}: expected {expected_close[name]}, got {closed}")
        answered = await every_op_frame_unanswered(communicator, world)
        if answered:
            failures.append(f"{name}: answered {answered}")
        await communicator.disconnect()
    after = await database_sync_to_async(full_snapshot)()
    assert not failures, "\n".join(failures)
    assert after == before, f"sessionless frames wrote to {changes(before, after)}"


# --- the HTTP table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """What one actor gets from one request. ``to``: where a redirect goes (a prefix);
    ``code``: the SDK code in a JSON error body. ``writes``: an allowed request may
    write (its own data); a refused one must not."""

    status: int
    why: str
    to: str | None = None
    code: int | None = None
    writes: bool = False


@dataclass(frozen=True)
class Request:
    method: str
    path: Callable  # world -> path
    rows: dict  # actor -> Answer
    data: Callable | None = None  # world -> the body (a form dict, or bytes/str with content_type)
    content_type: str | None = None


def request(method, path, *, data=None, content_type=None, sessionless, **rows):
    """A URL's row: every actor must be stated (a missing one fails the test). The three
    sessionless actors (anonymous, banned, logged out) usually get the same answer:
    ``sessionless`` states it for all three at once."""
    return Request(method, path, {**dict.fromkeys(SESSIONLESS, sessionless), **rows}, data, content_type)


def to_login():
    return Answer(302, "log in first", to="/accounts/login/?next=")


def json_401():
    return Answer(401, "scripts get 401, not a redirect", code=2024)


def signed_in(answer):
    return dict.fromkeys(SIGNED_IN, answer)


def no_upload_of_yours():
    return signed_in(Answer(404, "not the actor's upload", code=NO_UPLOAD))


def upload_path(suffix):
    return lambda w: f"/api/uploads/{w.pending_upload_uuid}/{suffix}"


URL_MATRIX = {
    "chat": request("GET", lambda w: "/", sessionless=to_login(), **signed_in(Answer(200, "the chat page"))),
    "login": (
        request(
            "GET",
            lambda w: "/accounts/login/",
            sessionless=Answer(200, "the login form"),
            **signed_in(Answer(302, "already logged in: to the chat", to="/")),
        ),
        request(
            "POST",
            lambda w: "/accounts/login/",
            data=lambda w: {"username": w.me, "password": PASSWORD},
            sessionless=Answer(302, "the right password logs in", to="/", writes=True),
            banned=Answer(200, "an inactive account cannot log in: the form again"),
            **signed_in(Answer(302, "already logged in: to the chat", to="/")),
        ),
    ),
    "logout": request(
        "POST",
        lambda w: "/accounts/logout/",
        sessionless=Answer(302, "nothing to end", to="/accounts/login/"),
        **signed_in(Answer(302, "ends the actor's own session only", to="/accounts/login/")),
    ),
    "password_change": request(
        "POST",
        lambda w: "/accounts/password_change/",
        data=lambda w: {"old_password": "wrong", "new_password1": "n3w-secret-pw", "new_password2": "n3w-secret-pw"},
        sessionless=to_login(),
        **signed_in(Answer(200, "the old password is checked: the form again")),
    ),
    "password_change_done": request(
        "GET", lambda w: "/accounts/password_change/done/", sessionless=to_login(), **signed_in(Answer(200, "a page"))
    ),
    # Languages (issue 11 item 10): the catalog of the UI's texts and the language switch
    # are the same for everyone; the switch only sets the language cookie.
    "javascript-catalog": request(
        "GET",
        lambda w: "/i18n/catalog.js",
        sessionless=Answer(200, "the texts of the UI, public"),
        **signed_in(Answer(200, "the texts of the UI, public")),
    ),
    "set_language": request(
        "POST",
        lambda w: "/i18n/setlang/",
        data=lambda w: {"language": "zh-hans", "next": "/"},
        sessionless=Answer(302, "the language cookie is set", to="/"),
        **signed_in(Answer(302, "the language cookie is set, nothing stored", to="/")),
    ),
    # Hosting (issue 9 item 5): sign-up is closed by default; the reset pages are public
    # (they say nothing of who has an account); delete and export act on the actor alone.
    "signup": request(
        "GET", lambda w: "/signup/", sessionless=Answer(404, "sign-up is closed"), **signed_in(Answer(404, "sign-up is closed"))
    ),
    "password_reset": request(
        "POST",
        lambda w: "/accounts/password_reset/",
        data=lambda w: {"email": "nobody@example.com"},
        sessionless=Answer(302, "the same answer whether the address exists", to="/accounts/password_reset/done/"),
        **signed_in(Answer(302, "the same answer whether the address exists", to="/accounts/password_reset/done/")),
    ),
    "password_reset_done": request(
        "GET", lambda w: "/accounts/password_reset/done/", sessionless=Answer(200, "a page"), **signed_in(Answer(200, "a page"))
    ),
    "password_reset_confirm": request(
        "GET",
        lambda w: "/accounts/reset/MQ/not-a-token/",
        sessionless=Answer(200, "a made-up link is refused: the page says so"),
        **signed_in(Answer(200, "a made-up link is refused: the page says so")),
    ),
    "password_reset_complete": request(
        "GET", lambda w: "/accounts/reset/done/", sessionless=Answer(200, "a page"), **signed_in(Answer(200, "a page"))
    ),
    "account-delete": request(
        "POST",
        lambda w: "/account/delete/",
        data=lambda w: {"password": "not the password"},
        sessionless=to_login(),
        **signed_in(Answer(403, "the actor's own account, and only with its password", code=NOT_MEMBER)),
    ),
    "account-export": request(
        "GET",
        lambda w: "/account/export/",
        sessionless=to_login(),
        **signed_in(Answer(200, "the actor's own data (tests/test_export.py: nothing of anyone else's)")),
    ),
    "upload-create": request(
        "POST",
        lambda w: "/api/uploads/",
        data=lambda w: json.dumps({"kind": "file", "name": "a.txt", "size": 3}),
        content_type="application/json",
        sessionless=json_401(),
        **signed_in(Answer(201, "an upload of the actor's own", writes=True)),
    ),
    "upload-data": request(
        "PUT",
        lambda w: f"/api/uploads/{w.pending_upload_uuid}/data?offset=0",
        data=lambda w: b"overwritten",
        content_type="application/octet-stream",
        sessionless=json_401(),
        **no_upload_of_yours(),
    ),
    "upload-complete": request("POST", upload_path("complete"), sessionless=json_401(), **no_upload_of_yours()),
    "upload-avatar": request(
        "POST", lambda w: f"/api/uploads/{w.upload_uuid}/avatar", sessionless=json_401(), **no_upload_of_yours()
    ),
    "file": (
        request(
            "GET",
            lambda w: f"/files/{w.upload_uuid}/original",
            sessionless=to_login(),
            non_member=Answer(403, "not in the conversation the image was sent to", code=NOT_MEMBER),
            removed=Answer(403, "removed: no longer in the conversation", code=NOT_MEMBER),
            muted=Answer(200, "a muted member still sees the group's files"),
            others_object=Answer(200, "the owner's image, sent to the actor's group"),
        ),
        request(
            "GET",
            lambda w: f"/files/{w.pending_upload_uuid}/original",
            sessionless=to_login(),
            **signed_in(Answer(403, "the owner's unsent upload", code=NOT_MEMBER)),
        ),
    ),
    "avatar": request(
        "GET",
        lambda w: w.avatar_path,
        sessionless=to_login(),
        **signed_in(Answer(200, "avatars are shown to every logged-in user")),
    ),
}

# URLs covered as a family, each by its own test: the key as ``url_keys`` names it.
URL_FAMILIES = {
    "admin:*": "test_admin_refuses_everyone_but_staff",
    "api-v1:*": "test_the_server_api_refuses_every_session",
    "/static/": "test_static_and_media_families",  # not in the URLconf: served before it
    "/media/": "test_static_and_media_families",  # only /media/avatars/ is, as "avatar"
}


def url_keys():
    """Every URL of chatsite/urls.py as the table names it: the name (``namespace:name``),
    or the route when unnamed; everything under the admin as ``admin:*``."""
    keys = set()

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                if inner in ("admin", "api-v1"):
                    keys.add(f"{inner}:*")
                else:
                    walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern):
                name = pattern.name or str(pattern.pattern)
                keys.add(f"{namespace}:{name}" if namespace else name)
                if name == "^api/v1/":  # the API's JSON 404 for any other path under it
                    keys.discard(name)
                    keys.add("api-v1:*")

    walk(get_resolver().url_patterns, None)
    return keys


def test_every_url_has_rows():
    """A new URL fails here until the table says what each actor gets from it."""
    covered = set(URL_MATRIX) | set(URL_FAMILIES)
    missing = sorted(url_keys() - covered)
    assert not missing, (
        f"URLs with no rows in URL_MATRIX (tests/test_authorization_matrix.py): {missing}. Add a row stating what "
        "anonymous, banned, logged-out, non-member, removed, muted and someone-else's-object actors get."
    )
    gone = set(URL_MATRIX) - url_keys()
    assert not gone, f"URL_MATRIX names URLs that no longer exist: {sorted(gone)}"


def client_as(actor, world):
    """A test client of ``actor``: a session for the signed-in ones and the banned one (made
    before the ban would be the same: Django sees no user), an ended one for logged_out."""
    client = Client()
    if actor == ANONYMOUS:
        world.me = world.uid("spare")
        return client
    user = world.users[ROLE_OF_ACTOR[actor]]
    world.me = user.username
    client.force_login(user)
    if actor == LOGGED_OUT:
        cookie = client.cookies["sessionid"].value
        assert client.post("/accounts/logout/").status_code == 302
        client = Client()
        client.cookies["sessionid"] = cookie
    return client


def send(client, req: Request, world):
    kwargs = {}
    if req.data is not None:
        kwargs["data"] = req.data(world)
    if req.content_type:
        kwargs["content_type"] = req.content_type
    return getattr(client, req.method.lower())(req.path(world), **kwargs)


def check_answer(response, answer: Answer):
    """None when the response is the stated answer, else what differs."""
    if response.status_code != answer.status:
        return f"expected {answer.status}, got {response.status_code} {response.content[:200]!r}"
    if answer.to is not None and not response["Location"].startswith(answer.to):
        return f"expected a redirect to {answer.to}, got {response['Location']}"
    if answer.code is not None and response.json().get("code") != answer.code:
        return f"expected code {answer.code}, got {response.content[:200]!r}"
    return None


@pytest.mark.django_db
@pytest.mark.parametrize("url_name", sorted(URL_MATRIX))
def test_every_url_as_every_actor(url_name, media_root):
    failures, world, worlds = [], None, iter(range(1000))
    for req in cases(URL_MATRIX[url_name]):
        for actor in authz_world.ACTORS:
            answer = req.rows.get(actor)
            if answer is None:
                failures.append(f"{req.method} {url_name}: no row for {actor}")
                continue
            world = world or build_world(f"u{next(worlds)}")
            client = client_as(actor, world)
            before = full_snapshot()
            response = send(client, req, world)
            after = full_snapshot()
            problem = check_answer(response, answer)
            if problem is None and after != before and not answer.writes:
                problem = f"wrote to {changes(before, after)}"
            if problem:
                failures.append(f"{req.method} {req.path(world)} as {actor} ({answer.why}): {problem}")
            if after != before:
                world = None  # the next actor gets the world as it was
    assert not failures, "\n".join(failures)


# --- the admin, as one family -------------------------------------------------------------------------

ADMIN_SAMPLES = {"app_label": "messaging", "url": "nowhere/"}  # a path part's sample value; others: "1"


def admin_paths():
    """(name, path) of every URL under /admin/, with sample values in its path parts."""
    found = []

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
            elif namespace == "admin":
                text = prefix + str(pattern.pattern)
                text = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: ADMIN_SAMPLES.get(m[1], "1"), text)
                text = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: ADMIN_SAMPLES.get(m[1], "1"), text)
                found.append((pattern.name or str(pattern.pattern), "/" + text.replace("^", "").replace("$", "")))

    walk(get_resolver().url_patterns, "", None)
    return found


@pytest.mark.django_db
def test_admin_refuses_everyone_but_staff():
    """Every URL under /admin/ (the moderation views included, whoever adds them) sends
    anonymous, a non-staff user, a banned staff account and a staff session that was
    logged out to the admin's login; only the login form itself answers them. A
    superuser gets the pages (the paths are real)."""
    world = build_world("adm")
    boss = authz_world.actions.create_user("bossadm", password=PASSWORD, is_superuser=True)
    banned_staff = authz_world.actions.create_user("bannedstaffadm", password=PASSWORD, is_superuser=True)
    gone_staff = authz_world.actions.create_user("gonestaffadm", password=PASSWORD, is_superuser=True)
    clients = {ANONYMOUS: Client(), NON_MEMBER: Client(), BANNED: Client(), LOGGED_OUT: Client(), "superuser": Client()}
    clients[NON_MEMBER].force_login(world.users["stranger"])
    clients[BANNED].force_login(banned_staff)
    authz_world.actions.set_user_active(banned_staff, False)
    clients[LOGGED_OUT].force_login(gone_staff)
    cookie = clients[LOGGED_OUT].cookies["sessionid"].value
    assert clients[LOGGED_OUT].post(reverse("admin:logout")).status_code == 302
    clients[LOGGED_OUT].cookies["sessionid"] = cookie
    clients["superuser"].force_login(boss)
    login = reverse("admin:login")

    paths = admin_paths()
    assert len(paths) > 20 and ("login", login) in paths, paths
    failures = []
    before = full_snapshot()
    for name, path in paths:
        for actor in (ANONYMOUS, NON_MEMBER, BANNED, LOGGED_OUT):
            response = clients[actor].get(path)
            if path == login:
                if response.status_code != 200:
                    failures.append(f"GET {path} ({name}) as {actor}: the login form, got {response.status_code}")
                continue
            # The admin's logout sends a non-staff visitor to the index, which sends them to the login.
            target = reverse("admin:index") if path == reverse("admin:logout") else login + "?next="
            if response.status_code != 302 or not response["Location"].startswith(target):
                failures.append(f"GET {path} ({name}) as {actor}: expected a redirect to {target}, got {response.status_code}")
    assert not failures, "\n".join(failures)
    assert full_snapshot() == before
    assert clients["superuser"].get(reverse("admin:index")).status_code == 200
    assert clients["superuser"].get(reverse("admin:messaging_user_changelist")).status_code == 200


# --- the server REST API, as one family ------------------------------------------------------------

# The API's own documents, public as any API's schema is: they name operations, hold no data.
API_DOCUMENTS = {"api-root", "openapi-json", "openapi-view"}


def api_paths():
    """(name, path, methods) of every URL under /api/v1/: the operations as the API's own
    OpenAPI schema lists them (path parameters given a sample value), then its documents."""
    from messaging.api.v1 import api

    found = []
    for path, operations in api.get_openapi_schema()["paths"].items():
        name = next(iter(operations.values()))["operationId"]
        found.append((name, re.sub(r"\{\w+\}", "1", path), sorted(m.upper() for m in operations)))
    for pattern in get_resolver().url_patterns:
        if isinstance(pattern, URLResolver) and pattern.namespace == "api-v1":
            found += [(p.name, "/api/v1/" + str(p.pattern), ["GET"]) for p in pattern.url_patterns if p.name in API_DOCUMENTS]
    return found


@pytest.mark.django_db
def test_the_server_api_refuses_every_session():
    """Every operation under /api/v1/ (whoever adds one) answers 401 with the API's error
    body to every actor a browser session can be (anonymous, banned, logged out, non-member,
    removed, muted, a member with someone else's IDs): only a bearer token opens it, so a
    cookie the browser adds by itself never acts (no CSRF). Nothing is written. The API's
    own documents are public; any other path under it is the API's JSON 404."""
    world = build_world("api")
    paths = api_paths()
    operations = [(name, path, methods) for name, path, methods in paths if name not in API_DOCUMENTS]
    assert len(operations) >= 15 and {name for name, _, _ in paths} >= API_DOCUMENTS, paths
    clients = {actor: client_as(actor, world) for actor in authz_world.ACTORS}
    failures = []
    before = full_snapshot()
    for name, path, methods in operations:
        assert methods, (name, path)
        for actor, client in clients.items():
            for method in methods:
                body = {} if method == "GET" else {"data": "{}", "content_type": "application/json"}
                response = getattr(client, method.lower())(path, **body)
                body = response.json() if response.get("Content-Type", "").startswith("application/json") else {}
                if response.status_code != 401 or body.get("ErrorCode") != 70003:
                    failures.append(f"{method} {path} ({name}) as {actor}: {response.status_code} {response.content[:120]!r}")
    assert not failures, "\n".join(failures)
    assert full_snapshot() == before
    anonymous = Client()
    for name, path, _ in paths:
        if name in API_DOCUMENTS:  # the bare root lists nothing (django-ninja's own 404)
            assert anonymous.get(path).status_code == (404 if name == "api-root" else 200), (name, path)
    missing = anonymous.get("/api/v1/no/such/thing")
    assert missing.status_code == 404 and missing.json()["ErrorCode"] == 10003


# --- /static/ and /media/, as families ------------------------------------------------------------


async def asgi_get(path, cookie=None):
    """(status, body) of a GET through the whole ASGI application (static files are served
    before the URLconf)."""
    headers = [(b"host", b"localhost")] + ([(b"cookie", f"sessionid={cookie}".encode())] if cookie else [])
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"", "headers": headers}
    scope.update({"http_version": "1.1", "scheme": "http", "server": ("localhost", 80), "client": ("127.0.0.1", 5000)})
    sent, asked = [], []

    async def receive():
        if not asked:
            asked.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client never leaves; the app finishes first

    async def capture(message):
        sent.append(message)

    await application(scope, receive, capture)
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.mark.django_db(transaction=True)
async def test_static_and_media_families(media_root):
    """/static/ holds no user data: every actor, session or not, gets the same bytes.
    /media/ serves nothing but the avatars (the ``avatar`` row): a stored upload's own
    path there is 404 to everyone, its owner included, so files reach only the members
    who may see them, through /files/ (the ``file`` rows)."""
    world = await database_sync_to_async(build_world)("fam")
    cookies = {ANONYMOUS: None}
    for actor in (BANNED, NON_MEMBER, MUTED):
        cookies[actor] = await database_sync_to_async(session_cookie)(world.users[ROLE_OF_ACTOR[actor]])
    cookies["owner"] = await database_sync_to_async(session_cookie)(world.users["owner"])
    stored = await database_sync_to_async(stored_files)(media_root)
    upload_keys = [name for name in stored if world.upload_uuid in name or "avatars/" not in name]
    assert upload_keys, stored

    failures = []
    public = await asgi_get("/static/chat/tim.js")
    assert public[0] == 200 and b"TIM" in public[1], public[0]
    for actor, cookie in cookies.items():
        if await asgi_get("/static/chat/tim.js", cookie) != public:
            failures.append(f"/static/chat/tim.js as {actor}: not the same bytes as anonymous")
        for key in upload_keys:
            status, _ = await asgi_get(settings.MEDIA_URL + key, cookie)
            if status != 404:
                failures.append(f"{settings.MEDIA_URL}{key} as {actor}: expected 404, got {status}")
    assert not failures, "\n".join(failures)
