"""The presence store's rules (messaging/presence.py), for both implementations: the
in-memory one and the Redis one (skipped without a Redis, failed in CI), with a clock
the test sets. And a lookup of any number of users is one Redis round trip."""

import secrets

import pytest
import redis

from messaging import presence
from tests.integration.conftest import REDIS_URL, delete_redis_keys, redis_url  # noqa: F401 (a fixture)

TTL, GRACE = 45, 10


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        yield presence.MemoryPresence()
        return
    request.getfixturevalue("redis_url")  # skips (or fails in CI) without Redis
    prefix = f"chat-test-presence-{secrets.token_hex(4)}:"
    yield presence.RedisPresence(REDIS_URL, prefix)
    delete_redis_keys(REDIS_URL, prefix)


def online(store, pk, now):
    return store.statuses([pk], now)[0].online


def test_first_socket_announces_online_and_later_ones_do_not(store):
    assert store.connect(1, "alice", "s1", 100.0, TTL) is True
    assert store.connect(1, "alice", "s2", 101.0, TTL) is False
    assert online(store, 1, 102.0)
    assert store.statuses([2], 102.0)[0].status_type == presence.STATUS_UNLOGINED


def test_offline_only_after_the_grace_and_announced_once(store):
    store.connect(1, "alice", "s1", 100.0, TTL)
    store.disconnect(1, "s1", 120.0, GRACE)
    assert online(store, 1, 129.0)
    assert store.due(129.0) == []
    assert store.due(130.5) == [1]
    assert store.settle(1, 130.5) == (120.0, "alice")
    status = store.statuses([1], 131.0)[0]
    assert (status.online, status.status_type, status.last_seen) == (False, presence.STATUS_OFFLINE, 120.0)
    assert store.settle(1, 131.0) is None
    assert store.due(200.0) == []


def test_a_reconnect_within_the_grace_announces_nothing(store):
    store.connect(1, "alice", "s1", 100.0, TTL)
    store.disconnect(1, "s1", 120.0, GRACE)
    assert store.connect(1, "alice", "s2", 125.0, TTL) is False
    assert store.settle(1, 131.0) is None  # a live socket: not offline
    assert online(store, 1, 160.0)
    assert store.due(160.0) == []  # the deadline moved to the socket's expiry


def test_a_killed_process_sockets_lapse_without_a_close(store):
    store.connect(1, "alice", "dead", 100.0, TTL)  # its process is killed: no refresh, no close
    store.connect(2, "bob", "live", 100.0, TTL)
    store.refresh([(2, "live")], 130.0, TTL)  # bob's process vouches for its socket
    assert online(store, 1, 144.0)
    assert store.due(146.0) == [1]
    assert store.settle(1, 146.0) == (100.0, "alice")
    assert not online(store, 1, 146.0)
    assert online(store, 2, 170.0)


def test_refresh_does_not_revive_a_closed_socket(store):
    store.connect(1, "alice", "s1", 100.0, TTL)
    store.disconnect(1, "s1", 110.0, GRACE)
    store.refresh([(1, "s1")], 111.0, TTL)
    assert store.settle(1, 121.0) == (110.0, "alice")


def test_custom_status_and_online_count(store):
    store.set_custom_status(1, "Busy")
    store.connect(1, "alice", "s1", 100.0, TTL)
    store.connect(3, "carol", "s3", 100.0, TTL)
    assert store.statuses([1, 2], 101.0)[0].custom_status == "Busy"
    assert store.online_count([1, 2, 3], 101.0) == 2
    store.set_custom_status(1, "")
    assert store.statuses([1], 101.0)[0].custom_status == ""


@pytest.mark.usefixtures("redis_url")
def test_a_redis_lookup_is_one_round_trip_whatever_the_number_of_users(monkeypatch):
    prefix = f"chat-test-presence-{secrets.token_hex(4)}:"
    store = presence.RedisPresence(REDIS_URL, prefix)
    try:
        for pk in range(1, 201):
            store.connect(pk, f"u{pk}", f"s{pk}", 100.0, TTL)
        sent = []
        original = redis.connection.AbstractConnection.send_packed_command

        def counting(self, command, check_health=True):
            sent.append(command)
            return original(self, command, check_health)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counting)
        for size in (3, 200):
            sent.clear()
            assert len(store.statuses(list(range(1, size + 1)), 101.0)) == size
            assert len(sent) == 1, f"{size} users: {len(sent)} round trips"
    finally:
        delete_redis_keys(REDIS_URL, prefix)


def test_a_connect_after_an_unswept_lapse_announces_online_again(store):
    """No process swept the user since their socket lapsed (every process was idle): the
    next connect still announces them online, since subscribers read them offline."""
    store.connect(1, "alice", "dead", 100.0, TTL)
    assert store.connect(1, "alice", "new", 200.0, TTL) is True
    assert store.settle(1, 201.0) is None


def test_a_refresh_slower_than_the_socket_expiry_is_refused_at_start_up(settings):
    from django.core.exceptions import ImproperlyConfigured

    from messaging import conf

    settings.CHAT = {"PRESENCE_REFRESH": 50.0, "PRESENCE_SOCKET_TTL": 45.0}
    with pytest.raises(ImproperlyConfigured):
        conf.validate()
    settings.CHAT = {"PRESENCE_REFRESH": 1.0, "PRESENCE_SOCKET_TTL": 3.0}
    conf.validate()


def test_a_user_with_max_sockets_live_ones_is_refused_another_until_one_closes_or_lapses(store):
    """MAX_SOCKETS_PER_USER: the cap counts live sockets on every process (one store);
    a refused socket is not registered, a socket already counted may connect again, and
    one that closes or lapses (its process died) makes room."""
    assert store.connect(1, "alice", "s1", 100.0, TTL, max_sockets=2) is True
    assert store.connect(1, "alice", "s2", 100.0, TTL, max_sockets=2) is False
    assert store.connect(1, "alice", "s3", 100.0, TTL, max_sockets=2) is None
    assert store.connect(2, "bob", "b1", 100.0, TTL, max_sockets=2) is True  # others have their own
    assert store.connect(1, "alice", "s2", 101.0, TTL, max_sockets=2) is False  # already counted
    store.disconnect(1, "s3", 101.0, GRACE)  # the refused one closes: it was never counted
    assert store.connect(1, "alice", "s3", 101.0, TTL, max_sockets=2) is None
    store.disconnect(1, "s1", 102.0, GRACE)
    assert store.connect(1, "alice", "s3", 102.0, TTL, max_sockets=2) is False
    assert store.connect(1, "alice", "s4", 102.0, TTL, max_sockets=2) is None
    # s2 and s3 are never refreshed (their process was killed): after the TTL they do not count.
    assert store.connect(1, "alice", "s4", 102.0 + TTL + 1, TTL, max_sockets=2) is True
    assert store.connect(1, "alice", "s5", 102.0 + TTL + 1, TTL) is False  # 0: no cap
