"""Recalling a message in the browser (docs/PROTOCOL.md §5.20): the other person's open page
shows the recall in place without a reload, the sender can put the text back into the
composer ("Re-edit"), and the 2020 document's revokeMessage example runs as pasted."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import SDK_DOC_EXAMPLE, bubble, conversation_item, send, start_chat, unique

pytestmark = pytest.mark.browser

# The 2020 document's revokeMessage example (shared/spec/000_534d83a291910f8e.txt, 撤回消息),
# unchanged. It is two snippets in one box (both declare `promise`), pasted one after the
# other as a person pastes them into the DevTools console, whose REPL mode lets a later
# entry declare a name again; `message` is the message the earlier example sent.
SEED_REVOKE = """// 主动撤回消息
let promise = tim.revokeMessage(message);
promise.then(function(imResponse) {
  // 消息撤回成功
}).catch(function(imError) {
  // 消息撤回失败
  console.warn('revokeMessage error:', imError);
});
tim.on(TIM.EVENT.MESSAGE_REVOKED, function(event) {
  // 收到消息被撤回的通知。使用前需要将 SDK 版本升级至v2.4.0或以上。
  // event.name - TIM.EVENT.MESSAGE_REVOKED
  // event.data - 存储 Message 对象的数组 - [Message] - 每个 Message 对象的 isRevoked 属性值为 true
});
"""
SEED_REVOKED_IN_HISTORY = """// 获取会话的消息列表时遇到被撤回的消息
let promise = tim.getMessageList({conversationID: 'C2Ctest', count: 15});
promise.then(function(imResponse) {
  const messageList = imResponse.data.messageList; // 消息列表
  messageList.forEach(function(message) {
    if (message.isRevoked) {
      // 处理被撤回的消息
    } else {
      // 处理普通消息
    }
  });
});
"""


def console_paste(page, code):
    """Evaluate ``code`` as the DevTools console does (REPL mode, top-level ``await``); the
    value of its last line."""
    session = page.context.new_cdp_session(page)
    try:
        answer = session.send(
            "Runtime.evaluate", {"expression": code, "replMode": True, "awaitPromise": True, "returnByValue": True}
        )
    finally:
        session.detach()
    assert "exceptionDetails" not in answer, answer
    return answer["result"].get("value")


def test_alice_recalls_a_text_bob_sees_it_live_and_alice_re_edits_it(open_as):
    alice = open_as("alice")
    bob = open_as("bob")
    text = unique("Meet at the wrong place")
    start_chat(alice.page, "bob")
    send(alice.page, text)
    expect(bubble(alice.page, text)).to_have_attribute("data-status", "success")
    conversation_item(bob.page, "C2Calice").click()
    expect(bubble(bob.page, text)).to_be_visible()

    bubble(alice.page, text).click(button="right")
    alice.page.get_by_test_id("recall-message").click()

    # Bob's open page: the bubble becomes the recall sentence in place, no reload.
    expect(bubble(bob.page, text)).to_have_count(0)
    expect(bob.page.get_by_test_id("revoked-message").last).to_have_text("Alice recalled a message")
    expect(conversation_item(bob.page, "C2Calice").get_by_test_id("conversation-preview")).to_contain_text(
        "Alice recalled a message"
    )
    # Bob cannot re-edit, nor recall Alice's message.
    expect(bob.page.get_by_test_id("reedit-message")).to_have_count(0)

    mine = alice.page.get_by_test_id("revoked-message").last
    expect(mine).to_contain_text("You recalled a message")
    expect(conversation_item(alice.page, "C2Cbob").get_by_test_id("conversation-preview")).to_contain_text(
        "You recalled a message"
    )
    composer = alice.page.get_by_test_id("composer-input")
    expect(composer).to_have_value("")
    mine.get_by_test_id("reedit-message").click()
    expect(composer).to_have_value(text)
    expect(composer).to_be_focused()

    # After a reload the text is gone for good: the server never sends it back.
    alice.page.reload()
    alice.wait_ready()
    expect(alice.page.get_by_test_id("revoked-message").last).to_have_text("You recalled a message")
    expect(alice.page.get_by_test_id("reedit-message")).to_have_count(0)
    assert text not in alice.page.content()


def test_recall_is_offered_only_for_my_own_recent_messages(open_as):
    alice = open_as("alice")
    bob = open_as("bob")
    text = unique("Bob's words")
    start_chat(bob.page, "alice")
    send(bob.page, text)
    conversation_item(alice.page, "C2Cbob").click()
    bubble(alice.page, text).click(button="right")
    expect(alice.page.get_by_test_id("copy-message")).to_be_visible()
    expect(alice.page.get_by_test_id("recall-message")).to_have_count(0)


def test_the_seed_revoke_example_pasted_in_the_console_recalls_the_message(open_as, make_user):
    make_user("test", nick="Test")
    carol = open_as("carol")
    bob = open_as("bob")

    console_paste(carol.page, SDK_DOC_EXAMPLE)
    assert console_paste(carol.page, "await promise.then(function(r){ return r.code; })") == 0
    expect(conversation_item(bob.page, "C2Ccarol").get_by_test_id("conversation-preview")).to_contain_text("Hello world!")

    console_paste(carol.page, SEED_REVOKE)
    result = console_paste(
        carol.page,
        "await promise.then(function(r){ return {code: r.code, isRevoked: r.data.message.isRevoked, same: r.data.message === message}; })",
    )
    assert result == {"code": 0, "isRevoked": True, "same": True}
    assert console_paste(carol.page, "message.isRevoked") is True
    expect(conversation_item(bob.page, "C2Ccarol").get_by_test_id("conversation-preview")).to_contain_text(
        "Carol recalled a message"
    )

    # The history part names the conversation C2Ctest: carol's recalled message to the user
    # "test" comes back from getMessageList with isRevoked.
    console_paste(
        carol.page,
        "let recalledForTest = tim.createTextMessage({to: 'test', conversationType: TIM.TYPES.CONV_C2C, payload: {text: 'gone'}});"
        "await tim.sendMessage(recalledForTest).then(function(){ return tim.revokeMessage(recalledForTest); })",
    )
    console_paste(carol.page, SEED_REVOKED_IN_HISTORY)
    listed = console_paste(
        carol.page, "await promise.then(function(r){ return r.data.messageList.map(function(m){ return m.isRevoked; }); })"
    )
    assert listed == [True]
    bobs_history = console_paste(
        bob.page,
        "await window.chat.getMessageList({conversationID: 'C2Ccarol'})"
        ".then(function(r){ return r.data.messageList.map(function(m){ return [m.isRevoked, m.messageForShow]; }); })",
    )
    assert bobs_history[-1] == [True, "Carol recalled a message"]
    assert not [m for m in carol.console if m.type == "warning" and re.search("revokeMessage error", m.text)]
