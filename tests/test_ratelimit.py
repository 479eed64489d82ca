"""The per-group send rate limit (messaging/ratelimit.py): thresholds per priority,
windows, and what send_message does over the limit (10023, nothing stored, High
still delivered). A fake clock makes the windows exact; the Redis counter is tested
in tests/integration/test_ratelimit_redis.py."""

from collections import Counter

import pytest
from channels.db import database_sync_to_async

from messaging import ratelimit
from messaging.errors import ChatError
from messaging.models import Message
from tests.chat_helpers import (
    assert_refused,
    fast_passwords,  # noqa: F401
    make_group,
    send_group_text,
    send_text,
    set_role,
)
from tests.ws import events_named

PRIORITIES = ("High", "Normal", "Low", "Lowest")


class FakeClock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """The process's limit on a fresh memory counter and a clock the test moves."""
    clock = FakeClock()
    limit = ratelimit.GroupRateLimit(ratelimit.MemoryCounter(), clock=clock)
    monkeypatch.setattr(ratelimit, "group_rate_limit", lambda: limit)
    return clock


def admitted_in_one_window(limit, priorities, rate=40):
    return Counter(p for p in priorities if limit.admit(1, p, rate))


# --- the limiter alone -----------------------------------------------------------------


def test_thresholds_are_shares_of_the_rate():
    assert [ratelimit.priority_threshold(40, p) for p in PRIORITIES] == [None, 40, 30, 20]
    assert [ratelimit.priority_threshold(1, p) for p in PRIORITIES] == [None, 1, 1, 1]


@pytest.mark.parametrize(("priority", "admitted"), [("Normal", 40), ("Low", 30), ("Lowest", 20), ("High", 500)])
def test_one_priority_alone_gets_its_share_of_a_window(priority, admitted):
    limit = ratelimit.GroupRateLimit(ratelimit.MemoryCounter(), clock=FakeClock())
    assert admitted_in_one_window(limit, [priority] * 500) == {priority: admitted}


def test_the_next_window_starts_from_zero_and_groups_count_apart():
    clock = FakeClock(10.0)
    limit = ratelimit.GroupRateLimit(ratelimit.MemoryCounter(), clock=clock)
    assert sum(limit.admit(1, "Normal", 40) for _ in range(50)) == 40
    assert sum(limit.admit(2, "Normal", 40) for _ in range(50)) == 40  # another group
    clock.now = 10.999
    assert not limit.admit(1, "Normal", 40)
    clock.now = 11.0
    assert sum(limit.admit(1, "Normal", 40) for _ in range(50)) == 40


def test_shed_messages_do_not_use_the_budget():
    limit = ratelimit.GroupRateLimit(ratelimit.MemoryCounter(), clock=FakeClock())
    assert admitted_in_one_window(limit, ["Lowest"] * 1000 + ["Normal"] * 40) == {"Lowest": 20, "Normal": 20}


def test_high_uses_the_budget_of_the_others():
    limit = ratelimit.GroupRateLimit(ratelimit.MemoryCounter(), clock=FakeClock())
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
