"""The core actions under concurrency on PostgreSQL, run in a child pytest.

Why a child process: the main run's Django is configured once, at start-up, on
SQLite (the embedded default), and the actions write through the default
connection (``transaction.atomic()``, ``connection.cursor()``); a second database
alias would not reach them, and re-pointing ``default`` in a live process would fight
pytest-django's own test database. So this module runs
``pg_suite/concurrent_actions.py`` in ``python -m pytest`` with
``DATABASE_URL=postgres://.../chat_it_<random>``: the real settings switch to
PostgreSQL with the connection pool exactly as in production, and pytest-django
creates and drops ``test_chat_it_<random>`` (unique, so parallel runs don't collide;
dropped here too if the child was killed). The child writes a JUnit report; each
of its tests becomes one test here, so a failure is reported by name with the
child's own message.
"""

import ast
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.integration.conftest import drop_database, unique_name
from tests.servers import REPO_ROOT, child_env, run_python

pytestmark = pytest.mark.integration

SUITE = Path(__file__).parent / "pg_suite" / "concurrent_actions.py"
SUITE_TIMEOUT = 900  # seconds for the whole child run
INNER_TESTS = [
    node.name
    for node in ast.parse(SUITE.read_text()).body
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
]


@pytest.fixture(scope="module")
def pg_suite(postgres_url, tmp_path_factory):
    """Run the child suite once; returns ({test name: (outcome, detail)}, child output)."""
    name = unique_name("chat_it")
    report = tmp_path_factory.mktemp("pg_suite") / "junit.xml"
    env = child_env(DATABASE_URL=f"{postgres_url}/{name}", DJANGO_SETTINGS_MODULE="chatsite.settings", CHAT_DB_POOL_MAX=20)
    env.pop("REDIS_URL", None)  # the in-memory layer: these tests are about the database
    env["CHAT_GROUP_SEND_RATE"] = "100000"  # ...and send hundreds of group messages a second
    try:
        result = run_python(
            ["-m", "pytest", str(SUITE.relative_to(REPO_ROOT)), "-p", "no:cacheprovider", "-q", f"--junitxml={report}"],
            env,
            timeout=SUITE_TIMEOUT,
        )
    finally:
        # pytest-django drops it itself; this is for a child killed by the timeout.
        drop_database(postgres_url, f"test_{name}")
    output = f"exit code {result.returncode}\n{result.stdout[-6000:]}\n{result.stderr[-3000:]}"
    assert report.exists(), f"the child pytest wrote no report:\n{output}"
    outcomes = {}
    for case in ET.parse(report).iter("testcase"):
        problem = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        if problem is None:
            outcomes[case.get("name")] = ("passed", "")
        else:
            outcomes[case.get("name")] = (problem.tag, f"{problem.get('message', '')}\n{problem.text or ''}")
    return outcomes, output


def test_child_suite_ran_every_test(pg_suite):
    outcomes, output = pg_suite
    assert sorted(outcomes) == sorted(INNER_TESTS), f"the child ran {sorted(outcomes)}:\n{output}"


@pytest.mark.parametrize("name", INNER_TESTS)
def test_on_postgresql(pg_suite, name):
    outcomes, output = pg_suite
    outcome, detail = outcomes.get(name, ("missing", ""))
    assert outcome == "passed", f"{name}: {outcome}\n{detail[-6000:]}\n--- child output ---\n{output}"
