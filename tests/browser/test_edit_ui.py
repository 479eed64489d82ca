"""Editing a sent message in the browser (docs/PROTOCOL.md §5.51): "Edit" in the message
menu puts the text into the composer, Enter saves, Esc cancels; the other person's open
page shows the new text in place, marked "edited", without a reload."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble, chat_between, conversation_item, unique

pytestmark = pytest.mark.browser


def test_alice_edits_a_text_and_bob_sees_it_live_with_edited(open_as):
    typo = unique("Meet at the statoin")
    alice, bob = chat_between(open_as, "alice", "bob", typo)
    expect(bubble(alice.page, typo)).to_have_attribute("data-status", "success")
    composer = alice.page.get_by_test_id("composer-input")
    composer.fill("a draft of mine")

    # Esc cancels: the message stays, the draft comes back.
    bubble(alice.page, typo).click(button="right")
    alice.page.get_by_test_id("edit-message").click()
    expect(alice.page.get_by_test_id("edit-bar")).to_be_visible()
    expect(composer).to_have_value(typo)
    composer.press("Escape")
    expect(alice.page.get_by_test_id("edit-bar")).to_be_hidden()
    expect(composer).to_have_value("a draft of mine")

    fixed = typo.replace("statoin", "station")
    bubble(alice.page, typo).click(button="right")
    alice.page.get_by_test_id("edit-message").click()
    composer.fill(fixed)
    alice.page.screenshot(path="/tmp/edit-ui-editing.png")
    composer.press("Enter")

    expect(alice.page.get_by_test_id("edit-bar")).to_be_hidden()
    expect(composer).to_have_value("a draft of mine")
    expect(bubble(alice.page, fixed).get_by_test_id("message-edited")).to_have_text("edited")
    # Bob's open page: the same bubble, new text, "edited", no reload; the list's preview too.
    expect(bubble(bob.page, fixed).get_by_test_id("message-edited")).to_have_text("edited")
    expect(bubble(bob.page, typo)).to_have_count(0)
    expect(conversation_item(bob.page, "C2Calice").get_by_test_id("conversation-preview")).to_contain_text(fixed)
    bob.page.screenshot(path="/tmp/edit-ui-bob.png")
    # Bob may not edit Alice's message.
    bubble(bob.page, fixed).click(button="right")
    expect(bob.page.get_by_test_id("copy-message")).to_be_visible()
    expect(bob.page.get_by_test_id("edit-message")).to_have_count(0)

    # After a reload the history says the same.
    bob.page.reload()
    conversation_item(bob.page, "C2Calice").click()
    expect(bubble(bob.page, fixed).get_by_test_id("message-edited")).to_be_visible()
