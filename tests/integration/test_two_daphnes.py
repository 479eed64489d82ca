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
import functools
import http.client
import itertools
import json
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.integration.conftest import (
    REPO_ROOT,
    delete_redis_keys,
    free_port,
    fresh_database,
    run_python,
    service_env,
    unique_name,
)

pytestmark = pytest.mark.integration

WAIT = 10  # seconds for any one frame, reply or event
STARTUP_WAIT = 60  # seconds for a Daphne to answer HTTP
TEST_LIMIT = 240  # seconds for one test, below pytest-timeout's 300
IDLE_SECONDS = 12  # longer than channels-redis's 5 s blocking read, twice over
USERS = ("alice", "bob")

# Users and their sessions, made in the test database by a child ``manage.py shell``
# (as ``django.test.Client.force_login`` does): a session cookie then works on either
# Daphne, since sessions live in the shared database. Logging in through the form
# would tie these tests to the login template, which belongs to the UI.
CREATE_USERS_AND_SESSIONS = f"""
import json
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from messaging.models import User
sessions = {{}}
for name in {USERS!r}:
    user = User.objects.create_user(username=name, password="pw-" + name, nick=name.title())
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    sessions[name] = session.session_key
print("SESSIONS=" + json.dumps(sessions))
"""


# --- the processes ------------------------------------------------------------------


@dataclass
class Daphne:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    log_checked: int = 0

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/ws/chat/"

    def log_text(self, start=0):
        with open(self.log_path, "rb") as log:
            log.seek(start)
            return log.read().decode(errors="replace")

    def log_tail(self, chars=4000):
        return self.log_text()[-chars:]

    def new_log_errors(self):
        """Tracebacks logged since the last call."""
        text = self.log_text(self.log_checked)
        self.log_checked += len(text.encode())
        return text if "Traceback" in text else ""


def start_daphne(name, env, log_dir):
    """Start one Daphne on a free port and wait until it serves HTTP; retried if the port was taken."""
    for _attempt in range(3):
        port = free_port()
        log_path = log_dir / f"daphne-{name}-{port}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "chatsite.asgi:application"],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        node = Daphne(name, port, process, log_path)
        if wait_until_serving(node):
            return node
        stop_daphne(node)
        if "Address already in use" not in node.log_text():
            break
    raise AssertionError(f"Daphne {name} did not start on 127.0.0.1:{node.port}:\n{node.log_tail()}")


def wait_until_serving(node):
    deadline = time.monotonic() + STARTUP_WAIT
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            return False
        try:
            http_status(node, "/static/chat/tim.js", timeout=2)
            return True  # any HTTP answer: Django is up
        except OSError:
            pass
        time.sleep(0.1)
    return False


def stop_daphne(node):
    if node.process.poll() is None:
        node.process.terminate()
        try:
            node.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait(timeout=10)


def manage(env, *args, timeout=180):
    """Run ``manage.py`` against the test database; returns its standard output."""
    result = run_python(["manage.py", *args], env, timeout=timeout)
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


# --- HTTP -------------------------------------------------------------------------------


def http_status(node, path, *, timeout=WAIT):
    conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


# --- WebSocket clients ----------------------------------------------------------------


class RemoteTab:
    """One browser tab on a real Daphne: requests get replies; pushes are kept as events."""

    def __init__(self, ws, node):
        self.ws = ws
        self.node = node
        self.ids = itertools.count(1)
        self.events = []
        self.hello = None
        self.pending = []

    @classmethod
    async def open(cls, node, session_id):
        ws = await connect(
            node.ws_url,
            origin=node.origin,
            additional_headers={"Cookie": f"sessionid={session_id}"},
            proxy=None,
            open_timeout=WAIT,
            close_timeout=2,
        )
        tab = cls(ws, node)
        frame = await tab.next_frame()
        assert frame.get("event") == "hello", frame
        tab.hello = frame["data"]
        return tab

    async def next_frame(self, timeout=WAIT):
        """The next logical frame: a MESSAGE_RECEIVED frame carrying its conversation's
        patch and the new total is read as the three events the SDK fires for it."""
        if self.pending:
            return self.pending.pop(0)
        frame = json.loads(await asyncio.wait_for(self.ws.recv(), max(timeout, 0.01)))
        if frame.get("event") == "MESSAGE_RECEIVED" and "conversation" in frame:
            self.pending.append({"event": "CONVERSATION_LIST_UPDATED", "data": [frame.pop("conversation")]})
            if "totalUnreadCount" in frame:
                self.pending.append({"event": "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED", "data": frame.pop("totalUnreadCount")})
        return frame

    async def send_request(self, op, **args):
        request_id = next(self.ids)
        await self.ws.send(json.dumps({"id": request_id, "op": op, "args": args}))
        return request_id

    async def reply(self, request_id, timeout=WAIT):
        """The reply to ``request_id`` (pushes read on the way are kept); raises on an error reply."""
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.next_frame(deadline - time.monotonic())
            if "event" in frame:
                self.events.append(frame)
                continue
            assert frame.get("id") == request_id, f"reply out of order: wanted {request_id}, got {frame}"
            assert frame["ok"], f"request {request_id} on Daphne {self.node.name} failed: {frame}"
            return frame["data"]

    async def request(self, op, **args):
        return await self.reply(await self.send_request(op, **args))

    async def send_text(self, to, text, conversation_type="C2C"):
        message = {"to": to, "conversationType": conversation_type, "type": "TIMTextElem", "payload": {"text": text}}
        return (await self.request("sendMessage", message=message))["message"]

    async def wait_event(self, name, match=lambda data: True, timeout=WAIT):
        """The data of the first ``name`` event that ``match`` accepts; others are kept."""
        for index, frame in enumerate(self.events):
            if frame["event"] == name and match(frame["data"]):
                return self.events.pop(index)["data"]
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                seen = [f["event"] for f in self.events]
                raise AssertionError(f"no {name} on Daphne {self.node.name} within {timeout}s; kept events: {seen}")
            try:
                frame = await self.next_frame(remaining)
            except TimeoutError:
                continue
            assert "event" in frame, f"unexpected reply while waiting for {name}: {frame}"
            if frame["event"] == name and match(frame["data"]):
                return frame["data"]
            self.events.append(frame)

    async def message(self, match, timeout=WAIT):
        """The first message pushed by MESSAGE_RECEIVED that ``match`` accepts."""
        return (await self.received(match, timeout=timeout))[0]

    async def received(self, match, count=1, timeout=WAIT):
        """The first ``count`` messages pushed by MESSAGE_RECEIVED that ``match`` accepts, in arrival order."""
        deadline = time.monotonic() + timeout
        found = []
        while len(found) < count:
            data = await self.wait_event(
                "MESSAGE_RECEIVED", lambda messages: any(match(m) for m in messages), max(deadline - time.monotonic(), 0)
            )
            found.extend(m for m in data if match(m))
        return found[:count]

    async def close(self):
        await self.ws.close()


@dataclass
class Cluster:
    a: Daphne
    b: Daphne
    sessions: dict
    home: dict = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def tabs(self, *who):
        """Open a tab per ``(username, node)`` (``username`` alone: the user's home node); close them all."""
        opened = []
        try:
            for entry in who:
                username, node = entry if isinstance(entry, tuple) else (entry, self.home[entry])
                opened.append(await RemoteTab.open(node, self.sessions[username]))
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
    with fresh_database(postgres_url) as database_url:
        env = service_env(
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            DJANGO_SETTINGS_MODULE="chatsite.settings",
            CHAT_CHANNEL_LAYER=request.param,
            CHAT_CHANNEL_PREFIX=prefix,
            CHAT_DB_POOL_MIN=1,
            CHAT_DB_POOL_MAX=4,
            CHAT_LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED=1,
        )
        manage(env, "migrate", "--noinput")
        output = manage(env, "shell", "-c", CREATE_USERS_AND_SESSIONS)
        sessions = json.loads(output.rsplit("SESSIONS=", 1)[1])
        nodes = []
        try:
            nodes.append(start_daphne("A", env, log_dir))
            nodes.append(start_daphne("B", env, log_dir))
            a, b = nodes
            yield Cluster(a=a, b=b, sessions=sessions, home={"alice": a, "bob": b})
        finally:
            for node in nodes:
                stop_daphne(node)
            for node in nodes:
                print(f"--- Daphne {node.name} (port {node.port}) log tail ---\n{node.log_tail()}")
            delete_redis_keys(redis_url, prefix)


@pytest.fixture(autouse=True)
def daphnes_log_no_tracebacks(cluster):
    for node in (cluster.a, cluster.b):
        node.new_log_errors()
    yield
    for node in (cluster.a, cluster.b):
        assert node.process.poll() is None, f"Daphne {node.name} exited:\n{node.log_tail()}"
        errors = node.new_log_errors()
        if errors:
            pytest.fail(f"Daphne {node.name} logged an error during the test:\n{errors[-4000:]}", pytrace=False)


def in_own_loop(test):
    """Run an async test in a new event loop on a worker thread of its own.

    Not pytest-asyncio's loop on the main thread: the browser tests' session-scoped
    sync Playwright leaves its own loop marked as running on the main thread until
    the session ends, and every async test collected after tests/browser then fails
    with "Runner.run() cannot be called from a running event loop". A test here
    touches no Django state of the test process, so it is free to run anywhere.
    """

    @functools.wraps(test)
    def run(*args, **kwargs):
        outcome = {}

        def target():
            try:
                asyncio.run(test(*args, **kwargs))
            except BaseException as error:  # re-raised on the test's thread below
                outcome["error"] = error

        worker = threading.Thread(target=target, name=f"{test.__name__}-loop", daemon=True)
        worker.start()
        worker.join(TEST_LIMIT)
        if worker.is_alive():
            pytest.fail(f"{test.__name__} did not finish within {TEST_LIMIT}s")
        if "error" in outcome:
            raise outcome["error"]

    return run


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
        assert total == sum(c["unreadCount"] for c in conversations)
        # Alice's history, read on A, shows the receipt that bob wrote on B.
        history = await alice.request("getMessageList", conversationID="C2Cbob")
        assert next(m for m in history["messageList"] if m["ID"] == sent["ID"])["isPeerRead"] is True


async def all_pages(tab, conversation_id):
    """The whole history of a conversation, paging with nextReqMessageID (bounded)."""
    messages, cursor = [], ""
    for _ in range(200):
        page = await tab.request("getMessageList", conversationID=conversation_id, nextReqMessageID=cursor, count=15)
        messages = page["messageList"] + messages
        if page["isCompleted"]:
            return messages
        cursor = page["nextReqMessageID"]
    raise AssertionError(f"{conversation_id}: history did not complete in 200 pages")


@in_own_loop
async def test_history_on_b_shows_messages_sent_through_a_gap_free(cluster):
    tag = marker()
    async with cluster.tabs("alice", "bob") as (alice, bob):
        sent = [await alice.send_text("bob", f"history {tag} {i}") for i in range(20)]
        sent_ids = [m["ID"] for m in sent]

        seen_by_bob = await all_pages(bob, "C2Calice")
        sequences = [m["sequence"] for m in seen_by_bob]
        assert sequences == list(range(1, len(sequences) + 1)), f"gaps or disorder: {sequences}"
        assert [m["ID"] for m in seen_by_bob[-20:]] == sent_ids
        assert [m["payload"]["text"] for m in seen_by_bob[-20:]] == [f"history {tag} {i}" for i in range(20)]
        assert {m["flow"] for m in seen_by_bob[-20:]} == {"in"}

        # Both processes serve the same record: alice's view on A is the same thread.
        seen_by_alice = await all_pages(alice, "C2Cbob")
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
    node, session_id = cluster.a, cluster.sessions["alice"]
    headers = {"Cookie": f"sessionid={session_id}"}
    for origin in ("http://evil.example", "http://127.0.0.1.evil.example", None):
        with pytest.raises(InvalidStatus) as refused:
            async with connect(node.ws_url, origin=origin, additional_headers=headers, proxy=None, open_timeout=WAIT):
                pass
        assert refused.value.response.status_code == 403, origin

    # Without a session, from the right origin: accepted, then closed with 4001
    # ("log in again"), before any frame of the protocol.
    async with connect(node.ws_url, origin=node.origin, proxy=None, open_timeout=WAIT) as anonymous:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(anonymous.recv(), WAIT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4001

    # The same cookie from the site's own origin is accepted (the control).
    async with cluster.tabs("alice") as (alice,):
        assert alice.hello["userID"] == "alice"
