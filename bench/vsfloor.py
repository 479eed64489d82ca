"""The ratio bench (issue 10): the product against the stack floor, same machine, same sitting.

``python -m bench.run --vs-floor [--smoke]`` (bench/run.py parses the options; see its docstring
and docs/PERFORMANCE.md, "Ratio to the stack floor").

Both sides run on the production stack: PostgreSQL, Redis, channels-redis's pub/sub layer, Daphne.
The product is ``chatsite.asgi`` on the bench database (``chat_bench``, Redis db 7, ports
8500-8599); the floor is bench/floor.py's copy of ``../shared/floor/`` (``floor_bench``, Redis
db 9, ports 8600-8699). Every run starts fresh Daphne processes for one side only, and the
two sides alternate run by run, so that a drift of the machine hits both.

Loads (the same client code, bench/load.py's ``LoadRun``, drives both sides):

- **C2C**: ``clients`` sockets, each message from a random client to a random peer, open loop,
  at rates stepping up (``rates``); at each rate ``reps`` runs per side, alternating. A side
  stops stepping after the first rate (at or above ``cpu_rate``) whose median p99 is above
  250 ms or whose median reach is below 100 %; its figure is the highest rate before that.
  Twice: "existing" (the peers come from a pool of one pair per client whose conversation
  exists before the run: the product's seeded by a first ``send_message``, the floor's thread
  rows inserted) and "new pairs" (every message to a pair never messaged before: the
  product's first-message path, the floor's ``get_or_create``). With 1 and with 2 Daphne
  processes (clients spread over them). At ``cpu_rate`` (100 msg/s) also the p99 and the CPU
  per message of Daphne and of PostgreSQL.
- **Mixed**: half the messages into a group of ``group_size`` members (the rest C2C as above,
  existing pairs), stepped the same way, 1 Daphne.
- **Fan-out**: one message a second into a group of ``fanout_members``, every member online
  on one Daphne: p50/p99 over every member's delivery, and the latency to the last member
  of each message (median over the messages).
- **Memory**: ``idle_sockets`` idle sockets on one Daphne: the rise of its RSS per socket
  (from ``warmup`` sockets open to all open, after 2 s of quiet).

The quiet-machine guard: before each run the bench waits for the machine to be quiet
(``stack.wait_until_quiet``), and ``stack.CpuMeter`` measures the CPU of everything that is
neither Daphne, PostgreSQL, Redis nor the bench ("other"). A run during which other jobs used
more than ``max_other`` % of a core is repeated (``retries``), then kept and marked; a figure
resting on a marked run is printed with ``*`` and its ratio is refused.
"""

import asyncio
import json
import os
import random
import resource
import signal
import sys
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from bench import stack
from bench.floor import FloorApp, FloorLoadRun, floor_seed
from bench.load import LoadConfig, LoadRun, pair_pool, seed_load
from bench.stats import fmt, median, table

LIMIT_MS = 250.0
SIDES = ("floor", "product")
LOADS = ("c2c", "new", "mixed", "fanout", "memory")


@dataclass
class Plan:
    clients: int = 200
    pairs: int | None = None  # the pool of existing conversations (default one pair per client)
    rates: tuple = (50, 100, 150, 200, 250, 300, 400, 500)
    cpu_rate: float = 100.0
    reps: int = 3
    duration: float = 20.0
    drain: float = 10.0
    settle: float = 1.0
    servers: tuple = (1, 2)
    group_size: int = 50
    fanout_members: int = 1000
    fanout_messages: int = 10
    idle_sockets: int = 2000
    warmup: int = 50
    quiet_threshold: float = 30.0
    quiet_timeout: float = 300.0
    max_other: float = 25.0
    retries: int = 2
    smoke: bool = False
    loads: tuple = LOADS  # which of the loads to run (--vs-loads)


SMOKE = {
    "clients": 6,
    "rates": (10,),
    "cpu_rate": 10.0,
    "reps": 1,
    "duration": 0.5,
    "drain": 5.0,
    "settle": 0.2,
    "group_size": 3,
    "fanout_members": 8,
    "fanout_messages": 2,
    "idle_sockets": 100,
    "warmup": 10,
    "quiet_timeout": 0.0,
    "retries": 0,
    "smoke": True,
}


def plan_from_args(args):
    plan = Plan(
        clients=args.clients,
        pairs=args.pairs,
        rates=tuple(float(r) for r in args.vs_rates.split(",")),
        cpu_rate=args.cpu_rate,
        reps=args.vs_reps,
        duration=args.duration,
        drain=args.drain,
        servers=tuple(int(n) for n in args.vs_servers.split(",")),
        group_size=args.group_size,
        fanout_members=args.members,
        fanout_messages=args.fanout_messages,
        idle_sockets=args.idle_sockets,
        quiet_threshold=args.quiet_threshold,
        quiet_timeout=args.quiet_timeout,
        max_other=args.max_other,
        retries=args.retries,
        loads=loads_from(args.vs_loads),
    )
    return replace(plan, **SMOKE) if args.smoke else plan


def loads_from(text):
    """The loads named in ``--vs-loads`` (comma-separated, of LOADS), in LOADS's order."""
    names = {name.strip() for name in text.split(",") if name.strip()}
    unknown = names - set(LOADS)
    if unknown or not names:
        raise SystemExit(f"--vs-loads: choose among {','.join(LOADS)} (got {text!r})")
    return tuple(name for name in LOADS if name in names)


# --- decisions (pure; tests/test_bench_vsfloor.py) ------------------------------------------


def is_disturbed(cpu, max_other):
    """Did other jobs use more than ``max_other`` % of a core during the run?"""
    return (cpu or {}).get("other", 0.0) > max_other


def passes(runs, limit_ms=LIMIT_MS):
    """A rate is held when the median p99 is within the limit and the median reach is 100 %."""
    p99 = median([r.get("p99") for r in runs])
    reach = median([r.get("reach") for r in runs])
    return p99 is not None and p99 <= limit_ms and reach is not None and reach >= 100.0


def highest_rate(steps, limit_ms=LIMIT_MS):
    """From ``[(rate, runs), ...]`` in rising order: (the highest rate held before the first
    rate that was not, whether a rate failed at all, whether a run up to there was disturbed)."""
    best, failed, disturbed = None, False, False
    for rate, runs in steps:
        disturbed = disturbed or any(r.get("disturbed") for r in runs)
        if not passes(runs, limit_ms):
            failed = True
            break
        best = rate
    return best, failed, disturbed


def step_rates(rates, reps, measure, *, sides=SIDES, min_rate=0.0, limit_ms=LIMIT_MS):
    """Step both sides up through ``rates``, alternating: at each rate, repetition 1 of every
    side still stepping, then repetition 2, ... A side stops after a rate >= ``min_rate``
    that it did not hold. ``measure(side, rate, rep)`` returns one run's result.
    Returns {side: [(rate, runs), ...]}."""
    steps = {side: [] for side in sides}
    active = list(sides)
    for rate in rates:
        if not active:
            break
        runs = {side: [] for side in active}
        for rep in range(reps):
            for side in active:
                runs[side].append(measure(side, rate, rep))
        for side in list(active):
            steps[side].append((rate, runs[side]))
            if rate >= min_rate and not passes(runs[side], limit_ms):
                active.remove(side)
    return steps


@dataclass
class Figure:
    value: float | None
    disturbed: bool = False
    bound: str = ""  # "≥": no rate stepped through was failed; "<": the lowest one was
    digits: int = 1

    def show(self):
        if self.value is None:
            return "-"
        text = (self.bound + " " if self.bound else "") + fmt(float(self.value), self.digits)
        return text + (" *" if self.disturbed else "")


def rate_figure(steps, limit_ms=LIMIT_MS, stepped=None):
    """The highest rate held, as a figure (a bound when the steps did not bracket it).

    ``stepped``: the rates asked for (``--vs-rates``), when ``steps`` also holds a rate
    measured for another reason (the CPU rate): held, it brackets nothing, and a side that
    failed the first rate asked for above it is ``< that rate``, not the CPU rate's figure
    (100 msg/s held, 450 failed says the knee is somewhere between, not at 100)."""
    best, failed, disturbed = highest_rate(steps, limit_ms)
    if best is None:
        return Figure(steps[0][0] if steps else None, disturbed, "<" if steps else "", digits=0)
    if stepped is not None and best not in stepped:
        later = [rate for rate, _ in steps if rate > best]
        if later:
            return Figure(later[0], disturbed, "<", digits=0)
    return Figure(best, disturbed, "" if failed else "≥", digits=0)


def ratio(floor, product):
    """product / floor, or why there is none."""
    if floor.value is None or product.value is None or not floor.value:
        return "-"
    if floor.disturbed or product.disturbed:
        return "refused: machine not quiet"
    if floor.bound or product.bound:
        return f"n/a: the rates stepped through did not bracket p99 = {LIMIT_MS:g} ms"
    return f"{product.value / floor.value:.2f}"


def median_figure(runs, value, digits=1):
    return Figure(median([value(r) for r in runs]), any(r.get("disturbed") for r in runs), digits=digits)


def cpu_ms_per_message(run, process):
    cpu, acked = run.get("cpu") or {}, run.get("acked") or 0
    if process not in cpu or "wall" not in cpu or not acked:
        return None
    return cpu[process] / 100 * cpu["wall"] * 1000 / acked


def last_member_latencies(load_run):
    """Per message: the latency to its last recipient (ms)."""
    last = {}
    for sent_at, latency in load_run.delivery_points:
        last[sent_at] = max(latency, last.get(sent_at, 0.0))
    return sorted(last.values())


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


# --- the two sides -------------------------------------------------------------------------


class Product:
    name = "product"

    def __init__(self, args, prefix):
        self.database_url = args.database_url
        self.redis_url = args.redis_url
        self.extra_env = {"CHAT_CHANNEL_PREFIX": prefix}

    def seed(self, cfg):
        return seed_load(cfg)

    def servers(self, count):
        return stack.Servers(count, self.database_url, self.redis_url, extra_env=self.extra_env)

    def load_run(self, cfg, seeded, urls):
        return LoadRun(cfg, seeded, urls)


class Floor:
    name = "floor"

    def __init__(self, app):
        self.app = app
        self.redis_url = app.redis_url

    def seed(self, cfg):
        pairs = pair_pool(cfg, random.Random(cfg.seed))
        self.app.reset(pairs)
        return floor_seed(cfg, pairs)

    def servers(self, count):
        return stack.Servers(count, self.app.database_url, self.redis_url, daphne_class=self.app.daphne_class())

    def load_run(self, cfg, seeded, urls):
        return FloorLoadRun(cfg, seeded, urls)


class Bench:
    def __init__(self, plan, sides):
        self.plan = plan
        self.sides = sides

    def prepare(self, side):
        if self.plan.quiet_timeout > 0:
            stack.wait_until_quiet(self.plan.quiet_threshold, self.plan.quiet_timeout)
        stack.flush_redis(side.redis_url)

    def guarded(self, once, label):
        """Run ``once()`` until it is not disturbed (``retries`` times at most); mark the last."""
        for attempt in range(self.plan.retries + 1):
            result = once()
            result["disturbed"] = is_disturbed(result.get("cpu"), self.plan.max_other)
            if not result["disturbed"]:
                return result
            other = result["cpu"].get("other", 0.0)
            again = "repeating it" if attempt < self.plan.retries else "kept, marked disturbed"
            print(f"    {label}: disturbed, other jobs used {other:.0f} % of a core (> {self.plan.max_other:g} %); {again}")
        return result

    def load(self, side_name, cfg, count, label, keep=None):
        side = self.sides[side_name]

        def once():
            t0 = time.monotonic()
            seeded = side.seed(cfg)
            self.prepare(side)
            t1 = time.monotonic()
            with side.servers(count) as servers:
                t2 = time.monotonic()
                run = side.load_run(cfg, seeded, [(d.ws_url, d.origin) for d in servers.daphnes])
                meter = stack.CpuMeter(servers.pids)
                budget = cfg.duration + cfg.drain + 120
                try:
                    result = asyncio.run(asyncio.wait_for(run.run(meter), budget))
                except TimeoutError:
                    raise SystemExit(f"{label} did not finish within {budget:.0f} s") from None
                result["server_tracebacks"] = sum(d.tracebacks() for d in servers.daphnes)
                if keep:
                    result.update(keep(run))
            result["setup_s"], result["start_s"], result["total_s"] = t1 - t0, t2 - t1, time.monotonic() - t0
            return result

        result = self.guarded(once, label)
        print(
            f"  {label}: {side_name:7} sent {result['sent']} acked {result['acked']} p99 {fmt(result['p99'])} ms "
            f"reach {fmt(result['reach'], 2)} % errors {result['errors']} CPU % daphne {fmt(result['cpu'].get('daphne'))} "
            f"other {fmt(result['cpu'].get('other'))}"
            + (" DISTURBED" if result["disturbed"] else "")
            + f" (setup {result['setup_s']:.1f} s, Daphne start {result['start_s']:.1f} s, all {result['total_s']:.1f} s)"
        )
        if result["errors"]:
            print(f"    errors: {result['error_detail']}")
        if result["server_tracebacks"]:
            print(f"    {side_name} Daphne logged {result['server_tracebacks']} tracebacks")
        return result

    def idle_memory(self, side_name, label):
        plan, side = self.plan, self.sides[side_name]
        cfg = LoadConfig(clients=plan.idle_sockets, group_size=0, pairs=0, connect_concurrency=50)
        warmup = min(plan.warmup, plan.idle_sockets - 1)

        def once():
            seeded = side.seed(cfg)
            self.prepare(side)
            with side.servers(1) as servers:
                run = side.load_run(cfg, seeded, [(d.ws_url, d.origin) for d in servers.daphnes])
                meter = stack.CpuMeter(servers.pids)
                pid = servers.pids[0]

                async def measure():
                    meter.start()
                    await run.connect_all(run.clients[:warmup])
                    await asyncio.sleep(1)
                    before = rss_bytes(pid)
                    connected = await run.connect_all(run.clients[warmup:])
                    await asyncio.sleep(2)
                    after = rss_bytes(pid)
                    cpu = meter.stop()
                    await run.close_all()
                    return {"connected": connected, "rss_before": before, "rss_after": after, "cpu": cpu}

                result = asyncio.run(asyncio.wait_for(measure(), 300))
            opened = result["connected"] - warmup
            result["kib_per_socket"] = (result["rss_after"] - result["rss_before"]) / 1024 / opened if opened > 0 else None
            result["errors"] = sum(run.errors.values())
            return result

        result = self.guarded(once, label)
        print(
            f"  {label}: {side_name:7} {result['connected']}/{plan.idle_sockets} sockets, RSS "
            f"{result['rss_before'] / 2**20:.1f} -> {result['rss_after'] / 2**20:.1f} MiB, "
            f"{fmt(result['kib_per_socket'])} KiB per socket" + (" DISTURBED" if result["disturbed"] else "")
        )
        return result


# --- the loads ------------------------------------------------------------------------------


def load_config(plan, **changes):
    base = {"clients": plan.clients, "pairs": plan.pairs, "duration": plan.duration, "drain": plan.drain, "settle": plan.settle}
    return LoadConfig(**{**base, **changes})


def c2c_config(plan, rate, **changes):
    return load_config(plan, rate=rate, group_size=0, group_share=0.0, **changes)


def stepped_rows(bench, title, make_config, count, with_cpu):
    """Rows of one stepped load: the highest rate held, and at ``cpu_rate`` p99 and CPU per message."""
    plan = bench.plan
    rates = sorted(set(plan.rates) | ({plan.cpu_rate} if with_cpu else set()))
    print(f"\n{title}: rates {', '.join(f'{r:g}' for r in rates)} msg/s, {plan.reps} runs per side and rate")

    def measure(side, rate, rep):
        return bench.load(side, make_config(rate), count, f"{title} @ {rate:g} msg/s, run {rep + 1}")

    steps = step_rates(rates, plan.reps, measure, min_rate=plan.cpu_rate if with_cpu else 0.0)
    figures = {side: rate_figure(steps[side], stepped=set(plan.rates)) for side in SIDES}
    rows = [(f"{title}: highest rate with p99 ≤ {LIMIT_MS:g} ms and reach 100 % (msg/s)", figures)]
    if with_cpu:
        at = {side: next((runs for rate, runs in steps[side] if rate == plan.cpu_rate), []) for side in SIDES}
        cpu = f"{plan.cpu_rate:g} msg/s"
        rows.append((f"{title}: p99 at {cpu} (ms)", {s: median_figure(at[s], lambda r: r.get("p99")) for s in SIDES}))
        for process, name in (("daphne", "Daphne"), ("postgres", "PostgreSQL")):
            rows.append(
                (
                    f"{title}: {name} CPU per message at {cpu} (ms)",
                    {s: median_figure(at[s], lambda r, p=process: cpu_ms_per_message(r, p), digits=2) for s in SIDES},
                )
            )
    return rows


def fanout_rows(bench):
    plan = bench.plan
    n = plan.fanout_members
    messages = float(plan.fanout_messages)
    cfg = load_config(
        plan, clients=n, rate=1.0, duration=messages, group_size=n, group_share=1.0, pairs=0, connect_concurrency=50
    )
    title = f"fan-out, 1 message/s to {n:,} online members, 1 Daphne"
    print(f"\n{title}: {plan.fanout_messages} messages, {plan.reps} runs per side")
    runs = {side: [] for side in SIDES}
    for rep in range(plan.reps):
        for side in SIDES:
            keep = lambda run: {"last_member": last_member_latencies(run)}  # noqa: E731
            runs[side].append(bench.load(side, cfg, 1, f"fan-out run {rep + 1}", keep=keep))
    return [
        (f"{title}: p50 over deliveries (ms)", {s: median_figure(runs[s], lambda r: r.get("p50")) for s in SIDES}),
        (f"{title}: p99 over deliveries (ms)", {s: median_figure(runs[s], lambda r: r.get("p99")) for s in SIDES}),
        (
            f"{title}: to the last member, median over messages (ms)",
            {s: median_figure(runs[s], lambda r: median(r["last_member"])) for s in SIDES},
        ),
    ]


def memory_rows(bench):
    plan = bench.plan
    title = f"RSS per idle socket, {plan.idle_sockets:,} sockets, 1 Daphne (KiB)"
    print(f"\n{title}: {plan.reps} runs per side")
    runs = {side: [] for side in SIDES}
    for rep in range(plan.reps):
        for side in SIDES:
            runs[side].append(bench.idle_memory(side, f"memory run {rep + 1}"))
    return [(title, {s: median_figure(runs[s], lambda r: r.get("kib_per_socket")) for s in SIDES})]


def all_rows(bench):
    plan = bench.plan
    rows = []
    for count in plan.servers:
        daphnes = f"{count} Daphne"
        if "c2c" in plan.loads:
            rows += stepped_rows(bench, f"C2C, existing pairs, {daphnes}", lambda rate: c2c_config(plan, rate), count, True)
        if "new" in plan.loads:
            rows += stepped_rows(
                bench, f"C2C, every pair new, {daphnes}", lambda rate: c2c_config(plan, rate, new_pairs=True), count, True
            )

    def mixed(rate):
        return load_config(plan, rate=rate, group_size=plan.group_size, group_share=0.5)

    members = min(plan.group_size, plan.clients)
    if "mixed" in plan.loads:
        rows += stepped_rows(bench, f"mixed, half into a {members}-member group, 1 Daphne", mixed, 1, False)
    if "fanout" in plan.loads:
        rows += fanout_rows(bench)
    if "memory" in plan.loads:
        rows += memory_rows(bench)
    return rows


def render(rows, code, plan):
    lines = [f"commit measured: {code}"]
    if plan.smoke:
        lines.append("SMOKE RUN: tiny loads, one run per side; the figures mean nothing")
    body = [
        [metric, figs["floor"].show(), figs["product"].show(), ratio(figs["floor"], figs["product"])] for metric, figs in rows
    ]
    lines.append(table(["metric", "floor", "product", "ratio"], body))
    refused = sum(1 for *_, r in body if r.startswith("refused"))
    if refused:
        lines.append(
            f"* a run behind this figure was disturbed (other jobs used > {plan.max_other:g} % of a core): "
            f"{refused} ratio(s) refused; measure again on a quiet machine"
        )
    return "\n".join(lines)


def raise_fd_limit(sockets):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, 2 * sockets + 1024))
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def main(args):
    # A SIGTERM (``timeout``, a test's kill) unwinds like Ctrl+C: Daphne processes stopped, the floor's folder removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    plan = plan_from_args(args)
    code = stack.git_state()
    print(f"commit measured: {code}")
    raise_fd_limit(max(plan.idle_sockets, plan.fanout_members, plan.clients))
    t = time.monotonic()
    prefix = f"vs{os.getpid()}"
    app = FloorApp(args.floor_database_url, args.floor_redis_url, prefix=f"floor{os.getpid()}").build()
    print(f"floor built in {app.dir} (database {app.db_name}) in {time.monotonic() - t:.1f} s")
    try:
        bench = Bench(plan, {"floor": Floor(app), "product": Product(args, prefix)})
        rows = all_rows(bench)
    finally:
        app.drop(drop_database=plan.smoke)
    print(f"\nratio to the stack floor (product / floor; medians of {plan.reps} runs per side)")
    print(render(rows, code, plan))
    if args.json:
        Path(args.json).write_text(json.dumps(as_json(rows, code, plan), indent=2))
        print(f"\nresults written to {args.json}")
    return rows


def as_json(rows, code, plan):
    return {
        "code": code,
        "plan": asdict(plan),
        "rows": [
            {"metric": metric, **{s: asdict(f) for s, f in figs.items()}, "ratio": ratio(figs["floor"], figs["product"])}
            for metric, figs in rows
        ],
    }
