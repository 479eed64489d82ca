"""Group read receipts in the browser (docs/PROTOCOL.md §5.22–5.24): a message the UI sends to
a group asks for receipts; members who see it confirm it; the sender's open page shows
"1 read", then "2 read", live, a click lists who read it and who has not, and counts
missed while offline are fetched again after the reconnect."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble, conversation_item, send, unique

pytestmark = pytest.mark.browser


def read_count(page, text):
    row = page.locator(".msg-row", has=bubble(page, text))
    return row.get_by_test_id("read-count")


def test_members_reading_a_group_message_show_n_read_and_the_member_lists(open_as):
    alice = open_as("alice")
    bob = open_as("bob")
    carol = open_as("carol")
    text = unique("Please read the plan")
    conversation_item(alice.page, "GROUPdemo").click()
    send(alice.page, text)
    expect(bubble(alice.page, text)).to_have_attribute("data-status", "success")
    # Nobody has read it yet.
    expect(read_count(alice.page, text)).to_have_text(re.compile(r"^0 read$"))

    conversation_item(bob.page, "GROUPdemo").click()
    expect(bubble(bob.page, text)).to_be_visible()
    expect(read_count(alice.page, text)).to_have_text("1 read")

    conversation_item(carol.page, "GROUPdemo").click()
    expect(bubble(carol.page, text)).to_be_visible()
    expect(read_count(alice.page, text)).to_have_text("2 read")
    # Receivers see no count under other people's messages.
    expect(read_count(bob.page, text)).to_have_count(0)

    count = read_count(alice.page, text)
    expect(count).to_have_attribute("aria-label", re.compile("Show who read this message"))
    count.focus()
    alice.page.keyboard.press("Enter")
    dialog = alice.page.get_by_test_id("receipts-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("receipts-read").locator("li")).to_have_count(2)
    expect(dialog.get_by_test_id("receipts-read")).to_contain_text("Bob")
    expect(dialog.get_by_test_id("receipts-read")).to_contain_text("Carol")
    expect(dialog.get_by_test_id("receipts-unread")).to_contain_text("Dave")
    alice.page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()

    # Dave reads it while Alice's socket is down: the event is lost, and the count is
    # fetched again once she is back (sync carries messages, not counts).
    alice.page.evaluate("() => { chat._url = () => 'ws://127.0.0.1:9/ws/chat/'; chat._socket.close(); }")
    expect(alice.page.locator("#netbar")).to_be_visible()
    dave = open_as("dave")
    conversation_item(dave.page, "GROUPdemo").click()
    expect(bubble(dave.page, text)).to_be_visible()
    dave.page.wait_for_timeout(1500)  # his receipt is sent (batched) and committed
    expect(read_count(alice.page, text)).to_have_text("2 read")
    alice.page.evaluate("() => { delete chat._url; }")
    expect(read_count(alice.page, text)).to_have_text(re.compile(r"^(All read|3 read)$"), timeout=30_000)
