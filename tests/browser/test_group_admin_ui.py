"""Group administration in the browser: the owner's member menu in the group info panel
(mute, unmute, make admin) and the muted member's composer, which says why it is
disabled and comes back live when the mute is lifted or ends (docs/PROTOCOL.md §5.25–5.27)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import conversation_item, unique

pytestmark = pytest.mark.browser

MUTED = re.compile(r"^You are muted until (\d{4}-\d\d-\d\d )?\d\d:\d\d$")


def make_group(owner, members):
    group_id = unique("admin").replace(" ", "-")
    owner.page.evaluate(
        """async ([groupID, members]) => {
          await chat.createGroup({type: TIM.TYPES.GRP_PUBLIC, name: 'Admins', groupID,
                                  memberList: members.map((userID) => ({userID}))});
        }""",
        [group_id, members],
    )
    return group_id


def open_group(user, group_id):
    conversation_item(user.page, f"GROUP{group_id}").click()
    expect(user.page.get_by_test_id("composer-input")).to_be_enabled()


def owner_with_panel(open_as, members):
    """alice creates a group with ``members``, opens it and its group info panel."""
    alice = open_as("alice")
    group_id = make_group(alice, members)
    open_group(alice, group_id)
    alice.page.get_by_test_id("members-button").click()
    return alice, group_id


def owner_and_bob(open_as, members):
    """As owner_with_panel, and bob has the group open."""
    alice, group_id = owner_with_panel(open_as, members)
    bob = open_as("bob")
    open_group(bob, group_id)
    return alice, bob, group_id


def member_action(owner, user_id, testid):
    row = owner.page.locator(f'[data-testid="member-item"][data-user-id="{user_id}"]')
    row.get_by_test_id("member-menu-button").click()
    menu = owner.page.get_by_test_id("member-menu")
    expect(menu).to_be_visible()
    menu.get_by_test_id(testid).click()
    return row


def test_owner_mutes_and_unmutes_bob_and_his_composer_follows_live(open_as):
    alice, bob, group_id = owner_and_bob(open_as, ["bob", "carol"])

    row = member_action(alice, "bob", "member-mute-600")
    expect(row.get_by_test_id("member-muted")).to_have_text("Muted")
    notice = bob.page.get_by_test_id("composer-notice")
    expect(notice).to_have_text(MUTED)
    expect(bob.page.get_by_test_id("composer-input")).to_be_disabled()

    # A send the server refuses (10017; here a text submitted as if the tip had not
    # arrived yet) says the same as the composer.
    bob.page.evaluate(
        """() => {
          document.getElementById('composer-input').value = 'hi';
          document.getElementById('composer').requestSubmit();
        }"""
    )
    expect(bob.page.get_by_test_id("toasts")).to_contain_text("You are muted until")

    member_action(alice, "bob", "member-unmute")
    expect(row.get_by_test_id("member-muted")).to_have_count(0)
    expect(notice).to_be_hidden()
    expect(bob.page.get_by_test_id("composer-input")).to_be_enabled()


def test_a_short_mute_ends_by_itself(open_as):
    alice, bob = open_as("alice"), open_as("bob")
    group_id = make_group(alice, ["bob"])
    open_group(bob, group_id)
    alice.page.evaluate("(groupID) => chat.setGroupMemberMuteTime({groupID, userID: 'bob', muteTime: 3})", group_id)
    expect(bob.page.get_by_test_id("composer-notice")).to_have_text(MUTED)
    expect(bob.page.get_by_test_id("composer-input")).to_be_enabled(timeout=6000)
    expect(bob.page.get_by_test_id("composer-notice")).to_be_hidden()


def test_a_member_muted_before_opening_the_chat_sees_it(open_as):
    alice, bob = open_as("alice"), open_as("bob")
    group_id = make_group(alice, ["bob"])
    alice.page.evaluate("(groupID) => chat.setGroupMemberMuteTime({groupID, userID: 'bob', muteTime: 600})", group_id)
    bob.page.reload()
    bob.wait_ready()
    conversation_item(bob.page, f"GROUP{group_id}").click()
    expect(bob.page.get_by_test_id("composer-notice")).to_have_text(MUTED)
    expect(bob.page.get_by_test_id("composer-input")).to_be_disabled()


def test_owner_makes_carol_admin_and_mute_all_spares_her(open_as):
    alice, group_id = owner_with_panel(open_as, ["bob", "carol"])
    bob, carol = open_as("bob"), open_as("carol")
    for user in (bob, carol):
        open_group(user, group_id)

    row = member_action(alice, "carol", "member-set-admin")
    expect(row).to_have_attribute("data-role", "Admin")
    expect(row.locator(".role-tag.is-admin")).to_have_text("Admin")
    expect(alice.page.get_by_test_id("toasts")).to_contain_text("is now an admin")

    alice.page.evaluate("(groupID) => chat.updateGroupProfile({groupID, muteAllMembers: true})", group_id)
    expect(bob.page.get_by_test_id("composer-notice")).to_have_text("Only admins can send messages while everyone is muted")
    expect(bob.page.get_by_test_id("composer-input")).to_be_disabled()
    expect(carol.page.get_by_test_id("composer-input")).to_be_enabled()
    expect(carol.page.get_by_test_id("composer-notice")).to_be_hidden()

    alice.page.evaluate("(groupID) => chat.updateGroupProfile({groupID, muteAllMembers: false})", group_id)
    expect(bob.page.get_by_test_id("composer-input")).to_be_enabled()


def test_member_menu_works_from_the_keyboard_and_make_owner_asks_first(open_as):
    alice, group_id = owner_with_panel(open_as, ["bob"])
    row = alice.page.locator('[data-testid="member-item"][data-user-id="bob"]')
    button = row.get_by_role("button", name=re.compile("^Actions for "))
    button.focus()
    alice.page.keyboard.press("Enter")
    menu = alice.page.get_by_role("menu", name=re.compile("^Actions for "))
    expect(menu).to_be_visible()
    expect(menu.get_by_role("menuitem", name="Make admin")).to_be_focused()
    alice.page.keyboard.press("ArrowDown")
    expect(menu.get_by_role("menuitem", name="Mute for 10 minutes")).to_be_focused()
    alice.page.keyboard.press("ArrowUp")
    alice.page.keyboard.press("ArrowUp")
    expect(menu.get_by_role("menuitem", name="Make owner")).to_be_focused()
    alice.page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()

    button.click()
    menu.get_by_role("menuitem", name="Make owner").click()
    dialog = alice.page.get_by_test_id("confirm-dialog")
    expect(dialog).to_be_visible()
    dialog.locator("#dlg-confirm-ok").click()
    expect(row).to_have_attribute("data-role", "Owner")
    expect(alice.page.locator('[data-testid="member-item"][data-user-id="alice"]')).to_have_attribute("data-role", "Member")
    # No longer the owner: alice has nothing to do to bob.
    expect(row.get_by_test_id("member-menu-button")).to_have_count(0)


def test_owner_renames_posts_an_announcement_and_mutes_everyone_from_the_settings(open_as):
    alice, bob, group_id = owner_and_bob(open_as, ["bob"])
    alice.page.get_by_test_id("group-settings-button").click()
    dialog = alice.page.get_by_test_id("group-settings-dialog")
    expect(dialog.get_by_test_id("group-settings-name")).to_have_value("Admins")
    dialog.get_by_test_id("group-settings-name").fill("Launch crew")
    dialog.get_by_test_id("group-settings-notification").fill("Standup at 10")
    dialog.get_by_test_id("group-settings-mute-all").check()
    dialog.get_by_test_id("group-settings-submit").click()
    expect(dialog).to_be_hidden()

    expect(alice.page.locator("#group-name")).to_have_text("Launch crew")
    expect(alice.page.get_by_test_id("group-notification")).to_have_text("Standup at 10")
    expect(bob.page.locator("#chat-name")).to_have_text("Launch crew")
    expect(bob.page.get_by_test_id("composer-notice")).to_have_text("Only admins can send messages while everyone is muted")

    # bob, an ordinary member of a Public group, has no settings and cannot dismiss.
    bob.page.get_by_test_id("members-button").click()
    expect(bob.page.get_by_test_id("group-notification")).to_have_text("Standup at 10")
    expect(bob.page.get_by_test_id("group-settings-button")).to_be_hidden()
    expect(bob.page.get_by_test_id("dismiss-group-button")).to_be_hidden()


def test_a_refused_setting_is_shown_in_the_dialog(open_as):
    alice, group_id = owner_with_panel(open_as, ["bob"])
    alice.page.get_by_test_id("group-settings-button").click()
    dialog = alice.page.get_by_test_id("group-settings-dialog")
    dialog.get_by_test_id("group-settings-introduction").fill("x" * 1000)
    dialog.get_by_test_id("group-settings-submit").click()
    expect(dialog.get_by_role("alert")).to_be_visible()
    expect(dialog).to_be_visible()


def test_owner_dismisses_the_group_after_confirming(open_as):
    alice, bob, group_id = owner_and_bob(open_as, ["bob"])
    alice.page.get_by_test_id("dismiss-group-button").click()
    confirm = alice.page.get_by_test_id("confirm-dialog")
    expect(confirm).to_contain_text("Dismiss Admins?")
    confirm.locator("#dlg-confirm-ok").click()
    expect(alice.page.get_by_test_id("member-panel")).to_be_hidden()
    expect(bob.page.get_by_test_id("composer-notice")).to_have_text("You're no longer a member of this group.")


def test_an_open_panel_follows_the_tips_live(open_as):
    """bob's group info panel is open while alice, in her console, makes him admin and
    posts an announcement: his panel shows both without a reload."""
    alice, bob, group_id = owner_and_bob(open_as, ["bob"])
    bob.page.get_by_test_id("members-button").click()
    bob_row = bob.page.locator('[data-testid="member-item"][data-user-id="bob"]')
    expect(bob_row).to_have_attribute("data-role", "Member")
    alice.page.evaluate(
        """async (groupID) => {
          await chat.setGroupMemberRole({groupID, userID: 'bob', role: 'Admin'});
          await chat.updateGroupProfile({groupID, notification: 'Standup at 10'});
        }""",
        group_id,
    )
    expect(bob_row).to_have_attribute("data-role", "Admin")
    expect(bob.page.get_by_test_id("group-notification")).to_have_text("Standup at 10")
    # An admin may edit the settings now.
    expect(bob.page.get_by_test_id("group-settings-button")).to_be_visible()
