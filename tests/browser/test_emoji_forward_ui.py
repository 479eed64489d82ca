"""The Unicode emoji picker (search, keyboard, recently used) and forwarding (several
chats at once with a comment, "Forwarded from" above the body): issue 11, item 8."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble, conversation_item, send, start_chat, unique

pytestmark = pytest.mark.browser


def new_user(make_user, prefix):
    user_id = f"{prefix}{uuid.uuid4().hex[:6]}"
    make_user(user_id)
    return user_id


def test_an_emoji_is_found_by_search_and_sent_with_the_keyboard(open_as, make_user):
    alice_id, bob_id = new_user(make_user, "ea"), new_user(make_user, "eb")
    alice, bob = open_as(alice_id), open_as(bob_id)
    page = alice.page
    start_chat(page, bob_id)
    page.get_by_test_id("emoji-button").focus()
    page.keyboard.press("Enter")
    picker = page.get_by_test_id("emoji-picker")
    expect(picker).to_be_visible()
    page.get_by_test_id("unicode-tab").focus()
    page.keyboard.press("Enter")
    search = page.get_by_test_id("unicode-search")
    expect(page.get_by_test_id("unicode-item").first).to_be_visible()  # the data loaded
    search.focus()
    page.keyboard.type("pizza")
    expect(page.get_by_test_id("unicode-item").first).to_have_attribute("data-char", "🍕")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_test_id("unicode-item").first).to_be_focused()
    page.keyboard.press("Enter")
    composer = page.get_by_test_id("composer-input")
    expect(composer).to_have_value("🍕")
    page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(composer).to_be_focused()
    page.keyboard.press("Enter")
    mine = page.locator('[data-testid="message-bubble"][data-flow="out"]', has_text="🍕")
    expect(mine.get_by_test_id("jumbo-emoji")).to_have_text("🍕")
    conversation_item(bob.page, f"C2C{alice_id}").click()
    expect(bubble(bob.page, "🍕").get_by_test_id("jumbo-emoji")).to_be_visible()
    # Reopened by keyboard, the tab stays and the search has the focus; "Recently used" leads with the pizza.
    page.get_by_test_id("emoji-button").focus()
    page.keyboard.press("Enter")
    expect(search).to_be_focused()
    page.locator('[data-testid="unicode-category"][data-key="recent"]').click()
    expect(page.get_by_test_id("unicode-item").first).to_have_attribute("data-char", "🍕")
    # A search that finds nothing says so.
    search.fill("zzqqxx")
    expect(page.get_by_test_id("unicode-grid")).to_contain_text("No emoji match")


def test_a_message_is_forwarded_to_two_chats_with_a_comment(open_as, make_user):
    me_id, bob_id, carol_id = new_user(make_user, "fm"), new_user(make_user, "fb"), new_user(make_user, "fc")
    nick = "Dee <b>Origin</b>"
    site_user = f"fd{uuid.uuid4().hex[:6]}"
    make_user(site_user, nick=nick)
    dee, me, bob, carol = open_as(site_user), open_as(me_id), open_as(bob_id), open_as(carol_id)
    # I have chats with bob and carol; they keep them open to see the forward live.
    for peer_id, peer in ((bob_id, bob), (carol_id, carol)):
        start_chat(me.page, peer_id)
        send(me.page, unique("hello"))
        conversation_item(peer.page, f"C2C{me_id}").click()
    text = unique("The plan for Friday")
    start_chat(dee.page, me_id)
    send(dee.page, text)
    conversation_item(me.page, f"C2C{site_user}").click()
    original = bubble(me.page, text)
    expect(original).to_be_visible()
    expect(original.get_by_test_id("forwarded-from")).to_have_count(0)

    original.click(button="right")
    me.page.get_by_test_id("forward-message").click()
    dialog = me.page.get_by_test_id("forward-dialog")
    expect(dialog).to_be_visible()
    send_button = dialog.get_by_test_id("forward-send")
    expect(send_button).to_be_disabled()
    dialog.get_by_test_id("forward-filter").fill(bob_id)
    dialog.get_by_test_id("forward-filter").press("Enter")  # ticks the first match
    dialog.get_by_test_id("forward-filter").fill(carol_id)
    dialog.locator(f'[data-testid="forward-target"][data-conversation-id="C2C{carol_id}"]').click()
    expect(dialog.locator('[data-testid="forward-target"][aria-selected="true"]')).to_have_count(1)  # carol (bob is filtered out)
    dialog.get_by_test_id("forward-filter").fill("")
    expect(dialog.locator('[data-testid="forward-target"][aria-selected="true"]')).to_have_count(2)
    expect(send_button).to_have_text("Send to 2 chats")
    comment = unique("See this")
    dialog.get_by_test_id("forward-comment").fill(comment)
    send_button.click()
    expect(dialog).not_to_be_visible()
    expect(me.page.get_by_test_id("toast").last).to_contain_text("Forwarded to")

    for peer in (bob, carol):
        forwarded = bubble(peer.page, text)
        expect(forwarded.get_by_test_id("forwarded-from")).to_have_text(f"Forwarded from {nick}")  # text, not markup
        assert forwarded.locator("b").count() == 0
        incoming = peer.page.locator('[data-testid="message-bubble"][data-flow="in"]')
        expect(incoming.last).to_contain_text(comment)  # the comment comes after the forward
        expect(incoming.last.get_by_test_id("forwarded-from")).to_have_count(0)
