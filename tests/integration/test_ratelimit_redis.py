"""The group send rate limit's Redis counter (messaging/ratelimit.py) on a real Redis:
the same thresholds as in memory, one budget shared by every process, counters that
expire, one round trip per check, and sends admitted when Redis is away."""

from collections import Counter

import pytest
import redis

from messaging import ratelimit
from tests.chat_helpers import FakeClock
from tests.integration.conftest import delete_redis_keys, unique_name

pytestmark = pytest.mark.integration


@pytest.fixture
def prefix(redis_url):
    prefix = unique_name("chat_rl") + ":"
    yield prefix
    delete_redis_keys(redis_url, prefix)


def limit_on(redis_url, prefix, clock):
    return ratelimit.RateLimit(ratelimit.RedisCounter(redis_url, prefix), clock=clock)


def test_thresholds_per_priority_as_in_memory(redis_url, prefix):
    limit = limit_on(redis_url, prefix, FakeClock())
    turns = ["High", "Normal", "Low", "Lowest"] * 25
    assert Counter(p for p in turns if limit.admit(7, p, 40)) == {"High": 25, "Normal": 13, "Low": 8, "Lowest": 5}


def test_two_processes_share_one_budget_and_windows_roll(redis_url, prefix):
    clock = FakeClock()
    daphne_a, daphne_b = limit_on(redis_url, prefix, clock), limit_on(redis_url, prefix, clock)
    admitted = [(daphne_a if i % 2 else daphne_b).admit(7, "Normal", 40) for i in range(60)]
    assert sum(admitted) == 40
    assert daphne_b.admit(8, "Normal", 40)  # another group has its own budget
    clock.now += 1
    assert sum(daphne_a.admit(7, "Normal", 40) for _ in range(50)) == 40


def test_a_window_counter_expires(redis_url, prefix):
    clock = FakeClock()
    limit_on(redis_url, prefix, clock).admit(7, "Normal", 40)
    client = redis.Redis.from_url(redis_url)
    try:
        key = f"{prefix}g7:{int(clock.now)}"
        assert client.get(key) == b"1"
        assert 0 < client.ttl(key) <= ratelimit.KEY_TTL_SECONDS
    finally:
        client.close()


def sent_commands(counter, monkeypatch):
    """The names of the commands ``counter`` sends from this thread from now on."""
    commands, connection = [], counter._connection()
    real = connection.send_command
    monkeypatch.setattr(connection, "send_command", lambda *args, **kw: commands.append(args[0]) or real(*args, **kw))
    return commands


def test_one_round_trip_per_check(redis_url, prefix, monkeypatch):
    counter = ratelimit.RedisCounter(redis_url, prefix)
    limit = ratelimit.RateLimit(counter, clock=FakeClock())
    limit.admit(7, "Normal", 40)  # loads the script
    commands = sent_commands(counter, monkeypatch)
    for _ in range(5):
        limit.admit(7, "Low", 40)
    assert commands == ["EVALSHA"] * 5


def test_a_script_redis_lost_is_loaded_again_and_a_lost_connection_made_again(redis_url, prefix, monkeypatch, caplog):
    counter = ratelimit.RedisCounter(redis_url, prefix)
    limit = ratelimit.RateLimit(counter, clock=FakeClock())
    user = bucket("send:u1", burst=3)
    assert limit.check([user]) is None
    client = redis.Redis.from_url(redis_url)
    try:
        client.script_flush()  # as after a restart of Redis
        commands = sent_commands(counter, monkeypatch)
        assert limit.check([user]) is None
        assert commands == ["EVALSHA", "SCRIPT", "EVALSHA"]
        name = unique_name("chat_rl_conn")
        counter._connection().send_command("CLIENT", "SETNAME", name)
        counter._connection().read_response()
        client.client_kill_filter(_id=next(entry["id"] for entry in client.client_list() if entry["name"] == name))
    finally:
        client.close()
    assert limit.check([user]) is None  # the connection is gone: admitted, counted nowhere
    assert "rate limits not checked" in caplog.text
    assert limit.check([user]) is None  # connected again: the third of the burst
    assert limit.check([user]) is user


def test_sends_are_admitted_when_redis_is_unreachable(caplog):
    limit = ratelimit.RateLimit(ratelimit.RedisCounter("redis://127.0.0.1:1/0", "x:"), clock=FakeClock())
    assert all(limit.admit(7, "Lowest", 1) for _ in range(3))
    assert "rate limits not checked" in caplog.text


def test_the_server_counts_in_redis_when_it_has_a_redis_url(redis_url, prefix, settings):
    settings.REDIS_URL = redis_url
    settings.CHAT = {"RATE_LIMIT_KEY_PREFIX": prefix}
    ratelimit.reset()
    counter = ratelimit.rate_limit().counter
    assert isinstance(counter, ratelimit.RedisCounter)
    assert counter.prefix == prefix
    settings.REDIS_URL = ""
    assert isinstance(ratelimit.rate_limit().counter, ratelimit.MemoryCounter)


# --- a sender's budgets (token buckets) on Redis ------------------------------------------------


def bucket(key, burst=5, rate=2.0, what="user"):
    return ratelimit.Bucket(key, rate, burst, what=what)


def test_a_bucket_admits_its_burst_then_its_rate_across_two_processes(redis_url, prefix):
    clock = FakeClock()
    daphne_a, daphne_b = limit_on(redis_url, prefix, clock), limit_on(redis_url, prefix, clock)
    user = bucket("send:u1")
    assert [(daphne_a if i % 2 else daphne_b).check([user]) is None for i in range(6)] == [True] * 5 + [False]
    clock.now += 0.5  # 2 a second: one more, for whichever process asks
    assert daphne_a.check([user]) is None
    assert daphne_b.check([user]) is user
    assert daphne_b.check([bucket("send:u2")]) is None  # another user's bucket
    clock.now += 3600
    assert sum(daphne_a.check([user]) is None for _ in range(10)) == 5


def test_a_refused_check_takes_nothing_on_redis(redis_url, prefix):
    limit = limit_on(redis_url, prefix, FakeClock())
    user, address = bucket("u", burst=3), bucket("a", burst=10, what="address")
    group = {"thread_id": 9, "priority": "Normal", "rate": 2}
    assert [limit.check([user, address], **group) for _ in range(2)] == [None, None]
    assert isinstance(limit.check([user, address], **group), ratelimit.Window)
    assert limit.check([user, address]) is None
    assert limit.check([user, address]) is user
    assert sum(limit.check([address]) is None for _ in range(10)) == 7


def test_a_group_send_with_both_budgets_is_one_round_trip(redis_url, prefix, monkeypatch):
    counter = ratelimit.RedisCounter(redis_url, prefix)
    limit = ratelimit.RateLimit(counter, clock=FakeClock())
    buckets = [bucket("send:u1", burst=100), bucket("send:a203.0.113.7", burst=100, what="address")]
    limit.check(buckets, thread_id=7, priority="Normal", rate=40)  # loads the script
    commands = sent_commands(counter, monkeypatch)
    for _ in range(5):
        assert limit.check(buckets, thread_id=7, priority="Low", rate=40) is None
    assert commands == ["EVALSHA"] * 5


def test_a_bucket_key_expires_once_it_would_be_full_again(redis_url, prefix):
    limit_on(redis_url, prefix, FakeClock()).check([bucket("send:u1", burst=10, rate=2.0)])
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.hget(f"{prefix}send:u1", "t") == b"9"
        assert 0 < client.ttl(f"{prefix}send:u1") <= 6  # 10 tokens at 2 a second, plus one
    finally:
        client.close()


@pytest.mark.django_db
def test_sends_from_a_socket_are_counted_in_redis(redis_url, prefix, settings, alice, bob):
    """Through send_message: a socket's budget is counted in Redis when REDIS_URL is set,
    so a second process (a fresh limiter on the same Redis) sees what the first took."""
    from tests.chat_helpers import assert_refused, send_text

    settings.REDIS_URL = redis_url
    settings.CHAT = {"RATE_LIMIT_KEY_PREFIX": prefix, "SEND_BURST_PER_USER": 2, "SEND_RATE_PER_USER": 0.01}
    ratelimit.reset()
    with ratelimit.acting_as(ratelimit.Client(alice.pk, "203.0.113.7")):
        send_text(alice, "bob", "one")
        ratelimit.reset()  # "another process"
        send_text(alice, "bob", "two")
        assert_refused(10006, send_text, alice, "bob", "three")
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.exists(f"{prefix}send:u{alice.pk}", f"{prefix}send:a203.0.113.7") == 2
    finally:
        client.close()
