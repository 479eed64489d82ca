"""A real site and a real browser for the UI tests.

``chat_site`` migrates and seeds a file SQLite database in a temporary folder
(``CHAT_SQLITE_PATH``, ``CHAT_MEDIA_ROOT``) and serves it with Daphne on a free
port: the embedded defaults (in-memory channel layer, local files), nothing
shared with a developer's ``db.sqlite3``. pytest-django's ``live_server`` is a
WSGI server and cannot carry the WebSocket, hence the subprocess (started and
stopped by ``tests/servers.py``, as the integration tests' Daphnes are).

``browser`` is Debian's Chromium driven by Playwright (never ``playwright
install``). Without it the tests skip, or fail when ``CHAT_REQUIRE_SERVICES=1``.
"""

import os
import shutil

import pytest

from tests.conftest import need_service
from tests.servers import child_env, manage, start_daphne

DEMO_PASSWORD = "chat-demo-2026"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# base URL -> the environment its Daphne runs with (for manage.py against the same database)
SITE_ENVS = {}


def chromium_path():
    for candidate in (os.environ.get("CHAT_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def site_env(tmp):
    """Our environment less what would point the child at other services or at pytest."""
    return child_env(
        unset={"DATABASE_URL", "REDIS_URL", "CHAT_S3_BUCKET", "DJANGO_SETTINGS_MODULE"},
        DJANGO_SETTINGS_MODULE="chatsite.settings",
        CHAT_SQLITE_PATH=tmp / "chat.sqlite3",
        CHAT_MEDIA_ROOT=tmp / "media",
        CHAT_DEMO_PASSWORD=DEMO_PASSWORD,
        CHAT_SERVE_STATIC="1",  # WhiteNoise, from tests/servers.py's collected_static()
        # A closed page's user goes offline 2 s later (not 10): tests/browser/test_presence_ui.py.
        CHAT_PRESENCE_GRACE="2",
        PYTHONUNBUFFERED="1",
    )


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    if not path:
        need_service("Chromium", "/usr/bin/chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def chat_site(chromium, tmp_path_factory):
    """The base URL of a Daphne serving a freshly seeded database (alice, bob, carol, dave; group ``demo``)."""
    tmp = tmp_path_factory.mktemp("chat_site")
    env = site_env(tmp)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "seed_demo")
    with start_daphne(env, tmp) as daphne:
        SITE_ENVS[daphne.origin] = env
        yield daphne.origin


@pytest.fixture(scope="session")
def make_user(chat_site):
    """make_user("user1", nick="User One"): a user with the demo password in the site's database.

    The SDK docs' examples send to ``'user1'``; this lets them run unchanged.
    """
    made = set()

    def make(user_id, nick=""):
        if user_id in made:
            return
        # Through the action, as every write; the seeded users already have the demo password.
        code = (
            "from messaging import actions\n"
            "from messaging.models import User\n"
            f"if not User.objects.filter(username={user_id!r}).exists():\n"
            f"    actions.create_user({user_id!r}, password={DEMO_PASSWORD!r}, nick={nick!r})\n"
        )
        manage(SITE_ENVS[chat_site], "shell", "-c", code)
        made.add(user_id)

    return make


@pytest.fixture(scope="session")
def site_shell(chat_site):
    """site_shell(code): the standard output of ``manage.py shell -c code`` run against the
    site's database, to observe what the browser did (writes go through the pages)."""

    def run(code):
        return manage(SITE_ENVS[chat_site], "shell", "-c", code)

    return run


@pytest.fixture(scope="session")
def site_manage(chat_site):
    """site_manage("shell", "-c", code): manage.py against the site's database."""
    return lambda *args: manage(SITE_ENVS[chat_site], *args)


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


class UserPage:
    """One logged-in user's tab, with the console and page errors it produced."""

    def __init__(self, page, user_id):
        self.page = page
        self.user_id = user_id
        self.console = []
        self.errors = []
        page.on("console", lambda message: self.console.append(message))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def wait_ready(self):
        """The SDK is ready and the conversation list has been drawn."""
        self.page.wait_for_function(
            "() => window.chat && window.chat.isReady() && !document.getElementById('app').classList.contains('is-booting')"
        )


@pytest.fixture
def open_as(browser, chat_site):
    """open_as("alice", viewport=...) -> a UserPage logged in through the login form, in its own context."""
    contexts = []
    pages = []

    def open_page(user_id, *, viewport=None, init_script=None, permissions=None, locale=None):
        """init_script: JavaScript run before every page of the context (add_init_script);
        permissions: what the browser grants the site, e.g. ["notifications"];
        locale: the browser's language (its Accept-Language and navigator.language), e.g.
        "zh-CN"; Playwright's default is "en-US"."""
        context = browser.new_context(
            viewport=viewport or {"width": 1280, "height": 800},
            base_url=chat_site,
            permissions=permissions or [],
            **({"locale": locale} if locale else {}),
        )
        context.set_default_timeout(10_000)
        if init_script:
            context.add_init_script(init_script)
        contexts.append(context)
        user = UserPage(context.new_page(), user_id)
        pages.append(user)
        user.page.goto("/accounts/login/")
        user.page.fill("input[name=username]", user_id)
        user.page.fill("input[name=password]", DEMO_PASSWORD)
        user.page.click("button[type=submit]")
        user.page.wait_for_url(chat_site + "/")
        user.wait_ready()
        return user

    yield open_page
    for user in pages:
        assert not user.errors, f"{user.user_id}'s page raised: {user.errors}"
        # Every browser test checks the Content-Security-Policy too: Chromium reports a
        # blocked script, style or file on the console.
        # (Tests that take a tab offline point its socket at ws://127.0.0.1:9, which the
        # policy refuses too: that refusal is theirs.)
        refused = [m.text for m in user.console if "Content Security Policy" in m.text and "127.0.0.1:9/" not in m.text]
        assert not refused, f"{user.user_id}'s page broke the CSP: {refused}"
    for context in contexts:
        context.close()
