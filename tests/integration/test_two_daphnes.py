"""Two real Daphne processes sharing PostgreSQL and Redis: events cross processes.

The module starts, once: a fresh PostgreSQL database (``chat_it_<random>``, migrated,
with users alice and bob and a Django session each; dropped at the end) and two
Daphne processes on free loopback ports serving ``chatsite.asgi:application`` with
DATABASE_URL and REDIS_URL. Alice's tabs connect to Daphne A and bob's to Daphne B
unless a test says otherwise. Clients are real WebSocket connections (the
``websockets`` package) that send the session cookie and an Origin, as a browser does.

Every wait is bounded (``WAIT`` seconds, more for the burst), and the Daphne
processes are always terminated by the fixture's finalizer. Their logs are checked
after each test: a traceback in either one fails the test that caused it.

Channel-layer keys live under a per-run prefix (``CHAT_CHANNEL_PREFIX``), so
parallel runs on one Redis never see each other's events. The module runs once per
channels-redis layer the settings offer (``CHAT_CHANNEL_LAYER``: pubsub, core).
"""

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.integration.conftest import daphne_env, delete_redis_keys, fresh_database, migrate_with_sessions, unique_name
from tests.servers import WAIT, RemoteTab, Server, in_own_loop, start_daphne, whole_history

pytestmark = pytest.mark.integration

IDLE_SECONDS = 12  # longer than channels-redis's 5 s blocking read, twice over
USERS = ("alice", "bob", "carol")  # carol: the socket cap's test alone


@dataclass
class Cluster:
    a: Server
    b: Server
    sessions: dict
    home: dict = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def tabs(self, *who):
        """Open a tab per ``(username, server)`` (``username`` alone: the user's home server); close them all."""
        opened = []
        try:
            for entry in who:
                username, server = entry if isinstance(entry, tuple) else (entry, self.home[entry])
                opened.append(await RemoteTab.open(server, self.sessions[username]))
            yield opened
        finally:
            for tab in opened:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(tab.close(), 5)


@pytest.fixture(scope="module", params=["pubsub", "core"])
def cluster(request, postgres_url, redis_url, tmp_path_factory):
    """Both channels-redis layers the settings offer: pub/sub (the default) and core."""
    prefix = unique_name("chat-it")
    log_dir = tmp_path_factory.mktemp("daphnes")
    with fresh_database(postgres_url) as database_url, contextlib.ExitStack() as stack:
        stack.callback(delete_redis_keys, redis_url, prefix)
        env = daphne_env(database_url, redis_url, layer=request.param, prefix=prefix)
        sessions = migrate_with_sessions(env, USERS)
        servers = []

        def print_log_tails():
            for server in servers:
                print(f"--- {server.name} (port {server.port}) log tail ---\n{server.log_tail()}")

        stack.callback(print_log_tails)  # after both Daphnes stopped: an ExitStack unwinds last in, first out
        servers.append(stack.enter_context(start_daphne(env, log_dir, name="daphne-a")))
        servers.append(stack.enter_context(start_daphne(env, log_dir, name="daphne-b")))
        a, b = servers
        yield Cluster(a=a, b=b, sessions=sessions, home={"alice": a, "bob": b})


@pytest.fixture(autouse=True)
def daphnes_log_no_tracebacks(cluster):
    for server in (cluster.a, cluster.b):
        server.new_log_errors()
    yield
    for server in (cluster.a, cluster.b):
        server.check_log()


def marker():
    return secrets.token_hex(4)


# --- the tests ------------------------------------------------------------------------


@in_own_loop
async def test_c2c_messages_cross_processes_both_ways(cluster):
    tag = marker()
    async with cluster.tabs("alice", "bob", ("alice", cluster.b)) as (alice, bob, alice_on_b):
        sent = await alice.send_text("bob", f"hi bob {tag}")
        got = await bob.message(lambda m: m["ID"] == sent["ID"])
        assert got["payload"] == {"text": f"hi bob {tag}"}
        assert (got["flow"], got["from"], got["conversationID"], got["sequence"]) == ("in", "alice", "C2Calice", sent["sequence"])
        # The sender's other tab, on the other process, gets her message too (flow "out").
        echo = await alice_on_b.message(lambda m: m["ID"] == sent["ID"])
        assert (echo["flow"], echo["conversationID"]) == ("out", "C2Cbob")

        reply = await bob.send_text("alice", f"hi alice {tag}")
        got = await alice.message(lambda m: m["ID"] == reply["ID"])
        assert got["payload"] == {"text": f"hi alice {tag}"}
        assert (got["flow"], got["from"], got["conversationID"]) == ("in", "bob", "C2Cbob")
        assert reply["sequence"] == sent["sequence"] + 1
        # The conversation list of alice (on A) moved with bob's reply (sent on B).
        update = await alice.wait_event("CONVERSATION_LIST_UPDATED", lambda d: d[0]["lastMessage"]["ID"] == reply["ID"])
        assert update[0]["conversationID"] == "C2Cbob"


@in_own_loop
async def test_group_message_crosses_processes(cluster):
    tag = marker()
    async with cluster.tabs("alice", "bob") as (alice, bob):
        created = await alice.request("createGroup", type="Private", name=f"IT {tag}", memberList=[{"userID": "bob"}])
        group_id = created["group"]["groupID"]
        await bob.wait_event("GROUP_LIST_UPDATED", lambda groups: any(g["groupID"] == group_id for g in groups))

        sent = await alice.send_text(group_id, f"hello group {tag}", "GROUP")
        got = await bob.message(lambda m: m["ID"] == sent["ID"])
        assert (got["conversationID"], got["conversationType"], got["flow"]) == (f"GROUP{group_id}", "GROUP", "in")
        assert got["payload"] == {"text": f"hello group {tag}"}

        reply = await bob.send_text(group_id, f"hello back {tag}", "GROUP")
        got = await alice.message(lambda m: m["ID"] == reply["ID"])
        assert (got["conversationID"], got["from"]) == (f"GROUP{group_id}", "bob")
        assert reply["sequence"] == sent["sequence"] + 1


async def burst(tab, group_id, count, tag):
    """``count`` Lowest group texts sent without waiting, then every reply: the error codes (0: stored)."""
    ids = []
    for i in range(count):
        message = {
            "to": group_id,
            "conversationType": "GROUP",
            "type": "TIMTextElem",
            "payload": {"text": f"{tag} {i}"},
            "priority": "Lowest",
        }
        ids.append(await tab.send_request("sendMessage", message=message))
    codes = {}
    while len(codes) < count:
        frame = await tab.next_frame()
        if "event" in frame:
            tab.events.append(frame)
        else:
            codes[frame["id"]] = 0 if frame["ok"] else frame["code"]
    return [codes[i] for i in ids]


@in_own_loop
async def test_the_group_send_rate_is_one_budget_for_both_processes(cluster):
    """Lowest messages into one group from alice on Daphne A and bob on Daphne B within one
    second: 20 are stored in all (50 % of the rate of 40, counted in Redis), not 20 per
    process; the others get 10023 (messaging/ratelimit.py)."""
    tag = marker()
    async with cluster.tabs("alice", "bob") as (alice, bob):
        created = await alice.request("createGroup", type="Private", name=f"rate {tag}", memberList=[{"userID": "bob"}])
        group_id = created["group"]["groupID"]
        await bob.wait_event("GROUP_LIST_UPDATED", lambda groups: any(g["groupID"] == group_id for g in groups))
        for attempt in range(3):
            await asyncio.sleep(1.02 - time.time() % 1)  # a burst that starts a second
            second = int(time.time())
            codes = await asyncio.gather(
                burst(alice, group_id, 15, f"{tag}a{attempt}"), burst(bob, group_id, 15, f"{tag}b{attempt}")
            )
            if int(time.time()) == second:
                break
        else:
            pytest.fail("no burst of 30 sends fitted in one second (3 tries): the machine is too slow for this check")
        every = codes[0] + codes[1]
        assert every.count(0) == 20, codes
        assert set(every) == {0, 10023}
        assert codes[0].count(0) and codes[1].count(0)  # both processes admitted some


@in_own_loop
async def test_the_socket_cap_counts_a_users_sockets_on_both_processes(cluster):
    """MAX_SOCKETS_PER_USER (20) over both Daphnes: ten on each, then the 21st, on either,
    gets KICKED_OUT "multipleAccount" and close code 4029; closing one on A lets one in on B."""
    async with cluster.tabs(*[("carol", cluster.a if i % 2 else cluster.b) for i in range(20)]) as tabs:
        for server in (cluster.a, cluster.b):
            ws = await RemoteTab.connect(server, cluster.sessions["carol"])
            kicked = json.loads(await asyncio.wait_for(ws.recv(), WAIT))
            assert kicked["event"] == "KICKED_OUT" and kicked["data"]["type"] == "multipleAccount", kicked
            assert kicked["data"]["limit"] == 20
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(ws.recv(), WAIT)
            assert ws.close_code == 4029
        on_a = next(tab for tab in tabs if tab.server is cluster.a)
        await on_a.close()
        deadline = time.monotonic() + WAIT
        while True:  # A records the close a moment after the client sees it
            try:
                again = await RemoteTab.open(cluster.b, cluster.sessions["carol"])
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.1)
        await again.close()


@in_own_loop
async def test_read_receipt_crosses_processes(cluster):
    tag = marker()
    async with cluster.tabs("alice", "bob") as (alice, bob):
        sent = await alice.send_text("bob", f"read me {tag}")
        await bob.message(lambda m: m["ID"] == sent["ID"])
        await bob.request("setMessageRead", conversationID="C2Calice")

        read = await alice.wait_event("MESSAGE_READ_BY_PEER", lambda msgs: any(m["ID"] == sent["ID"] for m in msgs))
        mine = next(m for m in read if m["ID"] == sent["ID"])
        assert mine["isPeerRead"] is True and mine["conversationID"] == "C2Cbob"
        await bob.wait_event(
            "CONVERSATION_LIST_UPDATED", lambda d: d[0]["conversationID"] == "C2Calice" and d[0].get("unreadCount") == 0
        )
        conversations = (await bob.request("getConversationList"))["conversationList"]
        assert next(c for c in conversations if c["conversationID"] == "C2Calice")["unreadCount"] == 0
        total = (await bob.request("getTotalUnreadMessageCount"))["totalUnreadCount"]
        # (the system conversation's notices count apart from the total)
        assert total == sum(c["unreadCount"] for c in conversations if c["conversationID"] != "@TIM#SYSTEM")
        # Alice's history, read on A, shows the receipt that bob wrote on B.
        history = await alice.request("getMessageList", conversationID="C2Cbob")
        assert next(m for m in history["messageList"] if m["ID"] == sent["ID"])["isPeerRead"] is True


@in_own_loop
async def test_recall_crosses_processes(cluster):
    tag = marker()
    async with cluster.tabs("alice", "bob", ("alice", cluster.b)) as (alice, bob, alice_on_b):
        created = await alice.request("createGroup", type="Public", name=f"Recall {tag}", memberList=[{"userID": "bob"}])
        group_id = created["group"]["groupID"]
        await bob.wait_event("GROUP_LIST_UPDATED", lambda groups: any(g["groupID"] == group_id for g in groups))
        sent = await bob.send_text(group_id, f"recall me {tag}", "GROUP")
        await alice.message(lambda m: m["ID"] == sent["ID"])

        # The owner recalls bob's message; bob and alice's tab on the other process hear of it.
        reply = await alice.request("revokeMessage", message={"ID": sent["ID"], "conversationID": f"GROUP{group_id}"})
        assert reply["message"]["isRevoked"] and reply["message"]["revoker"] == "alice"
        for tab in (bob, alice_on_b):
            [revoked] = await tab.wait_event("MESSAGE_REVOKED", lambda data: data[0]["ID"] == sent["ID"])
            assert (revoked["isRevoked"], revoked["payload"], revoked["messageForShow"]) == (True, {}, "Alice recalled a message")
        history = await bob.request("getMessageList", conversationID=f"GROUP{group_id}")
        assert next(m for m in history["messageList"] if m["ID"] == sent["ID"])["isRevoked"] is True


@in_own_loop
async def test_history_on_b_shows_messages_sent_through_a_gap_free(cluster):
    tag = marker()
    async with cluster.tabs("alice", "bob") as (alice, bob):
        sent = [await alice.send_text("bob", f"history {tag} {i}") for i in range(20)]
        sent_ids = [m["ID"] for m in sent]

        seen_by_bob = await whole_history(bob.request, "C2Calice")
        sequences = [m["sequence"] for m in seen_by_bob]
        assert sequences == list(range(1, len(sequences) + 1)), f"gaps or disorder: {sequences}"
        assert [m["ID"] for m in seen_by_bob[-20:]] == sent_ids
        assert [m["payload"]["text"] for m in seen_by_bob[-20:]] == [f"history {tag} {i}" for i in range(20)]
        assert {m["flow"] for m in seen_by_bob[-20:]} == {"in"}

        # Both processes serve the same record: alice's view on A is the same thread.
        seen_by_alice = await whole_history(alice.request, "C2Cbob")
        assert [(m["ID"], m["sequence"]) for m in seen_by_alice] == [(m["ID"], m["sequence"]) for m in seen_by_bob]


@in_own_loop
async def test_burst_of_50_arrives_complete_and_in_order(cluster):
    tag = marker()
    texts = [f"burst {tag} {i:02d}" for i in range(50)]
    async with cluster.tabs("alice", "bob") as (alice, bob):
        # Pipelined: all 50 frames go out before the first reply is read.
        request_ids = []
        for text in texts:
            message = {"to": "bob", "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": text}}
            request_ids.append(await alice.send_request("sendMessage", message=message))
        sent = [(await alice.reply(request_id, timeout=30))["message"] for request_id in request_ids]
        first = sent[0]["sequence"]
        assert [m["sequence"] for m in sent] == list(range(first, first + 50))

        got = await bob.received(lambda m: m["payload"].get("text", "").startswith(f"burst {tag} "), count=50, timeout=60)
        assert [m["payload"]["text"] for m in got] == texts
        assert [m["ID"] for m in got] == [m["ID"] for m in sent]
        assert [m["sequence"] for m in got] == list(range(first, first + 50))

        # Nothing delivered twice: a quiet second brings no further copy.
        try:
            extra = await bob.received(lambda m: m["payload"].get("text", "").startswith(f"burst {tag} "), timeout=1)
        except AssertionError:
            extra = []
        assert not extra, f"delivered twice: {extra}"


@in_own_loop
async def test_idle_sockets_stay_open_and_deliver(cluster):
    """A tab that hears nothing for a while still gets the next message.

    channels-redis waits for a socket's next event with a blocking BZPOPMIN of 5 s;
    the Redis client must not give up on that read sooner (redis-py 8 reads with a
    5 s socket timeout by default), or every idle socket dies with close code 1011.
    """
    tag = marker()
    async with cluster.tabs("alice", "bob") as (alice, bob):
        await asyncio.sleep(IDLE_SECONDS)
        sent = await alice.send_text("bob", f"after a pause {tag}")
        got = await bob.message(lambda m: m["ID"] == sent["ID"])
        assert got["payload"] == {"text": f"after a pause {tag}"}
        assert (await bob.request("getMyProfile"))["userID"] == "bob"


@in_own_loop
async def test_foreign_origin_is_refused_by_daphne(cluster):
    server, session_id = cluster.a, cluster.sessions["alice"]
    headers = {"Cookie": f"sessionid={session_id}"}
    for origin in ("http://evil.example", "http://127.0.0.1.evil.example", None):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(server.ws_url, origin=origin, additional_headers=headers, proxy=None, open_timeout=WAIT):
                pass
        assert refused.value.response.status_code == 403, origin

    # Without a session, from the right origin: accepted, then closed with 4001
    # ("log in again"), before any frame of the protocol.
    async with connect(server.ws_url, origin=server.origin, proxy=None, open_timeout=WAIT) as anonymous:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(anonymous.recv(), WAIT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001

    # The same cookie from the site's own origin is accepted (the control).
    async with cluster.tabs("alice") as (alice,):
        assert alice.hello["userID"] == "alice"
