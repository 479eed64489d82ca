"""Nothing typed is lost (issue 7 item 2): messages sent while the socket is down wait and
go out in order when it is back; one still unsent when the page is reloaded comes back
after the reload as "Not sent" with Resend and Delete, and a resend reaches the peer
once. "Offline" is the chat socket being cut by a route (the page's HTTP still works,
so the page can reload while the chat server is unreachable)."""

import io
import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble, confirm_send_files, conversation_item, send, start_chat, unique

pytestmark = pytest.mark.browser


class ChatSocketSwitch:
    """Routes the page's chat WebSocket through Playwright: online, it is relayed to the
    server; offline, the live one is cut and new ones are closed as they open."""

    def __init__(self, page):
        self.online = True
        self.live = []
        page.route_web_socket(re.compile(r"/ws/chat/$"), self._route)

    def _route(self, ws):
        if not self.online:
            ws.close(code=4000, reason="offline")
            return
        ws.connect_to_server()
        self.live.append(ws)

    def go_offline(self):
        self.online = False
        for ws in self.live:
            ws.close(code=4000, reason="offline")
        self.live = []

    def go_online(self):
        self.online = True


def routed(user):
    """The user's page, reloaded with its chat socket behind a switch."""
    switch = ChatSocketSwitch(user.page)
    user.page.reload()
    user.wait_ready()
    return switch


def chatting_offline_soon(open_as, sender_id, peer_id):
    """The sender, routed, has sent the peer one message (returned) that was stored; the peer has the chat open."""
    sender, peer = open_as(sender_id), open_as(peer_id)
    switch = routed(sender)
    start_chat(sender.page, peer_id)
    earlier = unique("sent before")
    send(sender.page, earlier)
    expect(bubble(sender.page, earlier)).to_have_attribute("data-status", "success")
    conversation_item(peer.page, "C2C" + sender_id).click()
    return sender, peer, switch, earlier


def bubbles_with(page, text):
    return page.locator('[data-testid="message-bubble"]', has_text=text)


def test_messages_sent_offline_go_out_in_order_when_the_socket_is_back(open_as):
    alice, bob = open_as("alice"), open_as("bob")
    switch = routed(alice)
    start_chat(alice.page, "bob")
    first, second = unique("queued one"), unique("queued two")
    send(alice.page, unique("before"))
    conversation_item(bob.page, "C2Calice").click()

    switch.go_offline()
    expect(alice.page.get_by_test_id("net-state")).to_be_visible()
    send(alice.page, first)
    send(alice.page, second)
    for text in (first, second):
        expect(bubble(alice.page, text)).to_have_attribute("data-status", "unSend")
    switch.go_online()

    for text in (first, second):
        expect(bubble(alice.page, text)).to_have_attribute("data-status", "success", timeout=15_000)
        expect(bubbles_with(bob.page, text)).to_have_count(1)
    texts = bob.page.locator('[data-testid="message-bubble"][data-flow="in"]').all_inner_texts()
    order = [i for i, t in enumerate(texts) if first in t or second in t]
    assert len(order) == 2 and first in texts[order[0]] and second in texts[order[1]]
    assert alice.errors == [] and bob.errors == []


def test_a_message_unsent_at_a_reload_comes_back_as_not_sent_and_a_resend_reaches_the_peer_once(open_as):
    alice, bob, switch, earlier = chatting_offline_soon(open_as, "alice", "bob")

    switch.go_offline()
    kept, dropped = unique("typed offline"), unique("never mind")
    send(alice.page, kept)
    send(alice.page, dropped)
    expect(bubble(alice.page, dropped)).to_have_attribute("data-status", "unSend")

    # Reloaded while the chat server is unreachable, then the connection comes back.
    alice.page.reload()
    expect(alice.page.get_by_test_id("net-state")).to_be_visible()
    switch.go_online()
    alice.wait_ready()

    for text in (kept, dropped):
        expect(bubble(alice.page, text)).to_have_attribute("data-status", "fail", timeout=15_000)
    row = alice.page.locator(".msg-row", has=bubble(alice.page, kept))
    expect(row.get_by_test_id("send-failed")).to_contain_text("Not sent")
    # In the history after the message that was stored before it.
    texts = alice.page.locator('[data-testid="message-bubble"]').all_inner_texts()
    assert [i for i, t in enumerate(texts) if earlier in t] < [i for i, t in enumerate(texts) if kept in t]
    expect(bubbles_with(bob.page, kept)).to_have_count(0)

    alice.page.locator(".msg-row", has=bubble(alice.page, dropped)).get_by_test_id("discard-button").click()
    expect(bubble(alice.page, dropped)).to_have_count(0)
    row.get_by_test_id("resend-button").click()
    expect(bubble(alice.page, kept)).to_have_attribute("data-status", "success")
    expect(bubbles_with(bob.page, kept)).to_have_count(1)

    # Sent ones and deleted ones are gone from the outbox: a reload shows the message once, stored.
    alice.page.reload()
    alice.wait_ready()
    expect(bubble(alice.page, kept)).to_have_count(1)
    expect(bubble(alice.page, kept)).to_have_attribute("data-status", "success")
    expect(bubble(alice.page, dropped)).to_have_count(0)
    bob.page.wait_for_timeout(300)
    expect(bubbles_with(bob.page, kept)).to_have_count(1)
    assert alice.errors == [] and bob.errors == []


def png(width, height, color):
    """A picture for the file input, as Playwright's file payload."""
    from PIL import Image

    data = io.BytesIO()
    Image.new("RGB", (width, height), color).save(data, "PNG")
    return {"name": "offline.png", "mimeType": "image/png", "buffer": data.getvalue()}


def test_an_image_unsent_at_a_reload_comes_back_with_its_preview_and_a_resend_uploads_it_once(open_as, make_user):
    # Users of their own: the image would otherwise be in alice and bob's history for test_media_ui.
    make_user("erin", nick="Erin")
    make_user("frank", nick="Frank")
    erin, frank, switch, earlier = chatting_offline_soon(open_as, "erin", "frank")

    switch.go_offline()
    expect(erin.page.get_by_test_id("net-state")).to_be_visible()
    erin.page.get_by_test_id("file-input").set_input_files(png(320, 200, (219, 102, 58)))
    confirm_send_files(erin.page)
    outgoing = erin.page.locator('[data-testid="message-bubble"][data-flow="out"]')
    expect(outgoing.last.get_by_test_id("image-thumb")).to_be_visible()
    expect(outgoing.last).to_have_attribute("data-status", "unSend")
    message_id = outgoing.last.get_attribute("data-message-id")
    first_preview = outgoing.last.get_by_test_id("image-thumb-img").get_attribute("src")
    # Kept with its File in the user's IndexedDB (written when the send had to wait).
    erin.page.wait_for_function(
        """id => new Promise((resolve) => {
            const open = indexedDB.open('TIM_outbox_erin');
            open.onsuccess = () => {
                const db = open.result;
                if (!db.objectStoreNames.contains('media')) { db.close(); resolve(false); return; }
                const get = db.transaction('media').objectStore('media').get(id);
                get.onsuccess = () => { db.close(); resolve(!!get.result && get.result.file instanceof Blob); };
            };
        })""",
        arg=message_id,
    )

    # Reloaded while the chat server is unreachable, then the connection comes back.
    erin.page.reload()
    expect(erin.page.get_by_test_id("net-state")).to_be_visible()
    switch.go_online()
    erin.wait_ready()

    kept = erin.page.locator(f'[data-testid="message-bubble"][data-message-id="{message_id}"]')
    expect(kept).to_have_attribute("data-status", "fail", timeout=15_000)
    row = erin.page.locator(".msg-row", has=kept)
    expect(row.get_by_test_id("send-failed")).to_contain_text("Not sent")
    preview = kept.get_by_test_id("image-thumb-img")
    # A preview of the kept File, not the first page's object URL (gone with that page).
    assert preview.get_attribute("src").startswith("blob:")
    assert preview.get_attribute("src") != first_preview
    erin.page.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=preview.element_handle())
    texts = erin.page.locator('[data-testid="message-bubble"]').all_inner_texts()
    assert any(earlier in t for t in texts)
    expect(frank.page.locator('[data-testid="message-bubble"][data-flow="in"]').get_by_test_id("image-thumb")).to_have_count(0)

    row.get_by_test_id("resend-button").click()
    expect(kept).to_have_attribute("data-status", "success", timeout=20_000)
    peer_images = frank.page.locator('[data-testid="message-bubble"][data-flow="in"]').get_by_test_id("image-thumb")
    expect(peer_images).to_have_count(1)
    frank.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=peer_images.locator("img").element_handle())

    # Stored: it left the outbox; a reload shows it once, sent.
    erin.page.reload()
    erin.wait_ready()
    expect(kept).to_have_count(1)
    expect(kept).to_have_attribute("data-status", "success")
    frank.page.wait_for_timeout(300)
    expect(peer_images).to_have_count(1)
    assert erin.errors == [] and frank.errors == []
