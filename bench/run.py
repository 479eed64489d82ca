"""Entry point: ``python -m bench.run [options]`` (``make bench`` runs the defaults).

    python -m bench.run --only load --clients 10 --rate 10 --duration 5           # smoke
    python -m bench.run --only load --clients 200 --rate 100 --duration 20 --runs 3
    python -m bench.run --only load --runs 3 --servers 2                          # one Daphne per core
    python -m bench.run --only load --group-share 0 --new-pairs                  # every C2C message a pair's first
    python -m bench.run --only lists [--reseed] [--explain]
    python -m bench.run --only fanout-receipts [--members 1000]                  # recall + receipts, one big group
    python -m bench.run --only storm [--storm-clients 2000] [--storm-rate 50]    # one of 2 Daphne restarted (bench/scale.py)
    python -m bench.run --only liveroom [--room-sockets 5000] [--room-rate 2]    # one room over 2 Daphne (bench/scale.py)

The database ``chat_bench`` (PostgreSQL on 127.0.0.1) is created when missing and
rebuilt with ``--reseed``; it is migrated on every run. The large list seed is kept
between runs. Each load run re-creates its own users and group, flushes Redis db 7,
starts fresh Daphne processes (``chatsite.settings``, DATABASE_URL/REDIS_URL set) on
ports in 8500-8599, runs the load and stops them. Everything is bounded in time.

The ratio to the stack floor (issue 10; bench/vsfloor.py, docs/PERFORMANCE.md):

    python -m bench.run --vs-floor            # every load, 3 runs per side, on a quiet machine
    python -m bench.run --vs-floor --smoke    # a few seconds of tiny loads (make test runs it)
    python -m bench.run --vs-floor --vs-rates 100,200,300 --vs-reps 3 --vs-servers 1
    python -m bench.run --vs-floor --vs-loads fanout,memory   # some of the loads only

builds the stack floor (bench/floor.py: ``../shared/floor/``'s app plus a group op) in a
temporary folder on its own database (``floor_bench``, Redis db 9, Daphne on 8600-8699),
then for each load alternates floor and product runs (fresh Daphne processes each run):
C2C to random peers (200 clients; existing conversations, then every pair new; 1 and 2
Daphne) and the mixed load (half into a 50-member group) at rates stepping up until p99
passes 250 ms; one message a second to a 1,000-member group; 2,000 idle sockets. It
prints the commit measured, then one table, ``metric | floor | product | ratio``
(product / floor, medians of ``--vs-reps`` runs per side). A figure resting on a run
during which other jobs used more than ``--max-other`` % of a core is marked ``*`` and its
ratio is refused; ``≥ R`` / ``< R``: the rates stepped through did not bracket the limit.

The machine may be shared: before each run the bench waits for it to be quiet, and a
run during which other processes used more than ``--max-other`` % of a core is repeated.
``--instrument``, ``--profile`` (py-spy) and ``--experiment`` are for finding where the
time goes (bench/instrument.py, bench/profile.py); results go in docs/PERFORMANCE.md.
"""

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import stack
from bench.stats import fmt, median, table

TARGETS = {"p99_ms": 50.0, "reach": 100.0, "list_median_ms": 20.0}


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--clients", type=int, default=200)
    p.add_argument("--rate", type=float, default=100.0, help="messages per second in total (half C2C, half group)")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of sending")
    p.add_argument("--group-size", type=int, default=50, help="members of the group (clients 0..n-1)")
    p.add_argument("--group-share", type=float, default=0.5, help="fraction of the messages sent to the group (0..1)")
    p.add_argument(
        "--pairs", type=int, default=None, help="C2C pairs used (default: one per client; 0: a random pair per message)"
    )
    p.add_argument(
        "--new-pairs", action="store_true", help="every C2C message to a pair never messaged before (the first-message path)"
    )
    p.add_argument("--runs", type=int, default=1, help="load runs (each with a fresh Daphne); medians are printed")
    p.add_argument("--drain", type=float, default=10.0, help="seconds to wait for late replies and deliveries")
    p.add_argument("--only", choices=("load", "lists", "fanout-receipts", "storm", "liveroom"), help="run only one part")
    p.add_argument("--members", type=int, default=1000, help="fanout-receipts: members of the group, one socket each")
    p.add_argument("--storm-clients", type=int, default=2000, help="storm: sockets over 2 Daphne, one restarted")
    p.add_argument("--storm-rate", type=float, default=50.0, help="storm: C2C messages a second from the kept Daphne's clients")
    p.add_argument("--storm-pinned", action="store_true", help="storm: no failover to B (each client waits for its Daphne)")
    p.add_argument(
        "--storm-port-closed",
        action="store_true",
        help="storm: each Daphne binds its own port, closed while A restarts (A's clients fail over to B), "
        "instead of serving a listening socket held across the restart as deploy/systemd's socket unit does",
    )
    p.add_argument(
        "--storm-one-client", action="store_true", help="storm: A's clients in this client process too (not in a second one)"
    )
    p.add_argument("--room-sockets", type=int, default=5000, help="liveroom: members of the room, one socket each, 2 Daphne")
    p.add_argument("--room-rate", type=float, default=2.0, help="liveroom: messages a second into the room")
    p.add_argument("--reseed", action="store_true", help="drop and rebuild the bench database and the list seed")
    p.add_argument("--thread-messages", type=int, default=1_000_000)
    p.add_argument("--conversations", type=int, default=1000)
    p.add_argument("--list-runs", type=int, default=50, help="timed calls per list case")
    p.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of every query of the large list calls")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", stack.DEFAULT_DATABASE_URL))
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", stack.DEFAULT_REDIS_URL))
    p.add_argument("--quiet-threshold", type=float, default=30.0, help="machine CPU %% (of one core) counted as quiet")
    p.add_argument(
        "--quiet-timeout", type=float, default=300.0, help="seconds to wait for a quiet machine before a run (0: don't)"
    )
    p.add_argument(
        "--max-other",
        type=float,
        default=25.0,
        help="a run during which other jobs used more CPU than this (%% of one core) is marked disturbed and repeated",
    )
    p.add_argument("--retries", type=int, default=2, help="repeats of a disturbed run (the last attempt is kept anyway)")
    p.add_argument("--servers", type=int, default=1, help="Daphne processes (clients are spread over them)")
    p.add_argument("--port", type=int, default=None, help="first Daphne port (default: free ones in 8500-8599)")
    p.add_argument("--server-env", action="append", default=[], metavar="NAME=VALUE", help="extra environment for Daphne")
    p.add_argument(
        "--experiment",
        action="append",
        default=[],
        metavar="NAME",
        help="what-if applied to Daphne from outside the project code: "
        + "; ".join(f"{k}: {v}" for k, v in stack.EXPERIMENTS.items()),
    )
    p.add_argument(
        "--instrument", action="store_true", help="experiment: time database_sync_to_async calls, loop lag and GC in Daphne"
    )
    p.add_argument("--profile", metavar="DIR", help="record Daphne with py-spy during each run (collapsed stacks in DIR)")
    p.add_argument("--timeline", action="store_true", help="print latency per second of each run")
    p.add_argument("--profile-arg", action="append", default=[], help="extra py-spy record argument (e.g. --gil, --idle)")
    p.add_argument("--json", metavar="PATH", help="write all results as JSON")
    vs = p.add_argument_group("ratio to the stack floor (--vs-floor; bench/vsfloor.py)")
    vs.add_argument("--vs-floor", action="store_true", help="run the ratio bench: floor and product alternating")
    vs.add_argument("--smoke", action="store_true", help="with --vs-floor: a few seconds of tiny loads (make test runs it)")
    vs.add_argument("--vs-rates", default="50,100,150,200,250,300,400,500", help="C2C and mixed rates stepped through (msg/s)")
    vs.add_argument("--vs-reps", type=int, default=3, help="runs per side at each rate / load")
    vs.add_argument("--vs-servers", default="1,2", help="Daphne processes of the C2C loads")
    vs.add_argument("--vs-loads", default="c2c,new,mixed,fanout,memory", help="the loads to run (a partial table)")
    vs.add_argument("--cpu-rate", type=float, default=100.0, help="the rate at which CPU per message is measured")
    vs.add_argument("--fanout-messages", type=int, default=10, help="messages of the fan-out load (one a second)")
    vs.add_argument("--idle-sockets", type=int, default=2000, help="sockets of the memory load")
    vs.add_argument("--floor-database-url", default=os.environ.get("BENCH_FLOOR_DATABASE_URL", stack.DEFAULT_FLOOR_DATABASE_URL))
    vs.add_argument("--floor-redis-url", default=os.environ.get("BENCH_FLOOR_REDIS_URL", stack.DEFAULT_FLOOR_REDIS_URL))
    return p.parse_args(argv)


def setup_django(args):
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.pop("REDIS_URL", None)  # this process needs no channel layer of its own
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    if args.reseed or not stack.database_exists(args.database_url):
        print(f"creating database {args.database_url.rsplit('/', 1)[1]}")
        stack.recreate_database(args.database_url)
    import django
    from django.core.management import call_command

    django.setup()
    try:
        call_command("migrate", verbosity=0, interactive=False)
    except Exception as error:
        if args.reseed:
            raise
        # The schema moved under the bench database (e.g. an edited migration): start over.
        print(f"migrate failed ({type(error).__name__}: {error}); rebuilding the bench database")
        reexec_with_reseed()


def reexec_with_reseed():
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "bench.run", *sys.argv[1:], "--reseed"])


# --- load -----------------------------------------------------------------------------------


def start_profiler(pid, seconds, out, extra=()):
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        raise SystemExit("--profile needs py-spy in the venv: .venv/bin/pip install py-spy")
    cmd = [str(py_spy), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200"]
    cmd += ["--format", "raw", "--threads", "--nonblocking", *extra, "-o", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def run_load(args):
    from bench.load import LoadConfig

    cfg = LoadConfig(
        clients=args.clients,
        rate=args.rate,
        duration=args.duration,
        group_size=args.group_size,
        group_share=args.group_share,
        pairs=args.pairs,
        new_pairs=args.new_pairs,
        drain=args.drain,
    )
    extra_env = dict(item.split("=", 1) for item in args.server_env)
    results = []
    for n in range(1, args.runs + 1):
        for attempt in range(args.retries + 1):
            result = load_once(args, cfg, n, extra_env)
            other = result["cpu"].get("other", 0.0)
            if not result["disturbed"]:
                break
            print(f"run {n} disturbed: other jobs used {other:.0f}% of a core (> {args.max_other:g}%)", end="")
            print("; repeating it" if attempt < args.retries else "; kept, marked disturbed")
        results.append(result)
    return results


def load_once(args, cfg, n, extra_env):
    from bench.load import LoadRun, seed_load

    t = time.monotonic()
    seeded = seed_load(cfg)
    print(
        f"\nload run {n}/{args.runs}: {cfg.clients} clients, {cfg.rate:g} msg/s for {cfg.duration:g} s, "
        f"group of {len(seeded['members'])}, {len(seeded['pairs'])} C2C pairs, {args.servers} Daphne (setup {time.monotonic() - t:.1f} s)"
    )
    quiet = stack.wait_until_quiet(args.quiet_threshold, args.quiet_timeout) if args.quiet_timeout > 0 else None
    stack.flush_redis(args.redis_url)
    code = stack.git_state()
    servers = stack.Servers(
        args.servers,
        args.database_url,
        args.redis_url,
        port=args.port,
        extra_env=extra_env,
        experiments=args.experiment,
        instrument=args.instrument,
    )
    daphne = servers.daphnes[0]
    with servers:
        run = LoadRun(cfg, seeded, [(d.ws_url, d.origin) for d in servers.daphnes])
        meter = stack.CpuMeter(servers.pids)
        profiler, out = None, None
        if args.profile:
            Path(args.profile).mkdir(parents=True, exist_ok=True)
            out = Path(args.profile) / f"daphne-run{n}.txt"

        def on_start(pid=daphne.proc.pid, out=out):
            nonlocal profiler
            if out is not None:
                profiler = start_profiler(pid, cfg.duration, out, args.profile_arg)

        budget = cfg.duration + cfg.drain + 120
        try:
            result = asyncio.run(asyncio.wait_for(run.run(meter, on_start), budget))
        except TimeoutError:
            raise SystemExit(f"load run {n} did not finish within {budget:.0f} s") from None
        if profiler is not None:
            _, err = profiler.communicate(timeout=60)
            result["profile"] = str(out) if out.exists() else f"py-spy failed: {err.decode(errors='replace')[-500:]}"
        log_tail = daphne.log_tail(10)
        result["server_tracebacks"] = sum(d.tracebacks() for d in servers.daphnes)
    result["servers"] = args.servers
    result["server_log"] = str(daphne.log_path)
    result["machine_busy_before"] = quiet
    result["code"] = code
    result["disturbed"] = result["cpu"].get("other", 0.0) > args.max_other
    if daphne.instrument_path is not None:
        result["instrument"] = json.loads(daphne.instrument_path.read_text()) if daphne.instrument_path.exists() else None
        print_instrument(result["instrument"])
    print_load_runs([result], title=None)
    if args.timeline:
        print_timeline(result["timeline"])
    if result["errors"]:
        print(f"errors: {result['error_detail']}")
    if result["server_tracebacks"]:
        print(f"Daphne logged {result['server_tracebacks']} tracebacks ({daphne.log_path}); its tail:\n{log_tail}")
    return result


LOAD_COLUMNS = [
    ("conn", "connected", 0),
    ("sent", "sent", 0),
    ("acked", "acked", 0),
    ("acked/s", "acked_per_s", 1),
    ("errors", "errors", 0),
    ("p50 ms", "p50", 1),
    ("p95 ms", "p95", 1),
    ("p99 ms", "p99", 1),
    ("C2C p99", "c2c_p99", 1),
    ("group p99", "group_p99", 1),
    ("ack p99", "ack_p99", 1),
    ("reach %", "reach", 2),
]


def print_load_runs(results, title="load"):
    rows = []
    for n, r in enumerate(results, 1):
        rows.append([str(n)] + [fmt(r[key], d) if isinstance(r[key], float) else r[key] for _, key, d in LOAD_COLUMNS])
    if title:
        print(f"\n{title}")
    print(table(["run"] + [h for h, _, _ in LOAD_COLUMNS], rows))
    cpu_rows = []
    for n, r in enumerate(results, 1):
        c = r["cpu"]
        cpu_rows.append(
            [
                str(n),
                fmt(c.get("daphne")),
                fmt(c.get("postgres")),
                fmt(c.get("redis")),
                fmt(c.get("client")),
                fmt(c.get("other")),
                fmt(r["frames_in_per_s"], 0),
                fmt(r["send_lag_p99"]),
                fmt(r["loop_lag_p99"]),
                r["unexpected"],
                "yes" if r.get("disturbed") else "no",
            ]
        )
    print(
        table(
            [
                "run",
                "CPU% daphne",
                "CPU% postgres",
                "CPU% redis",
                "CPU% client",
                "CPU% other jobs",
                "frames in/s",
                "send lag p99 ms",
                "client loop lag p99 ms",
                "unexpected",
                "disturbed",
            ],
            cpu_rows,
        )
    )


def print_timeline(timeline):
    keys = ["acked", "ack_p50", "ack_p99", "delivered", "p50", "p99"]
    print(
        table(
            ["second", "acked", "ack p50 ms", "ack p99 ms", "delivered", "p50 ms", "p99 ms"],
            [[t["second"]] + [t[k] for k in keys] for t in timeline],
        )
    )


def print_instrument(data):
    if not data:
        print("no instrument data (Daphne did not exit cleanly?)")
        return
    keys = [
        "db_calls",
        "db_queue_p50",
        "db_queue_p99",
        "db_run_p50",
        "db_run_p99",
        "db_busy_pct",
        "loop_lag_p50",
        "loop_lag_max",
        "gc_ms",
    ]
    print("Daphne probes per second (ms; db_busy_pct = share of the second the database thread ran)")
    print(table(["s", *keys], [[row["second"]] + [row[k] for k in keys] for row in data["per_second"]]))
    print(
        table(
            ["op", "calls", "run p50 ms", "run p99 ms"],
            [[k, v["calls"], v["run_p50"], v["run_p99"]] for k, v in data["db_ops"].items()],
        )
    )
    if data["gc_pauses_over_20ms"]:
        print(f"GC pauses over 20 ms: {data['gc_pauses_over_20ms']}")


def load_summary(results):
    keys = [k for _, k, _ in LOAD_COLUMNS] + ["c2c_p50", "group_p50", "max"]
    return {k: median([r[k] for r in results]) for k in keys}


# --- lists ----------------------------------------------------------------------------------


def run_lists(args):
    from bench import lists

    if not lists.seed_exists(args.thread_messages, args.conversations):
        from messaging.models import User

        if User.objects.filter(username__startswith=lists.PREFIX).exists() and not args.reseed:
            print("the list seed differs from the requested sizes: rebuilding the database")
            reexec_with_reseed()
        print(f"seeding: a thread of {args.thread_messages:,} messages, a user with {args.conversations:,} conversations")
        lists.seed(args.thread_messages, args.conversations)
    else:
        print("\nlist seed present (reused; --reseed rebuilds it)")
    if args.quiet_timeout > 0:
        stack.wait_until_quiet(args.quiet_threshold, args.quiet_timeout)
    rows, explains = lists.measure(args.thread_messages, runs=args.list_runs)
    print(f"\nlist queries, server-side, in-process ({args.list_runs} calls each)")
    print(
        table(
            ["call", "data", "median ms", "p95 ms", "SQL queries", "items"],
            [[r["call"], r["data"], fmt(r["median_ms"], 2), fmt(r["p95_ms"], 2), r["queries"], r["items"]] for r in rows],
        )
    )
    if args.explain:
        for name, queries in explains.items():
            print(f"\nEXPLAIN ANALYZE: {name}")
            for q in queries:
                print("  " + q["sql"][:300])
                print("\n".join("    " + line for line in q["plan"]))
    return {"rows": rows, "explain": explains}


# --- recall and receipt fan-out (bench/fanout.py) -----------------------------------------


def run_fanout(args):
    from bench import fanout

    t = time.monotonic()
    seeded = fanout.seed(args.members)
    print(
        f"\nfanout-receipts: a Work group of {args.members} members, one socket each, {args.servers} Daphne "
        f"(setup {time.monotonic() - t:.1f} s)"
    )
    if args.quiet_timeout > 0:
        stack.wait_until_quiet(args.quiet_threshold, args.quiet_timeout)
    stack.flush_redis(args.redis_url)
    extra_env = dict(item.split("=", 1) for item in args.server_env)
    servers = stack.Servers(
        args.servers, args.database_url, args.redis_url, port=args.port, extra_env=extra_env, instrument=args.instrument
    )
    with servers:
        meter = stack.CpuMeter(servers.pids)
        meter.start()
        budget = 300
        try:
            run = fanout.FanoutRun(seeded, [(d.ws_url, d.origin) for d in servers.daphnes])
            result = asyncio.run(asyncio.wait_for(run.run(), budget))
        except TimeoutError:
            raise SystemExit(f"fanout-receipts did not finish within {budget} s") from None
        result["cpu"] = meter.stop()
        result["server_tracebacks"] = sum(d.tracebacks() for d in servers.daphnes)
    result["disturbed"] = result["cpu"].get("other", 0.0) > args.max_other
    daphne = servers.daphnes[0]
    if daphne.instrument_path is not None:
        result["instrument"] = json.loads(daphne.instrument_path.read_text()) if daphne.instrument_path.exists() else None
        print_instrument(result["instrument"])
    result.update(fanout.queries_per_reader(args.members))
    rows = [
        [
            "recall → every other socket",
            result["recall_reached"],
            fmt(result["recall_p50"]),
            fmt(result["recall_p99"]),
            fmt(result["recall_max"]),
        ],
        [
            "receipt replies (readers)",
            result["receipts_sent"],
            fmt(result["receipt_ack_p50"]),
            fmt(result["receipt_ack_p99"]),
            fmt(result["receipts_all_acked_ms"]),
        ],
    ]
    print(table(["", "sockets", "p50 ms", "p99 ms", "max / all ms"], rows))
    print(
        f"sender saw the final readCount {args.members - 1}: {'yes' if result['final_count_seen'] else 'NO'}, "
        f"{fmt(result['final_count_ms'])} ms after the first receipt was sent, in {result['receipt_frames']} "
        f"MESSAGE_READ_RECEIPT_RECEIVED frames (readCounts {result['frame_counts']})"
    )
    print(f"SQL statements per reader's receipt ({args.members} members): {result['queries']}")
    for sql in result["sql"]:
        print(f"    {sql}")
    print(
        f"CPU % of a core: daphne {fmt(result['cpu']['daphne'])}, postgres {fmt(result['cpu']['postgres'])}, "
        f"redis {fmt(result['cpu']['redis'])}, client {fmt(result['cpu']['client'])}, other {fmt(result['cpu'].get('other'))}; "
        f"Daphne tracebacks: {result['server_tracebacks']}"
        + (f"; DISTURBED (other jobs > {args.max_other:g} % of a core)" if result["disturbed"] else "")
    )
    return result


# --- the reconnect storm and the live room (bench/scale.py) ----------------------------------


def run_scale(args):
    from bench import scale

    t = time.monotonic()
    storm = args.only == "storm"
    seeded = scale.seed_storm(args.storm_clients) if storm else scale.seed_room(args.room_sockets)
    print(f"\n{args.only}: setup {time.monotonic() - t:.1f} s")
    if args.quiet_timeout > 0:
        stack.wait_until_quiet(args.quiet_threshold, args.quiet_timeout)
    stack.flush_redis(args.redis_url)
    extra_env = dict(item.split("=", 1) for item in args.server_env)
    # As deployed (deploy/systemd/chat-daphne@.socket), each Daphne serves a listening socket
    # held across its restarts; ``--storm-port-closed``: the port closes while A restarts.
    held = storm and not args.storm_port_closed
    with stack.Servers(2, args.database_url, args.redis_url, port=args.port, extra_env=extra_env, held_socket=held) as servers:
        meter = stack.CpuMeter(lambda: servers.pids)  # the storm's restarted Daphne too
        meter.start()
        endpoints = [(d.ws_url, d.origin) for d in servers.daphnes]
        budget = 600
        if storm:
            victim = servers.daphnes[0]

            stopped = {}

            def restart():
                t = time.perf_counter()
                victim.stop()
                stopped["stop_s"] = time.perf_counter() - t  # SIGTERM to exit
                victim.start()

            run = scale.StormRun(
                seeded,
                endpoints,
                rate=args.storm_rate,
                duration=args.duration,
                restart=restart,
                failover=not args.storm_pinned,
                split=not args.storm_one_client,
            )
            if run.split:
                run.start_victims()
        else:
            run = scale.RoomRun(seeded, endpoints, rate=args.room_rate, duration=args.duration)
        try:
            result = asyncio.run(asyncio.wait_for(run.run(), budget))
        except TimeoutError:
            raise SystemExit(f"{args.only} did not finish within {budget} s") from None
        result["cpu"] = meter.stop()
        if result.get("victims_client_cpu_s") is not None:  # the second client process: a client, not another job
            share = 100 * result["victims_client_cpu_s"] / result["cpu"]["wall"]
            result["cpu"]["client"] += share
            result["cpu"]["other"] = max(0.0, result["cpu"]["other"] - share)
        result["server_tracebacks"] = sum(d.tracebacks() for d in servers.daphnes)
    result["held_socket"] = held
    if storm:
        result["stop_s"] = stopped.get("stop_s")
    result["disturbed"] = result["cpu"].get("other", 0.0) > args.max_other
    if storm:
        print(
            f"{result['clients']} clients ({result['connected']} connected) over 2 Daphne; "
            f"{result['acked']}/{result['sent']} messages acked at {args.storm_rate:g}/s; Daphne A restarted in "
            f"{fmt(result['restart_s'], 2)} s (stopped in {fmt(result['stop_s'], 2)} s); its {result['restarted_clients']} clients caught up through sync "
            f"(after {result['failed_attempts']} failed attempts; "
            f"{'through failover, ' + str(result['moved_to_b']) + ' of them now on B' if result['failover'] else 'pinned to A'}; "
            f"{'listening socket held across the restart' if held else 'port closed during the restart'}; "
            f"{result['client_processes']} client process{'es' if result['client_processes'] > 1 else ''}): "
            f"{result['caught_up']} in {fmt(result['storm_s'], 2)} s (target <= 10 s; half of them in "
            f"{fmt(result['caught_up_p50_s'], 2)} s, 90 % in {fmt(result['caught_up_p90_s'], 2)} s;"
            f" hello p50 {fmt(result['hello_p50_s'], 2)} s, p90 {fmt(result['hello_p90_s'], 2)} s; failures {result['failure_kinds']})"
        )
        print(
            f"deliveries to Daphne B's clients meanwhile: {result['b_deliveries_during']}, p50 "
            f"{fmt(result['b_p50_during'])} ms, p99 {fmt(result['b_p99_during'])} ms (target <= 250; before the "
            f"restart p99 {fmt(result['b_p99_before'])} ms); acked messages missing at their receiver: {result['missing']} "
            f"({result['from_sync']} of them reached it through a sync page, not live; syncs on a skipped change: "
            f"{result['gap_syncs']}; missing before the last sync, as tim.js's 5-minute sync would make it: "
            f"{result['missing_before_last_sync']}, {result['missing_on_a']} of them to A's clients)"
        )
    else:
        print(
            f"{result['sockets']} sockets ({result['connected']} connected in {fmt(result['connect_s'], 1)} s) over 2 "
            f"Daphne, one Meeting group; {result['messages']} messages at {args.room_rate:g}/s: to the last member p50 "
            f"{fmt(result['last_p50'])} ms, p99 {fmt(result['last_p99'])} ms, max {fmt(result['last_max'])} ms "
            f"(target p99 <= 1000); every delivery p50 {fmt(result['delivery_p50'])} / p99 {fmt(result['delivery_p99'])} ms; "
            f"reach {fmt(result['reach'], 2)} %; the sender's reply p50 {fmt(result['ack_p50'])} / p99 {fmt(result['ack_p99'])} ms; "
            f"to the first member p50 {fmt(result['first_p50'])} / p99 {fmt(result['first_p99'])} ms"
        )
    print(
        f"errors: {result['errors'] or 'none'}; Daphne tracebacks: {result['server_tracebacks']}; CPU % of a core: "
        f"daphne {fmt(result['cpu']['daphne'])}, postgres {fmt(result['cpu']['postgres'])}, client "
        f"{fmt(result['cpu']['client'])}, other {fmt(result['cpu'].get('other'))}"
        + (f"; DISTURBED (other jobs > {args.max_other:g} % of a core)" if result["disturbed"] else "")
    )
    return result


# --- main -----------------------------------------------------------------------------------


def main(argv=None):
    args = parse_args(argv)
    setup_django(args)
    if args.vs_floor:
        from bench import vsfloor

        vsfloor.main(args)
        return
    out = {"args": vars(args), "code": stack.git_state()}
    print(f"server code: {out['code']}")
    if args.only in (None, "load"):
        results = run_load(args)
        out["load"] = results
        if len(results) > 1:
            print_load_runs(results, title=f"all {len(results)} load runs")
        summary = load_summary(results)
        out["load_summary"] = summary
        if len(results) > 1:
            print("\nmedians over runs: " + ", ".join(f"{k} {fmt(v)}" for k, v in summary.items()))
        met_latency = summary["p99"] is not None and summary["p99"] <= TARGETS["p99_ms"]
        met_reach = summary["reach"] is not None and summary["reach"] >= TARGETS["reach"]
        print(
            f"target p99 <= {TARGETS['p99_ms']:g} ms: {'met' if met_latency else 'MISSED'} ({fmt(summary['p99'])} ms); "
            f"reach 100%: {'met' if met_reach else 'MISSED'} ({fmt(summary['reach'], 2)} %)"
        )
    if args.only == "fanout-receipts":
        out["fanout"] = run_fanout(args)
    if args.only in ("storm", "liveroom"):
        out[args.only] = run_scale(args)
    if args.only in (None, "lists"):
        lists_out = run_lists(args)
        out["lists"] = lists_out
        slow = [r for r in lists_out["rows"] if r["median_ms"] > TARGETS["list_median_ms"]]
        print(
            f"target list median <= {TARGETS['list_median_ms']:g} ms: {'met' if not slow else 'MISSED by ' + ', '.join(r['call'] for r in slow)}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2, default=str))
        print(f"\nresults written to {args.json}")


if __name__ == "__main__":
    main()
