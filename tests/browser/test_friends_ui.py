"""Friends and blocking in the browser (docs/PROTOCOL.md §5.33): a friend request sent
from the Contacts panel reaches the other user live (badge, Requests tab), accepting it
puts each in the other's friend list, a remark renames the conversation, and a block
made in the UI refuses the blocked user's messages with a readable error while the
blocker sees nothing."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble, conversation_item, send

pytestmark = pytest.mark.browser


def fresh_pair(make_user, open_as):
    """Two new users (the site's database is shared by the session's tests), signed in."""
    tag = uuid.uuid4().hex[:6]
    ann_id, ben_id = f"ann{tag}", f"ben{tag}"
    make_user(ann_id, nick="Ann")
    make_user(ben_id, nick="Ben")
    return open_as(ann_id), open_as(ben_id)


def contacts(user, tab=None):
    """The Contacts dialog of ``user``, open (on ``tab`` when given)."""
    page = user.page
    page.get_by_test_id("contacts-button").click()
    dialog = page.get_by_test_id("contacts-dialog")
    expect(dialog).to_be_visible()
    if tab:
        dialog.get_by_test_id(f"contacts-tab-{tab}").click()
    return dialog


def friend_row(dialog, user_id):
    return dialog.locator(f'[data-testid="friend-row"][data-user-id="{user_id}"]')


def test_a_friend_request_accepted_in_the_ui_then_a_block_refuses_the_blocked_users_messages(make_user, open_as):
    ann, ben = fresh_pair(make_user, open_as)

    # Ann asks Ben from the Contacts panel.
    dialog = contacts(ann)
    expect(dialog.get_by_test_id("friends-empty")).to_be_visible()
    dialog.get_by_test_id("add-friend-input").fill(ben.user_id)
    dialog.get_by_test_id("add-friend-wording").fill("Hi Ben, it's Ann")
    dialog.get_by_test_id("add-friend-submit").click()
    expect(ann.page.get_by_test_id("toast")).to_contain_text("Friend request sent")
    ann.page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()

    # Ben sees it live: a badge on Contacts, and the request in the Requests tab.
    badge = ben.page.get_by_test_id("contacts-badge")
    expect(badge).to_have_text("1")
    ben_dialog = contacts(ben)
    expect(ben_dialog.get_by_test_id("contacts-tab-requests")).to_have_attribute("aria-selected", "true")
    request = ben_dialog.locator(f'[data-testid="request-row"][data-user-id="{ann.user_id}"]')
    expect(request).to_contain_text("Hi Ben, it's Ann")
    expect(badge).to_be_hidden()  # opening the requests marks them read
    request.get_by_role("button", name="Accept Ann's friend request").click()
    expect(ben_dialog.get_by_test_id("requests-empty")).to_have_text("No friend requests")

    # Both friend lists show each other, live.
    ben_dialog.get_by_test_id("contacts-tab-friends").click()
    expect(friend_row(ben_dialog, ann.user_id)).to_contain_text("Ann")
    ann_dialog = contacts(ann)
    expect(friend_row(ann_dialog, ben.user_id)).to_contain_text("Ben")
    # "Message" opens the chat with the friend.
    friend_row(ann_dialog, ben.user_id).get_by_test_id("friend-message").click()
    expect(ann_dialog).not_to_be_visible()
    expect(ann.page.get_by_test_id("composer-input")).to_be_focused()  # not back on the Contacts button
    send(ann.page, "hello friend")
    expect(conversation_item(ben.page, f"C2C{ann.user_id}")).to_contain_text("hello friend")

    # Ben's remark for Ann names their conversation.
    friend_row(ben_dialog, ann.user_id).get_by_test_id("friend-remark").click()
    remark = ben.page.get_by_test_id("remark-dialog")
    remark.get_by_test_id("remark-input").fill("Ann from work")
    remark.get_by_test_id("remark-submit").click()
    expect(remark).not_to_be_visible()
    expect(friend_row(ben_dialog, ann.user_id).locator(".contact-name")).to_have_text("Ann from work")
    ben.page.keyboard.press("Escape")
    expect(conversation_item(ben.page, f"C2C{ann.user_id}").get_by_test_id("conversation-name")).to_have_text("Ann from work")

    # Ben blocks Ann in the UI: the friendship ends on both sides, Ann is in Ben's Blocked tab.
    ben_dialog = contacts(ben, "friends")
    friend_row(ben_dialog, ann.user_id).get_by_test_id("friend-block").click()
    ben.page.get_by_test_id("confirm-ok").click()
    ben_dialog.get_by_test_id("contacts-tab-blocked").click()
    expect(ben_dialog.locator(f'[data-testid="blocked-row"][data-user-id="{ann.user_id}"]')).to_be_visible()
    expect(ann_dialog).not_to_be_visible()
    ann_dialog = contacts(ann)
    expect(ann_dialog.get_by_test_id("friends-empty")).to_be_visible()
    ann.page.keyboard.press("Escape")
    ben.page.keyboard.press("Escape")
    conversation_item(ben.page, f"C2C{ann.user_id}").click()

    # Ann's message is refused with words a person understands; Ben sees nothing.
    conversation_item(ann.page, f"C2C{ben.user_id}").click()
    send(ann.page, "are you there?")
    expect(ann.page.get_by_test_id("error-toast")).to_contain_text("isn't accepting your messages")
    expect(ann.page.get_by_test_id("send-failed")).to_contain_text("Not sent. This person isn't accepting your messages.")
    ben.page.wait_for_timeout(500)
    expect(bubble(ben.page, "are you there?")).to_have_count(0)
    expect(conversation_item(ben.page, f"C2C{ann.user_id}").get_by_test_id("conversation-preview")).to_contain_text(
        "hello friend"
    )

    # Unblocked, Ann's messages arrive again.
    ben_dialog = contacts(ben, "blocked")
    ben_dialog.get_by_role("button", name="Unblock Ann").click()
    expect(ben_dialog.get_by_test_id("blocked-empty")).to_have_text("No blocked users")
    ben.page.keyboard.press("Escape")
    send(ann.page, "back again")
    expect(bubble(ben.page, "back again")).to_be_visible()
