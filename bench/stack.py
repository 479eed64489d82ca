"""The production stack on loopback: the bench database, the Redis db, Daphne.

Nothing here imports Django: the database is created before Django is set up, and
Daphne is a subprocess running the unchanged ``chatsite.settings``.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/chat_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
DEFAULT_FLOOR_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/floor_bench"  # bench/floor.py
DEFAULT_FLOOR_REDIS_URL = "redis://127.0.0.1:6379/9"
PORTS = range(8500, 8600)


# --- PostgreSQL -------------------------------------------------------------------------


def _admin_url(database_url):
    """The same server, database ``postgres`` (to create and drop the bench database)."""
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/postgres")), parts.path.lstrip("/")


def database_exists(database_url):
    admin, name = _admin_url(database_url)
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def recreate_database(database_url):
    admin, name = _admin_url(database_url)
    if not name.startswith("chat_bench"):
        raise SystemExit(f"refusing to drop {name!r}: the bench database name must start with chat_bench")
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
        ident = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(ident))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(ident))


def git_state():
    """The commit measured, and whether the working tree differs from it (other people's edits)."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    dirty = [line[3:] for line in status.stdout.splitlines() if line[3:].startswith(("messaging/", "chatsite/"))]
    return commit.stdout.strip() + (f" + uncommitted changes in {len(dirty)} server files" if dirty else "")


# --- Redis ------------------------------------------------------------------------------


def flush_redis(redis_url):
    client = redis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


# --- Daphne -----------------------------------------------------------------------------


def free_port(exclude=(), ports=PORTS):
    for port in ports:
        if port in exclude:
            continue
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {ports.start}-{ports.stop - 1}")


EXPERIMENTS = {
    "db-parallel=N": "consumers' database_sync_to_async with thread_sensitive=False on N threads",
    "gc-freeze": "gc.freeze() after start-up",
    "switch=S": "sys.setswitchinterval(S)",
    "asyncio-loop": "Daphne on asyncio's own event loop instead of uvloop's (chatsite/serve.py)",
    "db-threads=N": "DB_THREADS (messaging/conf.py) set to N: the database threads per Daphne",
}


def experiment_env(experiments):
    env = {}
    for item in experiments:
        name, _, value = item.partition("=")
        if name == "db-parallel":
            env["BENCH_DB_PARALLEL"] = value or "8"
        elif name == "gc-freeze":
            env["BENCH_GC_FREEZE"] = "1"
        elif name == "switch":
            env["BENCH_SWITCH_INTERVAL"] = value
        elif name == "asyncio-loop":
            env["BENCH_ASYNCIO_LOOP"] = "1"
        elif name == "db-threads" and value.isdigit():
            env["BENCH_DB_THREADS"] = value
        else:
            raise SystemExit(f"unknown experiment {item!r}; known: {', '.join(EXPERIMENTS)}")
    return env


# What precedes a traceback that is not a failure of its own: a chained one, or
# channels_redis cleaning up after an application instance cancelled at shutdown.
SHUTDOWN_NOISE = (
    "During handling of the above exception",
    "The above exception was the direct cause",
    "Unexpected exception while cleaning-up channel",
)


class Daphne:
    """One Daphne process serving ``chatsite.asgi:application`` with the production engines."""

    application = "chatsite.asgi:application"
    command = ("-m", "chatsite.serve")  # Daphne on uvloop, as deployed (chatsite/serve.py)
    ports = PORTS
    ws_path = "/ws/chat/"

    def __init__(
        self,
        database_url,
        redis_url,
        *,
        port=None,
        extra_env=None,
        log_dir=None,
        experiments=(),
        instrument=False,
        held_socket=False,
    ):
        self.port = port or free_port(ports=self.ports)
        # ``held_socket``: this object binds the port and keeps the listening socket, and
        # every start of Daphne serves it (``--fd``), as systemd's socket unit does
        # (deploy/systemd/chat-daphne@.socket): between a stop and the next start the
        # kernel queues connections instead of refusing them.
        self.listener = held_listener(self.port) if held_socket else None
        self.cwd = ROOT
        self.database_url = database_url
        self.redis_url = redis_url
        self.extra_env = extra_env or {}
        self.log_dir = Path(log_dir or Path(tempfile.gettempdir()) / "chat-bench")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.log_dir / f"daphne-{self.port}.log"
        self.experiments = list(experiments)
        self.instrument_path = self.log_dir / f"instrument-{self.port}.json" if instrument else None
        self.proc = None

    @property
    def origin(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}{self.ws_path}"

    def env(self):
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="chatsite.settings",
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            DJANGO_DEBUG="0",
            PYTHONUNBUFFERED="1",
            CHAT_GROUP_SEND_RATE="100000",  # the load is one group: measure sending, not shedding
        )
        env.update(self.extra_env)
        return env

    def start(self, timeout=30):
        return self.spawn().wait_ready(timeout)

    def spawn(self):
        if self.listener is not None:
            args, pass_fds = ["--fd", str(self.listener.fileno()), self.application], (self.listener.fileno(),)
        else:
            args, pass_fds = ["-b", "127.0.0.1", "-p", str(self.port), self.application], ()
        env = self.env()
        if not self.experiments and self.instrument_path is None:
            cmd = [sys.executable, *self.command, *args]
        else:
            # Experiments, not deployment settings (see bench/instrument.py).
            cmd = [sys.executable, "-m", "bench.instrument", *args]
            env.update(experiment_env(self.experiments))
            if self.instrument_path is not None:
                env["BENCH_INSTRUMENT_OUT"] = str(self.instrument_path)
        self.log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=self.cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT, pass_fds=pass_fds)
        return self

    def wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Daphne exited with {self.proc.returncode}:\n{self.log_tail()}")
            # On a held socket the probe's connection is queued at once; it waits for the
            # answer (a probe given up would stay in the queue for the new process to answer).
            probe_timeout = 2 if self.listener is None else max(2.0, deadline - time.monotonic())
            try:
                urllib.request.urlopen(f"{self.origin}/accounts/login/", timeout=probe_timeout).close()
                return self
            except urllib.error.HTTPError:
                return self  # it answers
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Daphne did not answer within {timeout} s:\n{self.log_tail()}")

    def close(self):
        """Stop Daphne and close the held listening socket, if any: the port is free again."""
        self.stop()
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def stop(self, timeout=10):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            if not reap(self.proc, timeout):
                self.proc.kill()
                reap(self.proc, 5)
        self.log.close()
        self.proc = None

    def tracebacks(self):
        """Tracebacks in the log, a chained one counted once, and not channels_redis's
        "Unexpected exception while cleaning-up channel" of a socket whose application
        was cancelled at shutdown (a restart with sockets open prints one per socket)."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return 0
        count, previous = 0, ""
        for line in lines:
            if line.startswith("Traceback (most recent call last)") and not previous.startswith(SHUTDOWN_NOISE):
                count += 1
            if line.strip():
                previous = line
        return count

    def log_tail(self, lines=30):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


def held_listener(port, backlog=4096):
    """A listening socket on 127.0.0.1:``port``, as deploy/systemd/chat-daphne@.socket makes."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(backlog)
    return listener


# --- CPU accounting (from /proc, read only) ---------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def _proc_cpu(pid):
    """user+system CPU seconds of one process (all its threads), or 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


def _pids_named(names):
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if any(comm.startswith(n) for n in names):
            pids.append(int(entry))
    return pids


def machine_jiffies():
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    total = sum(values[:8])
    return total - idle, total


def machine_busy(seconds=1.0):
    """Percent of one core the whole machine used over ``seconds`` (200% = both cores busy)."""
    busy0, total0 = machine_jiffies()
    time.sleep(seconds)
    busy1, total1 = machine_jiffies()
    return 100 * os.cpu_count() * (busy1 - busy0) / max(1, total1 - total0)


def wait_until_quiet(threshold=30.0, timeout=300.0, log=print):
    """Wait until the machine is nearly idle (other people's jobs share it); return its busy %."""
    deadline = time.monotonic() + timeout
    busy = machine_busy()
    warned = False
    while busy > threshold and time.monotonic() < deadline:
        if not warned:
            log(f"  machine busy ({busy:.0f}% of a core, other jobs); waiting up to {timeout:.0f} s for it to quiet down")
            warned = True
        busy = machine_busy(2.0)
    if busy > threshold:
        log(f"  machine still busy ({busy:.0f}%): running anyway; figures are disturbed")
    return busy


class Servers:
    """``count`` Daphne processes on consecutive free ports (one per core is the usual deployment)."""

    def __init__(self, count, database_url, redis_url, *, port=None, daphne_class=Daphne, **options):
        ports = []
        for _ in range(count):
            ports.append(port + len(ports) if port else free_port(exclude=ports, ports=daphne_class.ports))
        self.daphnes = [daphne_class(database_url, redis_url, port=p, **options) for p in ports]

    def __enter__(self):
        try:
            for daphne in self.daphnes:  # all start together, then each is waited for
                daphne.spawn()
            for daphne in self.daphnes:
                daphne.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        for daphne in self.daphnes:
            daphne.close()

    @property
    def pids(self):
        return [d.proc.pid for d in self.daphnes if d.proc is not None]


# The CPU seconds of the processes ``reap`` waited for, by pid: what /proc no longer shows.
EXITED_CPU = {}


def reap(proc, timeout):
    """Wait up to ``timeout`` s for ``proc`` to exit, as ``Popen.wait`` does, keeping its
    CPU time (``os.wait4``'s usage) in ``EXITED_CPU``; True if it exited."""
    deadline = time.monotonic() + timeout
    while proc.returncode is None:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            EXITED_CPU[pid] = usage.ru_utime + usage.ru_stime
            break
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class CpuMeter:
    """CPU used by Daphne, PostgreSQL, Redis, this process and the whole machine between start() and stop().

    ``other`` is the machine's use minus those four: other people's jobs sharing the machine.
    ``daphne_pids`` may be a callable that gives the pids of the moment: a Daphne started
    meanwhile counts from its start, and one stopped meanwhile (through ``Daphne.stop``)
    up to its exit, not as another job (the storm restarts one).
    """

    def __init__(self, daphne_pids):
        self.daphne_pids = daphne_pids if callable(daphne_pids) else (lambda pids=list(daphne_pids): pids)

    def daphne_cpu(self):
        return {pid: _proc_cpu(pid) for pid in self.daphne_pids()}

    def sample(self):
        return {
            "daphne": self.daphne_cpu(),
            "postgres": sum(_proc_cpu(p) for p in _pids_named(("postgres",))),
            "redis": sum(_proc_cpu(p) for p in _pids_named(("redis-server",))),
            "client": sum(os.times()[:2]),
            "machine": machine_jiffies(),
            "wall": time.monotonic(),
        }

    def start(self):
        self.before = self.sample()

    def stop(self):
        after = self.sample()
        wall = after["wall"] - self.before["wall"]
        used = {k: after[k] - self.before[k] for k in ("postgres", "redis", "client")}
        daphne = dict(after["daphne"])  # a pid new since start() counts from 0
        for pid, cpu in self.before["daphne"].items():
            daphne.setdefault(pid, EXITED_CPU.get(pid, cpu))  # stopped since: up to its exit
        used["daphne"] = sum(daphne.values()) - sum(self.before["daphne"].values())
        # Percent of one core (200% = both cores of this machine).
        result = {k: 100 * used[k] / wall for k in ("daphne", "postgres", "redis", "client")}
        busy = after["machine"][0] - self.before["machine"][0]
        total = after["machine"][1] - self.before["machine"][1]
        result["machine"] = 100 * os.cpu_count() * busy / max(1, total)
        result["other"] = max(0.0, result["machine"] - sum(result[k] for k in ("daphne", "postgres", "redis", "client")))
        result["wall"] = wall
        return result
