"""Profiles and finding people in the browser (docs/PROTOCOL.md §5.40–5.42, §10.4):
a name and a photo changed in "Profile and settings" reach a peer's open page live
(conversation list and message rows), the New chat typeahead finds people by a
prefix, the profile card opens from the C2C header, and "Browse groups" joins one."""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.pages import bubble, conversation_item, send, start_chat, unique

pytestmark = pytest.mark.browser
AVATAR_URL = re.compile(r"/media/avatars/[0-9a-f]{32}\.(jpg|png)$")


def png_bytes(width, height):
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


def test_a_new_name_and_photo_reach_the_peers_open_page_without_reload(open_as, make_user):
    make_user("pia", nick="Pia")
    make_user("quinn", nick="Quinn")
    pia, quinn = open_as("pia"), open_as("quinn")
    group_id = unique("pq").replace(" ", "-")
    pia.page.evaluate(
        "async (groupID) => { await chat.createGroup({type: TIM.TYPES.GRP_PUBLIC, name: 'PQ', groupID, memberList: [{userID: 'quinn'}]}); }",
        group_id,
    )
    start_chat(pia.page, "quinn")
    send(pia.page, "hi quinn")
    conversation_item(pia.page, f"GROUP{group_id}").click()
    text = unique("from pia")
    send(pia.page, text)

    conversation_item(quinn.page, f"GROUP{group_id}").click()
    row = quinn.page.locator(".msg-row", has=bubble(quinn.page, text))
    expect(row.locator(".msg-name")).to_have_text("Pia")
    expect(conversation_item(quinn.page, "C2Cpia")).to_contain_text("Pia")

    # pia: Profile and settings — a new name and a photo (uploaded, cropped by the server).
    pia.page.get_by_test_id("account-button").click()
    pia.page.get_by_test_id("settings-button").click()
    dialog = pia.page.get_by_test_id("settings-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_test_id("settings-nick").fill("Pia Renamed")
    dialog.get_by_test_id("settings-signature").fill("Back on Monday")
    dialog.get_by_test_id("settings-avatar-input").set_input_files(
        files=[{"name": "me.png", "mimeType": "image/png", "buffer": png_bytes(400, 240)}]
    )
    expect(dialog.locator("#settings-avatar img")).to_have_attribute("src", re.compile(r"/media/avatars/[0-9a-f]{32}\.jpg$"))
    expect(dialog.get_by_test_id("settings-avatar-progress")).to_be_hidden()
    dialog.get_by_test_id("settings-save").click()
    expect(dialog).to_be_hidden()
    expect(pia.page.locator("#me-name")).to_have_text("Pia Renamed")

    # quinn's page, not reloaded: the list, the message rows and the header follow.
    expect(conversation_item(quinn.page, "C2Cpia")).to_contain_text("Pia Renamed")
    expect(row.locator(".msg-name")).to_have_text("Pia Renamed")
    face = row.locator('[data-testid="message-avatar"] img')
    expect(face).to_have_attribute("src", re.compile(r"/media/avatars/[0-9a-f]{32}\.jpg$"))
    quinn.page.wait_for_function(
        "() => { const img = document.querySelector('.msg-row [data-testid=\"message-avatar\"] img');"
        " return img && img.complete && img.naturalWidth === 256 && img.naturalHeight === 256; }"
    )

    # Her avatar opens her profile card, with the new signature.
    row.get_by_test_id("message-avatar").click()
    card = quinn.page.get_by_test_id("profile-card")
    expect(card.get_by_test_id("profile-name")).to_have_text("Pia Renamed")
    expect(card.get_by_test_id("profile-signature")).to_have_text("Back on Monday")


def test_the_typeahead_finds_carol_by_a_prefix_and_the_header_opens_her_card(open_as):
    alice = open_as("alice")
    page = alice.page
    page.get_by_test_id("new-menu-button").click()
    page.get_by_test_id("new-chat-button").click()
    field = page.get_by_test_id("new-chat-input")
    field.press_sequentially("car", delay=40)
    option = page.locator('[data-testid="typeahead-option"][data-user-id="carol"]')
    expect(option).to_be_visible()
    expect(field).to_have_attribute("aria-expanded", "true")
    # Keyboard: the first match is active; ↓ and ↑ move, Enter picks.
    field.press("ArrowDown")
    field.press("ArrowUp")
    expect(option).to_have_attribute("aria-selected", "true")
    field.press("Enter")
    expect(page.get_by_test_id("new-chat-dialog")).to_be_hidden()
    expect(page.get_by_test_id("chat-name")).to_have_text("Carol")

    page.get_by_test_id("chat-title").click()
    card = page.get_by_test_id("profile-card")
    expect(card).to_be_visible()
    expect(card.get_by_test_id("profile-user-id")).to_have_text("@carol")
    expect(card.get_by_test_id("profile-name")).to_have_text("Carol")
    # Friends are another branch's SDK methods: without them the button says so.
    if not page.evaluate("typeof chat.addFriend === 'function'"):
        card.get_by_test_id("profile-add-friend").click()
        expect(card.locator("[data-error]")).to_contain_text("Friend requests aren't available")
    card.get_by_test_id("profile-message").click()
    expect(card).to_be_hidden()
    expect(page.get_by_test_id("composer-input")).to_be_focused()


def test_browse_groups_lists_public_groups_and_joins_one(open_as):
    bob = open_as("bob")
    group_id = unique("open").replace(" ", "-")
    bob.page.evaluate(
        "async (groupID) => { await chat.createGroup({type: TIM.TYPES.GRP_PUBLIC, name: 'Open door', groupID}); }", group_id
    )
    dave = open_as("dave")
    dave.page.get_by_test_id("new-menu-button").click()
    dave.page.get_by_test_id("browse-groups-button").click()
    item = dave.page.locator(f'[data-testid="browse-group"][data-group-id="{group_id}"]')
    expect(item).to_contain_text("Open door")
    item.get_by_test_id("browse-join").click()
    expect(dave.page.get_by_test_id("browse-groups-dialog")).to_be_hidden()
    expect(dave.page.get_by_test_id("chat-name")).to_have_text("Open door")
    expect(conversation_item(dave.page, f"GROUP{group_id}")).to_be_visible()


def test_a_group_photo_is_uploaded_in_group_settings_and_members_see_it(open_as, make_user):
    make_user("rae", nick="Rae")
    make_user("sol", nick="Sol")
    rae, sol = open_as("rae"), open_as("sol")
    group_id = unique("photo").replace(" ", "-")
    rae.page.evaluate(
        "async (groupID) => { await chat.createGroup({type: TIM.TYPES.GRP_PUBLIC, name: 'Photo club', groupID, memberList: [{userID: 'sol'}]}); }",
        group_id,
    )
    conversation_item(rae.page, f"GROUP{group_id}").click()
    rae.page.get_by_test_id("members-button").click()
    rae.page.get_by_test_id("group-settings-button").click()
    dialog = rae.page.get_by_test_id("group-settings-dialog")
    dialog.get_by_test_id("group-settings-avatar-input").set_input_files(
        files=[{"name": "club.png", "mimeType": "image/png", "buffer": png_bytes(300, 500)}]
    )
    expect(dialog.locator("#group-settings-avatar img")).to_have_attribute("src", AVATAR_URL)
    dialog.get_by_test_id("group-settings-submit").click()
    expect(dialog).to_be_hidden()

    expect(conversation_item(sol.page, f"GROUP{group_id}").locator(".avatar img")).to_have_attribute("src", AVATAR_URL)


def test_new_group_members_are_picked_with_the_typeahead(open_as):
    page = open_as("alice").page
    page.get_by_test_id("new-menu-button").click()
    page.get_by_test_id("new-group-button").click()
    dialog = page.get_by_test_id("new-group-dialog")
    dialog.get_by_test_id("new-group-name").fill("Picked")
    members = dialog.get_by_test_id("new-group-members")
    members.press_sequentially("da", delay=40)
    expect(dialog.locator('[data-testid="typeahead-option"][data-user-id="dave"]')).to_be_visible()
    members.press("Enter")
    expect(dialog.locator('[data-testid="member-chip"][data-user-id="dave"]')).to_be_visible()
    expect(members).to_have_value("")
