"""Banned words end to end: a moderator lists a word in the admin's Chat settings; a text
with it is refused and the sender's bubble says why in words; switched to "mask", it
reaches the peer with the word hidden (issue 9, item 2)."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.pages import bubble, conversation_item, send, start_chat, unique

pytestmark = pytest.mark.browser


def set_banned_words(browser, chat_site, words, action):
    """Through the admin's form, as a moderator would (the change applies in the site's
    process at once; a second process would follow within RUNTIME_SETTINGS_TTL)."""
    context = browser.new_context(base_url=chat_site)
    page = context.new_page()
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(chat_site + "/")
    page.goto("/admin/messaging/chatsettings/")
    page.fill("textarea[name=banned_words]", words)
    page.select_option("select[name=banned_words_action]", action)
    page.fill("textarea[name=reason]", "browser test")
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_contain_text("changed successfully")
    context.close()


@pytest.fixture
def banned(browser, chat_site):
    def apply(words, action="refuse"):
        set_banned_words(browser, chat_site, words, action)

    yield apply
    set_banned_words(browser, chat_site, "", "")


def test_a_banned_word_is_refused_and_then_masked(open_as, browser, chat_site, banned):
    word = unique("zorblax").replace(" ", "")
    banned(word)
    alice, bob = open_as("alice"), open_as("bob")
    start_chat(alice.page, "bob")

    refused = unique(f"you {word.upper()}")
    send(alice.page, refused)
    failed = bubble(alice.page, refused)
    expect(failed).to_have_attribute("data-status", "fail")
    expect(alice.page.get_by_text("The message contains words that aren't allowed.").first).to_be_visible()

    banned(word, "mask")
    masked = unique("hello")
    send(alice.page, f"{masked} {word}")
    # The sender's bubble shows what was stored, as the server's reply says.
    expect(bubble(alice.page, masked)).to_contain_text(f"{masked} {'*' * len(word)}")
    conversation_item(bob.page, "C2Calice").click()
    expect(bubble(bob.page, masked)).to_contain_text(f"{masked} {'*' * len(word)}")
    expect(bubble(bob.page, masked)).not_to_contain_text(word)
