"""``bench.run --experiment``: each what-if change becomes the environment that
bench/instrument.py reads when it starts Daphne (bench/stack.py)."""

import pytest

from bench.stack import EXPERIMENTS, experiment_env


def test_each_experiment_sets_its_variable():
    assert experiment_env(["db-threads=2"]) == {"BENCH_DB_THREADS": "2"}
    assert experiment_env(["db-parallel=3", "gc-freeze"]) == {"BENCH_DB_PARALLEL": "3", "BENCH_GC_FREEZE": "1"}
    assert "db-threads=N" in EXPERIMENTS


@pytest.mark.parametrize("item", ["db-threads", "db-threads=two", "no-such-thing"])
def test_an_unknown_or_incomplete_experiment_is_refused(item):
    with pytest.raises(SystemExit, match="unknown experiment"):
        experiment_env([item])
