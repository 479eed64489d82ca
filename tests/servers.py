"""Real server processes for the tests that need them, written once.

- ``free_port``, ``child_env``, ``run_python``/``manage``: a child process of the
  checkout with our environment less pytest's.
- ``serve`` and ``start_daphne``: a server on a free loopback port, waited for until
  it answers HTTP and always terminated at exit (retried on another port when the
  chosen one was taken meanwhile); ``Server`` reads its log and finds tracebacks.
  Every Daphne serves the static files ``collected_static`` made (``collectstatic``
  once per test run: hashed, compressed names, as a deployment serves them).
- ``RedisServer``: a ``redis-server`` of the test's own, to kill and start again.
- ``RemoteTab``: the chat protocol's client over a real WebSocket (the ``websockets``
  package), with the session cookie and Origin a browser sends; ``whole_history``
  pages a conversation back to its start; ``in_own_loop`` runs such a test in an
  event loop of its own.

Used by ``tests/browser/conftest.py`` (the site the browser opens) and
``tests/integration/`` (two Daphnes on PostgreSQL and Redis; moto's S3 server).
The in-process client over Channels' communicator is ``tests/ws.py``.
"""

import asyncio
import atexit
import contextlib
import functools
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

REPO_ROOT = Path(__file__).resolve().parents[1]
# Loopback services are reached directly, whatever proxy the environment names.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 3xx is raised as an HTTPError: the server answered


# For readiness: a server that redirects (to HTTPS, to a login) is up.
READY_PROBE = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect)
STARTUP_WAIT = 60  # seconds for a server to answer HTTP
WAIT = 10  # seconds for any one WebSocket frame, reply or event
TEST_LIMIT = 240  # seconds for one ``in_own_loop`` test, below pytest-timeout's 300


# --- child processes ------------------------------------------------------------------


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def child_env(*, unset=(), **overrides):
    """The environment for a child process: ours, less what pytest set for itself and
    the names in ``unset``, with ``overrides`` (as strings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_") and k not in unset}
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def run_python(args, env, *, timeout):
    """Run the project's Python (``manage.py ...``, ``-m pytest ...``) in the checkout.

    Returns the completed process; output is captured so that a failing assertion
    can show it.
    """
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def manage(env, *args, timeout=600):
    """Run ``manage.py`` with ``env``; returns its standard output, fails the test if it fails."""
    result = run_python(["manage.py", *args], env, timeout=timeout)
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def stop(process, timeout=10):
    """Terminate ``process`` and reap it; killed if it does not exit within ``timeout`` s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)


# --- servers ----------------------------------------------------------------------------


class ServerDidNotStart(AssertionError):
    """The server exited or did not answer in time; the message has its log."""


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path
    log_checked: int = 0

    @property
    def origin(self):
        """The server's base URL, which is also the Origin its pages send."""
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
        """What was logged since the last call, if it holds a traceback; else ''."""
        text = self.log_text(self.log_checked)
        self.log_checked += len(text.encode())
        return text if "Traceback" in text else ""

    def check_log(self):
        """Fail the test if the server exited or logged a traceback since the last check."""
        assert self.process.poll() is None, f"{self.name} exited:\n{self.log_tail()}"
        errors = self.new_log_errors()
        if errors:
            pytest.fail(f"{self.name} logged an error during the test:\n{errors[-4000:]}", pytrace=False)


def answers_http(url, process, timeout):
    """Wait until ``url`` answers HTTP with a status below 500 (a redirect is not followed);
    False if ``process`` exits first or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with READY_PROBE.open(url, timeout=2):
                return True
        except urllib.error.HTTPError as error:
            if error.code < 500:
                return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    return False


@contextlib.contextmanager
def serve(name, command, *, log_dir, env=None, ready_path="/", timeout=STARTUP_WAIT, port=None):
    """Run ``command(port)`` on a free loopback port until exit; yields its ``Server``
    once ``ready_path`` answers HTTP. The process is always terminated at exit.

    ``free_port`` can only say that a port was free: when the server finds it taken,
    it is started again on another one (three tries). ``port`` asks for that port
    only (a server restarted where its clients look for it). Raises
    ``ServerDidNotStart`` with the log when it exits or does not answer within
    ``timeout`` seconds.
    """
    fixed = port
    for _attempt in range(1 if fixed else 3):
        port = fixed or free_port()
        log_path = Path(log_dir) / f"{name}-{port}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                command(port), cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        server = Server(name, port, process, log_path)
        try:
            if answers_http(server.origin + ready_path, process, timeout):
                yield server
                return
        finally:
            stop(process)
        if "Address already in use" not in server.log_text():
            break
    raise ServerDidNotStart(f"{name} did not answer {server.origin}{ready_path} within {timeout} s:\n{server.log_tail()}")


@functools.cache
def collected_static():
    """A STATIC_ROOT filled by ``manage.py collectstatic`` (hashed names, .gz and .br
    variants, the manifest), once per test run; removed at exit."""
    root = Path(tempfile.mkdtemp(prefix="chat-static-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    env = child_env(unset={"DATABASE_URL", "REDIS_URL", "CHAT_S3_BUCKET"}, DJANGO_SETTINGS_MODULE="chatsite.settings")
    manage({**env, "CHAT_STATIC_ROOT": str(root)}, "collectstatic", "--noinput", "-v", "0")
    return root


def start_daphne(env, log_dir, *, name="daphne", timeout=STARTUP_WAIT, port=None):
    """``serve`` Daphne (``chatsite.serve``: on uvloop, as deployed) with
    ``chatsite.asgi:application`` in ``env`` (and the collected static files, unless
    ``env`` names a CHAT_STATIC_ROOT); ready when the login page answers."""
    return serve(
        name,
        lambda port: [sys.executable, "-m", "chatsite.serve", "-b", "127.0.0.1", "-p", str(port), "chatsite.asgi:application"],
        log_dir=log_dir,
        env={"CHAT_STATIC_ROOT": str(collected_static()), **(env or child_env())},
        ready_path="/accounts/login/",
        timeout=timeout,
        port=port,
    )


class RedisServer:
    """A ``redis-server`` of the test's own on a loopback port, without persistence, that
    can be killed (SIGKILL) and started again on the same port, so that the clients of
    the machine's Redis are never disturbed. Use as a context manager (stopped at exit)."""

    def __init__(self, log_dir, name="redis"):
        self.log_dir = Path(log_dir)
        self.name = name
        self.port = free_port()
        self.process = None
        self.starts = 0

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout=STARTUP_WAIT):
        """Start it (again) on its port; returns once it answers PING."""
        self.starts += 1
        with open(self.log_dir / f"{self.name}-{self.port}-{self.starts}.log", "wb") as log:
            self.process = subprocess.Popen(
                ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return
            time.sleep(0.05)
        stop(self.process)
        raise ServerDidNotStart(f"{self.name} did not answer PING on port {self.port} within {timeout} s")

    def kill(self):
        """SIGKILL: every connection drops at once and all data is gone."""
        self.process.kill()
        self.process.wait(timeout=10)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info):
        if self.process is not None:
            stop(self.process)


# --- the chat protocol over a real WebSocket ------------------------------------------------


class RemoteTab:
    """One browser tab on a real Daphne: requests get replies; pushes are kept as events."""

    def __init__(self, ws, server):
        self.ws = ws
        self.server = server
        self.ids = itertools.count(1)
        self.events = []
        self.hello = None
        self.pending = []

    @staticmethod
    async def connect(server, session_id):
        """A bare WebSocket of the session on ``server``, as a browser opens it (no frame read).
        ``server``: a ``Server``, or anything with ``name``, ``origin``, ``ws_url`` (and
        ``ssl_context`` for ``wss://``, as tests/integration/test_nginx.py's proxy)."""
        return await connect(
            server.ws_url,
            origin=server.origin,
            additional_headers={"Cookie": f"sessionid={session_id}"},
            ssl=getattr(server, "ssl_context", None),
            proxy=None,
            open_timeout=WAIT,
            close_timeout=2,
        )

    @classmethod
    async def open(cls, server, session_id):
        tab = cls(await cls.connect(server, session_id), server)
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
            assert frame["ok"], f"request {request_id} on {self.server.name} failed: {frame}"
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
                raise AssertionError(f"no {name} on {self.server.name} within {timeout}s; kept events: {seen}")
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


async def whole_history(request, conversation_id, max_pages=1000):
    """A conversation's whole history, oldest first, paged back with ``nextReqMessageID``;
    ``request(op, **args)`` is a client's request coroutine (``RemoteTab.request``)."""
    messages, cursor = [], ""
    for _ in range(max_pages):
        page = await request("getMessageList", conversationID=conversation_id, nextReqMessageID=cursor, count=15)
        messages = page["messageList"] + messages
        if page["isCompleted"]:
            return messages
        cursor = page["nextReqMessageID"]
    raise AssertionError(f"{conversation_id}: history did not complete in {max_pages} pages")


def in_own_loop(test):
    """Run an async test in a new event loop on a worker thread of its own.

    Not pytest-asyncio's loop on the main thread: the browser tests' session-scoped
    sync Playwright leaves its own loop marked as running on the main thread until
    the session ends, and every async test collected after tests/browser then fails
    with "Runner.run() cannot be called from a running event loop". A test that talks
    to real servers touches no Django state of the test process, so it may run anywhere.
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
