"""The stack floor (``../shared/floor/``), built and driven by the ratio bench (bench/vsfloor.py).

The floor is the least a chat server on our stack does per message: a WebSocket frame in,
a thread row locked and a message row inserted in PostgreSQL through the ORM, one
channels-redis send on the pub/sub layer, a frame out to the peer, an ack to the sender.
``FLOOR_FILES`` is ``../shared/floor/make_floor_app.py``'s app, copied here so that the bench
(and its smoke test in ``make test``) runs where ``../shared`` is absent, with these changes:

- a **group op** of the same shape as the product's group send, for the mixed load:
  ``{"group": 1, "text", "t", "id"}`` locks the group's thread row, inserts the message,
  sends one event to the channel-layer group ``g`` (the sockets opened with ``g=1``) and
  acks; the sender's own socket gets the event too and the load ignores it (the product
  sends no MESSAGE_RECEIVED to the sender's tab);
- the database host, port and the channel layer's key prefix come from the environment
  (``FLOOR_DB_HOST``, ``FLOOR_DB_PORT``, ``FLOOR_PREFIX``), so that a test run has
  databases and pub/sub channels of its own.

Everything else (models, the C2C op, the ``fan`` op, settings) is the shared floor's.

``FloorApp`` writes the app into a temporary folder, makes its database (``floor_bench``
by default, dropped and made again) and migrates it; ``FloorDaphne`` serves it on ports
8600-8699 (the product's bench uses 8500-8599); ``FloorLoadRun`` is bench/load.py's
``LoadRun`` speaking the floor's frames (``{to, text, t, id}`` / ``{ack}`` / ``{event, m}``),
so both sides run the same schedule, the same random peers and the same counting.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql
from websockets.asyncio.client import connect

from bench import stack
from bench.load import LoadRun

GROUP_THREAD = -1  # the group op's thread (C2C threads are min * 100000 + max, > 0)

FLOOR_FILES = {
    "manage.py": """
        import os, sys
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "floorapp.settings")
        from django.core.management import execute_from_command_line
        execute_from_command_line(sys.argv)
    """,
    "floorapp/__init__.py": "",
    "floorapp/settings.py": """
        import os
        SECRET_KEY = "floor"
        DEBUG = False
        ALLOWED_HOSTS = ["*"]
        INSTALLED_APPS = ["daphne", "channels", "floorapp"]
        ROOT_URLCONF = "floorapp.urls"
        ASGI_APPLICATION = "floorapp.asgi.application"
        USE_TZ = True
        DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
        DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ.get("FLOOR_DB", "floor"),
            "USER": os.environ.get("FLOOR_DB_USER", "postgres"), "HOST": os.environ.get("FLOOR_DB_HOST", "127.0.0.1"),
            "PORT": os.environ.get("FLOOR_DB_PORT", "5432"), "OPTIONS": {"pool": True}}}
        CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer" if os.environ.get("FLOOR_LAYER") == "core" else "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")], "prefix": os.environ.get("FLOOR_PREFIX", "asgi")}
                | ({"capacity": 1000} if os.environ.get("FLOOR_LAYER") == "core" else {})}}
    """,
    "floorapp/urls.py": "urlpatterns = []\n",
    "floorapp/models.py": """
        from django.db import models
        class Thread(models.Model):
            last_seq = models.BigIntegerField(default=0)
        class Msg(models.Model):
            thread = models.ForeignKey(Thread, on_delete=models.CASCADE)
            seq = models.BigIntegerField()
            sender = models.IntegerField()
            body = models.TextField()
            created = models.DateTimeField(auto_now_add=True)
            class Meta:
                constraints = [models.UniqueConstraint(fields=["thread", "seq"], name="uniq_seq")]
    """,
    "floorapp/consumers.py": f"""
        from channels.db import database_sync_to_async
        from channels.generic.websocket import AsyncJsonWebsocketConsumer
        from django.db import transaction
        from .models import Msg, Thread

        @database_sync_to_async
        def store(a, b, text, tid=None):
            tid = min(a, b) * 100000 + max(a, b) if tid is None else tid
            with transaction.atomic():
                t, _ = Thread.objects.select_for_update().get_or_create(pk=tid)
                t.last_seq += 1
                t.save(update_fields=["last_seq"])
                m = Msg.objects.create(thread=t, seq=t.last_seq, sender=a, body=text)
            return m.pk, t.last_seq

        class Floor(AsyncJsonWebsocketConsumer):
            async def connect(self):
                q = dict(kv.split("=") for kv in self.scope["query_string"].decode().split("&"))
                self.uid = int(q["u"])
                self.groups_in = [f"u{{self.uid}}"] + (["g"] if q.get("g") else [])
                for g in self.groups_in:
                    await self.channel_layer.group_add(g, self.channel_name)
                await self.accept()
            async def disconnect(self, code):
                for g in self.groups_in:
                    await self.channel_layer.group_discard(g, self.channel_name)
            async def receive_json(self, c):
                if "group" in c:  # bench/floor.py: one message into the group's thread, one send to its members
                    pk, seq = await store(self.uid, 0, c["text"], tid={GROUP_THREAD})
                    await self.channel_layer.group_send("g", {{"type": "deliver", "m": {{"id": pk, "seq": seq, "from": self.uid, "text": c["text"], "t": c["t"]}}}})
                    await self.send_json({{"ack": c["id"], "id": pk}})
                    return
                if "fan" in c:
                    pk, seq = await store(self.uid, 0, c["text"])
                    m = {{"type": "deliver", "m": {{"id": pk, "seq": seq, "from": self.uid, "text": c["text"], "t": c["t"]}}}}
                    if c["fan"] == "group":
                        await self.channel_layer.group_send("g", m)
                    else:
                        for i in range(1, c["n"] + 1):
                            await self.channel_layer.group_send(f"u{{i}}", m)
                    await self.send_json({{"ack": c["id"], "id": pk}})
                    return
                pk, seq = await store(self.uid, c["to"], c["text"])
                await self.channel_layer.group_send(f"u{{c['to']}}", {{"type": "deliver", "m": {{"id": pk, "seq": seq, "from": self.uid, "text": c["text"], "t": c["t"]}}}})
                await self.send_json({{"ack": c["id"], "id": pk}})
            async def deliver(self, e):
                await self.send_json({{"event": "msg", "m": e["m"]}})
    """,
    "floorapp/asgi.py": """
        import os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "floorapp.settings")
        from django.core.asgi import get_asgi_application
        django_app = get_asgi_application()
        from channels.routing import ProtocolTypeRouter, URLRouter
        from django.urls import path
        from floorapp.consumers import Floor
        application = ProtocolTypeRouter({"http": django_app, "websocket": URLRouter([path("ws/", Floor.as_asgi())])})
    """,
}


def write_floor_app(root):
    """Write the floor's Django project into ``root`` (as ``make_floor_app.py DIR`` does)."""
    root = Path(root)
    (root / "floorapp").mkdir(parents=True, exist_ok=True)
    for name, body in FLOOR_FILES.items():
        (root / name).write_text(textwrap.dedent(body).lstrip())


def thread_id(a, b):
    """The floor's thread of clients ``a`` and ``b`` (indexes; the floor's user IDs are index + 1)."""
    a, b = sorted((a + 1, b + 1))
    return a * 100000 + b


class FloorApp:
    """The floor app in a temporary folder, with its database migrated; ``reset`` empties it."""

    def __init__(self, database_url, redis_url, *, prefix="floor"):
        parts = urlsplit(database_url)
        self.database_url = database_url
        self.db_name = parts.path.lstrip("/")
        if not self.db_name.startswith("floor_bench"):
            raise SystemExit(f"refusing to drop {self.db_name!r}: the floor's database name must start with floor_bench")
        self.admin_url = urlunsplit(parts._replace(path="/postgres"))
        self.redis_url = redis_url
        self.prefix = prefix
        self.dir = None
        self.host, self.port, self.user = parts.hostname or "127.0.0.1", str(parts.port or 5432), parts.username or "postgres"

    def env(self):
        env = dict(os.environ)
        for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"):
            env.pop(name, None)
        env.update(
            DJANGO_SETTINGS_MODULE="floorapp.settings",
            FLOOR_DB=self.db_name,
            FLOOR_DB_USER=self.user,
            FLOOR_DB_HOST=self.host,
            FLOOR_DB_PORT=self.port,
            REDIS_URL=self.redis_url,
            FLOOR_PREFIX=self.prefix,
            PYTHONPATH=str(self.dir),
            PYTHONUNBUFFERED="1",
        )
        return env

    def build(self):
        self.dir = Path(tempfile.mkdtemp(prefix="floor-"))
        write_floor_app(self.dir)
        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
            ident = sql.Identifier(self.db_name)
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))
        # run.sh's `manage.py makemigrations floorapp` and `manage.py migrate`, in one process.
        script = (
            "import django; from django.core.management import call_command; django.setup(); "
            "call_command('makemigrations', 'floorapp', verbosity=0); call_command('migrate', verbosity=0)"
        )
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=self.dir, env=self.env(), capture_output=True, text=True, timeout=120
        )
        if done.returncode:
            raise SystemExit(f"building the floor failed (makemigrations, migrate):\n{done.stderr[-2000:]}")
        return self

    def reset(self, pairs=()):
        """Empty the floor's tables; create the threads of ``pairs`` (client indexes) beforehand."""
        with psycopg.connect(self.database_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute("TRUNCATE floorapp_msg, floorapp_thread")
            if pairs:
                with conn.cursor() as cur:
                    cur.executemany(
                        "INSERT INTO floorapp_thread (id, last_seq) VALUES (%s, 0)", [(thread_id(a, b),) for a, b in pairs]
                    )

    def drop(self, drop_database=False):
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        if drop_database:
            with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as conn:
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.db_name)))

    def daphne_class(self):
        app = self

        class Bound(FloorDaphne):
            floor = app

        return Bound


class FloorDaphne(stack.Daphne):
    """A Daphne serving the floor app (``FloorApp.daphne_class()`` binds it to one build)."""

    application = "floorapp.asgi:application"
    command = ("-m", "daphne")  # the floor's Daphne as ../shared/floor runs it: asyncio's own loop
    ports = range(8600, 8700)
    ws_path = "/ws/"
    floor = None

    def __init__(self, database_url, redis_url, **options):
        super().__init__(database_url, redis_url, **options)
        self.cwd = self.floor.dir

    def env(self):
        env = self.floor.env()
        env.update(self.extra_env)
        return env


class FloorLoadRun(LoadRun):
    """bench/load.py's open-loop run against the floor: the same schedule, peers and counting."""

    def __init__(self, cfg, seeded, servers):
        super().__init__(cfg, seeded, servers)
        self.member_set = set(self.members)

    async def connect_client(self, client):
        ws_url, _ = self.servers[client.idx % len(self.servers)]
        query = f"?u={client.idx + 1}" + ("&g=1" if client.idx in self.member_set else "")
        ws = await connect(
            ws_url + query, compression=None, ping_interval=None, max_size=2**22, max_queue=None, open_timeout=30, close_timeout=2
        )
        client.ready.set()  # the floor sends no hello
        return ws

    def frame(self, i, kind, target):
        if kind == "C2C":
            return json.dumps({"to": target + 1, "text": f"bench {i}", "t": time.perf_counter(), "id": i})
        return json.dumps({"group": 1, "text": f"bench {i}", "t": time.perf_counter(), "id": i})

    def on_frame(self, client, frame, now):
        data = json.loads(frame)
        if "ack" in data:
            self._on_ack(data["ack"], True, None, now)
        elif data.get("event") == "msg":
            self.frames_by_event["msg"] += 1
            if data["m"]["from"] != client.idx + 1:  # the floor's group send reaches the sender's socket too
                self._on_delivery(client, data["m"]["text"], now)


def floor_seed(cfg, pairs):
    """What ``FloorLoadRun`` needs, shaped like bench/load.py's ``seed_load`` (no users, no sessions)."""
    members = list(range(min(cfg.group_size, cfg.clients)))
    return {
        "names": [str(i + 1) for i in range(cfg.clients)],
        "session_keys": [None] * cfg.clients,
        "members": members if len(members) >= 2 else [],
        "pairs": pairs,
    }
