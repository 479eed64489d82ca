"""The chat UI in a real browser: two users in two browser contexts, a real Daphne.

These drive the page the way a person does (the login form, the "New chat"
dialog, the composer) and check what the other person sees without reloading.
Selectors are the UI's ``data-testid`` attributes.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import SDK_DOC_EXAMPLE, bubble, confirm_send_files, conversation_item, send, start_chat, unique

pytestmark = pytest.mark.browser


def test_c2c_message_is_live_unread_then_read_and_kept(open_as):
    alice = open_as("alice")
    bob = open_as("bob")
    first = unique("Hi Bob, are we still on for three?")

    start_chat(alice.page, "bob")
    expect(alice.page.get_by_test_id("chat-name")).to_have_text("Bob")
    send(alice.page, first)
    sent = bubble(alice.page, first)
    expect(sent).to_have_attribute("data-status", "success")
    expect(sent).to_have_attribute("data-flow", "out")
    expect(alice.page.get_by_test_id("composer-input")).to_have_value("")

    # Bob sees it live, without a reload: the conversation with an unread badge.
    item = conversation_item(bob.page, "C2Calice")
    expect(item.get_by_test_id("unread-badge")).to_have_text("1")
    expect(item.get_by_test_id("conversation-preview")).to_contain_text(first)
    expect(bob.page).to_have_title(re.compile(r"^\(1\) "))

    # Opening it shows the message, clears the badge, and Alice sees "Read".
    item.click()
    expect(bubble(bob.page, first)).to_be_visible()
    expect(bubble(bob.page, first)).to_have_attribute("data-flow", "in")
    expect(item.get_by_test_id("unread-badge")).to_have_count(0)
    expect(alice.page.get_by_test_id("read-receipt")).to_have_text("Read")
    expect(sent.get_by_test_id("message-status")).to_have_attribute("data-status", "read")

    # Shift+Enter breaks the line, Enter sends; Alice (chat open) gets it live with no badge.
    composer = bob.page.get_by_test_id("composer-input")
    composer.fill("Yes!")
    composer.press("Shift+Enter")
    composer.type("See you there")
    composer.press("Enter")
    reply = bubble(alice.page, "See you there")
    expect(reply).to_be_visible()
    assert reply.locator(".msg-text").inner_text() == "Yes!\nSee you there"
    expect(conversation_item(alice.page, "C2Cbob").get_by_test_id("unread-badge")).to_have_count(0)

    # A reload keeps the history (the open conversation is in the URL).
    alice.page.reload()
    alice.wait_ready()
    expect(alice.page.get_by_test_id("chat-name")).to_have_text("Bob")
    expect(bubble(alice.page, first)).to_be_visible()
    expect(bubble(alice.page, "See you there")).to_be_visible()
    expect(alice.page.get_by_test_id("read-receipt")).to_have_count(0)  # the last message is Bob's


def test_sdk_doc_example_pasted_in_console_reaches_bob(open_as):
    carol = open_as("carol")
    bob = open_as("bob")

    result = carol.page.evaluate(
        SDK_DOC_EXAMPLE + ";promise.then(function(r){ return {code: r.code, message: r.data.message}; })"
    )
    assert result["code"] == 0
    assert result["message"]["payload"] == {"text": "Hello world!"}
    assert result["message"]["status"] == "success"
    # The example's console.log(imResponse) printed the SDK's response object.
    logged = [m.args[0].json_value() for m in carol.console if m.type == "log" and m.args]
    assert any(
        isinstance(r, dict) and r.get("code") == 0 and r["data"]["message"]["payload"]["text"] == "Hello world!" for r in logged
    ), logged

    item = conversation_item(bob.page, "C2Ccarol")
    expect(item.get_by_test_id("conversation-preview")).to_contain_text("Hello world!")
    expect(item.get_by_test_id("unread-badge")).to_have_text("1")
    item.click()
    expect(bubble(bob.page, "Hello world!")).to_be_visible()


def test_new_group_member_panel_and_errors_in_words(open_as):
    alice = open_as("alice")
    dave = open_as("dave")
    name = unique("Launch")

    # Errors are said in words: a chat with nobody, a group that does not exist.
    alice.page.get_by_test_id("new-menu-button").click()
    alice.page.get_by_test_id("new-chat-button").click()
    alice.page.get_by_test_id("new-chat-input").fill("nobody-here")
    alice.page.get_by_test_id("new-chat-submit").click()
    expect(alice.page.get_by_test_id("new-chat-dialog")).to_contain_text('There\'s no user "nobody-here"')
    alice.page.keyboard.press("Escape")
    expect(alice.page.get_by_test_id("new-chat-dialog")).not_to_be_visible()

    alice.page.get_by_test_id("new-menu-button").click()
    alice.page.get_by_test_id("join-group-button").click()
    alice.page.get_by_test_id("join-group-input").fill("no-such-group")
    alice.page.get_by_test_id("join-group-submit").click()
    expect(alice.page.get_by_test_id("join-group-dialog")).to_contain_text("There's no group with that ID")
    alice.page.keyboard.press("Escape")

    # A Work group with Dave: he sees it appear live.
    alice.page.get_by_test_id("new-menu-button").click()
    alice.page.get_by_test_id("new-group-button").click()
    alice.page.get_by_test_id("new-group-name").fill(name)
    members = alice.page.get_by_test_id("new-group-members")
    members.fill("dave")
    members.press("Enter")
    expect(alice.page.get_by_test_id("member-chip")).to_have_attribute("data-user-id", "dave")
    alice.page.get_by_test_id("new-group-submit").click()
    expect(alice.page.get_by_test_id("chat-name")).to_have_text(name)
    expect(alice.page.get_by_test_id("group-tip").first).to_be_visible()
    hello = unique("Welcome to the launch group")
    send(alice.page, hello)

    # (not the "System notices" item, whose "Alice added you to ..." names the group too)
    group_item = dave.page.locator('[data-testid="conversation-item"]:not([data-conversation-id="@TIM#SYSTEM"])', has_text=name)
    expect(group_item.get_by_test_id("conversation-preview")).to_contain_text(hello)
    group_item.click()
    expect(bubble(dave.page, hello)).to_be_visible()

    # The member panel lists roles; the owner removes Dave, whose composer then says why it is gone.
    alice.page.get_by_test_id("members-button").click()
    panel = alice.page.get_by_test_id("member-panel")
    expect(panel).to_be_visible()
    expect(panel.locator('[data-testid="member-item"][data-user-id="alice"]')).to_contain_text("Owner")
    dave_row = panel.locator('[data-testid="member-item"][data-user-id="dave"]')
    expect(dave_row).to_be_visible()
    dave_row.hover()
    dave_row.get_by_test_id("remove-member-button").click()
    alice.page.get_by_test_id("confirm-ok").click()
    expect(dave_row).to_have_count(0)
    expect(dave.page.get_by_test_id("composer-notice")).to_contain_text("no longer a member")

    # Esc closes the panel.
    alice.page.keyboard.press("Escape")
    expect(panel).not_to_be_visible()


def test_narrow_screen_has_list_and_chat_as_two_screens(open_as):
    dave = open_as("dave", viewport={"width": 360, "height": 740})
    page = dave.page
    expect(page.get_by_test_id("conversation-list")).to_be_visible()
    expect(page.get_by_test_id("chat-pane")).not_to_be_visible()

    conversation_item(page, "GROUPdemo").click()
    expect(page.get_by_test_id("chat-pane")).to_be_visible()
    expect(page.get_by_test_id("conversation-list")).not_to_be_visible()
    expect(page.get_by_test_id("composer-input")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360

    page.get_by_test_id("back-button").click()
    expect(page.get_by_test_id("conversation-list")).to_be_visible()
    expect(page.get_by_test_id("chat-pane")).not_to_be_visible()


def test_attached_image_reaches_the_peer_with_its_shape(open_as, tmp_path):
    from PIL import Image

    picture = tmp_path / "wide.png"
    Image.new("RGB", (800, 400), (58, 102, 219)).save(picture)
    alice = open_as("alice")
    carol = open_as("carol")

    start_chat(alice.page, "carol")
    alice.page.get_by_test_id("file-input").set_input_files(str(picture))
    confirm_send_files(alice.page)
    mine = (
        alice.page.locator('[data-testid="message-bubble"][data-flow="out"]').filter(has=alice.page.locator(".media-frame")).last
    )
    expect(mine).to_have_attribute("data-status", "success", timeout=20_000)

    item = conversation_item(carol.page, "C2Calice")
    expect(item.get_by_test_id("conversation-preview")).to_contain_text("[Image]")
    item.click()
    frame = carol.page.locator('[data-testid="message-bubble"][data-flow="in"] .media-frame').last
    expect(frame).to_be_visible()
    # The box has the picture's aspect ratio before it loads, and the picture is served to the peer.
    assert frame.evaluate("f => f.style.aspectRatio").replace(" ", "") == "800/400"
    carol.page.wait_for_function(
        "f => f.querySelector('img') && f.querySelector('img').naturalWidth > 0", arg=frame.element_handle()
    )


def test_unread_divider_and_older_history_on_scroll(open_as):
    carol = open_as("carol")
    dave = open_as("dave")
    send_notes = """async ([first, last]) => {
        for (let i = first; i <= last; i++) {
            const m = chat.createTextMessage({to: 'dave', conversationType: TIM.TYPES.CONV_C2C, payload: {text: 'Note ' + i}});
            await chat.sendMessage(m);
        }
    }"""
    carol.page.evaluate(send_notes, [1, 30])
    item = conversation_item(dave.page, "C2Ccarol")
    expect(item.get_by_test_id("unread-badge")).to_have_text("30")

    # Opening loads back to the first unread message and puts the divider there.
    item.click()
    divider = dave.page.get_by_test_id("new-messages-divider")
    expect(divider).to_be_visible()
    after_divider = dave.page.locator('[data-testid="new-messages-divider"] + .msg-row [data-testid="message-bubble"]')
    expect(after_divider.locator(".msg-text")).to_have_text("Note 1")

    # Away, two more arrive; after a reload only the latest page is fetched.
    conversation_item(dave.page, "GROUPdemo").click()
    carol.page.evaluate(send_notes, [31, 32])
    expect(item.get_by_test_id("unread-badge")).to_have_text("2")
    dave.page.reload()
    dave.wait_ready()
    item.click()
    expect(after_divider.locator(".msg-text")).to_have_text("Note 31")

    # Scrolling up pages back (getMessageList with nextReqMessageID) to the very first message.
    start = dave.page.get_by_test_id("history-start")
    for _ in range(20):
        if start.count():
            break
        dave.page.evaluate("document.getElementById('messages').scrollTop = 0")
        dave.page.wait_for_timeout(300)
    expect(start).to_be_visible()
    texts = dave.page.locator('[data-testid="message-bubble"] .msg-text').all_inner_texts()
    assert texts == [f"Note {i}" for i in range(1, 33)]


def test_messages_sent_while_the_socket_was_down_arrive_once_after_reconnect(open_as):
    """tim.js reconnects with backoff and replays the gap: nothing is lost, nothing doubled."""
    dave = open_as("dave")
    carol = open_as("carol")
    dave.page.evaluate(
        """() => {
          window.__received = [];
          window.__states = [];
          chat.on(TIM.EVENT.MESSAGE_RECEIVED, e => e.data.forEach(m => window.__received.push(m.payload.text)));
          chat.on(TIM.EVENT.NET_STATE_CHANGE, e => window.__states.push(e.data.state));
        }"""
    )
    # A first message so that dave's list knows the conversation before the drop.
    first = unique("before the drop")
    carol.page.evaluate(
        "t => chat.sendMessage(chat.createTextMessage({to: 'dave', conversationType: TIM.TYPES.CONV_C2C, payload: {text: t}}))",
        first,
    )
    dave.page.wait_for_function("t => window.__received.includes(t)", arg=first)

    # The network goes: the socket closes and every reconnect attempt fails.
    dave.page.evaluate("() => { chat._url = () => 'ws://127.0.0.1:9/ws/chat/'; chat._socket.close(); }")
    dave.page.wait_for_function("() => window.__states.includes('connecting')")
    missed = [unique(f"while away {i}") for i in range(3)]
    for text in missed:
        carol.page.evaluate(
            "t => chat.sendMessage(chat.createTextMessage({to: 'dave', conversationType: TIM.TYPES.CONV_C2C, payload: {text: t}}))",
            text,
        )

    # The network comes back: the next attempt connects and the gap is replayed.
    dave.page.evaluate("() => { delete chat._url; }")
    dave.page.wait_for_function("texts => texts.every(t => window.__received.includes(t))", arg=missed, timeout=30_000)
    received = dave.page.evaluate("() => window.__received")
    assert [t for t in received if t in missed] == missed  # in order, each once
    assert received.count(first) == 1
    assert dave.page.evaluate("() => window.__states[window.__states.length - 1]") == "connected"
    item = conversation_item(dave.page, "C2Ccarol")
    expect(item.get_by_test_id("unread-badge")).to_have_text("4")
    expect(item.get_by_test_id("conversation-preview")).to_contain_text(missed[-1])


def test_a_chat_opened_while_offline_says_what_failed_and_loads_once_back(open_as):
    """Not "No messages yet" under "the beginning of history": the failure in words, a
    retry, and the history once the socket is back (docs/PROTOCOL.md §8)."""
    dave = open_as("dave")
    carol = open_as("carol")
    texts = [unique(f"kept {i}") for i in range(3)]
    for text in texts:
        carol.page.evaluate(
            "t => chat.sendMessage(chat.createTextMessage({to: 'dave', conversationType: TIM.TYPES.CONV_C2C, payload: {text: t}}))",
            text,
        )
    item = conversation_item(dave.page, "C2Ccarol")
    expect(item.get_by_test_id("conversation-preview")).to_contain_text(texts[-1])

    dave.page.evaluate("() => { chat._url = () => 'ws://127.0.0.1:9/ws/chat/'; chat._socket.close(); }")
    expect(dave.page.locator("#netbar")).to_be_visible()
    item.click()

    error = dave.page.get_by_test_id("history-error")
    expect(error).to_contain_text("Messages couldn't be loaded")
    expect(dave.page.get_by_test_id("history-start")).to_have_count(0)

    dave.page.evaluate("() => { delete chat._url; }")
    expect(error).to_have_count(0, timeout=30_000)
    bubbles = dave.page.locator('[data-testid="message-bubble"] .msg-text')
    expect(bubbles.last).to_have_text(texts[-1])
    assert bubbles.all_inner_texts()[-3:] == texts
