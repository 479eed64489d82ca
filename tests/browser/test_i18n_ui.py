"""The two languages in the browser (issue 11 item 10): the login page, the conversation
list, a conversation and the settings in English and in Simplified Chinese, chosen from
the browser's language and switched in "Profile and settings"; dates and times in the
chosen locale. The catalogs themselves: tests/test_i18n.py."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.pages import bubble, conversation_item, send, start_chat, unique

pytestmark = pytest.mark.browser


def open_settings(page):
    page.get_by_test_id("account-button").click()
    page.get_by_test_id("settings-button").click()
    dialog = page.get_by_test_id("settings-dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_the_login_page_follows_the_browsers_language(browser, chat_site):
    for locale, heading, label, button in (
        ("zh-CN", "登录聊天", "用户 ID", "登录"),
        ("en-US", "Sign in to Chat", "User ID", "Sign in"),
    ):
        context = browser.new_context(base_url=chat_site, locale=locale)
        try:
            page = context.new_page()
            page.goto("/accounts/login/")
            expect(page.locator("h1")).to_have_text(heading)
            expect(page.locator(".field span").first).to_have_text(label)
            expect(page.get_by_test_id("login-submit")).to_have_text(button)
            # Submitted empty: the errors in the page's language.
            page.get_by_test_id("login-submit").click()
            expect(page.get_by_test_id("login-error")).to_contain_text(
                "请输入用户 ID。" if locale == "zh-CN" else "Enter your User ID."
            )
            page.fill("input[name=username]", "nobody-here")
            page.fill("input[name=password]", DEMO_PASSWORD)
        finally:
            context.close()


def test_the_chat_in_chinese_then_switched_to_english_in_the_settings(open_as, make_user):
    make_user("lin", nick="Lin")
    make_user("mei", nick="Mei")
    lin = open_as("lin", locale="zh-CN")
    page = lin.page
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    # The list: the template's texts and the UI's (the tabs are drawn by the modules).
    expect(page.get_by_test_id("conversation-filter")).to_have_attribute("placeholder", "搜索会话和消息")
    expect(page.locator("#placeholder-title")).to_have_text("欢迎使用聊天")  # no conversation yet
    expect(page.get_by_test_id("conversation-tabs")).to_contain_text("全部")
    expect(page.get_by_test_id("conversation-tabs")).to_contain_text("未读")

    # A conversation: the day separator, the 24-hour clock of zh-CN, the composer, the
    # message menu, and the full date in the bubble's tooltip ("2026年12月3日星期四 07:05").
    start_chat(page, "mei")
    text = unique("你好 mei")
    send(page, text)
    expect(bubble(page, text)).to_have_attribute("data-status", "success")
    expect(page.get_by_test_id("day-separator").last).to_have_text("今天")
    expect(page.get_by_test_id("composer-input")).to_have_attribute("placeholder", re.compile("输入消息"))
    expect(bubble(page, text)).to_have_attribute("title", re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日星期.+\d{2}:\d{2}$"))
    expect(conversation_item(page, "C2Cmei").locator(".conv-time, time").first).to_have_text(re.compile(r"^\d{2}:\d{2}$"))
    bubble(page, text).click(button="right")
    expect(page.get_by_test_id("recall-message")).to_have_text("撤回")
    expect(page.get_by_test_id("reply-message")).to_have_text("回复")
    # Recalled: the server's sentence, translated by the UI ("{revoker} recalled a message").
    page.get_by_test_id("recall-message").click()
    expect(page.get_by_test_id("revoked-message").last).to_contain_text("你 撤回了一条消息")
    expect(page.get_by_test_id("reedit-message")).to_have_text("重新编辑")

    # The error texts are in the page's catalog (the UI translates by code; the wire stays English).
    assert page.evaluate("() => gettext('The time to recall this message has passed.')") == "已超过可撤回时间。"

    # The settings: the language switch, in Chinese; choosing English reloads the page in English.
    dialog = open_settings(page)
    expect(dialog.locator("#settings-language-title")).to_have_text("语言")
    expect(dialog.get_by_test_id("settings-save")).to_have_text("保存")
    dialog.get_by_test_id("settings-language").select_option("en")
    page.wait_for_function("() => document.documentElement.lang === 'en'")
    lin.wait_ready()
    expect(page.get_by_test_id("conversation-filter")).to_have_attribute("placeholder", "Search chats and messages")
    conversation_item(page, "C2Cmei").click()
    expect(page.get_by_test_id("day-separator").last).to_have_text("Today")
    # The choice is kept (the language cookie) over the browser's Chinese.
    page.reload()
    lin.wait_ready()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#placeholder-title")).to_have_text("Select a conversation")

    # And back to Chinese.
    dialog = open_settings(page)
    expect(dialog.locator("#settings-language-title")).to_have_text("Language")
    dialog.get_by_test_id("settings-language").select_option("zh-hans")
    page.wait_for_function("() => document.documentElement.lang === 'zh-hans'")
    lin.wait_ready()
    expect(page.locator("#placeholder-title")).to_have_text("选择一个会话")


def test_the_chat_in_english_stays_english(open_as, make_user):
    make_user("nora", nick="Nora")
    make_user("omar", nick="Omar")
    nora = open_as("nora")
    page = nora.page
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("conversation-filter")).to_have_attribute("placeholder", "Search chats and messages")
    expect(page.get_by_test_id("conversation-tabs")).to_contain_text("Unread")
    start_chat(page, "omar")
    text = unique("hello omar")
    send(page, text)
    expect(bubble(page, text)).to_have_attribute("data-status", "success")
    expect(page.get_by_test_id("day-separator").last).to_have_text("Today")
    # en-US: "Thursday, December 3, 2026 at 7:05 AM"
    expect(bubble(page, text)).to_have_attribute(
        "title", re.compile(r"^[A-Z][a-z]+day, [A-Z][a-z]+ \d{1,2}, \d{4} at \d{1,2}:\d{2}\s?[AP]M$")
    )
    dialog = open_settings(page)
    expect(dialog.locator("#settings-language-title")).to_have_text("Language")
    expect(dialog.get_by_test_id("settings-language")).to_have_value("en")
