"""What the browser tests do on the chat page, written once: find a conversation in the
list or a message bubble, start a chat, send a text. Selectors are the UI's
``data-testid`` attributes."""

import uuid

from playwright.sync_api import expect

# The 2020 SDK document's sendMessage example, unchanged.
SDK_DOC_EXAMPLE = """
let message = tim.createTextMessage({to: 'bob', conversationType: TIM.TYPES.CONV_C2C, payload: {text: 'Hello world!'}});
let promise = tim.sendMessage(message);
promise.then(function(imResponse){ console.log(imResponse); })
"""


def unique(text):
    return f"{text} {uuid.uuid4().hex[:6]}"


def conversation_item(page, conversation_id):
    return page.locator(f'[data-testid="conversation-item"][data-conversation-id="{conversation_id}"]')


def bubble(page, text):
    return page.locator('[data-testid="message-bubble"]', has_text=text)


def send(page, text):
    composer = page.get_by_test_id("composer-input")
    composer.fill(text)
    composer.press("Enter")


def confirm_send_files(page, caption=""):
    """Files picked, pasted or dropped are shown first (static/chat/ui/file-preview.js): Send them."""
    dialog = page.get_by_test_id("send-files-dialog")
    expect(dialog).to_be_visible()
    if caption:
        dialog.get_by_test_id("send-files-caption").fill(caption)
    dialog.get_by_test_id("send-files-submit").click()
    expect(dialog).not_to_be_visible()


def start_chat(page, user_id):
    page.get_by_test_id("new-menu-button").click()
    page.get_by_test_id("new-chat-button").click()
    page.get_by_test_id("new-chat-input").fill(user_id)
    page.get_by_test_id("new-chat-submit").click()
    expect(page.get_by_test_id("new-chat-dialog")).not_to_be_visible()


def chat_between(open_as, sender_id, receiver_id, text):
    """``sender_id`` starts a C2C chat with ``receiver_id`` and sends ``text``; the receiver
    opens the conversation and sees it. Returns both signed-in pages (sender, receiver)."""
    sender, receiver = open_as(sender_id), open_as(receiver_id)
    start_chat(sender.page, receiver_id)
    send(sender.page, text)
    conversation_item(receiver.page, f"C2C{sender_id}").click()
    expect(bubble(receiver.page, text)).to_be_visible()
    return sender, receiver
