"""The Content-Security-Policy (chatsite/settings.py) holds on every page without
breaking one: the chat (also checked after every browser test, tests/browser/conftest.py),
the login and lockout pages and the moderators' admin. An inline script is refused."""

import base64
import hashlib
import re

import pytest

pytestmark = pytest.mark.browser

ADMIN_PAGES = [
    "/admin/",
    "/admin/messaging/message/",
    "/admin/messaging/user/",
    "/admin/messaging/group/",
    "/admin/messaging/user/add/",
    "/admin/messaging/group/?q=demo",
]


def violations(page):
    return page.evaluate("() => window.__cspViolations || []")


def watch(context):
    context.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )


def test_the_chat_page_sends_the_policy_and_an_inline_script_is_refused(open_as):
    alice = open_as("alice")
    response = alice.page.request.get("/")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "object-src 'none'" in policy

    alice.page.evaluate(
        """() => { const s = document.createElement('script'); s.textContent = 'window.__ran = true';
                   document.body.append(s); }"""
    )
    assert alice.page.evaluate("() => window.__ran === undefined")
    alice.console.clear()  # the refusal above was this test's own doing


def test_login_and_admin_pages_hold_under_the_policy(browser, chat_site, make_user):
    context = browser.new_context(base_url=chat_site)
    watch(context)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/accounts/login/")
    assert page.get_by_test_id("login-submit").is_visible()
    assert violations(page) == []

    from tests.browser.conftest import DEMO_PASSWORD

    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(chat_site + "/")
    for path in ADMIN_PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        assert "content-security-policy" in response.headers
        assert violations(page) == [], (path, violations(page))
    assert errors == []
    context.close()


def test_the_server_api_docs_page_renders_under_the_policy(browser, chat_site):
    context = browser.new_context(base_url=chat_site)
    watch(context)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto("/api/v1/docs")
    assert response.status == 200 and "content-security-policy" in response.headers
    page.locator(".opblock-summary-path", has_text="/api/v1/c2c/messages/batch").wait_for()
    assert page.locator(".opblock").count() == 18
    assert violations(page) == [] and errors == []
    context.close()


def test_the_ui_modules_load_by_hashed_name_through_the_import_map(open_as):
    """The page's import map (chatsite/staticfiles.py) sends the UI's relative imports to
    the hashed files; the policy allows that one inline script by its hash, no other."""
    alice = open_as("alice")
    html = alice.page.request.get("/").text()
    policy = alice.page.request.get("/").headers["content-security-policy"]
    import_map = re.search(r'<script type="importmap">(.*?)</script>', html).group(1)
    digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy

    loaded = alice.page.evaluate("() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)")
    modules = [path for path in loaded if path.startswith("/static/chat/") and path.endswith(".js")]
    assert any(path.startswith("/static/chat/ui/") for path in modules), modules
    unhashed = [path for path in modules if not re.search(r"\.[0-9a-f]{12}\.js$", path)]
    assert unhashed == [], f"loaded by their unhashed names (cached 60 s only): {unhashed}"
