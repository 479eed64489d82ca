"""The per-group send rate limit (messaging/ratelimit.py): thresholds per priority,
windows, and what send_message does over the limit (10023, nothing stored, High
still delivered). A fake clock makes the windows exact; the Redis counter is tested
in tests/integration/test_ratelimit_redis.py."""

import asyncio
import json
from collections import Counter

import pytest
from channels.db import database_sync_to_async

from messaging import ratelimit
from messaging.errors import ChatError
from messaging.models import Message
from tests.chat_helpers import (
    FakeClock,
    assert_refused,
    fast_passwords,  # noqa: F401
    make_group,
    send_group_text,
    send_text,
    set_role,
)
from tests.ws import events_named

PRIORITIES = ("High", "Normal", "Low", "Lowest")


@pytest.fixture
def clock(frozen_rate_clock):
    return frozen_rate_clock


def admitted_in_one_window(limit, priorities, rate=40):
    return Counter(p for p in priorities if limit.admit(1, p, rate))


# --- the limiter alone -----------------------------------------------------------------


def test_thresholds_are_shares_of_the_rate():
    assert [ratelimit.priority_threshold(40, p) for p in PRIORITIES] == [None, 40, 30, 20]
    assert [ratelimit.priority_threshold(1, p) for p in PRIORITIES] == [None, 1, 1, 1]


@pytest.mark.parametrize(("priority", "admitted"), [("Normal", 40), ("Low", 30), ("Lowest", 20), ("High", 500)])
def test_one_priority_alone_gets_its_share_of_a_window(priority, admitted):
    limit = ratelimit.RateLimit(ratelimit.MemoryCounter(), clock=FakeClock())
    assert admitted_in_one_window(limit, [priority] * 500) == {priority: admitted}


def test_the_next_window_starts_from_zero_and_groups_count_apart():
    clock = FakeClock(10.0)
    limit = ratelimit.RateLimit(ratelimit.MemoryCounter(), clock=clock)
    assert sum(limit.admit(1, "Normal", 40) for _ in range(50)) == 40
    assert sum(limit.admit(2, "Normal", 40) for _ in range(50)) == 40  # another group
    clock.now = 10.999
    assert not limit.admit(1, "Normal", 40)
    clock.now = 11.0
    assert sum(limit.admit(1, "Normal", 40) for _ in range(50)) == 40


def test_shed_messages_do_not_use_the_budget():
    limit = ratelimit.RateLimit(ratelimit.MemoryCounter(), clock=FakeClock())
    assert admitted_in_one_window(limit, ["Lowest"] * 1000 + ["Normal"] * 40) == {"Lowest": 20, "Normal": 20}


def test_high_uses_the_budget_of_the_others():
    limit = ratelimit.RateLimit(ratelimit.MemoryCounter(), clock=FakeClock())
    assert admitted_in_one_window(limit, ["High"] * 40 + ["Normal", "Low", "Lowest"] * 10) == {"High": 40}


def test_memory_counter_forgets_old_windows(monkeypatch):
    monkeypatch.setattr(ratelimit.MemoryCounter, "PRUNE_ABOVE", 10)
    counter = ratelimit.MemoryCounter()
    for key in range(11):
        counter.take(f"g{key}", 1, None)
    counter.take("g0", 2, None)
    assert counter._counts == {"g0": (2, 1)}


# --- through send_message --------------------------------------------------------------


@pytest.mark.django_db
def test_100_messages_a_second_into_one_group_keep_every_high_and_shed_lowest_first(alice, bob, clock):
    """Two seconds at 100 messages a second, the four priorities in turn: every High is
    stored; of the others Lowest is shed first (once the window holds 20), then Low (30),
    then Normal (40). Shed ones get 10023 and are not stored."""
    make_group(alice, members=["bob"])
    start = clock.now
    stored, shed = Counter(), Counter()
    for i in range(200):
        clock.now = start + i / 100
        priority = PRIORITIES[i % 4]
        try:
            send_group_text(bob if i % 2 else alice, "g1", f"m{i}", priority=priority, msg_id=f"m{i}")
            stored[priority] += 1
        except ChatError as error:
            assert error.code == 10023
            shed[priority] += 1
    # Per second: High 25 of 25, Normal 13, Low 8, Lowest 5 (worked out in the docstring's order).
    assert stored == {"High": 50, "Normal": 26, "Low": 16, "Lowest": 10}
    assert shed == {"Normal": 24, "Low": 34, "Lowest": 40}
    sent = Message.objects.filter(thread__group__group_id="g1", type="TIMTextElem")
    assert Counter(sent.values_list("priority", flat=True)) == stored


@pytest.mark.django_db
def test_a_shed_message_stores_nothing_and_is_10023(alice, bob, clock):
    make_group(alice, members=["bob"])
    for i in range(40):
        send_group_text(alice, "g1", f"m{i}")
    assert_refused(10023, send_group_text, bob, "g1", "one too many", msg_id="late")
    clock.now += 1
    assert send_group_text(bob, "g1", "next second", msg_id="late").msg_id == "late"


@pytest.mark.django_db
def test_a_resend_over_the_limit_returns_the_stored_message(alice, bob, clock):
    """The outbox resends a message whose reply was lost: that is not a new send."""
    make_group(alice, members=["bob"])
    first = send_group_text(bob, "g1", "stored", msg_id="b-1")
    for i in range(39):
        send_group_text(alice, "g1", f"m{i}")
    assert send_group_text(bob, "g1", "stored", msg_id="b-1").pk == first.pk


@pytest.mark.django_db
def test_tips_and_c2c_are_not_limited(alice, bob, clock):
    make_group(alice, group_type="Public", members=["bob"])
    for i in range(40):
        send_group_text(alice, "g1", f"m{i}")
    assert_refused(10023, send_group_text, alice, "g1", "over")
    set_role("g1", bob, "Admin")  # posts a tip into the same group
    for i in range(50):
        send_text(alice, "bob", f"c{i}")


@pytest.mark.django_db
def test_the_rate_is_a_setting(alice, bob, clock, settings):
    settings.CHAT = {"GROUP_SEND_RATE": 4}
    make_group(alice, members=["bob"])
    outcomes = []
    for priority in ("Lowest", "Lowest", "Lowest", "Low", "Normal", "Normal", "High"):
        try:
            send_group_text(alice, "g1", priority, priority=priority)
            outcomes.append(priority)
        except ChatError:
            outcomes.append("shed")
    assert outcomes == ["Lowest", "Lowest", "shed", "Low", "Normal", "shed", "High"]


@pytest.mark.django_db(transaction=True)
async def test_over_the_socket_a_shed_message_is_a_10023_reply_and_no_event(open_tab, alice, bob, clock, settings):
    settings.CHAT = {"GROUP_SEND_RATE": 2}  # Lowest: 1 a second
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob"])
    a, b = await open_tab(alice), await open_tab(bob)
    await b.drain()
    kept = await a.send_text("g1", "first", conversation_type="GROUP", priority="Lowest")
    error = await a.expect_error(
        10023,
        "sendMessage",
        message={
            "to": "g1",
            "conversationType": "GROUP",
            "type": "TIMTextElem",
            "payload": {"text": "shed"},
            "priority": "Lowest",
        },
    )
    assert "too many messages" in error.message
    received = [m["ID"] for batch in events_named(await b.drain(), "MESSAGE_RECEIVED") for m in batch]
    assert received == [kept["ID"]]
    assert await database_sync_to_async(Message.objects.filter(type="TIMTextElem").count)() == 1


# --- a sender's budgets: token buckets ---------------------------------------------------


def user_bucket(rate=2.0, burst=5, key="send:u1"):
    return ratelimit.Bucket(key, rate, burst, what="user")


def test_a_bucket_admits_its_burst_at_once_then_its_rate():
    clock = FakeClock()
    limit = ratelimit.RateLimit(ratelimit.MemoryCounter(), clock=clock)
    bucket = user_bucket()
    assert [limit.check([bucket]) is None for _ in range(6)] == [True] * 5 + [False]
    clock.now += 0.5  # 2 a second: one more
    assert limit.check([bucket]) is None
    assert limit.check([bucket]) is bucket
    clock.now += 3600  # a quiet hour fills it up to its burst, not more
    assert sum(limit.check([bucket]) is None for _ in range(10)) == 5


def test_a_refused_check_takes_nothing_from_the_others():
    """The group's window and the sender's buckets are taken together or not at all."""
    limit = ratelimit.RateLimit(ratelimit.MemoryCounter(), clock=FakeClock())
    user, address = user_bucket(burst=3, key="u"), user_bucket(burst=10, key="a")
    group = {"thread_id": 1, "priority": "Normal", "rate": 2}
    assert limit.check([user, address], **group) is None
    assert limit.check([user, address], **group) is None
    assert isinstance(limit.check([user, address], **group), ratelimit.Window)  # the group is full
    assert limit.check([user, address]) is None  # so the user's third token is still there
    assert limit.check([user, address]) is user
    assert sum(limit.check([address]) is None for _ in range(10)) == 7  # 3 taken by the 3 admitted
    assert isinstance(limit.check([], **group), ratelimit.Window)  # refusals did not count in the window


def test_addresses_are_counted_by_host_ipv6_by_its_64_and_loopback_not_at_all(settings):
    key = ratelimit.address_key
    assert key("127.0.0.1") is key("::1") is key(None) is key("") is key("not an address") is None
    assert key("203.0.113.7") == "203.0.113.7"
    assert key("::ffff:203.0.113.7") == "203.0.113.7"
    assert key("2001:db8:1:2:aaaa::1") == key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert key("2001:db8:1:3::1") != key("2001:db8:1:2::1")
    settings.CHAT = {"RATE_LIMIT_EXEMPT_ADDRESSES": ["203.0.113.7"]}
    assert key("203.0.113.7") is None and key("127.0.0.1") == "127.0.0.1"


def test_the_client_address_is_the_one_the_outermost_declared_proxy_saw(settings):
    address = ratelimit.client_address
    assert address("10.0.0.2", "6.6.6.6") == "10.0.0.2"  # no proxy declared: the header is the client's claim
    settings.CHAT_PROXY_COUNT = 1
    assert address("10.0.0.2", "6.6.6.6, 203.0.113.7") == "203.0.113.7"
    assert address("10.0.0.2", "") == "10.0.0.2"  # not through the proxy
    settings.CHAT_PROXY_COUNT = 2
    assert address("10.0.0.2", "6.6.6.6, 203.0.113.7, 10.0.0.1") == "203.0.113.7"
    scope = {
        "client": ["10.0.0.2", 4000],
        "headers": [(b"x-forwarded-for", b"6.6.6.6, 203.0.113.9"), (b"x-forwarded-for", b"10.0.0.1")],
    }
    assert ratelimit.socket_address(scope) == "203.0.113.9"


def test_conf_takes_a_whole_number_for_a_rate(settings):
    from django.core.exceptions import ImproperlyConfigured

    from messaging import conf

    settings.CHAT = {"SEND_RATE_PER_USER": 5}
    conf.validate()
    settings.CHAT = {"SEND_RATE_PER_USER": True}
    with pytest.raises(ImproperlyConfigured):
        conf.validate()


# --- a sender's budgets through send_message ----------------------------------------------------


def from_socket(user, address="203.0.113.7"):
    return ratelimit.acting_as(ratelimit.Client(user.pk, address))


@pytest.mark.django_db
def test_a_socket_over_its_users_send_budget_gets_10006_and_nothing_is_stored(alice, bob, carol, clock, settings):
    settings.CHAT = {"SEND_BURST_PER_USER": 3, "SEND_RATE_PER_USER": 1.0}
    make_group(alice, members=["bob"])
    with from_socket(alice):
        send_text(alice, "bob", "one", msg_id="a1")
        send_group_text(alice, "g1", "two")
        send_text(alice, "carol", "three", priority="High")
        error = assert_refused(10006, send_text, alice, "bob", "four")
        assert error.message == "you are sending messages too fast: at most 3 at once, then 1 a second"
        assert_refused(10006, send_group_text, alice, "g1", "five", priority="High")  # every priority counts
        assert_refused(10006, send_text, alice, "bob", "typing", online_user_only=True)  # and online-only ones
        assert send_text(alice, "bob", "one", msg_id="a1").msg_id == "a1"  # a resend is not a new send
        clock.now += 1
        send_text(alice, "bob", "a second later")
    with from_socket(bob):
        send_text(bob, "alice", "bob has his own budget")
    # The REST API, the admin and commands send without a socket: no sender budget.
    for i in range(10):
        send_text(alice, "bob", f"from the host's backend {i}")


@pytest.mark.django_db
def test_users_behind_one_address_share_its_budget_but_not_loopback(alice, bob, carol, clock, settings):
    settings.CHAT = {"SEND_BURST_PER_ADDRESS": 4, "SEND_RATE_PER_ADDRESS": 1.0}
    for sender, to in [(alice, "bob"), (bob, "carol"), (carol, "alice"), (alice, "carol")]:
        with from_socket(sender):
            send_text(sender, to, "hi")
    with from_socket(bob):
        error = assert_refused(10006, send_text, bob, "alice", "one too many")
    assert error.message.startswith("your network address is sending messages too fast")
    with from_socket(bob, "198.51.100.1"):
        send_text(bob, "alice", "from another address")
    with from_socket(bob, "127.0.0.1"):
        for i in range(10):
            send_text(bob, "alice", f"loopback {i}")  # exempt (RATE_LIMIT_EXEMPT_ADDRESSES)


@pytest.mark.django_db
def test_a_rate_of_zero_turns_a_budget_off(alice, bob, clock, settings):
    settings.CHAT = {"SEND_BURST_PER_USER": 1, "SEND_RATE_PER_USER": 0}
    with from_socket(alice):
        for i in range(5):
            send_text(alice, "bob", f"m{i}")


# --- over the socket: sends, expensive ops, the socket cap -------------------------------------------


@pytest.mark.django_db(transaction=True)
async def test_over_the_socket_a_send_over_budget_is_a_10006_reply_and_no_event(open_tab, alice, bob, settings):
    from tests.ws import Tab

    settings.CHAT = {"SEND_BURST_PER_USER": 2, "SEND_RATE_PER_USER": 0.01}
    a = await Tab.open(alice, address="203.0.113.7")
    b = await open_tab(bob)
    kept = [await a.send_text("bob", f"m{i}") for i in range(2)]
    error = await a.expect_error(
        10006, "sendMessage", message={"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "x"}}
    )
    assert "too fast" in error.message
    received = [m["ID"] for batch in events_named(await b.drain(), "MESSAGE_RECEIVED") for m in batch]
    assert received == [m["ID"] for m in kept]
    assert await database_sync_to_async(Message.objects.count)() == 2
    assert (await a.request("getMyProfile"))["userID"] == "alice"  # other ops go on
    await a.close()


@pytest.mark.django_db(transaction=True)
async def test_two_users_behind_one_address_share_the_address_budget_on_the_socket(alice, bob, settings):
    from tests.ws import Tab

    settings.CHAT = {"SEND_BURST_PER_ADDRESS": 2, "SEND_RATE_PER_ADDRESS": 0.01}
    settings.CHAT_PROXY_COUNT = 1
    forwarded = [(b"x-forwarded-for", b"203.0.113.7")]
    a = await Tab.open(alice, address="10.0.0.2", headers=forwarded)  # both through the proxy
    b = await Tab.open(bob, address="10.0.0.2", headers=forwarded)
    await a.send_text("bob", "one")
    await b.send_text("alice", "two")
    await b.expect_error(
        10006, "sendMessage", message={"to": "alice", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": "3"}}
    )
    c = await Tab.open(alice, address="10.0.0.2", headers=[(b"x-forwarded-for", b"198.51.100.4")])
    await c.send_text("bob", "another client of the proxy")
    for tab in (a, b, c):
        await tab.close()


@pytest.mark.django_db(transaction=True)
async def test_expensive_ops_share_one_budget_per_user(open_tab, alice, bob, settings):
    settings.CHAT = {"OP_BURST_PER_USER": 3, "OP_RATE_PER_USER": 0.01}
    a, b = await open_tab(alice), await open_tab(bob)
    await a.request("searchCloudUsers", keywordList=["bo"])
    await a.request("getPublicGroupList")
    await a.request("createGroup", type="Public", name="one")
    error = await a.expect_error(10006, "createGroup", type="Public", name="two")
    assert error.message.startswith("you are searching, creating groups or asking friends too fast")
    await a.expect_error(10006, "addFriend", to="bob")
    await a.expect_error(10006, "searchCloudUsers", keywordList=["bo"])
    assert (await a.request("getGroupList"))["groupList"][0]["name"] == "one"  # nothing else is budgeted
    await a.send_text("bob", "sending is another budget")
    await b.request("searchCloudUsers", keywordList=["al"])  # bob has his own


async def open_socket(user, cookie=None):
    """A raw socket of ``user``: (communicator, the first frame or the close)."""
    from channels.testing import WebsocketCommunicator

    from chatsite.asgi import application
    from tests.conftest import session_cookie

    cookie = cookie or await database_sync_to_async(session_cookie)(user)
    headers = [(b"host", b"localhost"), (b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())]
    communicator = WebsocketCommunicator(application, "/ws/chat/", headers=headers)
    connected, _ = await communicator.connect()
    assert connected
    return communicator, await communicator.receive_output(timeout=3)


@pytest.mark.django_db(transaction=True)
async def test_a_user_past_max_sockets_is_kicked_with_4029_and_closing_one_makes_room(alice, bob, settings):
    """One user opened 300 sockets; now the socket past MAX_SOCKETS_PER_USER (on every
    process: counted by the presence store) gets KICKED_OUT "multipleAccount" with the
    limit, then 4029, on which tim.js stops reconnecting. Closing a tab makes room."""
    settings.CHAT = {"MAX_SOCKETS_PER_USER": 3}
    opened = []
    for _ in range(3):
        communicator, first = await open_socket(alice)
        assert json.loads(first["text"])["event"] == "hello"
        opened.append(communicator)
    extra, first = await open_socket(alice)
    assert json.loads(first["text"]) == {
        "event": "KICKED_OUT",
        "data": {
            "type": "multipleAccount",
            "code": 10006,
            "message": "this account has 3 connections open already: close a tab or window first",
            "limit": 3,
        },
    }
    assert await extra.receive_output(timeout=3) == {"type": "websocket.close", "code": 4029}
    other, first = await open_socket(bob)  # another user's sockets are their own
    assert json.loads(first["text"])["event"] == "hello"

    await opened.pop().disconnect()
    await asyncio.sleep(0.1)  # the consumer's disconnect runs
    again, first = await open_socket(alice)
    assert json.loads(first["text"])["event"] == "hello"
    for communicator in [*opened, other, again]:
        await communicator.disconnect()


def test_memory_counter_forgets_buckets_that_are_full_again(monkeypatch):
    monkeypatch.setattr(ratelimit.MemoryCounter, "PRUNE_ABOVE", 3)
    counter = ratelimit.MemoryCounter()
    slow = ratelimit.Bucket("slow", 0.001, 2, what="user")  # full again 1,001 s after a take
    counter.check(None, (slow,), 0.0)
    for i in range(3):
        counter.check(None, (ratelimit.Bucket(f"fast{i}", 10.0, 2, what="user"),), 0.0)
    counter.check(None, (ratelimit.Bucket("last", 10.0, 2, what="user"),), 100.0)
    assert set(counter._buckets) == {"slow", "last"}
    assert counter.check(None, (slow,), 100.0) is None and counter.check(None, (slow,), 100.0) is slow
