"""Rough edges a new user met on day one (issue 11, item 9), each pinned by what the page
shows: sizes and boxes measured in the browser, where the focus is, what the texts say."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import conversation_item, send, start_chat

pytestmark = pytest.mark.browser


def box_inside(inner, outer, slack=0.5):
    return (
        inner["x"] >= outer["x"] - slack
        and inner["y"] >= outer["y"] - slack
        and inner["x"] + inner["width"] <= outer["x"] + outer["width"] + slack
        and inner["y"] + inner["height"] <= outer["y"] + outer["height"] + slack
    )


def test_an_emoji_only_message_is_big_and_keeps_its_time_inside(open_as):
    alice = open_as("alice")
    start_chat(alice.page, "bob")
    send(alice.page, "[微笑]")
    big = alice.page.get_by_test_id("jumbo-emoji").last
    expect(big).to_be_visible()
    image = big.locator("img").first
    image.evaluate("img => img.decode()")
    size = image.evaluate("img => parseFloat(getComputedStyle(img).width)")
    assert size >= 48, f"an emoji-only message's emoji is {size}px wide"
    row_bubble = alice.page.locator('[data-testid="message-bubble"]', has=big)
    meta = row_bubble.locator(".msg-meta")
    expect(meta).to_be_visible()
    assert box_inside(meta.bounding_box(), row_bubble.bounding_box()), (meta.bounding_box(), row_bubble.bounding_box())
    alice.page.screenshot(path="/tmp/rough-jumbo.png")


def test_start_chat_puts_the_focus_in_the_composer_and_esc_gives_it_back_to_the_opener(open_as):
    alice = open_as("alice")
    page = alice.page
    start_chat(page, "bob")
    expect(page.get_by_test_id("composer-input")).to_be_focused()

    # Esc on a menu: the focus is back on the button that opened it.
    opener = page.get_by_test_id("new-menu-button")
    opener.click()
    expect(page.get_by_test_id("new-chat-button")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#new-menu")).to_be_hidden()
    expect(opener).to_be_focused()

    # Esc on a dialog opened from a menu: back on that menu's button, not lost with the menu item.
    opener.click()
    page.get_by_test_id("new-chat-button").click()
    expect(page.get_by_test_id("new-chat-dialog")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("new-chat-dialog")).not_to_be_visible()
    expect(opener).to_be_focused()

    # The same from the conversation's menu, all by keyboard.
    more = page.get_by_test_id("conversation-menu-button")
    more.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("pin-button")).to_be_focused()
    page.keyboard.press("Escape")
    expect(more).to_be_focused()


def test_more_unread_than_opening_loads_says_how_many_are_above_and_shows_them(open_as, make_user):
    """15 a page, the latest and 6 more loaded on opening: of 120 unread, 15 are above."""
    make_user("unread_sender")
    make_user("unread_reader")
    sender = open_as("unread_sender")
    reader = open_as("unread_reader")
    sender.page.evaluate(
        """async (n) => {
            for (let i = 1; i <= n; i++) {
                // The send rate limit: at most 100 at once, then 10 a second.
                if (i > 90) await new Promise((resolve) => setTimeout(resolve, 120));
                try {
                    await chat.sendMessage(chat.createTextMessage({to: 'unread_reader', conversationType: TIM.TYPES.CONV_C2C, payload: {text: 'Unread ' + i}}));
                } catch (error) { throw new Error(`message ${i}: ${error.code} ${error.message}`); }
            }
        }""",
        120,
    )
    item = conversation_item(reader.page, "C2Cunread_sender")
    expect(item.get_by_test_id("unread-badge")).to_have_text("99+")
    item.click()
    after_divider = reader.page.locator(
        '[data-testid="new-messages-divider"] + .msg-row [data-testid="message-bubble"] .msg-text'
    )
    expect(after_divider).to_contain_text("Unread")
    # The divider first sits above the oldest loaded one and says "15 more above" (a button
    # that loads them); scrolling up loads them too. Either way it ends above the first.
    reader.page.evaluate("() => { const b = document.querySelector('[data-testid=unread-above]'); if (b) b.click(); }")
    expect(after_divider).to_have_text("Unread 1", timeout=15_000)
    expect(reader.page.get_by_test_id("new-messages-divider")).to_be_in_viewport()
    above = reader.page.get_by_test_id("unread-above")
    expect(above).to_have_count(0)


def test_menus_and_the_emoji_picker_work_by_keyboard(open_as):
    alice = open_as("alice")
    page = alice.page
    start_chat(page, "bob")

    # A menu: arrows move between the items (wrapping), Enter activates one.
    opener = page.get_by_test_id("new-menu-button")
    opener.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("new-chat-button")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_test_id("new-group-button")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#new-menu .menu-item").last).to_be_focused()
    page.keyboard.press("Home")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#dlg-new-group")).to_be_visible()
    page.keyboard.press("Escape")
    expect(opener).to_be_focused()

    # The emoji picker: opened by keyboard, the focus is on the first emoji; arrows move,
    # Enter puts the emoji in the composer and the picker stays for another; Esc closes it.
    composer = page.get_by_test_id("composer-input")
    composer.fill("Hi ")
    page.locator("#emoji-btn").focus()
    page.keyboard.press("Enter")
    items = page.get_by_test_id("emoji-item")
    expect(items.first).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("ArrowDown")
    columns = page.evaluate(
        "() => getComputedStyle(document.getElementById('picker-emoji')).gridTemplateColumns.split(' ').length"
    )
    expect(items.nth(1 + columns)).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Enter")
    second = items.nth(1).get_attribute("data-code")
    expect(composer).to_have_value("Hi " + second)
    expect(page.get_by_test_id("emoji-picker")).to_be_visible()
    expect(items.nth(1)).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("emoji-picker")).to_be_hidden()
    expect(composer).to_be_focused()


RING_INSIDE_SCROLLER = """el => {
    const style = getComputedStyle(el);
    const grow = parseFloat(style.outlineOffset) + parseFloat(style.outlineWidth);
    const r = el.getBoundingClientRect();
    let box = el.parentElement;
    while (box && !/(auto|scroll|hidden)/.test(getComputedStyle(box).overflowY)) box = box.parentElement;
    const b = box.getBoundingClientRect();
    return {
        outline: style.outlineStyle,
        inside: r.top - grow >= b.top && r.left - grow >= b.left && r.right + grow <= b.left + box.clientWidth,
    };
}"""


def test_the_focus_ring_on_the_first_conversation_is_whole(open_as):
    alice = open_as("alice")
    page = alice.page
    first = page.get_by_test_id("conversation-item").first
    page.get_by_test_id("new-menu-button").focus()
    for _ in range(10):
        if page.evaluate("() => document.activeElement.dataset.testid") == "conversation-item":
            break
        page.keyboard.press("Tab")
    expect(first).to_be_focused()
    ring = first.evaluate(RING_INSIDE_SCROLLER)
    assert ring["outline"] != "none" and ring["inside"], ring


COVERED_TEXTS = """() => {
    const hits = [];
    for (const label of document.querySelectorAll('#messages .day-sep')) {
        if (parseFloat(getComputedStyle(label).opacity) === 0) continue;
        const l = label.getBoundingClientRect();
        for (const text of document.querySelectorAll('#messages .msg-text')) {
            const t = text.getBoundingClientRect();
            if (t.bottom > l.top && t.top < l.bottom && t.right > l.left && t.left < l.right) hits.push(label.textContent + ' over ' + text.textContent);
        }
    }
    return hits;
}"""


def test_the_sticky_day_label_does_not_cover_messages_at_rest(open_as, make_user):
    make_user("sticky_writer")
    make_user("sticky_reader")
    writer = open_as("sticky_writer")
    writer.page.evaluate(
        """async (n) => {
            for (let i = 1; i <= n; i++) {
                await chat.sendMessage(chat.createTextMessage({to: 'sticky_reader', conversationType: TIM.TYPES.CONV_C2C, payload: {text: 'Line ' + i + ': a longer line of text, as people write them, that runs across the middle of the chat where the label sits'}}));
            }
        }""",
        40,
    )
    page = writer.page
    conversation_item(page, "C2Csticky_reader").click()
    expect(page.locator("#messages .msg-text").last).to_contain_text("Line 40:")
    box = page.locator("#messages")
    for top in (0.5, 0.8):  # scrolled to the middle, then near the end: the label is stuck on top
        box.evaluate(f"b => {{ b.scrollTop = (b.scrollHeight - b.clientHeight) * {top}; }}")
        page.wait_for_timeout(1800)
        assert page.evaluate(COVERED_TEXTS) == []
        assert page.locator("#messages .day-sep.is-stuck").count() == 1
    page.screenshot(path="/tmp/rough-sticky.png")
