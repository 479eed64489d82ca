"""The ratio bench's decisions (bench/vsfloor.py), without servers: which rate a side holds
(median p99 ≤ 250 ms and reach 100 %), how the rates are stepped with floor and product
alternating, the quiet-machine guard's refusal of a ratio, the "every pair new" mode of the
load, and the floor client's reading of the floor's frames. The whole bench, on the real
stack, is tests/integration/test_bench_smoke.py.
"""

import ast
import asyncio
import json
from pathlib import Path

import pytest

from bench import vsfloor
from bench.floor import FLOOR_FILES, FloorLoadRun, floor_seed, thread_id, write_floor_app
from bench.load import LoadConfig, LoadRun, pair_pool
from bench.vsfloor import Figure, highest_rate, passes, rate_figure, ratio, step_rates

SHARED_FLOOR = Path(__file__).resolve().parents[1].parent / "shared" / "floor" / "make_floor_app.py"


def run(p99, reach=100.0, disturbed=False):
    return {"p99": p99, "reach": reach, "disturbed": disturbed}


# --- the highest rate with p99 ≤ 250 ms ---------------------------------------------------------


def test_a_rate_is_held_on_the_median_p99_and_the_median_reach():
    assert passes([run(100), run(240), run(900)])  # median 240
    assert passes([run(250)])
    assert not passes([run(100), run(260), run(900)])  # median 260
    assert not passes([run(10, reach=99.9)])
    assert passes([run(10, reach=99.0), run(10), run(10)])  # median reach 100
    assert not passes([run(None)])
    assert not passes([])


def test_the_highest_rate_is_the_last_one_held_before_the_first_failure():
    steps = [(50, [run(20)]), (100, [run(80)]), (150, [run(300)]), (200, [run(100)])]
    assert highest_rate(steps) == (100, True, False)  # 200 held again is noise after the failure
    assert highest_rate([(50, [run(20)]), (100, [run(40)])]) == (100, False, False)
    assert highest_rate([(50, [run(400)])]) == (None, True, False)
    disturbed = [(50, [run(20, disturbed=True)]), (100, [run(300)]), (150, [run(10, disturbed=True)])]
    assert highest_rate(disturbed) == (50, True, True)
    # A disturbed run after the failure does not count: it is not behind the figure.
    assert highest_rate([(50, [run(20)]), (100, [run(300)]), (150, [run(10, disturbed=True)])])[2] is False


def test_the_rate_figure_says_when_the_steps_did_not_bracket_the_limit():
    assert rate_figure([(50, [run(20)]), (100, [run(300)])]).show() == "50"
    assert rate_figure([(50, [run(20)]), (100, [run(30)])]).show() == "≥ 100"
    assert rate_figure([(50, [run(400)])]).show() == "< 50"
    assert rate_figure([(50, [run(20, disturbed=True)]), (100, [run(300)])]).show() == "50 *"


def test_a_rate_measured_only_for_the_cpu_brackets_nothing():
    # --vs-rates 450,500 with the CPU rate 100: failing 450 says "< 450", not "100"
    steps = [(100, [run(6)]), (450, [run(1300)])]
    assert rate_figure(steps, stepped={450, 500}).show() == "< 450"
    assert rate_figure(steps).show() == "100"  # 100 asked for: the knee is bracketed
    held = [(100, [run(6)]), (450, [run(50)]), (500, [run(900)])]
    assert rate_figure(held, stepped={450, 500}).show() == "450"
    assert rate_figure([(100, [run(6)])], stepped={450}).show() == "≥ 100"


def test_rates_step_up_alternating_floor_and_product_until_each_fails():
    p99 = {"floor": {50: 10, 100: 20, 150: 100, 200: 300}, "product": {50: 30, 100: 400, 150: 10, 200: 10}}
    calls = []

    def measure(side, rate, rep):
        calls.append((side, rate, rep))
        return run(p99[side][rate])

    steps = step_rates([50, 100, 150, 200, 250], 2, measure)
    assert calls == [
        ("floor", 50, 0),
        ("product", 50, 0),
        ("floor", 50, 1),
        ("product", 50, 1),
        ("floor", 100, 0),
        ("product", 100, 0),
        ("floor", 100, 1),
        ("product", 100, 1),
        ("floor", 150, 0),  # the product failed at 100: only the floor goes on
        ("floor", 150, 1),
        ("floor", 200, 0),
        ("floor", 200, 1),
    ]  # and nobody runs 250
    assert highest_rate(steps["floor"])[0] == 150
    assert highest_rate(steps["product"])[0] == 50


def test_a_side_that_fails_early_still_steps_to_the_cpu_rate():
    calls = []

    def measure(side, rate, rep):
        calls.append((side, rate))
        return run(400 if side == "product" else 10)

    steps = step_rates([50, 100, 150], 1, measure, min_rate=100)
    assert ("product", 100) in calls and ("product", 150) not in calls
    assert highest_rate(steps["product"]) == (None, True, False)
    assert [rate for rate, _ in steps["floor"]] == [50, 100, 150]


# --- the quiet-machine guard ----------------------------------------------------------------


def test_a_ratio_is_refused_when_a_run_behind_it_was_disturbed():
    assert ratio(Figure(200.0), Figure(125.0)) == "0.62"
    assert ratio(Figure(200.0, disturbed=True), Figure(125.0)) == "refused: machine not quiet"
    assert ratio(Figure(200.0), Figure(125.0, disturbed=True)) == "refused: machine not quiet"
    assert ratio(Figure(200.0, bound="≥"), Figure(125.0)).startswith("n/a")
    assert ratio(Figure(None), Figure(125.0)) == "-"
    assert ratio(Figure(0.0), Figure(1.0)) == "-"


def test_a_disturbed_run_is_repeated_then_kept_and_marked(capsys):
    plan = vsfloor.Plan(retries=2, max_other=25.0)
    bench = vsfloor.Bench(plan, {})
    others = iter([80.0, 30.0, 26.0])
    result = bench.guarded(lambda: {"cpu": {"other": next(others)}}, "run")
    assert result == {"cpu": {"other": 26.0}, "disturbed": True}
    out = capsys.readouterr().out
    assert out.count("repeating it") == 2 and "kept, marked disturbed" in out

    others = iter([80.0, 10.0, 99.0])
    assert bench.guarded(lambda: {"cpu": {"other": next(others)}}, "run") == {"cpu": {"other": 10.0}, "disturbed": False}
    assert vsfloor.is_disturbed({"other": 25.0}, 25.0) is False
    assert vsfloor.is_disturbed({}, 25.0) is False


def test_the_table_marks_disturbed_figures_and_says_why_their_ratios_are_refused():
    rows = [
        ("a rate", {"floor": Figure(200.0, digits=0), "product": Figure(150.0, digits=0)}),
        ("a latency", {"floor": Figure(40.0, disturbed=True), "product": Figure(50.0)}),
    ]
    text = vsfloor.render(rows, "abc1234", vsfloor.Plan())
    assert text.splitlines()[0] == "commit measured: abc1234"
    assert "| a rate    | 200    | 150     | 0.75" in text
    assert "| a latency | 40.0 * | 50.0    | refused: machine not quiet |" in text
    assert "1 ratio(s) refused; measure again on a quiet machine" in text
    saved = json.loads(json.dumps(vsfloor.as_json(rows, "abc1234", vsfloor.Plan())))  # --json
    assert saved["code"] == "abc1234" and saved["plan"]["reps"] == 3
    assert saved["rows"][1] == {
        "metric": "a latency",
        "floor": {"value": 40.0, "disturbed": True, "bound": "", "digits": 1},
        "product": {"value": 50.0, "disturbed": False, "bound": "", "digits": 1},
        "ratio": "refused: machine not quiet",
    }


def test_cpu_per_message_is_cpu_seconds_over_acked_messages():
    result = {"cpu": {"daphne": 50.0, "postgres": 10.0, "wall": 20.0}, "acked": 2000}
    assert vsfloor.cpu_ms_per_message(result, "daphne") == pytest.approx(5.0)  # 10 s of CPU / 2,000
    assert vsfloor.cpu_ms_per_message(result, "postgres") == pytest.approx(1.0)
    assert vsfloor.cpu_ms_per_message({"cpu": {}, "acked": 0}, "daphne") is None


# --- the loads' shapes ------------------------------------------------------------------------


def seeded(n):
    return {"names": [f"u{i}" for i in range(n)], "session_keys": [None] * n, "members": [], "pairs": []}


def test_every_pair_new_sends_each_message_to_a_pair_never_messaged_before():
    cfg = LoadConfig(clients=8, group_size=0, group_share=0.0, new_pairs=True)
    assert pair_pool(cfg, __import__("random").Random(7)) == []  # no conversation made beforehand
    load = LoadRun(cfg, seeded(8), [("ws://x", "http://x")])
    picked = [load._pick(i) for i in range(28)]  # 8 * 7 / 2 pairs
    pairs = {frozenset((sender, target)) for sender, kind, target, _ in picked}
    assert len(pairs) == 28 and all(kind == "C2C" for _, kind, _, _ in picked)
    load._pick(28)
    assert load.errors["pairs-exhausted"] == 1  # said, not hidden


def test_existing_pairs_come_from_the_seeded_pool_on_both_sides():
    import random

    cfg = LoadConfig(clients=10, group_size=0, group_share=0.0)
    pool = pair_pool(cfg, random.Random(cfg.seed))
    assert len(pool) == 10 and all(a < b for a, b in pool)
    floor = FloorLoadRun(cfg, floor_seed(cfg, pool), [("ws://x/ws/", None)])
    for i in range(50):
        sender, _, target, _ = floor._pick(i)
        assert (min(sender, target), max(sender, target)) in pool


def test_the_floor_client_counts_acks_and_deliveries_but_not_the_senders_own_group_copy():
    cfg = LoadConfig(clients=4, group_size=3, group_share=1.0)
    load = FloorLoadRun(cfg, floor_seed(cfg, []), [("ws://x/ws/", None)])
    for c in load.clients:
        c.ready.set()
    frames = []

    class Socket:
        async def send(self, frame):
            frames.append(json.loads(frame))

    sender, kind, target, recipients = load._pick(0)
    load.rng.seed(cfg.seed + 1)  # _send draws the same pick again
    load.clients[sender].ws = Socket()
    asyncio.run(load._send(0, 0.0))
    assert kind == "GROUP" and target is None and frames[0]["group"] == 1 and frames[0]["text"] == "bench 0"
    assert recipients == {0, 1, 2} - {sender}
    delivery = json.dumps({"event": "msg", "m": {"id": 1, "seq": 1, "from": sender + 1, "text": "bench 0", "t": 0}})
    for c in load.clients[:3]:
        load.on_frame(c, delivery, 1.0)
    load.on_frame(load.clients[sender], json.dumps({"ack": 0, "id": 1}), 1.0)
    assert load.delivered["GROUP"] == 2 and load.unexpected == 0 and load.acked == 1
    assert load.results(4, 1.0, {})["reach"] == 100.0


def test_the_floor_is_the_shared_floor_plus_the_group_op(tmp_path):
    write_floor_app(tmp_path)
    for name in FLOOR_FILES:
        ast.parse((tmp_path / name).read_text(), name)  # every file is Python
    consumers = (tmp_path / "floorapp" / "consumers.py").read_text()
    assert 'if "group" in c:' in consumers and "tid=-1" in consumers
    assert thread_id(0, 1) == thread_id(1, 0) == 100002  # users 1 and 2, as the floor's store() computes
    if SHARED_FLOOR.exists():  # next to the project on the team's machines: the copy has not drifted
        shared = SHARED_FLOOR.read_text()
        for line in shared.splitlines():
            if line.strip().startswith(("def store", "tid = ", '"USER"', '"CONFIG"')):
                continue  # the lines this copy changes (bench/floor.py's docstring)
            if line.startswith("        ") and not line.strip().startswith(("root", "(root", "for name", '"""')):
                assert line.strip() in "".join(FLOOR_FILES.values()), line


# --- a partial table (--vs-loads) ---------------------------------------------------------------


def test_only_the_loads_asked_for_are_run(monkeypatch):
    ran = []
    monkeypatch.setattr(vsfloor, "stepped_rows", lambda bench, title, *rest: ran.append(title) or [(title, {})])
    monkeypatch.setattr(vsfloor, "fanout_rows", lambda bench: ran.append("fanout") or [])
    monkeypatch.setattr(vsfloor, "memory_rows", lambda bench: ran.append("memory") or [])

    class Bench:
        plan = vsfloor.Plan(servers=(1, 2), loads=vsfloor.loads_from("memory, c2c"))

    vsfloor.all_rows(Bench())
    assert ran == ["C2C, existing pairs, 1 Daphne", "C2C, existing pairs, 2 Daphne", "memory"]
    assert vsfloor.loads_from("fanout,c2c,new,mixed,memory") == vsfloor.LOADS
    with pytest.raises(SystemExit, match="choose among"):
        vsfloor.loads_from("c2c,speed")


def test_a_daphne_logs_tracebacks_are_counted_once_each_without_shutdown_cleanup_noise(tmp_path):
    from bench.stack import Daphne

    daphne = Daphne("postgres://x/y", "redis://x/0", port=8599, log_dir=tmp_path)
    failure = "Traceback (most recent call last):\n  File x\nValueError: bad\n"
    chained = failure + "\nDuring handling of the above exception, another exception occurred:\n\n" + failure
    noise = "Unexpected exception while cleaning-up channel:\n" + failure.replace("ValueError: bad", "CancelledError")
    daphne.log_path.write_text("started\n" + noise + chained + noise + failure)
    assert daphne.tracebacks() == 2
    daphne.log_path.unlink()
    assert daphne.tracebacks() == 0
