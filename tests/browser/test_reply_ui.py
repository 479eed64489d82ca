"""Reply with a quote in the browser (issue 11 item 3; docs/PROTOCOL.md §4.8, §5.52,
§5.53): alice replies to an old message of bob's from its menu; the reply shows the quote
(bob's name and the text); a click on the quote scrolls to the original and highlights it,
also after a reload when the original is far above what is loaded (findMessage, then
getMessageListHopping down to the loaded messages); once bob recalls the original, the
quote says "Original message recalled", live and after a reload."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble, conversation_item, unique

pytestmark = pytest.mark.browser

FILLER = 60  # 4 pages of 15 between the original and the latest page


def scroll_up_to(page, text):
    """Scroll the history up (loading older pages) until a bubble with ``text`` is drawn."""
    page.wait_for_function(
        """(text) => {
            const box = document.getElementById('messages');
            box.scrollTop = 0;
            return [...box.querySelectorAll('[data-testid=message-bubble]')].some((b) => b.textContent.includes(text));
        }""",
        arg=text,
        polling=250,
        timeout=20_000,
    )


def send_as_sdk(page, to, texts):
    """Send ``texts`` to the C2C peer ``to`` through the page's SDK, one after the other;
    the first Message is kept as ``window.originalMessage`` (to recall it later)."""
    page.evaluate(
        """async ([to, texts]) => {
            for (const text of texts) {
                const sent = await chat.sendMessage(chat.createTextMessage({to, conversationType: TIM.TYPES.CONV_C2C, payload: {text}}));
                if (!window.originalMessage) window.originalMessage = sent.data.message;
            }
        }""",
        [to, texts],
    )


def bobs_bubble(page, text):
    """Bob's own bubble with ``text`` (not alice's reply, whose quote shows the same text)."""
    return page.locator('.msg-row.in [data-testid="message-bubble"]', has_text=text)


def original_row(page, text):
    return page.locator(".msg-row.in", has=page.locator('[data-testid="message-bubble"]', has_text=text))


def expect_jumped_to(page, text):
    row = original_row(page, text)
    expect(row).to_be_in_viewport()
    expect(row).to_have_class(re.compile(r"\bis-highlighted\b"))


def test_alice_replies_to_an_old_message_the_quote_jumps_to_it_and_tells_of_its_recall(open_as, make_user, site_shell):
    make_user("reply_alice")
    make_user("reply_bob", nick="Bob")
    bob = open_as("reply_bob")
    original = unique("Where shall we meet")
    send_as_sdk(bob.page, "reply_alice", [original] + [f"Filler {n}" for n in range(1, FILLER + 1)])

    alice = open_as("reply_alice")
    page = alice.page
    # Read already (elsewhere): opening the chat loads the latest page only, not every unread one.
    page.evaluate("() => chat.setMessageRead({conversationID: 'C2Creply_bob'})")
    expect(conversation_item(page, "C2Creply_bob").get_by_test_id("unread-badge")).to_have_count(0)
    conversation_item(page, "C2Creply_bob").click()
    expect(bubble(page, f"Filler {FILLER}")).to_be_visible()
    expect(bobs_bubble(page, original)).to_have_count(0)

    # Alice scrolls up to the old message and replies to it from its menu.
    scroll_up_to(page, original)
    bobs_bubble(page, original).click(button="right")
    page.get_by_test_id("reply-message").click()
    bar = page.get_by_test_id("reply-bar")
    expect(bar).to_be_visible()
    expect(bar).to_contain_text("Replying to Bob")
    expect(bar).to_contain_text(original)
    composer = page.get_by_test_id("composer-input")
    expect(composer).to_be_focused()
    answer = unique("At the station")
    composer.fill(answer)
    composer.press("Enter")
    expect(bar).to_be_hidden()

    reply = bubble(page, answer)
    expect(reply).to_have_attribute("data-status", "success")
    quote = reply.get_by_test_id("message-quote")
    expect(quote).to_contain_text("Bob")
    expect(quote.get_by_test_id("quote-text")).to_have_text(original)

    # Stored as TUIKit stores it.
    stored = site_shell(
        f"from messaging.models import Message; print(Message.objects.get(payload__text={answer!r}).cloud_custom_data)"
    )
    data = json.loads(stored.strip().splitlines()[-1])["messageReply"]  # the last line: shell prints a banner
    assert data["messageAbstract"] == original and data["messageSender"] == "Bob" and data["version"] == 1
    assert data["messageType"] == 1 and data["messageSequence"] == 1

    # The original is loaded but scrolled out of sight: the quote scrolls to it.
    page.evaluate("() => { const box = document.getElementById('messages'); box.scrollTop = box.scrollHeight; }")
    expect(original_row(page, original)).not_to_be_in_viewport()
    quote.click()
    expect_jumped_to(page, original)

    # After a reload only the latest page is loaded: the quote loads down to the original.
    page.reload()
    alice.wait_ready()
    conversation_item(page, "C2Creply_bob").click()
    expect(bubble(page, answer)).to_be_visible()
    expect(bobs_bubble(page, original)).to_have_count(0)
    bubble(page, answer).get_by_test_id("message-quote").click()
    expect_jumped_to(page, original)
    # The history has no gap: every filler message between is there, once.
    texts = page.locator('[data-testid="message-bubble"] .msg-text').all_inner_texts()
    fillers = [t for t in texts if t.startswith("Filler ")]
    assert fillers == [f"Filler {n}" for n in range(1, FILLER + 1)], fillers

    # Bob recalls the original: alice's quote says so at once.
    bob.page.evaluate("() => chat.revokeMessage(window.originalMessage)")
    live_quote = bubble(page, answer).get_by_test_id("quote-text")
    expect(live_quote).to_have_text("Original message recalled")

    # And after a reload, once the quote is clicked (the server says it was recalled).
    page.reload()
    alice.wait_ready()
    conversation_item(page, "C2Creply_bob").click()
    reloaded = bubble(page, answer).get_by_test_id("message-quote")
    expect(reloaded.get_by_test_id("quote-text")).to_have_text(original)
    reloaded.click()
    expect(bubble(page, answer).get_by_test_id("quote-text")).to_have_text("Original message recalled")
    expect(page.get_by_test_id("revoked-message").first).to_be_in_viewport()


def test_escape_cancels_the_reply_and_the_text_goes_without_a_quote(open_as, make_user):
    for user_id in ("reply_carol", "reply_dan"):
        make_user(user_id)
    text = unique("Quote me")
    send_as_sdk(open_as("reply_dan").page, "reply_carol", [text])
    page = open_as("reply_carol").page
    conversation_item(page, "C2Creply_dan").click()
    bubble(page, text).click(button="right")
    page.get_by_test_id("reply-message").click()
    bar = page.get_by_test_id("reply-bar")
    expect(bar).to_contain_text(text)
    composer = page.get_by_test_id("composer-input")
    composer.press("Escape")
    expect(bar).to_be_hidden()
    composer.fill("no quote")
    composer.press("Enter")
    expect(bubble(page, "no quote")).to_have_attribute("data-status", "success")
    expect(bubble(page, "no quote").get_by_test_id("message-quote")).to_have_count(0)
