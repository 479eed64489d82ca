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

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator, WebsocketCommunicator
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
    args: Callable  # world -> the request's args, aimed at the owner's Work group and objects
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
OWN_ONLY = na("names only the actor's own data")
CONVERSATION_IS_OWN = na("a conversationID is always the viewer's own conversation")


def members_only(muted_note="a muted member still reads", *, muted=None):
    """The usual row of a group read: 10007 for a non-member and a removed member."""
    return {
        "non_member": refused(NOT_MEMBER, "not a member"),
        "removed": refused(NOT_MEMBER, "removed: no longer a member"),
        "muted": muted or allowed(muted_note),
    }


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


def text_to_work(w):
    return {"message": {"to": w.team, "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": "hi"}}}


def image_of_owners_upload(w):
    return {"message": {"to": w.team, "conversationType": "GROUP", "type": "TIMImageElem", "payload": {"uuid": w.upload_uuid}}}


def team(**extra):
    return lambda w: {"groupID": w.team, **extra}


def team_conversation(**extra):
    return lambda w: {"conversationID": w.team_conv, **extra}


OP_MATRIX = {
    "sendMessage": op(
        text_to_work,
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
        others=(refused(NO_MESSAGE, "the owner's C2C message to someone else", args=lambda w: {"message": w.private_message}),),
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


def full_snapshot():
    """Every row of every table, and every stored file: what a refusal must leave as it was."""
    tables = {}
    for model in apps.get_models():
        if model._meta.label in ("sessions.Session",):
            continue  # opening a tab logs in; a refused op never touches a session
        tables[model._meta.label] = list(model.objects.order_by("pk").values())
    root = settings.MEDIA_ROOT
    tables["files"] = stored_files(__import__("pathlib").Path(root)) if root else []
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
