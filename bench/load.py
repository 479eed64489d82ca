"""The WebSocket load: N clients, a fixed open-loop send rate, C2C and group traffic.

Setup (in this process, through the ORM and ``messaging.actions``): N users
``bload0000``..., one session each (created with Django's SessionStore, so no login
and no password hashing), one Work group ``bench-load`` of ``group_size`` members,
and a pool of C2C pairs whose threads are created beforehand by one ``send_message``
each (so the run measures sends into existing conversations, as in a chat that is
in use; ``--pairs 0`` draws every C2C pair at random instead, most of them new;
``LoadConfig.new_pairs`` sends every C2C message to a pair never messaged before, each
message the first of its conversation).

Run (asyncio + ``websockets``, in this process; Daphne is a subprocess): every
client opens ``/ws/chat/`` with its ``sessionid`` cookie and an Origin on the
allowed host, then message ``i`` is sent at ``t0 + i / rate`` whatever happened
before (open loop). Even ``i`` are C2C (a pair from the pool, random direction),
odd ``i`` go to the group from a random member (``group_share`` 0.5; other shares
spread the group messages evenly). The text carries ``i``: latency is
the receive time at each recipient minus the send time at the sender, on this
process's monotonic clock. Expected deliveries: 1 per C2C message, members - 1 per
group message (the sender's own tab gets no MESSAGE_RECEIVED). After the schedule,
the run drains until everything expected has arrived or ``drain`` seconds pass;
requests still unanswered then count as timeouts.
"""

import asyncio
import json
import random
import time
from collections import Counter
from dataclasses import dataclass

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bench.stats import percentile

USER_PREFIX = "bload"
GROUP_ID = "bench-load"


@dataclass
class LoadConfig:
    clients: int = 200
    rate: float = 100.0
    duration: float = 20.0
    group_size: int = 50
    group_share: float = 0.5  # fraction of the messages that go to the group
    pairs: int | None = None  # None: one pair per client
    new_pairs: bool = False  # every C2C message to a pair not messaged before (no conversation exists)
    drain: float = 10.0
    connect_concurrency: int = 20
    settle: float = 1.0  # seconds between the last socket opened and the first message
    seed: int = 7


# --- setup (Django, in this process) -------------------------------------------------------


def reset_load_data(attempts=3):
    """Delete what an earlier load run left (its users, group, threads, sessions)."""
    from django.contrib.sessions.models import Session
    from django.db import IntegrityError, transaction

    from messaging.models import Group, Thread, User

    for attempt in range(attempts):
        try:
            with transaction.atomic():
                groups = Group.objects.filter(group_id__startswith=GROUP_ID)
                thread_ids = list(groups.values_list("thread_id", flat=True))
                groups.delete()
                Thread.objects.filter(pk__in=thread_ids).delete()
                User.objects.filter(username__startswith=USER_PREFIX).delete()
                Session.objects.all().delete()
            return
        except IntegrityError:
            # A row was added under the collector (a server still finishing): try again.
            if attempt == attempts - 1:
                raise
            time.sleep(1)


def seed_load(cfg: LoadConfig) -> dict:
    """Users, sessions, the group and the warmed C2C pairs. Returns what the clients need."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password

    from messaging import actions
    from messaging.models import User

    rng = random.Random(cfg.seed)
    reset_load_data()
    names = [f"{USER_PREFIX}{i:04d}" for i in range(cfg.clients)]
    User.objects.bulk_create([User(username=n, nick=n, password=make_password(None)) for n in names], batch_size=1000)
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    users = [users[n] for n in names]

    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    keys = []
    for user in users:
        store = store_class()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        keys.append(store.session_key)

    members = list(range(min(cfg.group_size, cfg.clients)))
    if len(members) >= 2:
        actions.create_group(
            users[0],
            group_type="Private",
            name="bench load",
            group_id=GROUP_ID,
            member_user_ids=[names[i] for i in members[1:]],
        )
    else:
        members = []

    pairs = pair_pool(cfg, rng)
    for i, j in pairs:
        actions.send_message(users[i], conversation_type="C2C", to=names[j], msg_type="TIMTextElem", payload={"text": "hello"})
    analyze()
    return {"names": names, "session_keys": keys, "members": members, "pairs": pairs}


def analyze():
    """Fresh planner statistics after a seed (a deployment's autovacuum keeps them): with
    those of the tables before thousands of rows were added, PostgreSQL's estimates are off
    by a hundred times and it hash-joins whole tables for one user's rows."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def pair_pool(cfg: LoadConfig, rng) -> list:
    """The C2C pairs (client indexes, low first) whose conversations exist before the run:
    ``cfg.pairs`` of them (default one per client), none when ``cfg.pairs`` is 0 or
    ``cfg.new_pairs`` is set. The floor's bench (bench/vsfloor.py) draws the same pool."""
    n_pairs = cfg.clients if cfg.pairs is None else cfg.pairs
    pairs = set()
    if n_pairs and cfg.clients >= 2 and not cfg.new_pairs:
        attempts = 0
        while len(pairs) < n_pairs and attempts < 100 * n_pairs:
            attempts += 1
            i = len(pairs) % cfg.clients
            j = rng.randrange(cfg.clients)
            if i != j:
                pairs.add((min(i, j), max(i, j)))
    return sorted(pairs)


# --- the run (asyncio, no Django) -------------------------------------------------------


async def connect_socket(ws_url, origin, session_key, *, open_timeout=30):
    """A chat socket opened as a tab opens it (session cookie, an allowed Origin); no
    compression, no pings, no receive limit that a burst could hit."""
    return await connect(
        ws_url,
        origin=origin,
        additional_headers={"Cookie": f"sessionid={session_key}"},
        compression=None,
        ping_interval=None,
        max_size=2**22,
        max_queue=None,
        open_timeout=open_timeout,
        close_timeout=2,
    )


class Client:
    def __init__(self, idx, name, session_key):
        self.idx = idx
        self.name = name
        self.session_key = session_key
        self.ws = None
        self.ready = asyncio.Event()
        self.reader = None


class LoadRun:
    def __init__(self, cfg: LoadConfig, seeded: dict, servers):
        """``servers``: (ws_url, origin) of each Daphne; client i uses server i % len(servers)."""
        self.cfg = cfg
        self.servers = list(servers)
        self.clients = [Client(i, n, k) for i, (n, k) in enumerate(zip(seeded["names"], seeded["session_keys"], strict=True))]
        self.members = seeded["members"]
        self.pairs = seeded["pairs"]
        self.rng = random.Random(cfg.seed + 1)
        self.fresh_pairs = []  # cfg.new_pairs: every pair once, in random order (popped from the end)
        if cfg.new_pairs:
            n = len(self.clients)
            self.fresh_pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
            self.rng.shuffle(self.fresh_pairs)
        # Every message carries a client ID, as tim.js gives every message one (the
        # product's resend check reads it); unique to this run, whatever users it reuses.
        self.id_prefix = f"b{random.getrandbits(48):012x}-"
        # i -> [send time, kind, set of recipients still expected]
        self.messages = {}
        self.unacked = {}  # request id -> send time
        self.latency = {"C2C": [], "GROUP": []}
        self.ack_latency = []
        self.ack_points = []  # (send time, ack latency ms), for the timeline
        self.delivery_points = []  # (send time, delivery latency ms)
        self.t0 = None
        self.expected = Counter()
        self.delivered = Counter()
        self.sent = Counter()
        self.acked = 0
        self.errors = Counter()
        self.unexpected = 0
        self.frames = 0
        self.frames_by_event = Counter()
        self.send_lag = []
        self.loop_lag = []
        self.closing = False

    # connections

    # The protocol: the product's here; bench/floor.py's FloorLoadRun speaks the floor's.

    async def connect_client(self, client):
        """Open ``client``'s socket; it is ready when the server's hello arrives."""
        ws_url, origin = self.servers[client.idx % len(self.servers)]
        return await connect_socket(ws_url, origin, client.session_key)

    def frame(self, i, kind, target):
        """The request of message ``i`` (``target``: the peer's client index, or None for the group)."""
        to = self.clients[target].name if kind == "C2C" else GROUP_ID
        message = {
            "ID": f"{self.id_prefix}{i}",
            "to": to,
            "conversationType": kind,
            "type": "TIMTextElem",
            "payload": {"text": f"bench {i}"},
        }
        return json.dumps({"id": i, "op": "sendMessage", "args": {"message": message}})

    def on_frame(self, client, frame, now):
        head = frame[:64]
        if head.startswith('{"event":"'):
            self.frames_by_event[head[10:].split('"', 1)[0]] += 1
        if "MESSAGE_RECEIVED" in head:
            for message in json.loads(frame)["data"]:
                self._on_delivery(client, (message.get("payload") or {}).get("text") or "", now)
        elif head.startswith('{"id"'):
            reply = json.loads(frame)
            self._on_ack(reply.get("id"), reply.get("ok"), reply.get("code"), now)
        elif '"hello"' in head:
            client.ready.set()

    async def open_client(self, client, semaphore):
        async with semaphore:
            try:
                client.ws = await self.connect_client(client)
            except Exception as error:  # refused, timeout: counted, the run goes on without it
                self.errors[f"connect:{type(error).__name__}"] += 1
                return
            client.reader = asyncio.create_task(self._read(client))
            try:
                await asyncio.wait_for(client.ready.wait(), 30)
            except TimeoutError:
                self.errors["connect:no-hello"] += 1

    async def connect_all(self, clients=None):
        semaphore = asyncio.Semaphore(self.cfg.connect_concurrency)
        await asyncio.gather(*(self.open_client(c, semaphore) for c in (self.clients if clients is None else clients)))
        return sum(1 for c in self.clients if c.ready.is_set())

    async def close_all(self):
        self.closing = True

        async def close(client):
            if client.ws is not None:
                try:
                    await asyncio.wait_for(client.ws.close(), 5)
                except Exception:
                    pass
            if client.reader is not None:
                client.reader.cancel()

        await asyncio.gather(*(close(c) for c in self.clients))

    # receiving

    async def _read(self, client):
        ws = client.ws
        try:
            async for frame in ws:
                self.frames += 1
                self.on_frame(client, frame, time.perf_counter())
        except ConnectionClosed:
            pass
        if not self.closing:
            self.errors[f"disconnected:{ws.close_code}"] += 1

    def _on_delivery(self, client, text, now):
        if not text.startswith("bench "):
            self.unexpected += 1
            return
        entry = self.messages.get(int(text[6:]))
        if entry is None or client.idx not in entry[2]:
            self.unexpected += 1
            return
        entry[2].discard(client.idx)
        self.delivered[entry[1]] += 1
        latency = 1000 * (now - entry[0])
        self.latency[entry[1]].append(latency)
        self.delivery_points.append((entry[0], latency))

    def _on_ack(self, request_id, ok, code, now):
        sent_at = self.unacked.pop(request_id, None)
        if sent_at is None:
            self.errors["unknown-reply"] += 1
        elif ok:
            self.acked += 1
            self.ack_latency.append(1000 * (now - sent_at))
            self.ack_points.append((sent_at, 1000 * (now - sent_at)))
        else:
            self.errors[f"code:{code}"] += 1

    # sending

    def _pick(self, i):
        """(sender, kind, target, recipients) of message i (target: the peer's index, None for the group)."""
        members = self.members
        if members and int((i + 1) * self.cfg.group_share) > int(i * self.cfg.group_share):
            sender = self.rng.choice(members)
            return sender, "GROUP", None, set(members) - {sender}
        if self.cfg.new_pairs and self.fresh_pairs:
            a, b = self.fresh_pairs.pop()
        elif self.cfg.new_pairs:
            a, b = self.rng.sample(range(len(self.clients)), 2)
            self.errors["pairs-exhausted"] += 1  # more messages than pairs: this one is not a first one
        elif self.pairs:
            a, b = self.rng.choice(self.pairs)
        else:
            a, b = self.rng.sample(range(len(self.clients)), 2)
        if self.rng.random() < 0.5:
            a, b = b, a
        return a, "C2C", b, {b}

    async def _send(self, i, scheduled):
        sender, kind, target, recipients = self._pick(i)
        client = self.clients[sender]
        if not client.ready.is_set():
            self.errors["sender-not-connected"] += 1
            return
        frame = self.frame(i, kind, target)
        recipients = {r for r in recipients if self.clients[r].ready.is_set()}
        now = time.perf_counter()
        self.send_lag.append(1000 * (now - scheduled))
        self.messages[i] = [now, kind, recipients]
        self.unacked[i] = now
        self.expected[kind] += len(recipients)
        self.sent[kind] += 1
        try:
            await client.ws.send(frame)
        except ConnectionClosed:
            self.errors["send-failed"] += 1
            self.unacked.pop(i, None)

    async def _monitor(self, stop):
        """Event-loop lag of this client process: if it is high, the client is the bottleneck."""
        period = 0.01
        expected = time.perf_counter() + period
        while not stop.is_set():
            await asyncio.sleep(period)
            now = time.perf_counter()
            self.loop_lag.append(1000 * max(0.0, now - expected))
            expected = now + period

    async def schedule(self):
        total = int(self.cfg.rate * self.cfg.duration)
        tasks = set()
        t0 = self.t0 = time.perf_counter() + 0.1
        for i in range(total):
            scheduled = t0 + i / self.cfg.rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = asyncio.create_task(self._send(i, scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.gather(*tasks)
        return time.perf_counter() - t0

    def outstanding(self):
        return len(self.unacked) + sum(len(e[2]) for e in self.messages.values())

    async def drain(self):
        deadline = time.perf_counter() + self.cfg.drain
        while self.outstanding() and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)

    async def run(self, cpu_meter=None, on_start=None):
        connected = await self.connect_all()
        await asyncio.sleep(self.cfg.settle)  # let the connection burst settle
        stop = asyncio.Event()
        monitor = asyncio.create_task(self._monitor(stop))
        if on_start:
            on_start()
        if cpu_meter:
            cpu_meter.start()
        window = await self.schedule()
        await self.drain()
        cpu = cpu_meter.stop() if cpu_meter else {}
        stop.set()
        await monitor
        if self.unacked:
            self.errors["timeout"] += len(self.unacked)
        await self.close_all()
        return self.results(connected, window, cpu)

    def timeline(self):
        """Per second of sending: messages acked, ack p50/p99 and delivery p50/p99 (ms)."""
        seconds = int(self.cfg.duration + 0.999)
        acks = [[] for _ in range(seconds)]
        deliveries = [[] for _ in range(seconds)]
        for points, buckets in ((self.ack_points, acks), (self.delivery_points, deliveries)):
            for sent_at, latency in points:
                second = min(seconds - 1, max(0, int(sent_at - self.t0)))
                buckets[second].append(latency)
        return [
            {
                "second": s,
                "acked": len(acks[s]),
                "ack_p50": percentile(acks[s], 50),
                "ack_p99": percentile(acks[s], 99),
                "delivered": len(deliveries[s]),
                "p50": percentile(deliveries[s], 50),
                "p99": percentile(deliveries[s], 99),
            }
            for s in range(seconds)
        ]

    def results(self, connected, window, cpu):
        all_latency = self.latency["C2C"] + self.latency["GROUP"]
        expected = sum(self.expected.values())
        delivered = sum(self.delivered.values())

        def pct(values, q):
            return percentile(values, q)

        def reach(kind=None):
            e = self.expected[kind] if kind else expected
            d = self.delivered[kind] if kind else delivered
            return 100.0 * d / e if e else None

        return {
            "clients": len(self.clients),
            "connected": connected,
            "rate": self.cfg.rate,
            "duration": self.cfg.duration,
            "group_size": len(self.members),
            "window_s": window,
            "sent": sum(self.sent.values()),
            "sent_c2c": self.sent["C2C"],
            "sent_group": self.sent["GROUP"],
            "acked": self.acked,
            "acked_per_s": self.acked / self.cfg.duration,
            "errors": sum(self.errors.values()),
            "error_detail": dict(self.errors),
            "p50": pct(all_latency, 50),
            "p95": pct(all_latency, 95),
            "p99": pct(all_latency, 99),
            "max": max(all_latency) if all_latency else None,
            "c2c_p50": pct(self.latency["C2C"], 50),
            "c2c_p95": pct(self.latency["C2C"], 95),
            "c2c_p99": pct(self.latency["C2C"], 99),
            "group_p50": pct(self.latency["GROUP"], 50),
            "group_p95": pct(self.latency["GROUP"], 95),
            "group_p99": pct(self.latency["GROUP"], 99),
            "ack_p50": pct(self.ack_latency, 50),
            "ack_p99": pct(self.ack_latency, 99),
            "expected": expected,
            "delivered": delivered,
            "reach": reach(),
            "reach_c2c": reach("C2C"),
            "reach_group": reach("GROUP"),
            "unexpected": self.unexpected,
            "frames_in_per_s": self.frames / max(window, 1e-9),
            "frames_by_event": dict(self.frames_by_event),
            "send_lag_p99": pct(self.send_lag, 99),
            "loop_lag_p99": pct(self.loop_lag, 99),
            "loop_lag_max": max(self.loop_lag) if self.loop_lag else None,
            "cpu": cpu,
            "timeline": self.timeline() if self.t0 is not None else [],
        }
