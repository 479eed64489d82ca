"""Nothing lost, nothing twice, proved: 10 clients, 2,000 messages, two Daphnes, chaos.

The run: a fresh PostgreSQL database, a ``redis-server`` of the test's own on a free
loopback port (so the machine's Redis is never restarted), and two Daphne processes.
Ten users, one socket each, chat in 20 C2C pairs and three groups (``send_plan``:
seeded, the same every run; 5 % of the messages recalled, a read every ~9 actions) while

- each client drops its socket at random moments (a clean close or a TCP abort) and
  connects again to either Daphne;
- Daphne A is killed with SIGKILL and started again on the same port;
- Redis is killed with SIGKILL and started again on the same port (empty: no
  persistence); each Daphne then closes its sockets with 4012 for a sync
  (messaging/channel_layer.py; ``test_sockets_open_through_a_redis_restart_…``).

Each client is a careful SDK: every send has a client ``ID`` from the start and is
retried with that ``ID`` until a reply says ok (only then is it *acknowledged*); a
recall is retried the same way, and so is a send the group's rate limit shed (10023).
After every connect, and whenever a live frame's
``syncCursor`` shows a gap (greater than the conversation's cursor + 1), it calls
``sync`` (docs/PROTOCOL.md §8) until ``isSyncCompleted``; live frames that arrive
meanwhile are applied after it, those at or below the new cursor not at all. Error
2290 makes it refetch the conversation list and every history. It keeps one copy
per (conversation, message ``ID``), as every client must.

When the traffic is over and the sockets are quiet, each client's state is compared
with what the server says now (``getMessageList`` paged back to the start,
``getConversationList``, ``getTotalUnreadMessageCount``). The counts printed:

- **lost**: an acknowledged message missing from the applied state of one member of
  its conversation (counted once per member), or an acknowledged recall that a
  member's copy does not show, or a message or recall in the history that a
  member's applied state misses or differs on (``isRevoked``, ``isPeerRead``).
- **duplicated**: an acknowledged message stored twice (its ``ID`` or its text under
  two sequences in the history), or a message a client got twice with different
  content (another ``sequence``, sender or, while not recalled, payload).
- **reordered**: a message whose ``sequence`` in a client's applied state differs
  from the history's (or whose history position differs between two members); or,
  on the cursor path (live frames taken at cursor + 1, ``sync`` pages, history
  refetches), a new message applied after one with a higher ``sequence`` in the same
  conversation. Live frames may arrive out of order between processes; that is
  what the cursor's gap signal is for, so those arrivals are reported (``live
  out of order``) but not counted.
- **list mismatches**: a conversation whose ``unreadCount``, ``lastMessage`` (ID,
  sequence, recalled), ``peerReadSequence`` or ``syncCursor`` differs from a fresh
  ``getConversationList``, a conversation missing or extra, or a total unread count
  that differs from ``getTotalUnreadMessageCount``.

All must be 0. Every wait is bounded; the chaos timings and the message plan come
from ``CHAOS_SEED`` (default 7). Daphne tracebacks are expected here (Redis goes
away under them); the logs are printed when the test fails.
"""

import asyncio
import contextlib
import copy
import itertools
import json
import os
import random
import shutil
import signal
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pytest
from websockets.exceptions import ConnectionClosed

from messaging.errors import ErrorCode
from tests.conftest import need_service
from tests.integration.conftest import daphne_env, fresh_database, migrate_with_sessions, unique_name
from tests.servers import RedisServer, RemoteTab, in_own_loop, start_daphne, whole_history

pytestmark = pytest.mark.integration

SEED = int(os.environ.get("CHAOS_SEED", "7"))
USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy")
GROUPS = {  # groupID: (type, members; the first is the owner)
    "chaos-all": ("Public", USERS),
    "chaos-left": ("Private", USERS[:6]),
    "chaos-right": ("Private", USERS[4:]),
}
PAIRS = sorted({tuple(sorted((USERS[i], USERS[(i + step) % 10]))) for i in range(10) for step in (1, 4)})
MESSAGES = 2000
GROUP_SHARE = 0.5
RECALL_SHARE = 0.05  # of a client's sends, recalled by it a few actions later
READ_EVERY = 9  # a client marks a conversation read every ~9 actions
TRAFFIC_SECONDS = 60  # the planned pace: MESSAGES spread over this
DROP_EVERY = 9.0  # mean seconds between a client's socket drops
# When, as a share of TRAFFIC_SECONDS: Daphne A dies, Redis dies, the drops stop (the
# last stretch of traffic is calm, so gaps the chaos left show up at the next change).
DAPHNE_KILL_AT, REDIS_KILL_AT, CHAOS_ENDS_AT = 0.25 * TRAFFIC_SECONDS, 0.55 * TRAFFIC_SECONDS, 0.75 * TRAFFIC_SECONDS
DOWN_SECONDS = 1.5  # how long a killed server stays down
REPLY_WAIT = 15  # seconds for a reply before the client gives the socket up
SETTLE_QUIET = 2.0  # seconds without a frame on any socket: quiet
SETTLE_LIMIT = 40  # seconds to get quiet after the traffic
MAX_SYNC_PAGES = 500


class ConnectionLost(Exception):
    """The socket closed (or stopped answering) before the reply came."""


class ReplyError(Exception):
    def __init__(self, op, frame):
        super().__init__(f"{op}: {frame.get('code')} {frame.get('message')}")
        self.code = frame.get("code")


# --- the plan -------------------------------------------------------------------------------


@dataclass
class Action:
    kind: str  # "send", "recall", "read"
    conversation_type: str = ""
    to: str = ""
    message_id: str = ""  # send: the client ID it uses; recall: the ID it recalls
    text: str = ""


def conversation_of(viewer, conversation_type, to, sender):
    """The conversationID of a message from ``sender`` to ``to`` as ``viewer`` sees it."""
    if conversation_type == "GROUP":
        return f"GROUP{to}"
    return f"C2C{to if viewer == sender else sender}"


def members_of(conversation_type, to, sender):
    return GROUPS[to][1] if conversation_type == "GROUP" else (sender, to)


def send_plan(rng):
    """Each user's actions, in order: MESSAGES sends in all (round robin over the users),
    a recall of some of them one to three actions later, and now and then a read."""
    targets = {
        user: [("C2C", peer) for pair in PAIRS if user in pair for peer in pair if peer != user]
        + [("GROUP", gid) for gid, (_, members) in GROUPS.items() if user in members]
        for user in USERS
    }
    plans = {user: [] for user in USERS}
    recalls = {user: [] for user in USERS}  # (index to insert at, Action)
    for number in range(MESSAGES):
        user = USERS[number % len(USERS)]
        kind = "GROUP" if rng.random() < GROUP_SHARE else "C2C"
        conversation_type, to = rng.choice([t for t in targets[user] if t[0] == kind])
        message_id = f"{user}-{SEED}-{number:04d}"
        plan = plans[user]
        plan.append(Action("send", conversation_type, to, message_id, f"m{number:04d} {user}>{to}"))
        if rng.random() < RECALL_SHARE:
            recalls[user].append((len(plan) + rng.randrange(1, 4), Action("recall", conversation_type, to, message_id)))
        if rng.random() < 1 / READ_EVERY:
            plan.append(Action("read", *rng.choice(targets[user])))
    for user, plan in plans.items():
        for index, action in reversed(recalls[user]):
            plan.insert(min(index, len(plan)), action)
    return plans


# --- one client ------------------------------------------------------------------------------


class Client:
    """One user's SDK over one socket at a time: the state it has applied, and how it got it."""

    def __init__(self, name, cluster, seed):
        self.name = name
        self.cluster = cluster
        self.rng = random.Random(seed)
        self.ws = None
        self.server = None
        self.ids = itertools.count(1)
        self.pending = {}
        self.ready = asyncio.Event()  # connected and recovered: ops may go
        self.need_sync = asyncio.Event()
        self.ops = asyncio.Lock()  # the sender's ops and a recovery never interleave
        self.buffer = None  # live frames held back while recovering
        self.stopping = False
        self.last_frame = time.monotonic()
        # What the client has applied.
        self.conversations = {}  # conversationID -> conversation object, patches merged
        self.cursors = {}  # conversationID -> syncCursor applied up to
        self.messages = defaultdict(dict)  # conversationID -> ID -> Message
        self.highest_applied = defaultdict(int)  # conversationID -> highest sequence on the cursor path
        self.total_unread = None
        # What it saw on the way.
        self.counts = Counter()
        self.conflicts = []  # (conversationID, ID, what differed)
        self.inversions = []  # (conversationID, ID, sequence, after sequence)
        self.live_seen = {}  # per connection: conversationID -> highest live syncCursor
        self.acked = {}  # client ID -> the acknowledged Message (from the reply)
        self.recalled = set()  # IDs whose recall was acknowledged

    # --- the connection --------------------------------------------------------------------

    async def run(self):
        """Connect, recover, serve; on any loss, again, until told to stop."""
        while not self.stopping:
            ws = await self.connect()
            if ws is None:
                continue
            reader = asyncio.create_task(self.read(ws))
            try:
                while True:
                    async with self.ops:
                        await self.recover()
                    self.ready.set()
                    gap = asyncio.create_task(self.need_sync.wait())
                    done, _ = await asyncio.wait({reader, gap}, return_when=asyncio.FIRST_COMPLETED)
                    if reader in done:
                        gap.cancel()
                        break
                    self.ready.clear()
            except ConnectionLost:
                pass
            finally:
                self.ready.clear()
                self.ws = None
                await self.abort(ws)
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader

    async def connect(self):
        server = self.rng.choice(self.cluster.servers)
        try:
            tab = await RemoteTab.open(server, self.cluster.sessions[self.name])
        except Exception as error:  # refused, closed before hello (Redis away), timed out
            self.counts["connect failures"] += 1
            self.counts[f"connect failure: {type(error).__name__}"] += 1
            await asyncio.sleep(self.rng.uniform(0.1, 0.5))
            return None
        self.counts["connects"] += 1
        self.ws, self.server = tab.ws, server
        self.live_seen = {}
        return tab.ws

    async def abort(self, ws):
        with contextlib.suppress(Exception):
            ws.transport.abort()

    async def drop(self):
        """Lose the socket the way a network does: a TCP abort, or a clean close."""
        ws = self.ws
        if ws is None:
            return
        self.counts["drops"] += 1
        if self.rng.random() < 0.5:
            await self.abort(ws)
        else:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2)

    async def read(self, ws):
        try:
            async for text in ws:
                self.last_frame = time.monotonic()
                frame = json.loads(text)
                if "event" not in frame:
                    future = self.pending.pop(frame.get("id"), None)
                    if future is not None and not future.done():
                        future.set_result(frame)
                elif self.buffer is not None:
                    self.buffer.append(frame)
                else:
                    self.on_event(frame, live=True)
        except ConnectionClosed:
            pass
        finally:
            pending, self.pending = self.pending, {}
            for future in pending.values():
                if not future.done():
                    future.set_exception(ConnectionLost())

    async def call(self, op, **args):
        """One request on the current socket; its reply's data, or ``ReplyError``/``ConnectionLost``."""
        ws = self.ws
        if ws is None:
            raise ConnectionLost()
        request_id = next(self.ids)
        future = asyncio.get_running_loop().create_future()
        self.pending[request_id] = future
        try:
            await ws.send(json.dumps({"id": request_id, "op": op, "args": args}))
            frame = await asyncio.wait_for(future, REPLY_WAIT)
        except ConnectionClosed:
            raise ConnectionLost() from None
        except TimeoutError:
            self.counts["reply timeouts"] += 1
            await self.abort(ws)
            raise ConnectionLost() from None
        finally:
            self.pending.pop(request_id, None)
        if not frame["ok"]:
            raise ReplyError(op, frame)
        return frame["data"]

    # --- recovery --------------------------------------------------------------------------

    async def recover(self):
        """``sync`` until complete (or, on 2290, refetch everything), then the frames held back."""
        self.need_sync.clear()
        self.buffer = []
        self.counts["recoveries"] += 1
        try:
            if not self.cursors:
                # A new client: every conversation it has, from its first change.
                listed = (await self.call("getConversationList"))["conversationList"]
                self.cursors = {c["conversationID"]: 0 for c in listed}
            try:
                await self.sync()
            except ReplyError as error:
                if error.code != ErrorCode.RESYNC_REQUIRED:
                    raise
                await self.refetch_everything()
            held, self.buffer = self.buffer, None
            for frame in held:
                self.on_event(frame, live=False)
        finally:
            self.buffer = None

    async def sync(self):
        for _ in range(MAX_SYNC_PAGES):
            self.counts["sync pages"] += 1
            data = await self.call("sync", cursors=dict(self.cursors))
            for conversation in data["conversations"]:
                conversation_id = conversation["conversationID"]
                for message in conversation["messageList"]:
                    self.apply_message(conversation_id, message, ordered=True)
                for message in conversation["changedList"]:  # older messages, recalled since
                    self.apply_message(conversation_id, message, ordered=False)
                self.cursors[conversation_id] = conversation["syncCursor"]
            if data["isSyncCompleted"]:
                self.replace_list(data["conversationList"])
                return
        raise AssertionError(f"{self.name}: sync did not complete in {MAX_SYNC_PAGES} pages")

    async def refetch_everything(self):
        """Error 2290: the conversation list, then every history from the start."""
        self.counts["full refetches"] += 1
        listed = (await self.call("getConversationList"))["conversationList"]
        for conversation in listed:
            conversation_id = conversation["conversationID"]
            for message in await whole_history(self.call, conversation_id):
                self.apply_message(conversation_id, message, ordered=True)
            self.cursors[conversation_id] = conversation["syncCursor"]
        self.replace_list(listed)

    def replace_list(self, listed):
        self.conversations = {c["conversationID"]: copy.deepcopy(c) for c in listed}
        for conversation_id, conversation in self.conversations.items():
            self.note_peer_read(conversation_id, conversation.get("peerReadSequence", 0))
            if conversation_id not in self.cursors:
                self.cursors[conversation_id] = 0
                self.need_sync.set()
            elif conversation.get("syncCursor", 0) > self.cursors[conversation_id]:
                # Changed after the sync's pages: the live frames should bring it; if they
                # were among the frames held back and lost, the next sync will.
                self.counts["list ahead of cursor"] += 1

    # --- applying frames -------------------------------------------------------------------

    def on_event(self, frame, live):
        event, data = frame["event"], frame["data"]
        if event in ("MESSAGE_RECEIVED", "MESSAGE_REVOKED"):
            patch = frame["conversation"]
            if not self.take_change(patch, live, own=False):
                return
            for message in data:
                self.apply_message(patch["conversationID"], message, ordered=True)
            self.merge_patch(patch)
            if "totalUnreadCount" in frame:
                self.total_unread = frame["totalUnreadCount"]
        elif event == "CONVERSATION_LIST_UPDATED":
            for patch in data:
                if "syncCursor" in patch and not self.take_change(patch, live, own=True):
                    continue
                known = self.conversations.get(patch["conversationID"], {})
                if "seenCursor" in patch and known.get("syncCursor", 0) > patch["seenCursor"]:
                    # A read made before a change this client has applied (§6.3 rule 7).
                    self.counts["late read patches dropped"] += 1
                    continue
                self.merge_patch(patch)
        elif event == "TOTAL_UNREAD_MESSAGE_COUNT_UPDATED":
            self.total_unread = data
        elif event == "MESSAGE_READ_BY_PEER":
            for message in data:
                known = self.messages[message["conversationID"]].get(message["ID"])
                if known is not None:
                    known["isPeerRead"] = True
        else:
            self.counts[f"event {event}"] += 1

    def take_change(self, patch, live, own):
        """Whether a frame with ``syncCursor`` is the next change of its conversation.

        At or below the cursor: seen already (dropped). Above cursor + 1: a gap, so a
        sync (the frame is dropped; the sync brings it). ``own``: the patch of this
        socket's own op, whose message the reply brought.
        """
        conversation_id, change = patch["conversationID"], patch["syncCursor"]
        if live:
            highest = self.live_seen.get(conversation_id, 0)
            if change < highest:
                self.counts["live out of order"] += 1
            self.live_seen[conversation_id] = max(highest, change)
        cursor = self.cursors.get(conversation_id)
        if cursor is None:
            self.cursors[conversation_id] = 0
            self.counts["new conversations"] += 1
            self.need_sync.set()
            return False
        if change <= cursor:
            self.counts["seen already"] += 1
            return False
        if change > cursor + 1:
            self.counts["gaps"] += 1
            self.need_sync.set()
            return False
        self.cursors[conversation_id] = change
        return True

    def apply_message(self, conversation_id, message, *, ordered):
        """Keep one copy per (conversation, ID); a copy that disagrees is a conflict."""
        known = self.messages[conversation_id].get(message["ID"])
        if known is None:
            self.messages[conversation_id][message["ID"]] = copy.deepcopy(message)
            if ordered:
                highest = self.highest_applied[conversation_id]
                if message["sequence"] < highest:
                    self.inversions.append((conversation_id, message["ID"], message["sequence"], highest))
                self.highest_applied[conversation_id] = max(highest, message["sequence"])
            return
        for key in ("sequence", "from", "conversationID"):
            if known[key] != message[key]:
                self.conflicts.append((conversation_id, message["ID"], f"{key} {known[key]!r} then {message[key]!r}"))
        if not known["isRevoked"] and not message["isRevoked"] and known["payload"] != message["payload"]:
            self.conflicts.append((conversation_id, message["ID"], f"payload {known['payload']} then {message['payload']}"))
        if message["isRevoked"] and not known["isRevoked"]:
            known.update({k: copy.deepcopy(v) for k, v in message.items() if k != "isPeerRead"})
        known["isPeerRead"] = known["isPeerRead"] or message["isPeerRead"]

    def merge_patch(self, patch):
        """docs/PROTOCOL.md §6.3; a patch older than the conversation object is skipped."""
        conversation_id = patch["conversationID"]
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            if "lastMessage" in patch and conversation_id not in self.cursors:
                self.cursors[conversation_id] = 0
                self.need_sync.set()
            return
        change = patch.get("syncCursor")
        if change is not None:
            if change <= conversation.get("syncCursor", 0):
                return
            conversation["syncCursor"] = change
        for key, value in patch.items():
            if key == "peerReadSequence":
                conversation[key] = max(conversation.get(key, 0), value)
                self.note_peer_read(conversation_id, conversation[key])
            elif key == "groupAtInfoAdded":
                conversation["groupAtInfoList"].append(value)
            elif key == "groupAtInfoRemoved":
                conversation["groupAtInfoList"] = [
                    info for info in conversation["groupAtInfoList"] if info["messageID"] != value["messageID"]
                ]
            elif key not in ("conversationID", "syncCursor", "seenCursor"):
                conversation[key] = copy.deepcopy(value)

    def note_peer_read(self, conversation_id, peer_read):
        """Merge rule 4: my C2C messages up to the peer's cursor are read."""
        if conversation_id.startswith("C2C") and peer_read:
            for message in self.messages[conversation_id].values():
                if message["from"] == self.name and message["sequence"] <= peer_read:
                    message["isPeerRead"] = True

    # --- the plan --------------------------------------------------------------------------

    async def perform(self, action):
        """One action, retried (same ``ID``) until a reply says ok: after a lost connection,
        and after 10023 (the group's send rate limit)."""
        for attempt in itertools.count():
            await self.ready.wait()
            try:
                async with self.ops:
                    if not self.ready.is_set():
                        continue
                    return await self.attempt(action)
            except ConnectionLost:
                self.counts["retries"] += 1 if attempt == 0 else 0
                self.counts["retry attempts"] += 1
                await asyncio.sleep(0.05)
            except ReplyError as error:
                if error.code != ErrorCode.GROUP_SEND_RATE_EXCEEDED:
                    raise
                # A group's send limit (a client catching up after the chaos): later, same ID.
                self.counts["rate limited"] += 1
                await asyncio.sleep(self.rng.uniform(0.2, 0.6))

    async def attempt(self, action):
        if action.kind == "send":
            message = {
                "to": action.to,
                "conversationType": action.conversation_type,
                "type": "TIMTextElem",
                "payload": {"text": action.text},
                "ID": action.message_id,
            }
            sent = (await self.call("sendMessage", message=message))["message"]
            self.acked[action.message_id] = sent
            self.apply_message(sent["conversationID"], sent, ordered=False)
        elif action.kind == "recall":
            conversation_id = conversation_of(self.name, action.conversation_type, action.to, self.name)
            recalled = (await self.call("revokeMessage", message={"ID": action.message_id, "conversationID": conversation_id}))[
                "message"
            ]
            self.recalled.add(action.message_id)
            self.apply_message(conversation_id, recalled, ordered=False)
        else:
            conversation_id = conversation_of(self.name, action.conversation_type, action.to, self.name)
            await self.call("setMessageRead", conversationID=conversation_id)
            self.counts["reads"] += 1

    async def play(self, plan, started, pace):
        """The plan at the planned pace (an action late because of the chaos goes at once)."""
        for number, action in enumerate(plan):
            due = started + number * pace
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.perform(action)

    async def drops(self, started):
        """Drop the socket at random moments (mean DROP_EVERY s apart) until CHAOS_ENDS_AT."""
        while True:
            when = time.monotonic() + self.rng.expovariate(1 / DROP_EVERY)
            if when - started >= CHAOS_ENDS_AT:
                return
            await asyncio.sleep(when - time.monotonic())
            await self.drop()


# --- the cluster and its chaos ------------------------------------------------------------------


@dataclass
class ChaosCluster:
    env: dict
    log_dir: object
    stack: contextlib.ExitStack
    servers: list  # [Daphne A, Daphne B]; A is replaced when it is restarted
    redis: RedisServer
    sessions: dict
    every_daphne: list = field(default_factory=list)
    timeline: list = field(default_factory=list)

    def note(self, started, what):
        self.timeline.append(f"{time.monotonic() - started:6.1f}s {what}")

    async def kill_and_restart_daphne(self, started):
        victim = self.servers[0]
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait(timeout=10)
        self.note(started, f"SIGKILL {victim.name} (port {victim.port})")
        await asyncio.sleep(DOWN_SECONDS)
        restarted = await asyncio.to_thread(
            self.stack.enter_context, start_daphne(self.env, self.log_dir, name=f"{victim.name}-restarted", port=victim.port)
        )
        self.servers[0] = restarted
        self.every_daphne.append(restarted)
        self.note(started, f"{restarted.name} answers on port {restarted.port}")

    async def kill_and_restart_redis(self, started):
        self.redis.kill()
        self.note(started, f"SIGKILL redis (port {self.redis.port})")
        await asyncio.sleep(DOWN_SECONDS)
        await asyncio.to_thread(self.redis.start)
        self.note(started, "redis answers again, empty")

    def print_logs(self):
        for server in self.every_daphne:
            print(f"--- {server.name} (port {server.port}) log tail ---\n{server.log_tail(6000)}")


@pytest.fixture
def chaos_cluster(postgres_url, tmp_path_factory):
    if shutil.which("redis-server") is None:
        need_service("redis-server", "the binary is not installed (.ci/run installs it)")
    log_dir = tmp_path_factory.mktemp("chaos")
    with RedisServer(log_dir) as redis, fresh_database(postgres_url) as database_url, contextlib.ExitStack() as stack:
        env = daphne_env(database_url, redis.url, prefix=unique_name("chaos"))
        sessions = migrate_with_sessions(env, USERS)
        servers = [stack.enter_context(start_daphne(env, log_dir, name=name)) for name in ("daphne-a", "daphne-b")]
        cluster = ChaosCluster(env, log_dir, stack, servers, redis, sessions, every_daphne=list(servers))
        yield cluster
        cluster.print_logs()  # pytest shows it when the test failed


async def set_up_conversations(cluster):
    """The groups and one message per C2C pair, before any client starts: no
    conversation is new to a client during the run."""
    tabs = {}
    try:
        for user in USERS:
            tabs[user] = await RemoteTab.open(cluster.servers[USERS.index(user) % 2], cluster.sessions[user])
        for group_id, (group_type, members) in GROUPS.items():
            owner, *others = members
            await tabs[owner].request("createGroup", type=group_type, name=group_id, groupID=group_id, memberList=others)
        for low, high in PAIRS:
            await tabs[low].send_text(high, f"hello {high}")
    finally:
        for tab in tabs.values():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(tab.close(), 5)


async def until_quiet(clients):
    """Wait until every client is connected, recovered and has heard nothing for a while."""
    deadline = time.monotonic() + SETTLE_LIMIT
    while time.monotonic() < deadline:
        now = time.monotonic()
        if all(c.ready.is_set() and not c.need_sync.is_set() and now - c.last_frame > SETTLE_QUIET for c in clients):
            return True
        await asyncio.sleep(0.2)
    return False


async def finish(tasks, *, watch, timeout, timeline):
    """Wait for ``tasks``; a failure in one of them or in ``watch`` (which run on) fails at once."""
    deadline = time.monotonic() + timeout
    waiting = set(tasks) | set(watch)
    while not all(task.done() for task in tasks):
        done, waiting = await asyncio.wait(waiting, timeout=deadline - time.monotonic(), return_when=asyncio.FIRST_COMPLETED)
        if not done:
            raise AssertionError("the traffic did not finish in time; timeline:\n" + "\n".join(timeline))
        for task in done:
            task.result()
            assert task in tasks, f"a client stopped: {task}"


# --- the verdict ------------------------------------------------------------------------------


@dataclass
class Verdict:
    lost: list = field(default_factory=list)
    duplicated: list = field(default_factory=list)
    reordered: list = field(default_factory=list)
    list_mismatches: list = field(default_factory=list)

    def counts(self):
        return {name: len(items) for name, items in vars(self).items()}

    def report(self, limit=25):
        lines = []
        for name, items in vars(self).items():
            lines.append(f"{name}: {len(items)}")
            lines.extend(f"  {item}" for item in items[:limit])
            if len(items) > limit:
                lines.append(f"  … and {len(items) - limit} more")
        return "\n".join(lines)


def shown(message):
    """What the client and the history must agree on, for one message."""
    return {
        "sequence": message["sequence"],
        "from": message["from"],
        "isRevoked": message["isRevoked"],
        "isPeerRead": message["isPeerRead"],
        "payload": message["payload"],
    }


def listed(conversation):
    last = conversation.get("lastMessage") or {}
    return {
        "unreadCount": conversation.get("unreadCount"),
        "lastMessage": (last.get("ID"), last.get("lastSequence"), last.get("isRevoked")),
        "peerReadSequence": conversation.get("peerReadSequence"),
        "syncCursor": conversation.get("syncCursor"),
    }


async def judge(clients):
    """Compare every client's applied state with the server's, and the acknowledgements with both."""
    verdict = Verdict()
    by_name = {c.name: c for c in clients}
    histories = {}  # (user, conversationID) -> [Message]
    for client in clients:
        fresh = (await client.call("getConversationList"))["conversationList"]
        total = (await client.call("getTotalUnreadMessageCount"))["totalUnreadCount"]
        if client.total_unread != total:
            verdict.list_mismatches.append(f"{client.name}: total unread {client.total_unread}, server {total}")
        fresh_by_id = {c["conversationID"]: c for c in fresh}
        for conversation_id in sorted(set(fresh_by_id) | set(client.conversations)):
            mine, theirs = client.conversations.get(conversation_id), fresh_by_id.get(conversation_id)
            if mine is None or theirs is None:
                verdict.list_mismatches.append(
                    f"{client.name} {conversation_id}: held {mine is not None}, listed {theirs is not None}"
                )
            elif listed(mine) != listed(theirs):
                verdict.list_mismatches.append(f"{client.name} {conversation_id}: client {listed(mine)}, server {listed(theirs)}")
        for conversation_id in sorted(fresh_by_id):
            histories[client.name, conversation_id] = await whole_history(client.call, conversation_id)

    for (user, conversation_id), messages in histories.items():
        client = by_name[user]
        applied = client.messages.get(conversation_id, {})
        stored = {m["ID"]: m for m in messages}
        sequences = [m["sequence"] for m in messages]
        if sequences and sequences != list(range(sequences[0], sequences[0] + len(sequences))):
            verdict.reordered.append(f"{user} {conversation_id}: history sequences not gap-free: {sequences[:20]}…")
        texts = Counter(m["payload"].get("text") for m in messages if not m["isRevoked"])
        for text, count in texts.items():
            if text is not None and count > 1:
                verdict.duplicated.append(f"{user} {conversation_id}: text {text!r} stored {count} times")
        for message_id, message in stored.items():
            have = applied.get(message_id)
            if have is None:
                verdict.lost.append(f"{user} {conversation_id}: {message_id} (seq {message['sequence']}) never applied")
            elif have["sequence"] != message["sequence"]:
                verdict.reordered.append(
                    f"{user} {conversation_id}: {message_id} applied at {have['sequence']}, stored at {message['sequence']}"
                )
            elif shown(have) != shown(message):
                verdict.lost.append(f"{user} {conversation_id}: {message_id} client {shown(have)}, server {shown(message)}")
        for message_id in sorted(set(applied) - set(stored)):
            verdict.duplicated.append(f"{user} {conversation_id}: {message_id} applied but not in the history")

    # Every member's history agrees on the conversation's order.
    views = [{user: f"GROUP{gid}" for user in members} for gid, (_, members) in GROUPS.items()]
    views += [{low: f"C2C{high}", high: f"C2C{low}"} for low, high in PAIRS]
    for view in views:
        orders = {user: [(m["ID"], m["sequence"]) for m in histories.get((user, cid), [])] for user, cid in view.items()}
        first, *rest = orders
        for user in rest:
            if orders[user] != orders[first]:
                verdict.reordered.append(f"{view[user]} of {user}: the history differs from {first}'s")

    # Every acknowledged send and recall, in every member's state; stored once.
    for client in clients:
        for message_id, sent in client.acked.items():
            conversation_type, to = sent["conversationType"], sent["to"]
            for member in members_of(conversation_type, to, client.name):
                conversation_id = conversation_of(member, conversation_type, to, client.name)
                have = by_name[member].messages.get(conversation_id, {}).get(message_id)
                if have is None:
                    verdict.lost.append(f"{member}: acknowledged {message_id} ({client.name}→{to}) missing")
                elif message_id in client.recalled and not have["isRevoked"]:
                    verdict.lost.append(f"{member}: acknowledged recall of {message_id} not applied")
                if have is not None and have["sequence"] != sent["sequence"]:
                    verdict.duplicated.append(
                        f"{member}: {message_id} acknowledged at {sent['sequence']}, applied at {have['sequence']}"
                    )
        for conversation_id, message_id, what in client.conflicts:
            verdict.duplicated.append(f"{client.name} {conversation_id}: {message_id} applied twice, {what}")
        for conversation_id, message_id, sequence, after in client.inversions:
            verdict.reordered.append(f"{client.name} {conversation_id}: {message_id} (seq {sequence}) applied after seq {after}")
    return verdict


# --- the test --------------------------------------------------------------------------------


@in_own_loop
async def test_nothing_lost_nothing_twice_under_chaos(chaos_cluster, capsys):
    cluster = chaos_cluster
    rng = random.Random(SEED)
    plans = send_plan(rng)
    await set_up_conversations(cluster)
    clients = [Client(user, cluster, seed=SEED * 1000 + number) for number, user in enumerate(USERS)]
    runners = [asyncio.create_task(c.run()) for c in clients]
    try:
        await asyncio.wait_for(asyncio.gather(*(c.ready.wait() for c in clients)), 60)
        started = time.monotonic()
        cluster.note(started, "traffic starts")
        pace = TRAFFIC_SECONDS / max(len(p) for p in plans.values())
        players = [asyncio.create_task(c.play(plans[c.name], started, pace)) for c in clients]
        chaos = [asyncio.create_task(c.drops(started)) for c in clients]

        async def at(when, action):
            await asyncio.sleep(max(0.0, started + when - time.monotonic()))
            await action(started)

        chaos.append(asyncio.create_task(at(DAPHNE_KILL_AT, cluster.kill_and_restart_daphne)))
        chaos.append(asyncio.create_task(at(REDIS_KILL_AT, cluster.kill_and_restart_redis)))
        await finish(players + chaos, watch=runners, timeout=TRAFFIC_SECONDS + 90, timeline=cluster.timeline)
        cluster.note(started, "traffic done")
        quiet = await until_quiet(clients)
        cluster.note(started, f"quiet: {quiet}")
        for client in clients:
            client.stopping = True
        verdict = await judge(clients)
        cluster.note(started, "judged")
    finally:
        for client in clients:
            client.stopping = True
        for task in runners:
            task.cancel()
        await asyncio.gather(*runners, return_exceptions=True)

    sent = sum(len(c.acked) for c in clients)
    totals = sum((c.counts for c in clients), Counter())
    summary = [
        *cluster.timeline,
        f"acknowledged sends {sent}, recalls {sum(len(c.recalled) for c in clients)}",
        "client counters: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.items())),
        verdict.report(),
    ]
    with capsys.disabled():  # in the CI log whatever the outcome
        print("\nchaos: " + "\nchaos: ".join("\n".join(summary).splitlines()))
    assert sent == MESSAGES
    assert quiet, "the sockets did not get quiet after the traffic"
    assert verdict.counts() == {"lost": 0, "duplicated": 0, "reordered": 0, "list_mismatches": 0}, verdict.report()


async def closed_with(tab, timeout):
    """The close code of ``tab``'s socket once the server closes it (pushes read on the way
    are dropped); fails if it is still open after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            await tab.next_frame(deadline - time.monotonic())
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    except TimeoutError:
        pytest.fail(f"the socket on {tab.server.name} is still open after {timeout} s")


@in_own_loop
async def test_sockets_open_through_a_redis_restart_are_closed_for_a_sync(chaos_cluster):
    """Redis dies and comes back while bob's socket stays open on Daphne B. Alice's message
    sent meanwhile is stored (acknowledged) but its event is gone: without being told,
    bob would never see it until the next change of that conversation. Daphne B closes
    bob's socket with 4012 once its subscription is back; alice's socket, whose events
    could not be published, gets the reply and then 4012 too. Bob's sync brings the message."""
    cluster = chaos_cluster
    alice = await RemoteTab.open(cluster.servers[0], cluster.sessions["alice"])
    bob = await RemoteTab.open(cluster.servers[1], cluster.sessions["bob"])
    try:
        before = await alice.send_text("bob", "before the restart")
        await bob.message(lambda m: m["ID"] == before["ID"])
        listed = (await bob.request("getConversationList"))["conversationList"]
        cursor = next(c["syncCursor"] for c in listed if c["conversationID"] == "C2Calice")

        cluster.redis.kill()
        during = await alice.send_text("bob", "while Redis is away")
        assert await closed_with(alice, 10) == 4012
        await asyncio.to_thread(cluster.redis.start)
        assert await closed_with(bob, 20) == 4012

        bob = await RemoteTab.open(cluster.servers[1], cluster.sessions["bob"])
        synced = await bob.request("sync", cursors={"C2Calice": cursor})
        [conversation] = [c for c in synced["conversations"] if c["conversationID"] == "C2Calice"]
        assert [m["ID"] for m in conversation["messageList"]] == [during["ID"]]
        assert synced["isSyncCompleted"]
    finally:
        for tab in (alice, bob):
            with contextlib.suppress(Exception):
                await asyncio.wait_for(tab.close(), 5)
