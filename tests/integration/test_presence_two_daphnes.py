"""Presence across two real Daphne processes sharing PostgreSQL and Redis
(messaging/presence.py, docs/ARCHITECTURE.md "Presence").

Alice's tabs connect to Daphne A and bob's to Daphne B. The presence timings are short
here (``CHAT_PRESENCE_*``): a socket lapses 3 s after its process last vouched for it
(every 1 s), the grace is 1 s, and each process sweeps every 0.2 s. The last test
SIGKILLs Daphne A: alice, whose socket was never closed, goes offline for bob (on B)
within the socket expiry.
"""

import asyncio
import contextlib
import time

import pytest

from tests.integration.conftest import daphne_env, delete_redis_keys, fresh_database, migrate_with_sessions, unique_name
from tests.servers import RemoteTab, in_own_loop, start_daphne

pytestmark = pytest.mark.integration

SOCKET_TTL, REFRESH, GRACE, SWEEP = 3.0, 1.0, 1.0, 0.2
ONLINE, OFFLINE = 1, 2


@pytest.fixture(scope="module")
def cluster(postgres_url, redis_url, tmp_path_factory):
    prefix = unique_name("chat-it-presence")
    log_dir = tmp_path_factory.mktemp("daphnes")
    with fresh_database(postgres_url) as database_url, contextlib.ExitStack() as stack:
        stack.callback(delete_redis_keys, redis_url, prefix)
        env = daphne_env(database_url, redis_url, prefix=prefix)
        env.update(
            CHAT_PRESENCE_SOCKET_TTL=str(SOCKET_TTL),
            CHAT_PRESENCE_REFRESH=str(REFRESH),
            CHAT_PRESENCE_GRACE=str(GRACE),
            CHAT_PRESENCE_SWEEP=str(SWEEP),
        )
        sessions = migrate_with_sessions(env, ("alice", "bob"))
        a = stack.enter_context(start_daphne(env, log_dir, name="daphne-a"))
        b = stack.enter_context(start_daphne(env, log_dir, name="daphne-b"))
        yield {"a": a, "b": b, "sessions": sessions}


async def open_tab(cluster, user, server):
    return await RemoteTab.open(cluster[server], cluster["sessions"][user])


def alice_is(status_type):
    return lambda items: any(i["userID"] == "alice" and i["statusType"] == status_type for i in items)


async def status_of_alice(tab):
    [item] = (await tab.request("getUserStatus", userIDList=["alice"]))["successUserList"]
    return item


@in_own_loop
async def test_a_user_on_one_process_is_seen_online_and_offline_from_the_other(cluster):
    bob = await open_tab(cluster, "bob", "b")
    try:
        await bob.request("subscribeUserStatus", userIDList=["alice"])
        alice = await open_tab(cluster, "alice", "a")
        await bob.wait_event("USER_STATUS_UPDATED", alice_is(ONLINE))
        assert (await status_of_alice(bob))["statusType"] == ONLINE

        await alice.request("setSelfStatus", customStatus="On process A")
        [changed] = await bob.wait_event("USER_STATUS_UPDATED", lambda items: items[0]["customStatus"] == "On process A")
        assert changed["statusType"] == ONLINE

        # Longer than a socket's expiry: the processes keep their sockets alive.
        await asyncio.sleep(SOCKET_TTL + 1)
        assert (await status_of_alice(bob))["statusType"] == ONLINE
        assert not [e for e in bob.events if e["event"] == "USER_STATUS_UPDATED"]

        await alice.close()
        closed_at = time.monotonic()
        await bob.wait_event("USER_STATUS_UPDATED", alice_is(OFFLINE), timeout=GRACE + 5)
        assert time.monotonic() - closed_at >= GRACE - 0.1  # not before the grace
        assert (await status_of_alice(bob))["statusType"] == OFFLINE
    finally:
        await bob.close()


@in_own_loop
async def test_a_reload_onto_the_other_process_within_the_grace_announces_nothing(cluster):
    bob = await open_tab(cluster, "bob", "b")
    alice = await open_tab(cluster, "alice", "a")
    try:
        await bob.request("subscribeUserStatus", userIDList=["alice"])
        assert (await status_of_alice(bob))["statusType"] == ONLINE
        await alice.close()
        alice = await open_tab(cluster, "alice", "b")  # the reloaded page lands on B
        with pytest.raises(AssertionError):
            await bob.wait_event("USER_STATUS_UPDATED", timeout=GRACE + 2 * SWEEP + 1)
        assert (await status_of_alice(bob))["statusType"] == ONLINE
    finally:
        await alice.close()
        await bob.close()


@in_own_loop
async def test_sigkill_of_a_process_takes_its_users_offline_within_the_socket_expiry(cluster):
    """Runs last: it kills Daphne A."""
    bob = await open_tab(cluster, "bob", "b")
    try:
        await bob.request("subscribeUserStatus", userIDList=["alice"])
        alice = await open_tab(cluster, "alice", "a")  # never closed: its process dies
        await alice.request("setSelfStatus", customStatus="On process A")
        assert (await status_of_alice(bob))["statusType"] == ONLINE
        cluster["a"].process.kill()
        cluster["a"].process.wait(10)
        killed_at = time.monotonic()
        [offline] = await bob.wait_event("USER_STATUS_UPDATED", alice_is(OFFLINE), timeout=SOCKET_TTL + 5)
        assert time.monotonic() - killed_at <= SOCKET_TTL + REFRESH + 1
        assert offline["customStatus"] == "On process A"
        assert (await status_of_alice(bob))["statusType"] == OFFLINE
    finally:
        await bob.close()
