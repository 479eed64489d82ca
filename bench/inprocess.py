"""What the in-process benches share (bench/sendpath.py, bench/catchup.py): the statements
of one call, the process CPU time per call, one table, a scratch database."""

import os
import statistics
import time

from bench import stack


def statements(call):
    """The SQL of one ``call()`` (every statement Django sends: each is a round trip)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        call()
    return [q["sql"] for q in captured.captured_queries]


def cpu_ms_per_call(call, calls, before=None):
    """Process CPU ms per ``call()`` over ``calls`` calls; ``before()`` runs untimed before each."""
    spent = 0.0
    for _ in range(calls):
        if before is not None:
            before()
        start = time.process_time()
        call()
        spent += time.process_time() - start
    return spent * 1000 / calls


def measure(calls_by_name, calls, runs, before=None):
    """name -> statements of one call, their SQL, and the median CPU ms per call over ``runs``."""
    results = {}
    for name, call in calls_by_name.items():
        if before is not None:
            before()
        sql = statements(call)
        cpu = [cpu_ms_per_call(call, calls, before) for _ in range(runs)]
        results[name] = {"statements": len(sql), "sql": sql, "cpu_ms": statistics.median(cpu)}
    return results


def report(results, header, column, unit):
    print(f"commit {stack.git_state()}; {header}")
    print(f"{column:<8} {'statements':>10} {'CPU ms/' + unit:>12}")
    for name, result in results.items():
        print(f"{name:<8} {result['statements']:>10} {result['cpu_ms']:>12.2f}")
        if os.environ.get("BENCH_SQL") == "1":
            for sql in result["sql"]:
                print(f"    {sql[:160]}")


def on_bench_database(database_url, keep, work):
    """Run ``work()`` on a fresh bench database (its name must start with chat_bench)."""
    from bench.directory import on_scratch_database

    if not database_url.rsplit("/", 1)[-1].startswith("chat_bench"):
        raise SystemExit("the bench database name must start with chat_bench")
    on_scratch_database(database_url, keep, work)


def parse_args(module, doc, count, extra, argv=None):
    """The in-process benches' command line: ``--database-url`` (default: ``chat_bench_<module>``
    on the bench server, or BENCH_<MODULE>_DATABASE_URL), ``--<count>`` calls per run (200),
    ``--runs`` (5), ``--smoke`` (3 calls, 1 run), ``--keep``; ``extra(parser)`` adds the rest."""
    import argparse

    p = argparse.ArgumentParser(
        prog=f"python -m bench.{module}", description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_url = stack.DEFAULT_DATABASE_URL.rsplit("/", 1)[0] + f"/chat_bench_{module}"
    p.add_argument("--database-url", default=os.environ.get(f"BENCH_{module.upper()}_DATABASE_URL", default_url))
    p.add_argument(f"--{count}", type=int, default=200)
    p.add_argument("--runs", type=int, default=5)
    extra(p)
    p.add_argument("--smoke", action="store_true", help=f"3 {count}, 1 run")
    p.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = p.parse_args(argv)
    if args.smoke:
        setattr(args, count, 3)
        args.runs = 1
    return args
