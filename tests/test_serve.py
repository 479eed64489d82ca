"""``python -m chatsite.serve``: Daphne's command line, on uvloop's event loop (chatsite/serve.py)."""

import socket
import subprocess
import sys

from chatsite.serve import write_through
from tests.servers import REPO_ROOT, child_env, run_python, stop


def python(code):
    return run_python(["-c", code], child_env(), timeout=60)


def test_twisted_runs_on_uvloop_once_serve_installed_it():
    result = python(
        "from chatsite import serve\n"
        "assert serve.install()\n"
        "import daphne.server, uvloop\n"
        "from twisted.internet import reactor\n"
        "print(type(daphne.server.twisted_loop).__module__, reactor._asyncioEventloop is daphne.server.twisted_loop)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["uvloop", "True"]


def test_serve_refuses_to_start_after_daphne_made_its_loop():
    result = python("import daphne.server\nfrom chatsite import serve\nserve.main(['--help'])\n")
    assert result.returncode != 0
    assert "must run before daphne.server is imported" in result.stderr


def test_serve_takes_daphnes_command_line():
    result = run_python(["-m", "chatsite.serve", "--help"], child_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--websocket_timeout" in result.stdout and "application" in result.stdout


class FakeConnection:
    """The attributes of a Twisted ``tcp.Connection`` that ``write_through`` reads."""

    TLS = False
    connected = True
    disconnecting = False
    _writeDisconnected = False

    def __init__(self, sock):
        self.socket = sock
        self._tempDataBuffer = []
        self.dataBuffer = b""
        self.offset = 0
        self.buffered = []


def buffered_write(connection, data):
    connection.buffered.append(data)


def socket_pair(request, sndbuf=None):
    """A non-blocking socket (ours) and its peer, both closed after the test."""
    ours, peer = socket.socketpair()
    request.addfinalizer(ours.close)
    request.addfinalizer(peer.close)
    if sndbuf:
        ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    ours.setblocking(False)
    return ours, peer


def read_all(sock, size):
    chunks = []
    while size > 0:
        chunk = sock.recv(size)
        assert chunk
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def test_a_connection_with_nothing_queued_sends_at_once_without_a_writer(request):
    write = write_through(buffered_write)
    ours, peer = socket_pair(request)
    connection = FakeConnection(ours)
    for n in range(100):
        write(connection, b"frame %d;" % n)
    assert connection.buffered == []  # Twisted's buffer, and so its add_writer, never used
    expected = b"".join(b"frame %d;" % n for n in range(100))
    assert read_all(peer, len(expected)) == expected


def test_what_the_kernel_does_not_take_and_what_comes_after_queued_data_go_to_twisted_in_order(request):
    write = write_through(buffered_write)
    ours, peer = socket_pair(request, sndbuf=4096)
    connection = FakeConnection(ours)
    big = bytes(range(256)) * 4096  # 1 MiB: more than the socket's buffers hold
    write(connection, big)
    [rest] = connection.buffered
    sent = len(big) - len(rest)
    assert 0 < sent < len(big) and rest == big[sent:]
    assert read_all(peer, sent) == big[:sent]
    # Twisted's buffer now holds data: a later write must queue behind it, not pass it.
    connection._tempDataBuffer = [rest]
    write(connection, b"after")
    assert connection.buffered == [rest, b"after"]


def test_tls_closing_and_closed_connections_keep_twisteds_write(request):
    write = write_through(buffered_write)
    for attribute, value in (("TLS", True), ("disconnecting", True), ("connected", False), ("_writeDisconnected", True)):
        ours, peer = socket_pair(request)
        connection = FakeConnection(ours)
        setattr(connection, attribute, value)
        write(connection, b"data")
        assert connection.buffered == [b"data"], attribute
        peer.setblocking(False)
        try:
            assert peer.recv(10) == b"", attribute
        except BlockingIOError:
            pass


def test_serve_installs_the_write_through_on_twisteds_tcp_connections():
    result = python(
        "from chatsite import serve\n"
        "serve.install_write_through(); serve.install_write_through()\n"
        "from twisted.internet import tcp\n"
        "print(tcp.Server.write.writes_through, tcp.Server.write.__closure__[0].cell_contents.__qualname__)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "ConnectionMixin.write"]


def test_autobahns_debug_lines_are_formatted_only_while_its_debug_log_is_on():
    result = python(
        "import pprint, txaio\n"
        "from chatsite import serve\n"
        "import daphne.server\n"  # selects txaio's Twisted side, as Daphne runs
        "from autobahn.websocket import protocol\n"
        "serve.install_quiet_autobahn()\n"
        "calls = []\n"
        "real = pprint.pformat\n"
        "pprint.pformat = lambda obj, *a, **k: calls.append(obj) or real(obj, *a, **k)\n"
        "print(repr(protocol.pformat([('openHandshakeTimeout', 5)])), len(calls))\n"
        "txaio.set_global_log_level('debug')\n"
        "print(repr(protocol.pformat([('openHandshakeTimeout', 5)])), len(calls))\n"
    )
    assert result.returncode == 0, result.stderr
    off, on = result.stdout.splitlines()
    assert off == '"(not formatted: autobahn\'s debug log is off)" 0'
    assert on == "\"[('openHandshakeTimeout', 5)]\" 1"


def test_autobahns_highlights_are_made_only_while_its_debug_log_is_on():
    result = python(
        "import txaio\n"
        "from chatsite import serve\n"
        "import daphne.server\n"
        "from autobahn.websocket import protocol\n"
        "serve.install_quiet_autobahn(); serve.install_quiet_autobahn()\n"
        "send_data = protocol.WebSocketProtocol.sendData\n"
        "print(protocol.hltype(send_data) is send_data, protocol.hlval(42) == 42, protocol.hltype.highlights.__module__)\n"
        "txaio.set_global_log_level('debug')\n"
        "print(type(protocol.hltype(send_data)).__name__, 'sendData' in protocol.hltype(send_data))\n"
    )
    assert result.returncode == 0, result.stderr
    off, on = result.stdout.splitlines()
    assert off == "True True autobahn.util"  # wrapped once, however often installed
    assert on == "str True"


def test_a_frame_is_written_at_once_as_daphnes_send_writes_it():
    """messaging/consumers.py ``direct_writer`` on Daphne's own ``send`` (its
    ``Server.handle_reply`` bound to a socket's protocol): the frame goes to the protocol
    as Daphne hands it, and nowhere once the connection is closed or gone. Any other
    ``send`` gets no writer (the socket's events then go through its queue)."""
    result = python(
        "import functools, os, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'chatsite.settings')\n"
        "django.setup()\n"
        "from chatsite import serve\n"
        "serve.install()\n"
        "import daphne.server\n"
        "from messaging.consumers import direct_writer\n"
        "class Protocol:\n"
        "    def __init__(self): self.replies = []\n"
        "    def handle_reply(self, message): self.replies.append(message)\n"
        "server = daphne.server.Server(application=None, endpoints=['tcp:port=0:interface=127.0.0.1'])\n"
        "live, closed, gone = Protocol(), Protocol(), Protocol()\n"
        "server.connections = {live: {}, closed: {'disconnected': 1.0}}\n"
        "for p in (live, closed, gone):\n"
        "    direct_writer(functools.partial(server.handle_reply, p))('hi')\n"
        "print(live.replies, closed.replies, gone.replies)\n"
        "print(direct_writer(functools.partial(print, live)), direct_writer(print))\n"
    )
    assert result.returncode == 0, result.stderr
    written, others = result.stdout.splitlines()
    assert written == "[{'type': 'websocket.send', 'text': 'hi'}] [] []"
    assert others == "None None"


def test_the_objects_alive_when_daphne_starts_are_frozen_once_its_reactor_runs():
    """``prepare_daphne`` freezes the startup objects out of the collector's full
    collections when the reactor starts (the application is loaded by then): none before,
    every one alive then after, and an object made later is still collected."""
    result = python(
        "import gc, weakref\n"
        "from chatsite import serve\n"
        "serve.install()\n"
        "import daphne.server\n"
        "serve.prepare_daphne()\n"
        "from twisted.internet import reactor\n"
        "before = gc.get_freeze_count()\n"
        "reactor.callLater(0.05, reactor.stop)\n"
        "reactor.run()\n"
        "frozen = gc.get_freeze_count()\n"
        "class Cycle: pass\n"
        "c = Cycle(); c.me = c; ref = weakref.ref(c); del c\n"
        "gc.collect()\n"
        "print(before, frozen > 50000, ref() is None, gc.get_freeze_count() == frozen)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "True", "True", "True"]


def get_over(sock, path="/"):
    """The whole response to a GET of ``path`` sent on the connected ``sock`` (closed by the server)."""
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" % path.encode())
    response = b""
    while chunk := sock.recv(4096):
        response += chunk
    return response


def serve_probe(request, listener, env):
    """``python -m chatsite.serve --fd`` on ``listener`` with tests/asgi_probe.py; stopped after the test."""
    fd = listener.fileno()
    command = [sys.executable, "-m", "chatsite.serve", "--fd", str(fd), "tests.asgi_probe:app"]
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, pass_fds=[fd], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    request.addfinalizer(lambda: stop(process))
    return process


def test_connections_made_while_daphne_restarts_on_a_held_socket_wait_for_the_next_one(request):
    """deploy/systemd/chat-daphne@.socket: systemd holds each Daphne's listening socket
    and hands it to every start of the service (``--fd 3``). A connection made while no
    Daphne runs is taken by the kernel and waits in the socket's queue; the next Daphne
    answers it. So a restart refuses no client, and nginx sends none of them on to the
    other Daphnes (docs/DEPLOY.md; docs/PERFORMANCE.md, "the storm on a held socket")."""
    listener = socket.socket()
    request.addfinalizer(listener.close)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    address = listener.getsockname()

    def start():
        return serve_probe(request, listener, child_env())

    first = start()
    with socket.create_connection(address, timeout=60) as sock:
        assert get_over(sock).endswith(b"\r\n\r\n%d" % first.pid)  # answered once it started
    stop(first, timeout=30)
    assert first.returncode is not None
    with socket.create_connection(address, timeout=60) as waiting:  # nothing runs: the kernel holds it
        second = start()
        response = get_over(waiting)
    assert response.startswith(b"HTTP/1.1 200") and response.endswith(b"\r\n\r\n%d" % second.pid)


def test_a_clean_stop_ends_after_the_exit_handlers_without_the_teardown(request, tmp_path):
    """``end_without_teardown``: after SIGTERM, Daphne stops, the exit handlers run (a
    library's own among them), and the process ends with status 0 without freeing its
    modules one by one (0.4-0.5 s with 1,000 sockets: the restart's dead time)."""
    listener = socket.socket()
    request.addfinalizer(listener.close)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    log = tmp_path / "exit.log"
    process = serve_probe(request, listener, child_env(CHAT_PROBE_EXIT_LOG=log))
    with socket.create_connection(listener.getsockname(), timeout=60) as sock:
        assert get_over(sock).endswith(b"\r\n\r\n%d" % process.pid)  # running, the probe loaded
    process.terminate()
    assert process.wait(timeout=30) == 0
    assert log.read_text().splitlines() == ["exit handler"]


def test_the_collector_is_off_while_daphne_starts_and_on_once_it_runs(request):
    """``pause_collector_during_startup``: no collection while Django, the apps and the
    application load (all of it lives as long as the process), one when the reactor runs
    (``freeze_startup_objects``), and the collector on from then on."""
    listener = socket.socket()
    request.addfinalizer(listener.close)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    serve_probe(request, listener, child_env())
    with socket.create_connection(listener.getsockname(), timeout=60) as sock:
        response = get_over(sock, "/gc")
    assert response.endswith(b"\r\n\r\nat import False, now True"), response[-40:]


def test_a_run_that_did_not_stop_cleanly_keeps_its_status_and_the_teardown(tmp_path):
    """An exception or an exit before Daphne's ``run`` returned (a bad argument, a failed
    start): the handler leaves the process to Python, its status and teardown unchanged."""
    log = tmp_path / "exit.log"
    result = run_python(
        [
            "-c",
            "import atexit\nfrom chatsite import serve\nimport tests.asgi_probe\natexit.register(serve.end_without_teardown)\nraise SystemExit(3)\n",
        ],
        child_env(CHAT_PROBE_EXIT_LOG=log),
        timeout=60,
    )
    assert result.returncode == 3, result.stderr
    assert log.read_text().splitlines() == ["exit handler", "teardown"]


def test_a_start_that_cannot_listen_keeps_its_status_and_the_teardown(request, tmp_path):
    """A failed start (the port taken): Daphne gives up with status 1, and the process ends
    as Python ends it, teardown included; only a clean stop skips it."""
    taken = socket.socket()
    request.addfinalizer(taken.close)
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    log = tmp_path / "exit.log"
    result = run_python(
        ["-m", "chatsite.serve", "-b", "127.0.0.1", "-p", str(taken.getsockname()[1]), "tests.asgi_probe:app"],
        child_env(CHAT_PROBE_EXIT_LOG=log),
        timeout=60,
    )
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Address already in use" in result.stderr
    assert log.read_text().splitlines() == ["exit handler", "teardown"]
