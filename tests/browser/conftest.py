"""A real site and a real browser for the UI tests.

``chat_site`` migrates and seeds a file SQLite database in a temporary folder
(``CHAT_SQLITE_PATH``, ``CHAT_MEDIA_ROOT``) and serves it with Daphne on a free
port: the embedded defaults (in-memory channel layer, local files), nothing
shared with a developer's ``db.sqlite3``. pytest-django's ``live_server`` is a
WSGI server and cannot carry the WebSocket, hence the subprocess.

``browser`` is Debian's Chromium driven by Playwright (never ``playwright
install``). Without it the tests skip, or fail when ``CHAT_REQUIRE_SERVICES=1``.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import need_service

REPO_ROOT = Path(__file__).resolve().parents[2]
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
# Loopback is reached directly, whatever proxy the environment names.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# base URL -> the environment its Daphne runs with (for manage.py against the same database)
SITE_ENVS = {}


def chromium_path():
    for candidate in (os.environ.get("CHAT_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def site_env(tmp):
    """Our environment less what would point the child at other services or at pytest."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST_") and k not in {"DATABASE_URL", "REDIS_URL", "CHAT_S3_BUCKET", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "chatsite.settings",
            "CHAT_SQLITE_PATH": str(tmp / "chat.sqlite3"),
            "CHAT_MEDIA_ROOT": str(tmp / "media"),
            "CHAT_DEMO_PASSWORD": DEMO_PASSWORD,
            "CHAT_SERVE_STATIC": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def manage(env, *args):
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


def wait_until_serving(url, process, log_path, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            with DIRECT.open(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"daphne did not answer {url} within {timeout} s:\n{log_path.read_text()}")


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
    port = free_port()
    log_path = tmp / "daphne.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "chatsite.asgi:application"],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    SITE_ENVS[base_url] = env
    try:
        wait_until_serving(base_url + "/accounts/login/", process, log_path)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def make_user(chat_site):
    """make_user("user1", nick="User One"): a user with the demo password in the site's database.

    The SDK docs' examples send to ``'user1'``; this lets them run unchanged.
    """
    made = set()

    def make(user_id, nick=""):
        if user_id in made:
            return
        code = (
            "from messaging.models import User\n"
            f"user, _ = User.objects.get_or_create(username={user_id!r}, defaults={{'nick': {nick!r}}})\n"
            f"user.set_password({DEMO_PASSWORD!r})\n"
            "user.save()\n"
        )
        manage(SITE_ENVS[chat_site], "shell", "-c", code)
        made.add(user_id)

    return make


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

    def open_page(user_id, *, viewport=None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 800}, base_url=chat_site)
        context.set_default_timeout(10_000)
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
    for context in contexts:
        context.close()
