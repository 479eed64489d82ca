"""Conversation management in the browser (docs/PROTOCOL.md §5.49): a draft typed in one tab
shows as "[Draft] …" in the user's other tab; star and a list (conversation group) filter
the conversation list through the tabs above it; muting shows the muted bell; mark as
unread shows a dot that opening the chat clears."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble, conversation_item, send, start_chat, unique
from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser


def preview(page, conversation_id):
    return conversation_item(page, conversation_id).get_by_test_id("conversation-preview")


def menu_item(page, testid):
    page.get_by_test_id("conversation-menu-button").click()
    page.get_by_test_id(testid).click()


def tab(page, name):
    return page.get_by_test_id("conversation-tab").filter(has_text=name)


@pytest.fixture
def people(make_user):
    """Three fresh users: the one whose list we look at, and two peers."""
    suffix = uuid.uuid4().hex[:6]
    ids = [f"cm{role}{suffix}" for role in ("me", "ann", "ben")]
    for user_id in ids:
        make_user(user_id, nick=user_id)
    return ids


def test_a_draft_typed_in_one_tab_shows_in_the_other_tabs_list(open_as, people):
    me, ann, _ = people
    first = open_as(me)
    start_chat(first.page, ann)
    hello = unique("hello")
    send(first.page, hello)
    expect(bubble(first.page, hello)).to_be_visible()
    second = open_as(me)
    expect(conversation_item(second.page, f"C2C{ann}")).to_be_visible()

    draft = unique("half a thought")
    first.page.get_by_test_id("composer-input").fill(draft)
    # Saved while typing (debounced): the other tab's list shows it, without a reload.
    expect(preview(second.page, f"C2C{ann}")).to_contain_text(f"[Draft] {draft}")
    expect(preview(second.page, f"C2C{ann}").get_by_test_id("draft-label")).to_be_visible()

    # The other tab opens the chat: the composer holds the draft.
    conversation_item(second.page, f"C2C{ann}").click()
    expect(second.page.get_by_test_id("composer-input")).to_have_value(draft)

    # Sent from the first tab: the draft is gone everywhere.
    first.page.get_by_test_id("composer-input").press("Enter")
    expect(bubble(first.page, draft)).to_be_visible()
    second.page.reload()
    second.wait_ready()
    expect(preview(second.page, f"C2C{ann}")).not_to_contain_text("[Draft]")


def test_star_a_list_and_mute_filter_and_mark_the_conversation_list(open_as, people):
    me, ann, ben = people
    page_of_me = open_as(me)
    page = page_of_me.page
    for peer in (ann, ben):
        start_chat(page, peer)
        text = unique(f"hi {peer}")
        send(page, text)
        expect(bubble(page, text)).to_be_visible()
    other = open_as(me)

    # Star the chat with ann: a star in both tabs, and the "Starred" tab shows only her.
    conversation_item(page, f"C2C{ann}").click()
    menu_item(page, "star-button")
    for p in (page, other.page):
        expect(conversation_item(p, f"C2C{ann}").get_by_test_id("star-mark")).to_be_visible()
    expect(conversation_item(page, f"C2C{ben}").get_by_test_id("star-mark")).to_have_count(0)
    tab(other.page, "Starred").click()
    expect(conversation_item(other.page, f"C2C{ann}")).to_be_visible()
    expect(conversation_item(other.page, f"C2C{ben}")).to_have_count(0)
    tab(other.page, "All").click()
    expect(conversation_item(other.page, f"C2C{ben}")).to_be_visible()

    # Put ben's chat in a new list "Suppliers": a tab in both pages that shows only him.
    conversation_item(page, f"C2C{ben}").click()
    menu_item(page, "conversation-lists-button")
    page.get_by_test_id("new-list-name").fill("Suppliers")
    page.get_by_test_id("lists-save").click()
    expect(page.get_by_test_id("lists-dialog")).not_to_be_visible()
    tab(other.page, "Suppliers").click()
    expect(conversation_item(other.page, f"C2C{ben}")).to_be_visible()
    expect(conversation_item(other.page, f"C2C{ann}")).to_have_count(0)
    tab(other.page, "All").click()

    # Mute ben's chat: the muted bell, in both pages; unmute takes it away.
    menu_item(page, "mute-notifications-button")
    for p in (page, other.page):
        expect(conversation_item(p, f"C2C{ben}").get_by_test_id("muted-mark")).to_be_visible()
    expect(conversation_item(page, f"C2C{ann}").get_by_test_id("muted-mark")).to_have_count(0)
    page.screenshot(path="/tmp/conversation-management.png")
    menu_item(page, "mute-notifications-button")
    expect(conversation_item(other.page, f"C2C{ben}").get_by_test_id("muted-mark")).to_have_count(0)

    # Mark ann's chat as unread: a dot in the other page, gone once that page opens it.
    conversation_item(page, f"C2C{ann}").click()
    menu_item(page, "mark-unread-button")
    expect(conversation_item(other.page, f"C2C{ann}").get_by_test_id("unread-mark")).to_be_visible()
    conversation_item(other.page, f"C2C{ann}").click()
    expect(conversation_item(other.page, f"C2C{ann}").get_by_test_id("unread-mark")).to_have_count(0)
    expect(conversation_item(page, f"C2C{ann}").get_by_test_id("unread-mark")).to_have_count(0)


def test_a_list_is_renamed_and_deleted_with_the_keyboard(open_as, people):
    """The Lists dialog renames a list in place (Rename, type, Enter; Esc leaves the row and
    keeps the dialog open) and deletes one; every tab of the user follows, the chat keeps
    its (renamed) list, and the focus stays in the dialog on a sensible control."""
    me, ann, _ = people
    page = open_as(me).page
    start_chat(page, ann)
    text = unique(f"hi {ann}")
    send(page, text)
    expect(bubble(page, text)).to_be_visible()
    other = open_as(me)
    dialog = page.get_by_test_id("lists-dialog")

    def open_lists():
        conversation_item(page, f"C2C{ann}").click()
        menu_item(page, "conversation-lists-button")
        expect(dialog).to_be_visible()

    for name in ("Vendors", "Later"):
        open_lists()
        page.get_by_test_id("new-list-name").fill(name)
        page.get_by_test_id("new-list-name").press("Enter")
        expect(dialog).not_to_be_visible()
    for p in (page, other.page):
        expect(tab(p, "Later")).to_be_visible()

    open_lists()
    row = dialog.locator('[data-list="Vendors"]')
    row.get_by_test_id("list-rename").focus()
    page.keyboard.press("Enter")
    rename = dialog.get_by_test_id("list-rename-input")
    expect(rename).to_be_focused()
    expect(rename).to_have_value("Vendors")
    assert_accessible(page, "the Lists dialog, a list being renamed")
    page.keyboard.press("Escape")  # leaves the row, not the dialog
    expect(dialog).to_be_visible()
    expect(row.get_by_test_id("list-rename")).to_be_focused()

    page.keyboard.press("Enter")
    expect(rename).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("Suppliers")
    page.keyboard.press("Enter")
    renamed = dialog.locator('[data-list="Suppliers"]')
    expect(renamed.get_by_test_id("list-rename")).to_be_focused()
    expect(dialog).to_be_visible()
    expect(renamed.get_by_test_id("list-choice")).to_be_checked()  # the chat is still in it
    for p in (page, other.page):
        expect(tab(p, "Suppliers")).to_be_visible()
        expect(tab(p, "Vendors")).to_have_count(0)
    tab(other.page, "Suppliers").click()
    expect(conversation_item(other.page, f"C2C{ann}")).to_be_visible()
    tab(other.page, "All").click()

    renamed.get_by_test_id("list-delete").focus()
    page.keyboard.press("Enter")
    expect(dialog.locator('[data-list="Suppliers"]')).to_have_count(0)
    expect(dialog.locator('[data-list="Later"]').get_by_test_id("list-delete")).to_be_focused()
    page.keyboard.press("Space")
    expect(dialog.get_by_test_id("list-choice")).to_have_count(0)
    expect(page.get_by_test_id("new-list-name")).to_be_focused()
    for p in (page, other.page):
        expect(tab(p, "Suppliers")).to_have_count(0)
        expect(tab(p, "Later")).to_have_count(0)
    page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()
