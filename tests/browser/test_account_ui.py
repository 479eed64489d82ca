"""The user's own account in the browser: "Download your data" and "Delete account" in
"Profile and settings", the sign-up page while open sign-up is on, and the password reset
pages (each with the Content-Security-Policy intact)."""

import re
import time
import zipfile

import pytest
from playwright.sync_api import expect

from tests.browser.pages import conversation_item, send, start_chat, unique

pytestmark = pytest.mark.browser


def open_settings(page):
    page.get_by_test_id("account-button").click()
    page.get_by_test_id("settings-button").click()
    dialog = page.get_by_test_id("settings-dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_download_then_delete_my_account_the_peer_sees_deleted_user(open_as, make_user, tmp_path):
    vera_id, walt_id = unique("vera").replace(" ", "-"), unique("walt").replace(" ", "-")
    make_user(vera_id, nick="Vera")
    make_user(walt_id, nick="Walt")
    vera, walt = open_as(vera_id), open_as(walt_id)
    start_chat(vera.page, walt_id)
    text = unique("from vera")
    send(vera.page, text)
    expect(conversation_item(walt.page, f"C2C{vera_id}")).to_contain_text("Vera")

    dialog = open_settings(vera.page)
    with vera.page.expect_download() as download_info:
        dialog.get_by_test_id("export-data-link").click()
    download = download_info.value
    assert download.suggested_filename == f"chat-export-{vera_id}.zip"
    path = tmp_path / "export.zip"
    download.save_as(path)
    with zipfile.ZipFile(path) as archive:
        assert text in archive.read(f"messages/C2C{walt_id}.json").decode()

    dialog.get_by_test_id("delete-account-button").click()
    confirm = vera.page.get_by_test_id("delete-account-dialog")
    expect(confirm).to_be_visible()
    expect(dialog).to_be_hidden()
    confirm.get_by_test_id("delete-account-password").fill("not my password")
    confirm.get_by_test_id("delete-account-confirm").click()
    expect(confirm.locator("[data-error]")).to_have_text("That password isn't right.")
    confirm.get_by_test_id("delete-account-password").fill("chat-demo-2026")
    confirm.get_by_test_id("delete-account-confirm").click()

    vera.page.wait_for_url(re.compile(r"/accounts/login/\?deleted=1$"))
    expect(vera.page.get_by_test_id("account-deleted")).to_be_visible()
    # walt's open page: the conversation and the message now name "Deleted user".
    expect(conversation_item(walt.page, f"C2C{vera_id}")).to_contain_text("Deleted user")
    # vera cannot sign in again.
    vera.page.fill("input[name=username]", vera_id)
    vera.page.fill("input[name=password]", "chat-demo-2026")
    vera.page.click("button[type=submit]")
    expect(vera.page.get_by_test_id("login-error")).to_be_visible()


def set_open_signup(site_manage, value):
    code = (
        "from messaging import actions\n"
        "from messaging.models import User\n"
        "admin = User.objects.filter(is_superuser=True).first() or actions.create_user('signup-admin', is_superuser=True)\n"
        f"actions.update_chat_settings(admin, {{'open_signup': {value!r}}})\n"
    )
    site_manage("shell", "-c", code)


def csp_refusals(messages):
    return [m.text for m in messages if "Content Security Policy" in m.text]


def test_sign_up_while_open_then_chat(browser, chat_site, site_manage):
    set_open_signup(site_manage, True)
    try:
        context = browser.new_context(base_url=chat_site)
        context.set_default_timeout(10_000)
        page = context.new_page()
        console = []
        page.on("console", lambda message: console.append(message))
        # The daphne process reads the settings again within RUNTIME_SETTINGS_TTL (5 s).
        deadline = time.monotonic() + 12
        while True:
            page.goto("/accounts/login/")
            if page.get_by_test_id("signup-link").count() or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        page.get_by_test_id("signup-link").click()
        expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
        user_id = unique("newcomer").replace(" ", "-")
        page.get_by_test_id("signup-username").fill(user_id)
        page.get_by_test_id("signup-nick").fill("New Comer")
        page.get_by_test_id("signup-password1").fill("a-good-passw0rd")
        page.get_by_test_id("signup-password2").fill("a-good-passw0rd")
        page.get_by_test_id("signup-submit").click()
        page.wait_for_url(chat_site + "/")
        page.wait_for_function("() => window.chat && window.chat.isReady()")
        expect(page.locator("#me-name")).to_have_text("New Comer")
        page.goto("/accounts/password_reset/")
        expect(page.get_by_test_id("password-reset-email")).to_be_visible()
        assert not csp_refusals(console), csp_refusals(console)
        context.close()
    finally:
        set_open_signup(site_manage, None)
