"""Two loads of issue 10's targets at scale: the reconnect storm and the live room.

    python -m bench.run --only storm [--storm-clients 2000] [--storm-rate 50] [--duration 20]
    python -m bench.run --only liveroom [--room-sockets 5000] [--room-rate 2] [--duration 20]

**Reconnect storm.** ``--storm-clients`` users, one socket each, spread over 2 Daphne
(socket i on Daphne i % 2), each with one C2C conversation that exists (bench/load.py's
pair pool). Every socket syncs at its ``hello`` (``sync`` from empty cursors, §5.21) and
keeps its cursors from then on: from each ``sync`` page, and from the conversation patch
of each ``MESSAGE_RECEIVED`` while it is not syncing. The clients of Daphne B send C2C
messages to their peers, ``--storm-rate`` a second in all, for ``--duration`` seconds.
A third of the way in, Daphne A is restarted (SIGTERM, then started again). As deployed
(deploy/systemd/chat-daphne@.socket), each Daphne serves a listening socket that the
bench holds across the restart, so A's clients' reconnections wait in its queue for the
new process; ``--storm-port-closed`` lets each Daphne bind its port itself, closed
while A restarts (the deployment before the socket unit).
Its clients reconnect as ``tim.js`` does (§8.3: a 500 ms base doubling up to 30 s, a
random wait between half the base and the base) and sync until ``isSyncCompleted``.
As behind the deployment's nginx (deploy/nginx/chat.conf: ``least_conn``, and
``proxy_next_upstream`` on connection errors, nginx's default), an attempt that A
refuses goes on to B in the same attempt (with the held socket, A refuses none);
``--storm-pinned`` keeps each client on its own Daphne (no proxy: it waits for A).
Measured: from the restart to the last client of A caught up (target ≤ 10 s); the
delivery latency to the clients of B while that lasts (target: p99 ≤ 250 ms); and every
acked message's text checked at its receiver, live or from a sync page (target: none
missing). A's clients run in a second client process (``--storm-one-client`` keeps them
in this one): a thousand reconnections in this process's loop held it for up to 415 ms
at a time, and the frames it read late counted as B's latency (docs/PERFORMANCE.md,
"the storm's pauses"). The two processes read the same clock (``time.perf_counter``
is CLOCK_MONOTONIC).

**Live room.** ``--room-sockets`` users in one Meeting group (``ChatRoom``; an
AVChatRoom is not made by ``createGroup`` here), one socket each over 2
Daphne; ``--room-rate`` messages a second from random members for ``--duration``
seconds. Measured: per message, the latency to its last receiver; p50/p99 over
messages (target p99 ≤ 1 s) and reach (every member's socket but the sender's gets
every message: target 100 %). And where that time goes: the sender's reply (the send
stored, its event published) and the latency to the message's first receiver.

Setup runs in this process through the ORM (bench/load.py's ``seed_load``); the run is
asyncio with ``websockets``; everything is on loopback and bounded in time.
"""

import asyncio
import contextlib
import gc
import json
import multiprocessing
import os
import random
import time

from websockets.exceptions import ConnectionClosed, InvalidMessage

from bench.load import GROUP_ID, LoadConfig, analyze, connect_socket, seed_load
from bench.stats import percentile

ROOM_ID = GROUP_ID + "-room"


class Socket:
    def __init__(self, idx, name, session_key, server):
        self.idx = idx
        self.name = name
        self.session_key = session_key
        self.server = server  # index into the run's servers
        self.ws = None
        self.hello = asyncio.Event()
        self.replies = {}
        self.next_id = 0
        self.cursors = {}
        self.syncing = False
        self.received = set()  # texts


@contextlib.contextmanager
def no_client_gc():
    """The measured window without this process's garbage collector: what the client holds
    (thousands of sockets and their tasks) is frozen out of the collections, and none run
    until the end. With it on, the client paused itself for 7 s in all of a live room's
    25 s (576 collections; the longest, of the oldest generation, 371 ms), and every
    frame read late in a pause counted as the server's latency (docs/PERFORMANCE.md, "the
    live room under 1 s"). Bounded by the run's time; what it leaves is collected afterwards."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


class SocketRun:
    """Sockets that answer requests by ``id`` and hand events to ``on_event``."""

    def __init__(self, names, session_keys, servers):
        self.servers = list(servers)  # (ws_url, origin)
        self.sockets = [Socket(i, n, k, i % len(self.servers)) for i, (n, k) in enumerate(zip(names, session_keys, strict=True))]
        self.errors = {}

    def count(self, what):
        self.errors[what] = self.errors.get(what, 0) + 1

    async def connect(self, socket, timeout=60):
        ws_url, origin = self.servers[socket.server]
        socket.hello.clear()
        socket.ws = await connect_socket(ws_url, origin, socket.session_key, open_timeout=timeout)
        socket.reader = asyncio.create_task(self.read(socket, socket.ws))
        await asyncio.wait_for(socket.hello.wait(), timeout)

    async def read(self, socket, ws):
        try:
            async for frame in ws:
                now = time.perf_counter()
                data = json.loads(frame)
                event = data.get("event")
                if event is None:
                    future = socket.replies.pop(data.get("id"), None)
                    if future is not None and not future.done():
                        future.set_result(data)
                elif event == "hello":
                    socket.hello.set()
                else:
                    self.on_event(socket, event, data, now)
        except ConnectionClosed:
            pass
        finally:
            for future in socket.replies.values():
                if not future.done():
                    future.set_exception(ConnectionError("closed"))
            socket.replies.clear()
            self.on_closed(socket, ws)

    def on_event(self, socket, event, data, now):
        pass

    def on_closed(self, socket, ws):
        pass

    async def request(self, socket, op, timeout=30, **args):
        socket.next_id += 1
        future = asyncio.get_running_loop().create_future()
        socket.replies[socket.next_id] = future
        await socket.ws.send(json.dumps({"id": socket.next_id, "op": op, "args": args}))
        reply = await asyncio.wait_for(future, timeout)
        if not reply["ok"]:
            raise RuntimeError(f"{op}: {reply['code']} {reply['message']}")
        return reply["data"]

    async def connect_all(self, concurrency=20):
        semaphore = asyncio.Semaphore(concurrency)

        async def one(socket):
            async with semaphore:
                try:
                    await self.connect(socket)
                except Exception as error:
                    self.count(f"connect:{type(error).__name__}")

        await asyncio.gather(*(one(s) for s in self.sockets if self.own(s)))
        return sum(1 for s in self.sockets if s.hello.is_set())

    def own(self, socket):
        """Whether this process drives the socket."""
        return True

    async def close_all(self):
        for socket in self.sockets:
            if socket.ws is not None:
                await socket.ws.close()


def log(text):
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", flush=True)


async def wait_until(condition, timeout, step=0.01):
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            return False
        await asyncio.sleep(step)
    return True


async def paced(rate, duration):
    """1, 2, 3, … at ``rate`` a second (open loop: on schedule, whatever the replies do) for ``duration`` seconds."""
    t0 = time.perf_counter()
    n = 0
    while (now := time.perf_counter()) - t0 < duration:
        due = t0 + n / rate
        if due > now:
            await asyncio.sleep(due - now)
        n += 1
        yield n


# --- the reconnect storm ----------------------------------------------------------------------


def is_storm_text(text):
    return text.startswith("storm ")


class StormRun(SocketRun):
    """The storm, from one client process, or from two (``split``): this one drives B's
    clients (the senders, and the receivers whose latency is measured) and restarts A; a
    forked one (``start_victims``) drives A's clients, and answers this one's requests
    over a pipe (``serve_parent``)."""

    def __init__(self, seeded, servers, *, rate, duration, restart, failover=True, seed=7, split=False):
        super().__init__(seeded["names"], seeded["session_keys"], servers)
        self.split = split
        self.role = "kept" if split else None  # the victims' process: "victims"
        self.conn = self.victims = None
        self.pairs = seeded["pairs"]
        self.rate = rate
        self.duration = duration
        self.restart = restart  # a blocking callable: restart Daphne A (server 0)
        self.failover = failover  # a reconnection refused by A goes to B, as through deploy/nginx
        self.rng = random.Random(seed)
        self.sent = {}  # text -> (send time, receiver idx)
        self.acked = set()
        self.deliveries = []  # (send time, receiver server, latency ms)
        self.caught_up = {}  # socket idx -> time its first complete sync after the restart returned
        self.restart_at = None
        self.restarted_at = None
        self.stopping = False
        self.from_sync = 0  # sent messages a receiver got from a sync page, not live
        self.gap_syncs = 0  # syncs started by a skipped change number
        self.failed_attempts = 0  # reconnections refused or cut while Daphne A was down or busy
        self.failures = {}  # their kinds
        self.hellos = {}  # socket idx -> time of its last hello

    def on_event(self, socket, event, data, now):
        if event != "MESSAGE_RECEIVED":
            return
        for message in data["data"]:
            if message.get("flow") != "in":
                continue
            text = (message.get("payload") or {}).get("text") or ""
            socket.received.add(text)
            sent = self.sent.get(text)
            if sent is not None:
                self.deliveries.append((sent[0], socket.idx % 2, 1000 * (now - sent[0])))
        patch = data.get("conversation") or {}
        if not socket.syncing and "syncCursor" in patch:
            # tim.js's _followCursor (§8.1): the next number moves the cursor; a skipped
            # one means a change was lost on the way (the layer is at-most-once): sync.
            cid, change = patch["conversationID"], patch["syncCursor"]
            cursor = socket.cursors.get(cid)
            if cursor is None:
                pass  # new to this socket: its next sync names it not, and brings its unread messages
            elif change == cursor + 1:
                socket.cursors[cid] = change
            elif change > cursor + 1:
                self.gap_syncs += 1
                asyncio.get_running_loop().create_task(self.sync_quietly(socket))

    async def sync(self, socket):
        """``sync`` until ``isSyncCompleted`` (§8.3), the texts of its messages counted as received."""
        socket.syncing = True
        try:
            while True:
                page = await self.request(socket, "sync", cursors=socket.cursors)
                for conversation in page["conversations"]:
                    socket.cursors[conversation["conversationID"]] = conversation["syncCursor"]
                    for message in conversation["messageList"]:
                        text = (message.get("payload") or {}).get("text") or ""
                        if message.get("flow") == "in" and text not in socket.received:
                            socket.received.add(text)
                            self.from_sync += is_storm_text(text)
                if page["isSyncCompleted"]:
                    # tim.js's _replaceConversations: a conversation new to the socket starts
                    # its cursor where the list was read.
                    for conversation in page["conversationList"]:
                        socket.cursors.setdefault(conversation["conversationID"], conversation["syncCursor"])
                    if not getattr(socket, "sync_again", False):
                        return
                    socket.sync_again = False
        finally:
            socket.syncing = False

    async def sync_quietly(self, socket):
        if socket.syncing:
            socket.sync_again = True
            return
        try:
            await self.sync(socket)
        except Exception as error:
            self.count(f"gap-sync:{type(error).__name__}")

    def on_closed(self, socket, ws):
        if not self.stopping and socket.ws is ws:
            socket.reconnect = asyncio.get_running_loop().create_task(self.reconnect(socket))

    async def reconnect(self, socket):
        """tim.js's backoff (§8.3): a random wait between half the base and the base; the
        base starts at 500 ms and doubles on each failure, up to 30 s."""
        base = 0.5
        while not self.stopping:
            await asyncio.sleep(self.rng.uniform(base / 2, base))
            try:
                try:
                    await self.connect(socket, timeout=10)
                except (OSError, InvalidMessage):
                    if not self.failover:
                        raise
                    # nginx's proxy_next_upstream (on by default for connection errors):
                    # the same attempt goes to the other Daphne.
                    socket.server = 1 - socket.server
                    await self.connect(socket, timeout=10)
                self.hellos[socket.idx] = time.perf_counter()
                await self.sync(socket)
            except Exception as error:  # refused, reset, timed out, closed again, an error reply: back off
                self.failed_attempts += 1
                self.failures[type(error).__name__] = self.failures.get(type(error).__name__, 0) + 1
                base = min(30.0, base * 2)
                continue
            if self.restart_at is not None and socket.idx not in self.caught_up:
                self.caught_up[socket.idx] = time.perf_counter()
            return

    async def send_loop(self):
        senders = [(i, j) if i % 2 else (j, i) for i, j in self.pairs if i % 2 or j % 2]  # the sender is on B
        async for n in paced(self.rate, self.duration):
            i, j = self.rng.choice(senders)
            text = f"storm {n}"
            self.sent[text] = (time.perf_counter(), j)
            asyncio.get_running_loop().create_task(self.send(self.sockets[i], j, text))

    async def send(self, socket, receiver, text):
        message = {"to": self.sockets[receiver].name, "conversationType": "C2C", "type": "TIMTextElem", "payload": {"text": text}}
        try:
            await self.request(socket, "sendMessage", message=message)
            self.acked.add(text)
        except Exception as error:
            self.count(f"send:{type(error).__name__}")

    async def restart_after(self, delay):
        await asyncio.sleep(delay)
        self.restart_at = time.perf_counter()
        await asyncio.get_running_loop().run_in_executor(None, self.restart)
        self.restarted_at = time.perf_counter()

    async def initial_sync(self, concurrency=20):
        semaphore = asyncio.Semaphore(concurrency)

        async def one(socket):
            async with semaphore:
                try:
                    await self.sync(socket)
                except Exception as error:
                    self.count(f"first-sync:{type(error).__name__}")

        await asyncio.gather(*(one(s) for s in self.sockets if s.hello.is_set() and self.own(s)))

    def own(self, socket):
        """Whether this process drives the socket (A's clients are the even ones)."""
        return self.role is None or (socket.idx % 2 == 0) == (self.role == "victims")

    # --- the victims' process (``split``) ---

    def start_victims(self):
        """Fork the process of A's clients; call before this process runs its loop."""
        from django.db import connections

        connections.close_all()  # the child has no use for the seeding's connection
        context = multiprocessing.get_context("fork")
        self.conn, theirs = context.Pipe()
        self.victims = context.Process(target=self._victims_main, args=(theirs,), daemon=True)
        self.victims.start()
        theirs.close()

    def _victims_main(self, conn):
        self.role, self.conn = "victims", conn
        asyncio.run(self.serve_parent(conn))

    async def ask(self, command, arg=None):
        self.conn.send((command, arg))
        return await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)

    async def serve_parent(self, conn):
        loop = asyncio.get_running_loop()
        connected = await self.connect_all()
        await self.initial_sync()
        conn.send(connected)
        victims = [s.idx for s in self.sockets if self.own(s)]
        with no_client_gc():
            while True:
                command, arg = await loop.run_in_executor(None, conn.recv)
                if command == "go":
                    self.restart_at = arg  # from here on a reconnection counts as caught up
                    conn.send(None)
                elif command == "caught_up":
                    done = await wait_until(lambda: all(i in self.caught_up for i in victims), arg)
                    conn.send(
                        {
                            "done": done,
                            "caught_up": self.caught_up,
                            "hellos": self.hellos,
                            "failed_attempts": self.failed_attempts,
                            "failures": self.failures,
                            "gap_syncs": self.gap_syncs,
                            "moved": sum(1 for i in victims if self.sockets[i].server == 1),
                        }
                    )
                elif command == "check":
                    conn.send(await self.check_missing(arg))
                elif command == "stop":
                    self.stopping = True
                    await self.close_all()
                    conn.send({"from_sync": self.from_sync, "errors": self.errors, "cpu_s": sum(os.times()[:2])})
                    return

    async def check_missing(self, expected):
        """``expected``: (text, receiver idx) of this process's sockets. The texts missing at
        their receiver, then those still missing after one more sync of each socket that
        misses something (the last change of a conversation lost on the way shows no gap:
        tim.js's sync every 5 minutes brings it; this is that sync)."""
        missing = [(t, i) for t, i in expected if t not in self.sockets[i].received]
        await asyncio.gather(*(self.sync_quietly(self.sockets[i]) for i in {i for _, i in missing}))
        return missing, [(t, i) for t, i in missing if t not in self.sockets[i].received]

    async def run(self):
        t = time.perf_counter()
        connected = await self.connect_all()
        if self.split:  # the victims' process connects and syncs its own, then says how many
            connected += await asyncio.get_running_loop().run_in_executor(None, self.conn.recv)
        log(f"{connected} sockets connected in {time.perf_counter() - t:.1f} s")
        await self.initial_sync()
        log(f"synced; sending for {self.duration:g} s, Daphne A restarted after {self.duration / 3:.1f} s")
        victims = [s.idx for s in self.sockets if s.server == 0]
        with no_client_gc():
            if self.split:
                await self.ask("go", time.perf_counter())
            await asyncio.gather(self.send_loop(), self.restart_after(self.duration / 3))
            if self.split:
                log("sending done; waiting for A's clients to catch up")
                report = await self.ask("caught_up", 60)
                storm_done = report["done"]
                self.caught_up, moved = report["caught_up"], report["moved"]
                self.hellos.update(report["hellos"])
                self.failed_attempts, self.failures = report["failed_attempts"], report["failures"]
                self.gap_syncs += report["gap_syncs"]
            else:
                log(f"sending done; {len(self.caught_up)} of {len(victims)} of A's clients caught up so far")
                storm_done = await wait_until(lambda: all(i in self.caught_up for i in victims), 60)
                moved = sum(1 for i in victims if self.sockets[i].server == 1)
            await asyncio.sleep(3)  # late deliveries
        self.stopping = True
        expected = [(t, self.sent[t][1]) for t in self.acked]
        missing, missing_after = await self.check_missing([(t, i) for t, i in expected if self.own(self.sockets[i])])
        if self.split:
            theirs = await self.ask("check", [(t, i) for t, i in expected if not self.own(self.sockets[i])])
            missing, missing_after = missing + theirs[0], missing_after + theirs[1]
        end = max(self.caught_up.values(), default=self.restart_at)
        during = [ms for sent, server, ms in self.deliveries if server == 1 and self.restart_at <= sent <= end]
        before = [ms for sent, server, ms in self.deliveries if server == 1 and sent < self.restart_at]
        await self.close_all()
        victims_cpu_s = None
        if self.split:
            final = await self.ask("stop")
            self.from_sync += final["from_sync"]
            for kind, n in final["errors"].items():
                self.errors[kind] = self.errors.get(kind, 0) + n
            victims_cpu_s = final["cpu_s"]
            self.victims.join(10)
        return {
            "clients": len(self.sockets),
            "connected": connected,
            "sent": len(self.sent),
            "acked": len(self.acked),
            "restart_s": self.restarted_at - self.restart_at,
            "restarted_clients": len(victims),
            "caught_up": len(self.caught_up),
            "all_caught_up": storm_done,
            "storm_s": (end - self.restart_at) if storm_done else None,
            "caught_up_p50_s": percentile([t - self.restart_at for t in self.caught_up.values()], 50),
            "caught_up_p90_s": percentile([t - self.restart_at for t in self.caught_up.values()], 90),
            "b_p50_during": percentile(during, 50),
            "b_p99_during": percentile(during, 99),
            "b_p99_before": percentile(before, 99),
            "b_deliveries_during": len(during),
            "missing_before_last_sync": len(missing),
            "missing_on_a": sum(1 for _, i in missing if i % 2 == 0),  # (by the socket's first Daphne)
            "gap_syncs": self.gap_syncs,
            "failed_attempts": self.failed_attempts,
            "failover": self.failover,
            "moved_to_b": moved,
            "failure_kinds": self.failures,
            "hello_p50_s": percentile([self.hellos[i] - self.restart_at for i in victims if i in self.hellos], 50),
            "hello_p90_s": percentile([self.hellos[i] - self.restart_at for i in victims if i in self.hellos], 90),
            "missing": len(missing_after),
            "missing_examples": [(t, self.sockets[i].name) for t, i in sorted(missing_after)[:10]],
            "from_sync": self.from_sync,
            "errors": dict(self.errors),
            "client_processes": 2 if self.split else 1,
            "victims_client_cpu_s": victims_cpu_s,
        }


# --- the live room -----------------------------------------------------------------------------


class RoomRun(SocketRun):
    def __init__(self, seeded, servers, *, rate, duration, seed=7):
        super().__init__(seeded["names"], seeded["session_keys"], servers)
        self.rate = rate
        self.duration = duration
        self.rng = random.Random(seed)
        self.sent = {}  # text -> (send time, sender idx)
        self.arrivals = {}  # text -> [latency ms]
        self.acks = []

    def on_event(self, socket, event, data, now):
        if event != "MESSAGE_RECEIVED":
            return
        for message in data["data"]:
            text = (message.get("payload") or {}).get("text") or ""
            sent = self.sent.get(text)
            if sent is not None and sent[1] != socket.idx:
                self.arrivals.setdefault(text, []).append(1000 * (now - sent[0]))

    async def send(self, socket, text):
        message = {"to": ROOM_ID, "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": text}}
        t0 = time.perf_counter()
        try:
            await self.request(socket, "sendMessage", message=message)
            self.acks.append(1000 * (time.perf_counter() - t0))
        except Exception as error:
            self.count(f"send:{type(error).__name__}")

    async def run(self):
        t = time.perf_counter()
        connected = await self.connect_all()
        connect_s = time.perf_counter() - t
        log(f"{connected} sockets connected in {connect_s:.1f} s; sending for {self.duration:g} s")
        others = connected - 1
        with no_client_gc():
            async for n in paced(self.rate, self.duration):
                sender = self.rng.randrange(len(self.sockets))
                text = f"room {n}"
                self.sent[text] = (time.perf_counter(), sender)
                asyncio.get_running_loop().create_task(self.send(self.sockets[sender], text))
            await wait_until(lambda: all(len(self.arrivals.get(t, ())) >= others for t in self.sent), 30)
        await self.close_all()
        to_last = [max(self.arrivals[t]) for t in self.sent if len(self.arrivals.get(t, ())) >= others]
        every = [ms for values in self.arrivals.values() for ms in values]
        return {
            "sockets": len(self.sockets),
            "connected": connected,
            "connect_s": connect_s,
            "messages": len(self.sent),
            "reach": 100.0 * sum(len(v) for v in self.arrivals.values()) / max(1, others * len(self.sent)),
            "complete_messages": len(to_last),
            "last_p50": percentile(to_last, 50),
            "ack_p50": percentile(self.acks, 50),
            "ack_p99": percentile(self.acks, 99),
            "first_p50": percentile([min(self.arrivals[t]) for t in self.sent if self.arrivals.get(t)], 50),
            "first_p99": percentile([min(self.arrivals[t]) for t in self.sent if self.arrivals.get(t)], 99),
            "last_p99": percentile(to_last, 99),
            "last_max": max(to_last) if to_last else None,
            "delivery_p50": percentile(every, 50),
            "delivery_p99": percentile(every, 99),
            "errors": dict(self.errors),
        }


# --- setup ---------------------------------------------------------------------------------------


def seed_storm(clients: int) -> dict:
    return seed_load(LoadConfig(clients=clients, group_size=0))


def seed_room(sockets: int, group_type: str = "ChatRoom") -> dict:
    """``sockets`` users and one group of them all, made by ``create_group`` as the host's
    backend would (one tip, one system notice each)."""
    from messaging import actions
    from messaging.models import User

    seeded = seed_load(LoadConfig(clients=sockets, group_size=0, pairs=0))
    owner = User.objects.get(username=seeded["names"][0])
    actions.create_group(owner, group_type=group_type, name="bench room", group_id=ROOM_ID, member_user_ids=seeded["names"][1:])
    analyze()
    return seeded
