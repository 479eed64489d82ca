"""Join requests in the browser (docs/PROTOCOL.md §5.10, §5.43, §6.15): bob asks to join a
group that needs approval, alice's "Join requests" badge counts it, she accepts it from the
keyboard, and bob's page shows the group at once, with the answer in his system notices;
the group settings dialog sets who can join, and a request reviewed from its notice is
refused."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import conversation_item, unique

pytestmark = pytest.mark.browser


def make_group(owner, join_option="NeedPermission"):
    group_id = unique("join").replace(" ", "-")
    owner.page.evaluate(
        """async ([groupID, joinOption]) => {
          await chat.createGroup({type: TIM.TYPES.GRP_PUBLIC, name: 'Approvals', groupID, joinOption});
        }""",
        [group_id, join_option],
    )
    return group_id


def ask_to_join(user, group_id):
    page = user.page
    page.get_by_test_id("new-menu-button").click()
    page.get_by_test_id("join-group-button").click()
    page.get_by_test_id("join-group-input").fill(group_id)
    page.get_by_test_id("join-group-submit").click()
    expect(page.get_by_test_id("join-group-dialog")).not_to_be_visible()
    expect(page.get_by_test_id("toasts")).to_contain_text("Request sent")


def test_bob_asks_to_join_alice_accepts_from_the_requests_list_and_bob_sees_the_group(open_as):
    alice = open_as("alice")
    group_id = make_group(alice)
    bob = open_as("bob")

    ask_to_join(bob, group_id)
    expect(conversation_item(bob.page, f"GROUP{group_id}")).to_have_count(0)

    # alice: the badge counts her waiting requests (earlier tests may have left others).
    button = alice.page.get_by_test_id("requests-button")
    expect(button).to_be_visible()
    expect(alice.page.get_by_test_id("requests-badge")).to_have_text(
        str(
            alice.page.evaluate("""async () =>
        (await chat.getGroupApplicationList()).data.unreadCount""")
        )
    )
    waiting = int(alice.page.get_by_test_id("requests-badge").inner_text())
    # Her system notices say it too, in words.
    system = conversation_item(alice.page, "@TIM#SYSTEM")
    expect(system.get_by_test_id("conversation-name")).to_have_text("System notices")
    expect(system.get_by_test_id("conversation-preview")).to_contain_text("asked to join Approvals")

    button.focus()
    alice.page.keyboard.press("Enter")
    dialog = alice.page.get_by_test_id("requests-dialog")
    expect(dialog).to_be_visible()
    item = dialog.locator(f'[data-testid="request-item"][data-group-id="{group_id}"]')
    expect(item).to_contain_text("asked to join Approvals")
    accept = item.get_by_role("button", name="Accept")
    expect(accept).to_have_attribute("aria-label", "Accept Bob's request to join Approvals")
    accept.focus()
    alice.page.keyboard.press("Enter")
    expect(item).to_have_count(0)
    expect(alice.page.get_by_test_id("toasts")).to_contain_text("joined Approvals")
    alice.page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()
    if waiting == 1:
        expect(button).to_be_hidden()
    else:
        expect(alice.page.get_by_test_id("requests-badge")).to_have_text(str(waiting - 1))

    # bob: the group is in his list at once, and his system notices say he was accepted.
    group = conversation_item(bob.page, f"GROUP{group_id}")
    expect(group).to_be_visible()
    expect(conversation_item(bob.page, "@TIM#SYSTEM").get_by_test_id("conversation-preview")).to_have_text(
        "Your request to join Approvals was accepted"
    )
    group.click()
    expect(bob.page.get_by_test_id("composer-input")).to_be_enabled()
    conversation_item(bob.page, "@TIM#SYSTEM").click()
    expect(bob.page.get_by_test_id("group-tip").last).to_have_text("Your request to join Approvals was accepted")
    expect(bob.page.get_by_test_id("composer-input")).to_be_disabled()
    assert not alice.errors and not bob.errors


def test_the_group_settings_dialog_sets_who_can_join(open_as):
    alice = open_as("alice")
    group_id = make_group(alice, join_option="FreeAccess")
    conversation_item(alice.page, f"GROUP{group_id}").click()
    alice.page.get_by_test_id("members-button").click()
    alice.page.get_by_test_id("group-settings-button").click()
    select = alice.page.get_by_test_id("group-settings-join-option")
    expect(select).to_have_value("FreeAccess")
    select.select_option(label="Needs approval")
    alice.page.get_by_test_id("group-settings-submit").click()
    expect(alice.page.get_by_test_id("group-settings-dialog")).not_to_be_visible()
    profile = alice.page.evaluate("async (groupID) => (await chat.getGroupProfile({groupID})).data.group", group_id)
    assert profile["joinOption"] == "NeedPermission"

    bob = open_as("bob")
    ask_to_join(bob, group_id)
    expect(alice.page.get_by_test_id("requests-button")).to_be_visible()

    # From the notice in her system notices, alice reviews it and refuses it.
    conversation_item(alice.page, "@TIM#SYSTEM").click()
    notice = alice.page.get_by_test_id("group-tip").filter(has_text="Bob asked to join Approvals").last
    notice.get_by_test_id("notice-review").click()
    item = alice.page.get_by_test_id("requests-dialog").locator(f'[data-testid="request-item"][data-group-id="{group_id}"]')
    item.get_by_role("button", name="Refuse").click()
    expect(item).to_have_count(0)
    expect(conversation_item(bob.page, "@TIM#SYSTEM").get_by_test_id("conversation-preview")).to_have_text(
        "Your request to join Approvals was refused"
    )
    expect(conversation_item(bob.page, f"GROUP{group_id}")).to_have_count(0)
    assert not alice.errors and not bob.errors
