import contextlib
import os

import pytest
from channels.layers import channel_layers
from django.test import Client

from messaging import actions, presence, ratelimit, runtime
from tests.chat_helpers import FakeClock

REQUIRE_SERVICES = os.environ.get("CHAT_REQUIRE_SERVICES") == "1"


def need_service(name, reason):
    """Skip when a real service is absent, or fail when CI says services are required."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{name} is required (CHAT_REQUIRE_SERVICES=1) but {reason}")
    pytest.skip(f"{name} not available: {reason}")


def pytest_collection_modifyitems(config, items):
    """Browser tests run last: Playwright's sync API keeps its event loop marked as
    running on the main thread while the session-scoped browser lives, and async
    tests after it would find a running loop."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True, scope="session")
def unhashed_static_files(tmp_path_factory):
    """Pages rendered in this process name static files unhashed: the hashed names need
    ``collectstatic``, which the tests' servers run (tests/servers.py) and this process
    does not (an empty STATIC_ROOT, which WhiteNoise would warn about were it missing).
    The real storage is tested against a real server (tests/test_static_files.py)."""
    from django.conf import settings
    from django.test import override_settings

    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    with override_settings(STORAGES=storages, STATIC_ROOT=tmp_path_factory.mktemp("static_root")):
        yield


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """Each test gets a new in-memory channel layer bound to its own event loop."""
    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    """Each test starts with empty group send counters (thread IDs repeat between tests)."""
    ratelimit.reset()
    yield
    ratelimit.reset()


@pytest.fixture(autouse=True)
def default_runtime_settings():
    """Each test starts with the deployment's defaults for the run-time settings, read
    without a query (messaging/runtime.py); a test changes them through the action."""
    runtime.use_defaults()
    yield
    runtime.use_defaults()


@pytest.fixture(autouse=True)
def fresh_presence():
    """Each test starts with nobody online (the in-memory presence store is per process)."""
    presence.reset()
    yield
    presence.reset()


@pytest.fixture
def boss(db):
    """A superuser: the moderator of the admin tests (made by the action, as every user)."""
    return actions.create_user("boss", password="pw-boss", nick="Boss", is_superuser=True)


def make_user(username, nick=""):
    return actions.create_user(username, password="pw-" + username, nick=nick or username.title())


@pytest.fixture
def users(db):
    return {name: make_user(name) for name in ("alice", "bob", "carol", "dave")}


@pytest.fixture
def alice(users):
    return users["alice"]


@pytest.fixture
def bob(users):
    return users["bob"]


@pytest.fixture
def carol(users):
    return users["carol"]


@pytest.fixture
def dave(users):
    return users["dave"]


@pytest.fixture
async def open_tab():
    """``await open_tab(user)``: a WebSocket tab of ``user`` (tests/ws.py); every tab
    opened is closed at teardown."""
    from tests.ws import Tab  # the ASGI application loads Django's apps: import it late

    opened = []

    async def opener(user):
        tab = await Tab.open(user)
        opened.append(tab)
        return tab

    yield opener
    for tab in opened:
        # A failed wait may already have cancelled the app; cleanup must not mask that failure.
        with contextlib.suppress(Exception):
            await tab.close()


def session_cookie(user):
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


@pytest.fixture
def frozen_rate_clock(monkeypatch):
    """The process's rate limit on a fresh memory counter and a clock the test moves, so
    that sends never straddle two of the group's one-second windows."""
    clock = FakeClock()
    limit = ratelimit.RateLimit(ratelimit.MemoryCounter(), clock=clock)
    monkeypatch.setattr(ratelimit, "rate_limit", lambda: limit)
    return clock


@pytest.fixture
def compiles(monkeypatch):
    """The querysets compiled from here on, one entry per ``SQLCompiler.pre_sql_setup``
    call: what a read compiled once (messaging/compiled.py) must not add to after its
    first call. ``compiles.clear()`` starts the count again."""
    from django.db.models.sql.compiler import SQLCompiler

    count = []
    original = SQLCompiler.pre_sql_setup
    monkeypatch.setattr(SQLCompiler, "pre_sql_setup", lambda self, *a, **k: count.append(1) or original(self, *a, **k))
    return count
