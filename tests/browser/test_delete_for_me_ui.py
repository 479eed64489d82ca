"""Delete for me in the browser (docs/PROTOCOL.md §5.46–§5.47): "Delete for me" in a
message's menu and "Clear chat history" in the conversation's menu, each after a confirm
dialog; gone from my page, my other open page (live) and my conversation preview, still
there for the other person."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble, chat_between, conversation_item, send, unique

pytestmark = pytest.mark.browser


def preview(page, conversation_id):
    return conversation_item(page, conversation_id).get_by_test_id("conversation-preview")


def test_delete_one_message_then_clear_the_chat_for_me_only(open_as):
    first, second = unique("Keep this one"), unique("Delete this one")
    alice, bob = chat_between(open_as, "alice", "bob", first)
    send(alice.page, second)
    expect(bubble(bob.page, second)).to_be_visible()
    other_tab = open_as("bob")
    conversation_item(other_tab.page, "C2Calice").click()
    expect(bubble(other_tab.page, second)).to_be_visible()

    bubble(bob.page, second).click(button="right")
    bob.page.get_by_test_id("delete-message").click()
    dialog = bob.page.get_by_test_id("confirm-dialog")
    expect(dialog).to_contain_text("Delete this message for you?")
    bob.page.get_by_test_id("confirm-ok").click()

    expect(bubble(bob.page, second)).to_have_count(0)
    expect(bubble(bob.page, first)).to_be_visible()
    expect(preview(bob.page, "C2Calice")).to_contain_text(first)
    # Bob's other page follows live; Alice still has both.
    expect(bubble(other_tab.page, second)).to_have_count(0)
    expect(preview(other_tab.page, "C2Calice")).to_contain_text(first)
    expect(bubble(alice.page, second)).to_be_visible()
    expect(preview(alice.page, "C2Cbob")).to_contain_text(second)

    bob.page.get_by_test_id("conversation-menu-button").click()
    bob.page.get_by_test_id("clear-history-button").click()
    expect(dialog).to_contain_text("Clear chat history?")
    bob.page.get_by_test_id("confirm-ok").click()

    expect(bubble(bob.page, first)).to_have_count(0)
    expect(bubble(other_tab.page, first)).to_have_count(0)
    expect(conversation_item(bob.page, "C2Calice")).to_be_visible()
    expect(preview(bob.page, "C2Calice")).not_to_contain_text(first)
    bob.page.reload()
    bob.wait_ready()
    conversation_item(bob.page, "C2Calice").click()
    expect(bubble(bob.page, first)).to_have_count(0)
    expect(bubble(alice.page, first)).to_be_visible()
    expect(bubble(alice.page, second)).to_be_visible()

    # What Alice writes next reaches Bob as usual.
    after = unique("After the clear")
    send(alice.page, after)
    expect(bubble(bob.page, after)).to_be_visible()
