"""Reactions in the browser (docs/PROTOCOL.md §5.54–5.57, §6.19): Alice reacts from the
message menu's quick row; Bob sees the chip live with its count and, on hover, who reacted;
his click adds his own (Alice's count follows), the full picker adds one of the site's own
emoji, and a second click takes his back. A reload shows the same (fetched in one batch)."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble, conversation_item, send, unique

pytestmark = pytest.mark.browser


def chip(page, text, reaction_id):
    row = page.locator(".msg-row", has=bubble(page, text))
    return row.locator(f'[data-testid="reaction-chip"][data-reaction-id="{reaction_id}"]')


def test_bob_sees_alices_reaction_live_with_the_count_and_who_reacted(open_as):
    alice = open_as("alice")
    bob = open_as("bob")
    text = unique("Ship it on Friday?")
    conversation_item(alice.page, "GROUPdemo").click()
    conversation_item(bob.page, "GROUPdemo").click()
    send(alice.page, text)
    expect(bubble(alice.page, text)).to_have_attribute("data-status", "success")
    expect(bubble(bob.page, text)).to_be_visible()

    bubble(alice.page, text).click(button="right")
    menu = alice.page.get_by_test_id("message-menu")
    expect(menu.get_by_test_id("quick-reaction")).to_have_count(6)
    menu.locator('[data-testid="quick-reaction"][data-reaction-id="👍"]').click()
    expect(menu).to_be_hidden()
    expect(chip(alice.page, text, "👍")).to_have_class("reaction-chip is-mine")

    # Bob's page follows live: the chip, its count, and who reacted on hover.
    thumbs = chip(bob.page, text, "👍")
    expect(thumbs.get_by_test_id("reaction-count")).to_have_text("1")
    expect(thumbs).to_have_attribute("aria-pressed", "false")
    thumbs.hover()
    who = bob.page.get_by_test_id("reaction-who")
    expect(who).to_be_visible()
    expect(who).to_contain_text("Alice")
    expect(who).to_contain_text("reacted with 👍")
    bob.page.screenshot(path="/tmp/reactions-hover.png")

    # Bob joins in: both pages count 2, and the hover names both.
    thumbs.click()
    expect(thumbs.get_by_test_id("reaction-count")).to_have_text("2")
    expect(thumbs).to_have_attribute("aria-pressed", "true")
    expect(chip(alice.page, text, "👍").get_by_test_id("reaction-count")).to_have_text("2")
    chip(alice.page, text, "👍").hover()
    expect(alice.page.get_by_test_id("reaction-who")).to_contain_text("You and Bob")

    # The full picker (the site's own emoji too) from the menu's "+".
    bubble(bob.page, text).click(button="right")
    bob.page.get_by_test_id("message-menu").get_by_test_id("reaction-more").click()
    picker = bob.page.get_by_test_id("reaction-picker")
    expect(picker).to_be_visible()
    picker.locator('[data-testid="reaction-picker-item"][data-code="[微笑]"]').click()
    expect(picker).to_be_hidden()
    smile = chip(alice.page, text, "[微笑]")
    expect(smile.get_by_test_id("reaction-count")).to_have_text("1")
    expect(smile.locator("img.reaction-emoji")).to_have_count(1)
    alice.page.screenshot(path="/tmp/reactions-alice.png")

    # Bob takes his 👍 back; Alice's count drops live.
    thumbs.click()
    expect(chip(alice.page, text, "👍").get_by_test_id("reaction-count")).to_have_text("1")
    expect(thumbs).to_have_attribute("aria-pressed", "false")

    # A fresh page fetches the same for the messages it shows.
    bob.page.reload()
    conversation_item(bob.page, "GROUPdemo").click()
    expect(chip(bob.page, text, "👍").get_by_test_id("reaction-count")).to_have_text("1")
    expect(chip(bob.page, text, "[微笑]")).to_have_attribute("aria-pressed", "true")
