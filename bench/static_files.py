"""Static files under Daphne (issue 9): WhiteNoise's own sync middleware against ours.

    python -m bench.static_files [--rounds 1500] [--clients 4] [--seconds 8]

Two Daphne subprocesses run side by side on the same collected STATIC_ROOT (a
temporary folder) and SQLite database: ``ours`` (chatsite.staticfiles.StaticFilesMiddleware:
async, the lookup on the event loop, the file read in a worker thread) and ``stock``
(whitenoise.middleware.WhiteNoiseMiddleware: sync, so Django runs it, and hands the rest
of the chain back, through a thread per request). ``bench.static_settings`` swaps them.

1. sequential: ``--rounds`` times, the login page (a Django view through every
   middleware) and the hashed ``tim.js`` (gzip) from each server in turn, alternating
   which goes first, so that both see the same machine load. Median and p90 in ms.
2. under load: for ``--seconds``, ``--clients`` threads per server fetch ``tim.js`` back
   to back while one client times the login page of each server in turn: a server whose
   event loop waited for static files would answer its page late.

Loopback only; clients share the cores with the servers, so the figures compare the
two middlewares, they are not capacities.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.stack import free_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
KINDS = ("ours", "stock")


def timed_get(conn, path):
    start = time.perf_counter()
    conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
    response = conn.getresponse()
    response.read()
    assert response.status == 200, (path, response.status)
    return (time.perf_counter() - start) * 1000


def start(kind, static_root, tmp):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CHAT_", "DATABASE_URL", "REDIS_URL"))},
        "DJANGO_SETTINGS_MODULE": "bench.static_settings",
        "BENCH_WHITENOISE": kind,
        "CHAT_STATIC_ROOT": str(static_root),
        "CHAT_SQLITE_PATH": f"{tmp}/db.sqlite3",
    }
    port = free_port()
    command = [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "chatsite.asgi:application"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while True:
        try:
            timed_get(http.client.HTTPConnection("127.0.0.1", port, timeout=10), "/accounts/login/")
            return port, process
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.terminate()
                raise SystemExit(f"Daphne ({kind}) did not start") from None
            time.sleep(0.3)


def stats(values):
    values = sorted(values)
    return {
        "median_ms": round(statistics.median(values), 2),
        "p90_ms": round(values[int(len(values) * 0.9)], 2),
        "n": len(values),
    }


def sequential(ports, paths, rounds):
    conns = {kind: http.client.HTTPConnection("127.0.0.1", ports[kind], timeout=10) for kind in KINDS}
    times = {(kind, name): [] for kind in KINDS for name in paths}
    for i in range(rounds):
        for kind in KINDS if i % 2 else reversed(KINDS):
            for name, path in paths.items():
                times[kind, name].append(timed_get(conns[kind], path))
    return {f"{kind} {name}": stats(values) for (kind, name), values in times.items()}


def under_load(ports, paths, clients, seconds):
    deadline = time.monotonic() + seconds
    counts = {kind: [0] * clients for kind in KINDS}

    def load(kind, index):
        conn = http.client.HTTPConnection("127.0.0.1", ports[kind], timeout=10)
        while time.monotonic() < deadline:
            timed_get(conn, paths["static"])
            counts[kind][index] += 1

    threads = [threading.Thread(target=load, args=(kind, i)) for kind in KINDS for i in range(clients)]
    for thread in threads:
        thread.start()
    pages = {kind: [] for kind in KINDS}
    conns = {kind: http.client.HTTPConnection("127.0.0.1", ports[kind], timeout=10) for kind in KINDS}
    while time.monotonic() < deadline:
        for kind in KINDS:
            pages[kind].append(timed_get(conns[kind], paths["page"]))
    for thread in threads:
        thread.join()
    return {kind: {"page": stats(pages[kind]), "static_per_s": round(sum(counts[kind]) / seconds)} for kind in KINDS}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        static_root = Path(tmp) / "static"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "chatsite.settings", "CHAT_STATIC_ROOT": str(static_root)}
        subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env={**env, "CHAT_SQLITE_PATH": f"{tmp}/db.sqlite3"}, check=True
        )
        manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
        paths = {"page": "/accounts/login/", "static": "/static/" + manifest["chat/tim.js"]}
        servers = {}
        try:
            for kind in KINDS:
                servers[kind] = start(kind, static_root, tmp)
            ports = {kind: port for kind, (port, _) in servers.items()}
            print(json.dumps({"sequential": sequential(ports, paths, args.rounds)}, indent=1))
            print(json.dumps({"under_load": under_load(ports, paths, args.clients, args.seconds)}, indent=1))
            print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        finally:
            for _, process in servers.values():
                process.terminate()
                process.wait(timeout=20)


if __name__ == "__main__":
    main()
