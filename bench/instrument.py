"""Start Daphne for experiments: timing probes and what-if changes, from outside.

``python -m bench.instrument <daphne args>`` starts Daphne exactly as ``chatsite.serve``
does (on uvloop; ``BENCH_ASYNCIO_LOOP=1``: on asyncio's own loop), after applying what
the environment asks for (set by ``bench.run`` ``--instrument`` / ``--experiment``; none
of it touches the project's code):

- ``BENCH_SWITCH_INTERVAL=S``: ``sys.setswitchinterval(S)`` (Python's default 0.005);
- ``BENCH_GC_FREEZE=1``: ``gc.freeze()`` once the reactor runs (start-up objects leave
  the collector's generations, so full collections scan less);
- ``BENCH_DB_PARALLEL=N``: ``channels.db.database_sync_to_async`` made
  ``thread_sensitive=False`` on a pool of N threads before the consumer module is
  imported (the consumers' ORM calls then run in parallel instead of on one thread);
- ``BENCH_INSTRUMENT_OUT=path``: three probes, written to that file at exit:

- every ``database_sync_to_async`` call: time waiting for the database thread
  (queue) and time running in it;
- the event loop's lag (a 10 ms ticker: how late it wakes up);
- garbage-collector pauses.

At exit (Daphne stops on SIGTERM) it writes per-second summaries to that file.
"""

import asyncio
import atexit
import contextvars
import functools
import gc
import json
import os
import sys
import threading
import time

from bench.stats import percentile

_submitted = contextvars.ContextVar("bench_submitted", default=None)
_lock = threading.Lock()
db_calls = []  # (submitted, started, finished, name)
loop_lag = []  # (time, lag ms)
gc_pauses = []  # (time, generation, ms)
T0 = time.perf_counter()


def _patch_database_sync_to_async():
    from channels.db import DatabaseSyncToAsync

    original_call = DatabaseSyncToAsync.__call__
    original_handler = DatabaseSyncToAsync.thread_handler

    async def __call__(self, *args, **kwargs):
        token = _submitted.set(time.perf_counter())
        try:
            return await original_call(self, *args, **kwargs)
        finally:
            _submitted.reset(token)

    def thread_handler(self, loop, *args, **kwargs):
        started = time.perf_counter()
        try:
            return original_handler(self, loop, *args, **kwargs)
        finally:
            finished = time.perf_counter()
            # args: exc_info, task_context, func (a closure over the caller's context),
            # the call (a partial: for run_op its first argument is the op handler).
            submitted = None
            for cell in getattr(args[2], "__closure__", None) or () if len(args) > 3 else ():
                if isinstance(cell.cell_contents, contextvars.Context):
                    submitted = cell.cell_contents.get(_submitted)
            name = getattr(self.func, "__name__", "?")
            call = args[3] if len(args) > 3 else None
            first = call.args[0] if isinstance(call, functools.partial) and call.args else None
            if callable(first) and getattr(first, "__name__", "").startswith("op_"):
                name = first.__name__
            with _lock:
                db_calls.append(((submitted or started) - T0, started - (submitted or started), finished - started, name))

    DatabaseSyncToAsync.__call__ = __call__
    DatabaseSyncToAsync.thread_handler = thread_handler


def _gc_callback(phase, info, _start=[0.0]):  # noqa: B006 - the default is the timer's state
    if phase == "start":
        _start[0] = time.perf_counter()
    else:
        gc_pauses.append((_start[0] - T0, info.get("generation"), 1000 * (time.perf_counter() - _start[0])))


async def _monitor_loop():
    period = 0.01
    while True:
        expected = time.perf_counter() + period
        await asyncio.sleep(period)
        loop_lag.append((expected - T0, 1000 * max(0.0, time.perf_counter() - expected)))


def summary():
    seconds = {}

    def bucket(t):
        return seconds.setdefault(int(t), {"queue": [], "run": [], "lag": [], "gc": []})

    for submitted, queue, run, _ in list(db_calls):
        b = bucket(submitted)
        b["queue"].append(1000 * queue)
        b["run"].append(1000 * run)
    for t, lag in list(loop_lag):
        bucket(t)["lag"].append(lag)
    for t, _, ms in list(gc_pauses):
        bucket(t)["gc"].append(ms)
    per_second = [
        {
            "second": s,
            "db_calls": len(b["queue"]),
            "db_queue_p50": percentile(b["queue"], 50),
            "db_queue_p99": percentile(b["queue"], 99),
            "db_run_p50": percentile(b["run"], 50),
            "db_run_p99": percentile(b["run"], 99),
            "db_busy_pct": sum(b["run"]) / 10,
            "loop_lag_p50": percentile(b["lag"], 50),
            "loop_lag_max": max(b["lag"]) if b["lag"] else None,
            "gc_ms": sum(b["gc"]),
        }
        for s, b in sorted(seconds.items())
    ]
    by_name = {}
    for _, _queue, run, name in list(db_calls):
        by_name.setdefault(name, []).append(1000 * run)
    ops = {name: {"calls": len(v), "run_p50": percentile(v, 50), "run_p99": percentile(v, 99)} for name, v in by_name.items()}
    return {"per_second": per_second, "db_ops": ops, "gc_pauses_over_20ms": [p for p in gc_pauses if p[2] > 20]}


def _write(path):
    with open(path, "w") as f:
        json.dump(summary(), f)


def _parallel_database_sync_to_async(threads):
    from concurrent.futures import ThreadPoolExecutor

    import channels.db

    executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="db")

    def database_sync_to_async(func=None, thread_sensitive=True):
        if func is None:
            return lambda f: channels.db.DatabaseSyncToAsync(f, thread_sensitive=False, executor=executor)
        return channels.db.DatabaseSyncToAsync(func, thread_sensitive=False, executor=executor)

    channels.db.database_sync_to_async = database_sync_to_async


def main():
    sys.argv = ["daphne", *sys.argv[1:]]
    if os.environ.get("BENCH_SWITCH_INTERVAL"):
        sys.setswitchinterval(float(os.environ["BENCH_SWITCH_INTERVAL"]))
    if os.environ.get("BENCH_DB_THREADS"):
        from messaging import conf

        conf.DEFAULTS["DB_THREADS"] = int(os.environ["BENCH_DB_THREADS"])
    if os.environ.get("BENCH_DB_PARALLEL"):
        _parallel_database_sync_to_async(int(os.environ["BENCH_DB_PARALLEL"]))
    if not os.environ.get("BENCH_ASYNCIO_LOOP"):
        from chatsite import serve

        serve.install()  # uvloop, as chatsite.serve runs Daphne (before daphne.server makes its loop)
    from daphne.cli import CommandLineInterface
    from twisted.internet import reactor  # importing daphne.cli installed the asyncio reactor

    if os.environ.get("BENCH_GC_FREEZE"):
        reactor.callWhenRunning(gc.freeze)

    out = os.environ.get("BENCH_INSTRUMENT_OUT")
    if out:
        _patch_database_sync_to_async()
        gc.callbacks.append(_gc_callback)
        atexit.register(_write, out)
        reactor.callWhenRunning(lambda: reactor._asyncioEventloop.create_task(_monitor_loop()))
    CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
