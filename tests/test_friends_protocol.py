"""The relationship chain over the socket (docs/PROTOCOL.md §5.34): friends, friend
requests, remarks and the block list. Every op, each refusal with the SDK's code and
nothing written, the events each side's tabs receive (and that others do not), and the
events applied to a tab's old state equal a fresh fetch (Zulip's verify_action).
Sends refused by a block (20007) or by the friendship check (20009) store nothing and
reach nobody."""

import copy

import pytest
from channels.db import database_sync_to_async

from messaging import actions, rules
from messaging.models import Block, Friend, FriendApplication
from tests.chat_helpers import db_snapshot, fast_passwords, make_group, send_text  # noqa: F401
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)

NEED_CONFIRM = 30539


def snapshot():
    """``db_snapshot`` and the relationship chain's tables."""
    return {
        **db_snapshot(),
        "friends": list(Friend.objects.order_by("pk").values_list("owner_id", "friend_id", "remark")),
        "applications": list(FriendApplication.objects.order_by("pk").values_list("applicant_id", "target_id", "is_read")),
        "blocks": list(Block.objects.order_by("pk").values_list("owner_id", "blocked_id")),
    }


async def refused(tab, code, op, **args):
    """``op`` fails with ``code`` and writes nothing."""
    before = await database_sync_to_async(snapshot)()
    error = await tab.expect_error(code, op, **args)
    assert await database_sync_to_async(snapshot)() == before
    return error


def allow(user, allow_type):
    return database_sync_to_async(actions.set_allow_type)(user, allow_type)


async def state(tab):
    """What a client holds of the relationship chain and the conversations."""
    return {
        "friends": await tab.request("getFriendList"),
        "applications": await tab.request("getFriendApplicationList"),
        "blacklist": await tab.request("getBlacklist"),
        "conversations": (await tab.request("getConversationList"))["conversationList"],
    }


def apply_events(old, events):
    """The SDK's handling of each event (tim.js does the same), applied to ``old``."""
    new = copy.deepcopy(old)
    for frame in events:
        name, data = frame["event"], frame["data"]
        if name == "FRIEND_LIST_UPDATED":
            upserted = {f["userID"]: f for f in data["upsert"]}
            kept = [upserted.pop(f["userID"], f) for f in new["friends"] if f["userID"] not in data["remove"]]
            new["friends"] = kept + list(upserted.values())
        elif name == "FRIEND_APPLICATION_LIST_UPDATED":
            new["applications"] = data
        elif name == "BLACKLIST_UPDATED":
            new["blacklist"] = data
        elif name == "CONVERSATION_LIST_UPDATED":
            by_id = {c["conversationID"]: c for c in new["conversations"]}
            for patch in data:
                if patch["conversationID"] in by_id:
                    by_id[patch["conversationID"]].update(patch)
    return new


async def verified(tabs_and_states):
    """Each tab's events applied to its old state equal what it fetches now."""
    for tab, old in tabs_and_states:
        events = await tab.drain(settle=0.3)
        assert apply_events(old, events) == await state(tab)


def names(friends):
    return [f["userID"] for f in friends]


async def befriend(a_tab, b_tab, a_id, b_id):
    """``a`` asks, ``b`` accepts (both NeedConfirm, the default)."""
    assert (await a_tab.request("addFriend", to=b_id))["code"] == NEED_CONFIRM
    await b_tab.request("acceptFriendApplication", userID=a_id, type=rules.SNS_APPLICATION_AGREE_AND_ADD)
    await a_tab.drain()
    await b_tab.drain()


# --- addFriend and the add-friend mode -------------------------------------------------------


async def test_a_request_to_a_user_who_confirms_is_pending_and_both_sides_tabs_see_it(open_tab, alice, bob, carol):
    a1, a2, b, c = await open_tab(alice), await open_tab(alice), await open_tab(bob), await open_tab(carol)
    old_a, old_b = await state(a1), await state(b)

    reply = await a1.request("addFriend", to="bob", source="AddSource_Type_Web", wording="Hi, it's Alice", remark="Bobby")

    assert reply == {"userID": "bob", "code": NEED_CONFIRM}
    received = {}
    for tab in (a1, a2, b):
        received[tab] = await tab.drain(settle=0.3)
        [applications] = events_named(received[tab], "FRIEND_APPLICATION_LIST_UPDATED")
        assert len(applications["friendApplicationList"]) == 1
    assert apply_events(old_a, received[a1]) == await state(a1)
    assert apply_events(old_b, received[b]) == await state(b)
    bob_view = await b.request("getFriendApplicationList")
    [application] = bob_view["friendApplicationList"]
    assert application["userID"] == "alice" and application["nick"] == "Alice"
    assert (application["type"], application["wording"], application["source"]) == (
        rules.SNS_APPLICATION_SENT_TO_ME,
        "Hi, it's Alice",
        "AddSource_Type_Web",
    )
    assert bob_view["unreadCount"] == 1
    [mine] = (await a1.request("getFriendApplicationList"))["friendApplicationList"]
    assert (mine["userID"], mine["type"]) == ("bob", rules.SNS_APPLICATION_SENT_BY_ME)
    assert (await a1.request("getFriendApplicationList"))["unreadCount"] == 0
    assert await a1.request("getFriendList") == [] and await b.request("getFriendList") == []
    assert await c.drain() == []


async def test_accepting_makes_both_friends_and_the_events_replay_to_a_fresh_fetch(open_tab, alice, bob, carol):
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    await a.request("addFriend", to="bob", remark="Bobby", wording="hello")
    await a.drain()
    await b.drain()
    old_a, old_b = await state(a), await state(b)

    assert await b.request("acceptFriendApplication", userID="alice", remark="Ally") == {"userID": "alice"}

    await verified([(a, old_a), (b, old_b)])
    [alices_bob] = await a.request("getFriendList")
    [bobs_alice] = await b.request("getFriendList")
    assert (alices_bob["userID"], alices_bob["remark"], alices_bob["wording"]) == ("bob", "Bobby", "hello")
    assert alices_bob["profile"] == {"userID": "bob", "nick": "Bob", "avatar": ""}
    assert (bobs_alice["userID"], bobs_alice["remark"], bobs_alice["groupList"], bobs_alice["friendCustomFriend"]) == (
        "alice",
        "Ally",
        [],
        [],
    )
    assert (await a.request("getFriendApplicationList"))["friendApplicationList"] == []
    assert (await b.request("getFriendApplicationList")) == {"friendApplicationList": [], "unreadCount": 0}
    assert await c.drain() == []


async def test_accepting_with_agree_only_adds_the_accepter_to_the_applicants_list(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    await a.request("addFriend", to="bob")
    await b.request("acceptFriendApplication", userID="alice", type=rules.SNS_APPLICATION_AGREE)

    assert names(await a.request("getFriendList")) == ["bob"]
    assert await b.request("getFriendList") == []
    [check] = (await a.request("checkFriend", userIDList=["bob"]))["successUserIDList"]
    assert check == {"userID": "bob", "code": 0, "relation": rules.SNS_TYPE_A_WITH_B}


async def test_a_user_who_allows_anyone_is_added_at_once_both_ways(open_tab, alice, bob):
    await allow(bob, rules.ALLOW_ANY)
    a, b = await open_tab(alice), await open_tab(bob)
    old_a, old_b = await state(a), await state(b)

    assert await a.request("addFriend", to="bob", remark="B") == {"userID": "bob", "code": 0}

    await verified([(a, old_a), (b, old_b)])
    assert names(await a.request("getFriendList")) == ["bob"]
    assert names(await b.request("getFriendList")) == ["alice"]
    assert (await b.request("getFriendApplicationList"))["friendApplicationList"] == []


async def test_a_single_add_to_a_user_who_allows_anyone_fills_only_your_list(open_tab, alice, bob):
    await allow(bob, rules.ALLOW_ANY)
    a, b = await open_tab(alice), await open_tab(bob)
    assert (await a.request("addFriend", to="bob", type=rules.SNS_ADD_TYPE_SINGLE))["code"] == 0
    assert names(await a.request("getFriendList")) == ["bob"]
    assert await b.request("getFriendList") == []
    await a.drain()
    assert events_named(await b.drain(), "FRIEND_LIST_UPDATED") == []


async def test_two_requests_crossing_make_the_friendship(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    assert (await a.request("addFriend", to="bob", remark="Bobby"))["code"] == NEED_CONFIRM
    await a.drain()
    await b.drain()
    old_a, old_b = await state(a), await state(b)

    assert await b.request("addFriend", to="alice", remark="Ally") == {"userID": "alice", "code": 0}

    await verified([(a, old_a), (b, old_b)])
    assert [(f["userID"], f["remark"]) for f in await a.request("getFriendList")] == [("bob", "Bobby")]
    assert [(f["userID"], f["remark"]) for f in await b.request("getFriendList")] == [("alice", "Ally")]
    assert (await a.request("getFriendApplicationList"))["friendApplicationList"] == []


async def test_add_friend_refusals_write_nothing(open_tab, alice, bob, carol, dave):
    a, c = await open_tab(alice), await open_tab(carol)
    await allow(dave, rules.DENY_ANY)
    await refused(a, 30516, "addFriend", to="dave")
    await refused(a, 30001, "addFriend", to="alice")
    await refused(a, 30003, "addFriend", to="nobody")
    await refused(a, 30001, "addFriend", to="bob", remark="x" * 97)
    await refused(a, 30001, "addFriend", to="bob", type="Add_Type_Sideways")
    await refused(a, 10004, "addFriend", to="bob", colour="red")
    # Blocked either way.
    await a.request("addToBlacklist", userIDList=["carol"])
    await refused(a, 30515, "addFriend", to="carol")
    await refused(c, 30525, "addFriend", to="alice")
    # Already a friend.
    await allow(bob, rules.ALLOW_ANY)
    await a.request("addFriend", to="bob")
    await refused(a, 30001, "addFriend", to="bob")


async def test_asking_again_renews_the_request_unread_for_the_target(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    await a.request("addFriend", to="bob", wording="first")
    await b.request("setFriendApplicationRead")
    assert (await b.request("getFriendApplicationList"))["unreadCount"] == 0
    await a.request("addFriend", to="bob", wording="second")
    view = await b.request("getFriendApplicationList")
    assert view["unreadCount"] == 1
    assert [x["wording"] for x in view["friendApplicationList"]] == ["second"]


# --- answering requests -------------------------------------------------------------------------


async def test_refusing_drops_the_request_on_both_sides(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    await a.request("addFriend", to="bob")
    await a.drain()
    await b.drain()
    old_a, old_b = await state(a), await state(b)

    assert await b.request("refuseFriendApplication", userID="alice") == {"userID": "alice"}

    await verified([(a, old_a), (b, old_b)])
    assert (await a.request("getFriendApplicationList"))["friendApplicationList"] == []
    assert await a.request("getFriendList") == [] and await b.request("getFriendList") == []


async def test_request_answers_without_a_request_are_30614(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    await refused(b, 30614, "acceptFriendApplication", userID="alice")
    await refused(b, 30614, "refuseFriendApplication", userID="alice")
    await refused(b, 30614, "deleteFriendApplication", userID="alice", type=rules.SNS_APPLICATION_SENT_TO_ME)
    await a.request("addFriend", to="bob")
    # The applicant cannot accept their own request.
    await refused(a, 30614, "acceptFriendApplication", userID="bob")
    await refused(b, 30003, "acceptFriendApplication", userID="nobody")
    await refused(b, 30001, "deleteFriendApplication", userID="alice", type="Pendency_Type_Both")
    await refused(b, 30001, "deleteFriendApplication", userID="alice")  # type is required


async def test_deleting_a_request_from_either_side(open_tab, alice, bob, carol):
    a, b = await open_tab(alice), await open_tab(bob)
    await a.request("addFriend", to="bob")
    await a.drain()
    await b.drain()
    old_a, old_b = await state(a), await state(b)
    await a.request("deleteFriendApplication", userID="bob", type=rules.SNS_APPLICATION_SENT_BY_ME)
    await verified([(a, old_a), (b, old_b)])
    assert (await b.request("getFriendApplicationList"))["friendApplicationList"] == []

    await a.request("addFriend", to="bob")
    await b.request("deleteFriendApplication", userID="alice", type=rules.SNS_APPLICATION_SENT_TO_ME)
    assert (await a.request("getFriendApplicationList"))["friendApplicationList"] == []


async def test_marking_requests_read_zeroes_the_unread_count_on_every_tab(open_tab, alice, bob, carol):
    a, b1, b2, c = await open_tab(alice), await open_tab(bob), await open_tab(bob), await open_tab(carol)
    await a.request("addFriend", to="bob")
    await c.request("addFriend", to="bob")
    for tab in (a, b1, b2, c):
        await tab.drain()

    assert await b1.request("setFriendApplicationRead") == {}

    for tab in (b1, b2):
        [data] = events_named(await tab.drain(), "FRIEND_APPLICATION_LIST_UPDATED")
        assert data["unreadCount"] == 0 and len(data["friendApplicationList"]) == 2
    assert await a.drain() == []
    await b1.request("setFriendApplicationRead")
    assert await b2.drain() == []  # nothing changed, nothing sent


# --- the friend list: delete, update (remark), profile, check ---------------------------------


async def test_deleting_a_friend_both_ways_and_the_events_replay(open_tab, alice, bob, carol):
    a, b = await open_tab(alice), await open_tab(bob)
    await befriend(a, b, "alice", "bob")
    old_a, old_b = await state(a), await state(b)

    reply = await a.request("deleteFriend", userIDList=["bob", "carol"])

    assert reply["successUserIDList"] == [{"userID": "bob", "code": 0}]
    [failure] = reply["failureUserIDList"]
    assert (failure["userID"], failure["code"]) == ("carol", 31704)
    await verified([(a, old_a), (b, old_b)])
    assert await a.request("getFriendList") == [] and await b.request("getFriendList") == []


async def test_deleting_a_friend_one_way_keeps_you_in_their_list(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    await befriend(a, b, "alice", "bob")
    old_b = await state(b)
    await a.request("deleteFriend", userIDList=["bob"], type=rules.SNS_DELETE_TYPE_SINGLE)
    assert await a.request("getFriendList") == []
    assert names(await b.request("getFriendList")) == ["alice"]
    assert events_named(await b.drain(), "FRIEND_LIST_UPDATED") == []
    assert await state(b) == old_b


async def test_delete_friend_refusals(open_tab, alice, bob):
    a = await open_tab(alice)
    await refused(a, 30003, "deleteFriend", userIDList=["bob", "nobody"])
    await refused(a, 30001, "deleteFriend", userIDList=["alice"])
    await refused(a, 30001, "deleteFriend", userIDList=[])
    await refused(a, 30001, "deleteFriend", userIDList=["bob"], type="Delete_Type_Sideways")


async def test_a_remark_renames_the_conversation_on_every_tab_of_its_owner(open_tab, alice, bob):
    a1, a2, b = await open_tab(alice), await open_tab(alice), await open_tab(bob)
    await befriend(a1, b, "alice", "bob")
    await a1.send_text("bob", "hi")
    for tab in (a1, a2, b):
        await tab.drain()
    old_a1, old_a2, old_b = await state(a1), await state(a2), await state(b)

    friend = await a1.request("updateFriend", userID="bob", remark="Bob from work")

    assert (friend["userID"], friend["remark"], friend["profile"]["nick"]) == ("bob", "Bob from work", "Bob")
    await verified([(a1, old_a1), (a2, old_a2), (b, old_b)])
    [conversation] = (await a1.request("getConversationList"))["conversationList"]
    assert conversation["remark"] == "Bob from work"
    assert (await a1.request("getConversationProfile", conversationID="C2Cbob"))["conversation"]["remark"] == "Bob from work"
    [bobs] = (await b.request("getConversationList"))["conversationList"]
    assert bobs["remark"] == ""


async def test_ending_a_friendship_clears_the_conversation_remark(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    await befriend(a, b, "alice", "bob")
    await a.request("updateFriend", userID="bob", remark="B")
    await a.send_text("bob", "hi")
    await a.drain()
    old_a = await state(a)
    await b.request("deleteFriend", userIDList=["alice"])
    await verified([(a, old_a)])
    [conversation] = (await a.request("getConversationList"))["conversationList"]
    assert conversation["remark"] == ""


async def test_update_friend_refusals(open_tab, alice, bob):
    a = await open_tab(alice)
    await refused(a, 30001, "updateFriend", userID="bob", remark="x")
    await refused(a, 30003, "updateFriend", userID="nobody", remark="x")
    await refused(a, 10004, "updateFriend", userID="bob", remark="x", friendCustomField=[])
    await allow(bob, rules.ALLOW_ANY)
    await a.request("addFriend", to="bob")
    await refused(a, 30001, "updateFriend", userID="bob", remark="é" * 49)  # 98 bytes


async def test_friend_profile_and_check_friend(open_tab, alice, bob, carol):
    a, b = await open_tab(alice), await open_tab(bob)
    await befriend(a, b, "alice", "bob")
    await allow(carol, rules.ALLOW_ANY)
    await a.request("addFriend", to="carol", type=rules.SNS_ADD_TYPE_SINGLE, remark="C")

    profile = await a.request("getFriendProfile", userIDList=["carol", "dave"])
    assert [(f["userID"], f["remark"]) for f in profile["friendList"]] == [("carol", "C")]
    assert [(f["userID"], f["code"]) for f in profile["failureUserIDList"]] == [("dave", 30001)]

    both = await a.request("checkFriend", userIDList=["bob", "carol", "dave", "ghost"])
    assert [(r["userID"], r["relation"]) for r in both["successUserIDList"]] == [
        ("bob", rules.SNS_TYPE_BOTH_WAY),
        ("carol", rules.SNS_TYPE_A_WITH_B),
        ("dave", rules.SNS_TYPE_NO_RELATION),
    ]
    assert [(r["userID"], r["code"]) for r in both["failureUserIDList"]] == [("ghost", 30003)]
    from_carol = await b.request("checkFriend", userIDList=["alice"], type=rules.SNS_CHECK_TYPE_SINGLE)
    assert from_carol["successUserIDList"] == [{"userID": "alice", "code": 0, "relation": rules.SNS_TYPE_A_WITH_B}]


# --- the block list and sends --------------------------------------------------------------------


async def test_blocking_ends_the_friendship_and_tells_only_the_blockers_tabs_about_the_list(open_tab, alice, bob, carol):
    a, b1, b2 = await open_tab(alice), await open_tab(bob), await open_tab(bob)
    await befriend(a, b1, "alice", "bob")
    await b2.drain()
    await carol_asks(open_tab, carol, "bob")
    for tab in (a, b1, b2):
        await tab.drain()
    old_a, old_b1, old_b2 = await state(a), await state(b1), await state(b2)

    assert await b1.request("addToBlacklist", userIDList=["alice", "carol"]) == ["alice", "carol"]

    await verified([(a, old_a), (b1, old_b1), (b2, old_b2)])
    assert await b2.request("getBlacklist") == ["alice", "carol"]
    assert await a.request("getBlacklist") == []
    assert await a.request("getFriendList") == [] and await b1.request("getFriendList") == []
    assert (await b1.request("getFriendApplicationList"))["friendApplicationList"] == []


async def carol_asks(open_tab, carol, to):
    tab = await open_tab(carol)
    await tab.request("addFriend", to=to)
    await tab.close()


async def test_unblocking_and_the_block_list_refusals(open_tab, alice, bob, carol):
    b = await open_tab(bob)
    await refused(b, 30001, "removeFromBlacklist", userIDList=["alice"])
    await refused(b, 30001, "addToBlacklist", userIDList=["bob"])
    await refused(b, 30003, "addToBlacklist", userIDList=["alice", "nobody"])
    await b.request("addToBlacklist", userIDList=["alice"])
    await b.drain()
    await refused(b, 30001, "addToBlacklist", userIDList=["carol", "alice"])
    old = await state(b)

    assert await b.request("removeFromBlacklist", userIDList=["alice"]) == ["alice"]

    await verified([(b, old)])
    assert await b.request("getBlacklist") == []


async def test_a_blocked_users_messages_are_refused_and_the_blocker_sees_nothing(open_tab, alice, bob, carol):
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    await a.send_text("bob", "before")
    await b.request("addToBlacklist", userIDList=["alice"])
    await make_group_of(alice, ["bob"])
    for tab in (a, b, c):
        await tab.drain()
    before_b = await state(b)

    message = {"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "let me in"}}
    error = await refused(a, 20007, "sendMessage", message=message)
    assert "blocked" in error.message
    typing = {**message, "type": "TIMCustomElem", "payload": {"data": "typing"}}
    await refused(a, 20007, "sendMessage", message=typing, options={"onlineUserOnly": True})

    assert await b.drain(settle=0.3) == []
    assert await state(b) == before_b
    history = (await b.request("getMessageList", conversationID="C2Calice"))["messageList"]
    assert [m["payload"]["text"] for m in history] == ["before"]
    # The blocker may still write; and group messages are not affected by a block.
    await b.send_text("alice", "bye")
    await a.send_text("g1", "group hello", conversation_type="GROUP")
    texts = [m["payload"]["text"] for batch in events_named(await b.drain(settle=0.3), "MESSAGE_RECEIVED") for m in batch]
    assert texts == ["group hello"]
    # Unblocked: the messages flow again.
    await b.request("removeFromBlacklist", userIDList=["alice"])
    await a.send_text("bob", "again")


def make_group_of(owner, members):
    return database_sync_to_async(make_group)(owner, group_type="Public", members=members)


async def test_with_the_friendship_check_on_only_two_way_friends_may_write(open_tab, alice, bob, carol, settings):
    settings.CHAT = {**settings.CHAT, "FRIENDSHIP_CHECK": True}
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    message = {"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "hi"}}
    await refused(a, 20009, "sendMessage", message=message)
    # One-way is not enough.
    await allow(bob, rules.ALLOW_ANY)
    await a.request("addFriend", to="bob", type=rules.SNS_ADD_TYPE_SINGLE)
    await refused(a, 20009, "sendMessage", message=message)
    await a.request("deleteFriend", userIDList=["bob"])
    await a.request("addFriend", to="bob")
    assert (await a.send_text("bob", "hi"))["payload"]["text"] == "hi"
    assert (await b.send_text("alice", "hello"))["payload"]["text"] == "hello"
    assert await c.drain() == []
    # A block is checked first.
    await b.request("addToBlacklist", userIDList=["alice"])
    await refused(a, 20007, "sendMessage", message=message)
