"""The group send rate limit's Redis counter (messaging/ratelimit.py) on a real Redis:
the same thresholds as in memory, one budget shared by every process, counters that
expire, one round trip per check, and sends admitted when Redis is away."""

from collections import Counter

import pytest
import redis

from messaging import ratelimit
from tests.integration.conftest import delete_redis_keys, unique_name
from tests.test_ratelimit import FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture
def prefix(redis_url):
    prefix = unique_name("chat_rl") + ":"
    yield prefix
    delete_redis_keys(redis_url, prefix)


def limit_on(redis_url, prefix, clock):
    return ratelimit.GroupRateLimit(ratelimit.RedisCounter(redis_url, prefix), clock=clock)


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


def test_one_round_trip_per_check(redis_url, prefix, monkeypatch):
    counter = ratelimit.RedisCounter(redis_url, prefix)
    limit = ratelimit.GroupRateLimit(counter, clock=FakeClock())
    limit.admit(7, "Normal", 40)  # loads the script
    commands = []
    real = counter.client.execute_command
    monkeypatch.setattr(counter.client, "execute_command", lambda *args, **kw: commands.append(args[0]) or real(*args, **kw))
    for _ in range(5):
        limit.admit(7, "Low", 40)
    assert commands == ["EVALSHA"] * 5


def test_sends_are_admitted_when_redis_is_unreachable(caplog):
    limit = ratelimit.GroupRateLimit(ratelimit.RedisCounter("redis://127.0.0.1:1/0", "x:"), clock=FakeClock())
    assert all(limit.admit(7, "Lowest", 1) for _ in range(3))
    assert "group rate limit not checked" in caplog.text


def test_the_server_counts_in_redis_when_it_has_a_redis_url(redis_url, prefix, settings):
    settings.REDIS_URL = redis_url
    settings.CHAT = {"RATE_LIMIT_KEY_PREFIX": prefix}
    ratelimit.reset()
    counter = ratelimit.group_rate_limit().counter
    assert isinstance(counter, ratelimit.RedisCounter)
    assert counter.prefix == prefix
    settings.REDIS_URL = ""
    assert isinstance(ratelimit.group_rate_limit().counter, ratelimit.MemoryCounter)
