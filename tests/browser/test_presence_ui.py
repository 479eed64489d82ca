"""Presence in the browser (docs/PROTOCOL.md §5.33–5.37): the C2C header says "online"
while the peer's page is open and "last seen just now" once it closed and the grace
(2 s for the test site) passed; a custom status set from the account menu shows up in
the peer's header live; the member panel marks online members and the group header
counts them."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.pages import chat_between, conversation_item, unique

pytestmark = pytest.mark.browser


def fresh_users(make_user, *names):
    """Users of this test only: another test's closed pages are nobody's presence here."""
    tag = uuid.uuid4().hex[:6]
    ids = [f"{name}{tag}" for name in names]
    for user_id, name in zip(ids, names, strict=True):
        make_user(user_id, nick=name.title())
    return ids


def test_the_c2c_header_shows_online_then_last_seen_after_the_peer_leaves(open_as, make_user):
    alice_id, bob_id = fresh_users(make_user, "alice", "bob")
    alice, bob = chat_between(open_as, alice_id, bob_id, unique("hello"))
    header = bob.page.locator("#chat-sub")
    expect(header).to_have_text("online")
    expect(header).to_have_attribute("data-presence", "online")

    # Alice sets a status from her account menu: bob's header shows it live.
    alice.page.get_by_test_id("account-button").click()
    alice.page.get_by_test_id("set-status-button").click()
    alice.page.get_by_test_id("status-input").fill("In a meeting")
    alice.page.get_by_test_id("status-save").click()
    expect(alice.page.get_by_test_id("status-dialog")).not_to_be_visible()
    expect(header).to_have_text("online · In a meeting")
    alice.page.get_by_test_id("account-button").click()
    expect(alice.page.get_by_test_id("my-status")).to_have_text("Status: In a meeting")

    alice.page.close()
    expect(header).to_have_text("last seen just now · In a meeting", timeout=8_000)
    expect(header).to_have_attribute("data-presence", "offline")


def test_the_member_panel_marks_who_is_online_and_the_header_counts_them(open_as, make_user):
    owner_id, bob_id, carol_id = fresh_users(make_user, "owner", "bob", "carol")
    owner = open_as(owner_id)
    group_id = f"presence-{uuid.uuid4().hex[:6]}"
    owner.page.evaluate(
        """async ([groupID, members]) => {
          await chat.createGroup({type: TIM.TYPES.GRP_WORK, name: 'Presence', groupID,
                                  memberList: members.map((userID) => ({userID}))});
        }""",
        [group_id, [bob_id, carol_id]],
    )
    bob = open_as(bob_id)
    conversation_item(owner.page, f"GROUP{group_id}").click()
    header = owner.page.locator("#chat-sub")
    expect(header).to_have_text(re.compile(r"· 2 online$"))
    owner.page.get_by_test_id("members-button").click()

    def row(user_id):
        return owner.page.locator(f'[data-testid="member-item"][data-user-id="{user_id}"]')

    expect(row(bob_id).get_by_role("img", name="Online")).to_be_visible()
    expect(row(owner_id).get_by_test_id("member-online")).to_be_visible()
    expect(row(carol_id).get_by_test_id("member-online")).to_have_count(0)

    carol = open_as(carol_id)
    expect(row(carol_id).get_by_role("img", name="Online")).to_be_visible()
    expect(header).to_have_text(re.compile(r"· 3 online$"))

    bob.page.close()
    expect(row(bob_id).get_by_test_id("member-online")).to_have_count(0, timeout=8_000)
    expect(header).to_have_text(re.compile(r"· 2 online$"))
    assert carol.errors == []
