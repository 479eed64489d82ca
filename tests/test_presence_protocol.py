"""Presence over the socket (docs/PROTOCOL.md §5.35–5.39, §6.14): online while any tab is
connected, offline only after the grace period, a reload within the grace announces
nothing, custom status, subscriptions with their limits and codes, what a stranger sees,
getGroupOnlineMemberCount with the group reads' codes, and the fixed cost of a lookup.

The in-memory store is used here (no REDIS_URL); tests/test_presence_store.py runs the
same rules against Redis, and tests/integration/test_presence_two_daphnes.py across two
processes."""

import asyncio

import pytest
from channels.db import database_sync_to_async

from messaging import actions, presence, rules
from messaging.queries import presence as presence_queries
from tests.chat_helpers import db_snapshot, fast_passwords, make_group, send_text  # noqa: F401
from tests.conftest import make_user
from tests.ws import events_named

pytestmark = pytest.mark.django_db(transaction=True)

GRACE = 0.4
ONLINE, OFFLINE, UNLOGINED = 1, 2, 3


@pytest.fixture(autouse=True)
def quick_presence(settings):
    settings.CHAT = {**settings.CHAT, "PRESENCE_GRACE": GRACE, "PRESENCE_SWEEP": 0.05}


def statuses(events):
    return [item for batch in events_named(events, "USER_STATUS_UPDATED") for item in batch]


async def status_of(tab, user_id):
    reply = await tab.request("getUserStatus", userIDList=[user_id])
    [item] = reply["successUserList"]
    return item


async def make_contacts(a, b):
    """A C2C conversation between ``a`` and ``b``: each may see the other's lastSeen."""
    await database_sync_to_async(send_text)(a, b.username, "hi")


async def test_a_subscriber_sees_online_then_offline_only_after_the_grace(open_tab, alice, bob):
    await make_contacts(alice, bob)
    b = await open_tab(bob)
    assert (await b.request("subscribeUserStatus", userIDList=["alice"])) == {"failureUserList": []}
    before = await status_of(b, "alice")
    assert before == {"userID": "alice", "statusType": UNLOGINED, "customStatus": "", "lastSeen": 0}

    a = await open_tab(alice)
    [online] = await b.wait_event("USER_STATUS_UPDATED")
    assert online == {"userID": "alice", "statusType": ONLINE, "customStatus": "", "lastSeen": 0}
    assert await status_of(b, "alice") == online  # the event applied equals a fresh fetch

    await a.close()
    # Within the grace: still online, and nothing announced.
    assert statuses(await b.drain(settle=GRACE / 2)) == []
    assert (await status_of(b, "alice"))["statusType"] == ONLINE

    [offline] = await b.wait_event("USER_STATUS_UPDATED", timeout=3)
    assert (offline["statusType"], offline["customStatus"]) == (OFFLINE, "")
    assert offline["lastSeen"] > 0
    assert await status_of(b, "alice") == offline
    assert statuses(await b.drain(settle=0.3)) == []  # announced once


async def test_a_reload_within_the_grace_announces_nothing(open_tab, alice, bob):
    a = await open_tab(alice)
    b = await open_tab(bob)
    await b.request("subscribeUserStatus", userIDList=["alice"])
    await a.close()
    await asyncio.sleep(GRACE / 3)
    a = await open_tab(alice)  # the page reloaded
    assert statuses(await b.drain(settle=GRACE * 2)) == []
    assert (await status_of(b, "alice"))["statusType"] == ONLINE


async def test_online_while_any_tab_is_open(open_tab, alice, bob):
    a1, a2 = await open_tab(alice), await open_tab(alice)
    b = await open_tab(bob)
    await b.request("subscribeUserStatus", userIDList=["alice"])
    await a1.close()
    assert statuses(await b.drain(settle=GRACE * 2)) == []
    assert (await status_of(b, "alice"))["statusType"] == ONLINE
    await a2.close()
    [offline] = await b.wait_event("USER_STATUS_UPDATED", timeout=3)
    assert offline["statusType"] == OFFLINE


async def test_custom_status_reaches_subscribers_and_own_tabs(open_tab, alice, bob, carol):
    await make_contacts(alice, bob)
    a1, a2 = await open_tab(alice), await open_tab(alice)
    b, c = await open_tab(bob), await open_tab(carol)
    await b.request("subscribeUserStatus", userIDList=["alice"])

    reply = await a1.request("setSelfStatus", customStatus="In a meeting")
    assert reply == {"userID": "alice", "statusType": ONLINE, "customStatus": "In a meeting"}
    expected = {"userID": "alice", "statusType": ONLINE, "customStatus": "In a meeting", "lastSeen": 0}
    for tab in (a1, a2, b):
        assert await tab.wait_event("USER_STATUS_UPDATED") == [expected]
    assert statuses(await c.drain()) == []  # carol follows nobody
    assert await status_of(c, "alice") == {"userID": "alice", "statusType": ONLINE, "customStatus": "In a meeting"}

    # 100 bytes is the limit (UTF-8): 33 × "é" (66) + 34 × "a" fits; one more byte does not.
    fits = "é" * 33 + "a" * 34
    assert (await a1.request("setSelfStatus", customStatus=fits))["customStatus"] == fits
    await a1.expect_error(10004, "setSelfStatus", customStatus=fits + "a")
    await a1.expect_error(10004, "setSelfStatus", customStatus=7)
    await a1.expect_error(10004, "setSelfStatus")
    assert (await status_of(b, "alice"))["customStatus"] == fits

    assert (await a1.request("setSelfStatus", customStatus=""))["customStatus"] == ""
    assert (await status_of(b, "alice"))["customStatus"] == ""


async def test_subscription_limits_and_codes(open_tab, alice, bob, carol, dave, monkeypatch):
    b = await open_tab(bob)
    await b.expect_error(10005, "subscribeUserStatus", userIDList=[f"u{i}" for i in range(101)])
    await b.expect_error(10004, "subscribeUserStatus", userIDList=[])
    await b.expect_error(10004, "subscribeUserStatus")
    await b.expect_error(10004, "subscribeUserStatus", userIDList=[""])
    await b.expect_error(10004, "subscribeUserStatus", userIDList="alice")
    await b.expect_error(10005, "unsubscribeUserStatus", userIDList=[f"u{i}" for i in range(101)])
    await b.expect_error(10005, "getUserStatus", userIDList=[f"u{i}" for i in range(501)])

    reply = await b.request("subscribeUserStatus", userIDList=["alice", "nobody", "bob", "alice"])
    assert [(f["userID"], f["code"]) for f in reply["failureUserList"]] == [("nobody", 70107), ("bob", 10004)]

    # A socket follows at most MAX_SUBSCRIPTIONS users: the oldest subscription goes first.
    monkeypatch.setattr(rules, "MAX_SUBSCRIPTIONS", 2)
    await b.request("subscribeUserStatus", userIDList=["carol"])
    await b.request("subscribeUserStatus", userIDList=["dave"])  # alice is dropped
    for user in (alice, carol, dave):
        await (await open_tab(user)).request("setSelfStatus", customStatus=f"{user.username} here")
    seen = {item["userID"] for item in statuses(await b.drain(settle=0.3))}
    assert seen == {"carol", "dave"}


async def test_unsubscribe_stops_the_events(open_tab, alice, bob, carol):
    b = await open_tab(bob)
    await b.request("subscribeUserStatus", userIDList=["alice", "carol"])
    a, c = await open_tab(alice), await open_tab(carol)
    assert {item["userID"] for item in statuses(await b.drain(settle=0.2))} == {"alice", "carol"}

    assert await b.request("unsubscribeUserStatus", userIDList=["alice", "nobody"]) == {"failureUserList": []}
    await a.request("setSelfStatus", customStatus="x")
    await c.request("setSelfStatus", customStatus="y")
    assert [item["userID"] for item in statuses(await b.drain(settle=0.2))] == ["carol"]

    await b.request("unsubscribeUserStatus")  # all of them
    await c.request("setSelfStatus", customStatus="z")
    assert statuses(await b.drain(settle=0.2)) == []


async def test_subscriptions_belong_to_the_socket(open_tab, alice, bob):
    b1, b2 = await open_tab(bob), await open_tab(bob)
    await b1.request("subscribeUserStatus", userIDList=["alice"])
    await open_tab(alice)
    assert len(statuses(await b1.drain(settle=0.2))) == 1
    assert statuses(await b2.drain()) == []


async def test_a_stranger_may_follow_but_sees_no_last_seen(open_tab, alice, bob, dave):
    await make_contacts(alice, bob)
    a = await open_tab(alice)
    b, d = await open_tab(bob), await open_tab(dave)
    for tab in (b, d):
        await tab.request("subscribeUserStatus", userIDList=["alice"])
    await a.close()
    [to_bob] = await b.wait_event("USER_STATUS_UPDATED", timeout=3)
    [to_dave] = await d.wait_event("USER_STATUS_UPDATED", timeout=3)
    assert to_bob["lastSeen"] > 0
    assert to_dave == {"userID": "alice", "statusType": OFFLINE, "customStatus": ""}
    assert await status_of(d, "alice") == to_dave
    # A group in common makes a contact too.
    await database_sync_to_async(make_group)(alice, members=["dave"])
    assert (await status_of(d, "alice"))["lastSeen"] == to_bob["lastSeen"]
    # A block, either way, ends it: nobody blocked learns when the other was last seen.
    await database_sync_to_async(actions.add_to_blacklist)(alice, ["dave"])
    assert "lastSeen" not in await status_of(d, "alice")
    await database_sync_to_async(actions.add_to_blacklist)(bob, ["alice"])
    assert "lastSeen" not in await status_of(b, "alice")


async def test_get_user_status_answers_in_order_with_failures_and_self(open_tab, alice, bob, carol):
    b = await open_tab(bob)
    reply = await b.request("getUserStatus", userIDList=["carol", "nobody", "bob", "carol"])
    assert [(u["userID"], u["statusType"]) for u in reply["successUserList"]] == [("carol", UNLOGINED), ("bob", ONLINE)]
    assert reply["failureUserList"] == [{"userID": "nobody", "code": 70107, "message": "user 'nobody' does not exist"}]
    own = await b.request("getUserStatus")
    assert own["successUserList"] == [{"userID": "bob", "statusType": ONLINE, "customStatus": "", "lastSeen": 0}]


async def test_group_online_member_count(open_tab, alice, bob, carol, dave):
    await database_sync_to_async(make_group)(alice, members=["bob", "carol"])
    a, b = await open_tab(alice), await open_tab(bob)
    assert await a.request("getGroupOnlineMemberCount", groupID="g1") == {"memberCount": 2}
    c = await open_tab(carol)
    assert await b.request("getGroupOnlineMemberCount", groupID="g1") == {"memberCount": 3}
    await c.close()
    await asyncio.sleep(GRACE + 0.2)
    assert await b.request("getGroupOnlineMemberCount", groupID="g1") == {"memberCount": 2}

    d = await open_tab(dave)  # online, but not a member
    before = await database_sync_to_async(db_snapshot)()
    await d.expect_error(10007, "getGroupOnlineMemberCount", groupID="g1")
    await d.expect_error(10010, "getGroupOnlineMemberCount", groupID="nope")
    await d.expect_error(2602, "getGroupOnlineMemberCount", groupID="")
    assert await database_sync_to_async(db_snapshot)() == before


# --- fixed cost ---------------------------------------------------------------------------


class CountingStore(presence.MemoryPresence):
    """The in-memory store, counting lookups (each is one Redis pipeline in RedisPresence)."""

    lookups = 0

    def statuses(self, pks, now):
        self.lookups += 1
        return super().statuses(pks, now)


@pytest.mark.parametrize("size", [3, 30])
def test_get_user_status_costs_two_queries_and_one_lookup(size, alice, monkeypatch, django_assert_num_queries):
    counting = CountingStore()
    monkeypatch.setattr(presence, "store", lambda: counting)
    others = [make_user(f"user{i}") for i in range(size)]
    for other in others[::2]:
        send_text(alice, other.username, "hi")
        counting.connect(other.pk, other.username, f"socket{other.pk}", presence.clock(), 30)
    with django_assert_num_queries(2):
        reply = presence_queries.get_user_status(alice, [u.username for u in others] + ["nobody"])
    assert counting.lookups == 1
    assert [u["statusType"] for u in reply["successUserList"]] == [ONLINE if i % 2 == 0 else UNLOGINED for i in range(size)]
    assert len(reply["failureUserList"]) == 1


@pytest.mark.parametrize("size", [2, 20])
def test_group_online_member_count_costs_three_queries(size, alice, django_assert_num_queries):
    members = [make_user(f"member{i}").username for i in range(size)]
    make_group(alice, members=members)
    with django_assert_num_queries(3):
        assert presence_queries.get_group_online_member_count(alice, "g1") == {"memberCount": 0}


@pytest.mark.parametrize("size", [3, 30])
def test_subscribe_costs_two_queries(size, alice, django_assert_num_queries):
    others = [make_user(f"user{i}").username for i in range(size)]
    with django_assert_num_queries(2):
        change = presence_queries.subscription(alice, others + ["nobody", "alice"])
    assert [f["code"] for f in change.reply["failureUserList"]] == [70107, 10004]
    assert [user_id for user_id, _pk, _contact in change.follow] == others
