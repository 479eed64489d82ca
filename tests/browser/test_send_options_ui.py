"""The send options in the browser. The typing indicator (C2C): what alice types shows
"typing…" in bob's open chat header, carried by onlineUserOnly Custom messages (TUIKit's
user_typing_status) that never become bubbles, previews or history. A targeted group
message (receiverList) shows only to its receivers, with a note saying so."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble, chat_between, conversation_item, unique

pytestmark = pytest.mark.browser


def test_bob_sees_alice_typing_and_the_signals_leave_no_trace(open_as):
    hello = unique("Hello")
    alice, bob = chat_between(open_as, "alice", "bob", hello)
    header = bob.page.locator("#chat-sub")
    expect(header).not_to_have_text("typing…")
    bubbles = bob.page.get_by_test_id("message-bubble")
    count = bubbles.count()

    composer = alice.page.get_by_test_id("composer-input")
    composer.press_sequentially("I am wri")
    expect(header).to_have_text("typing…")
    expect(header).to_have_class("chat-sub is-typing")
    expect(bubbles).to_have_count(count)
    preview = conversation_item(bob.page, "C2Calice").get_by_test_id("conversation-preview")
    expect(preview).to_contain_text(hello)

    # Clearing the input sends "stopped": the header goes back at once.
    composer.fill("")
    expect(header).not_to_have_text("typing…")

    # Typing again, then sending: the message ends "typing…" and is the only new bubble.
    reply = unique("I am writing")
    composer.press_sequentially("I am")
    expect(header).to_have_text("typing…")
    composer.fill(reply)
    composer.press("Enter")
    expect(bubble(bob.page, reply)).to_be_visible()
    expect(header).not_to_have_text("typing…")
    expect(bubbles).to_have_count(count + 1)
    expect(preview).to_contain_text(reply)

    # Nothing of the signals is stored: a reload shows the two messages only.
    bob.page.reload()
    bob.wait_ready()
    expect(bubble(bob.page, reply)).to_be_visible()
    # (The reload shows the latest page, however many earlier tests' messages it holds.)
    texts = bob.page.locator('[data-testid="message-bubble"]').all_inner_texts()
    assert hello in texts[-2] and reply in texts[-1]
    expect(bob.page.locator("#chat-sub")).not_to_have_text("typing…")


def test_a_targeted_group_message_shows_only_to_its_receivers_with_a_note(open_as):
    """Sent with the SDK's receiverList from the console: bob's open chat shows it with
    "Only visible to you", carol's does not show it at all, nor its preview."""
    alice, bob, carol = open_as("alice"), open_as("bob"), open_as("carol")
    group_id = unique("team").replace(" ", "-")
    everyone, secret = unique("For everyone"), unique("Just for Bob")
    alice.page.evaluate(
        """async ([groupID, everyone, secret]) => {
          await chat.createGroup({type: TIM.TYPES.GRP_PUBLIC, name: 'Team', groupID,
                                  memberList: [{userID: 'bob'}, {userID: 'carol'}]});
          const send = (text, extra) => chat.sendMessage(chat.createTextMessage(
            Object.assign({to: groupID, conversationType: TIM.TYPES.CONV_GROUP, payload: {text}}, extra)));
          await send(everyone, {});
          await send(secret, {receiverList: ['bob']});
        }""",
        [group_id, everyone, secret],
    )
    for user in (bob, carol):
        conversation_item(user.page, f"GROUP{group_id}").click()
        expect(bubble(user.page, everyone)).to_be_visible()

    expect(bubble(bob.page, secret)).to_be_visible()
    expect(bob.page.get_by_test_id("message-receivers")).to_have_text("Only visible to you")
    expect(bubble(carol.page, secret)).to_have_count(0)
    preview = conversation_item(carol.page, f"GROUP{group_id}").get_by_test_id("conversation-preview")
    expect(preview).to_contain_text(everyone)
    carol.page.reload()
    carol.wait_ready()
    expect(bubble(carol.page, everyone)).to_be_visible()
    expect(bubble(carol.page, secret)).to_have_count(0)
