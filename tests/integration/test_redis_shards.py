"""Two Daphnes on two Redis servers: ``REDIS_URL`` names both, comma-separated
(chatsite/settings.py), and channels-redis spreads the channels and groups over them.

Two ``redis-server`` processes of the test's own (tests/servers.py ``RedisServer``), a
fresh PostgreSQL database, alice's tabs on Daphne A and bob's on Daphne B: messages and
group events cross processes, and both Redis servers carry subscriptions.
"""

import asyncio
import contextlib
import secrets
import shutil

import pytest
import redis

from tests.conftest import need_service
from tests.integration.conftest import daphne_env, fresh_database, migrate_with_sessions, unique_name
from tests.servers import RedisServer, RemoteTab, in_own_loop, start_daphne

pytestmark = pytest.mark.integration

TABS_EACH = 3  # sockets each user opens at least
MAX_TABS_EACH = 10  # at most: 2 x 10 inboxes all on one host is a 1 in ~10^6 chance


@pytest.fixture(scope="module")
def sharded(postgres_url, tmp_path_factory):
    if shutil.which("redis-server") is None:
        need_service("redis-server", "the binary is not installed (.ci/run installs it)")
    log_dir = tmp_path_factory.mktemp("shards")
    with fresh_database(postgres_url) as database_url, contextlib.ExitStack() as stack:
        shards = [stack.enter_context(RedisServer(log_dir, name=f"redis-{n}")) for n in (1, 2)]
        env = daphne_env(database_url, ", ".join(shard.url for shard in shards), prefix=unique_name("chat-shards"))
        sessions = migrate_with_sessions(env, ("alice", "bob"))
        a = stack.enter_context(start_daphne(env, log_dir, name="daphne-a"))
        b = stack.enter_context(start_daphne(env, log_dir, name="daphne-b"))
        yield {"a": a, "b": b, "sessions": sessions, "shards": shards}
        for server in (a, b):
            server.check_log()


def subscriptions(shard):
    client = redis.Redis.from_url(shard.url, socket_timeout=5)
    try:
        return client.pubsub_channels()
    finally:
        client.close()


@in_own_loop
async def test_events_cross_processes_over_two_redis_hosts(sharded):
    tabs = []
    try:
        subscribed = []
        # The channel names are random (the prefix, each socket's inbox): which host each
        # lands on is a hash. Ten names (three tabs each) all landed on one host once in
        # CI (a 1 in 512 chance); more tabs until both hosts have some, and then each must.
        while len(tabs) < 2 * TABS_EACH or (not all(subscribed) and len(tabs) < 2 * MAX_TABS_EACH):
            tabs.append(await RemoteTab.open(sharded["a"], sharded["sessions"]["alice"]))
            tabs.append(await RemoteTab.open(sharded["b"], sharded["sessions"]["bob"]))
            subscribed = [await asyncio.to_thread(subscriptions, shard) for shard in sharded["shards"]]
        alice, bob = tabs[0], tabs[1]
        assert all(subscribed), f"a Redis host carries no subscription: {subscribed}"

        tag = secrets.token_hex(4)
        sent = await alice.send_text("bob", f"sharded {tag}")
        for bob_tab in tabs[1::2]:
            assert (await bob_tab.message(lambda m: m["ID"] == sent["ID"]))["payload"] == {"text": f"sharded {tag}"}

        created = await alice.request("createGroup", type="Private", name=f"Shards {tag}", memberList=[{"userID": "bob"}])
        group_id = created["group"]["groupID"]
        for tab in tabs:  # each socket follows the new group's channel-layer group, then says so
            await tab.wait_event("GROUP_LIST_UPDATED", lambda groups: any(g["groupID"] == group_id for g in groups))
        reply = await bob.send_text(group_id, f"group {tag}", "GROUP")
        for alice_tab in tabs[0::2]:
            assert (await alice_tab.message(lambda m: m["ID"] == reply["ID"]))["from"] == "bob"
    finally:
        for tab in tabs:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(tab.close(), 5)
