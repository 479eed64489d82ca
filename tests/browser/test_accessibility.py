"""Accessibility: axe-core (node_modules/axe-core, pinned in package.json) over every screen of
the app — login, the conversation list, a C2C chat, a group chat, the group info panel, the
dialogs, the phone layout and dark mode — reports no serious or critical violation.

axe runs in the page through Playwright's ``evaluate`` (which the page's Content-Security-Policy
does not govern, unlike an injected ``<script>``), on the rules of WCAG 2.x A and AA.
"""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import DEMO_PASSWORD
from tests.browser.pages import bubble, chat_between, conversation_item, send, unique

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}


def axe_violations(page):
    """The serious and critical violations axe finds in ``page`` as it is now."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make install-js`")
    # Colours are read as drawn: let transitions and fade-ins (menus, dialogs) finish first.
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    found = page.evaluate(
        """async (tags) => {
          const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
          return result.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' :: ' + n.failureSummary)}));
        }""",
        TAGS,
    )
    return [v for v in found if v["impact"] in BLOCKING]


def assert_accessible(page, screen):
    violations = axe_violations(page)
    assert not violations, f"{screen}: " + "\n".join(f"{v['id']} ({v['impact']}): {v['help']} {v['nodes']}" for v in violations)


def make_group(user, name, members):
    group_id = unique("a11y").replace(" ", "-")
    user.page.evaluate(
        """async ([groupID, name, members]) => {
          await chat.createGroup({type: TIM.TYPES.GRP_WORK, name, groupID, memberList: members.map((userID) => ({userID}))});
        }""",
        [group_id, name, members],
    )
    return group_id


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_login_page_has_no_serious_violation(browser, chat_site, scheme):
    context = browser.new_context(base_url=chat_site, color_scheme=scheme)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        assert_accessible(page, f"login ({scheme})")
        page.click("button[type=submit]")  # empty: the form's errors are shown
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", DEMO_PASSWORD + "x")
        page.click("button[type=submit]")
        expect(page.locator(".errorlist, [role=alert]").first).to_be_visible()
        assert_accessible(page, f"login with an error ({scheme})")
    finally:
        context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_chat_screens_have_no_serious_violation(open_as, make_user, scheme):
    # Users of this test's own: the groups and messages it makes leave nobody else's count changed.
    owner, peer, member = (f"axe_{role}_{scheme}" for role in ("owner", "peer", "member"))
    for user_id in (owner, peer, member):
        make_user(user_id, nick=user_id.split("_")[1].title())
    alice, bob = chat_between(open_as, owner, peer, unique("axe hello"))
    for user in (alice, bob):
        user.page.emulate_media(color_scheme=scheme)
    send(bob.page, "a reply with a link https://example.com")
    expect(bubble(alice.page, "a reply with a link")).to_be_visible()
    expect(alice.page.get_by_test_id("message-status").last).to_have_attribute("data-status", "read")
    assert_accessible(alice.page, f"C2C chat with read ticks ({scheme})")
    assert_accessible(bob.page, f"C2C chat, the receiver ({scheme})")

    group_id = make_group(alice, "Accessible team", [peer, member])
    conversation_item(alice.page, f"GROUP{group_id}").click()
    hello = unique("group hello")
    send(alice.page, hello)
    expect(bubble(alice.page, hello)).to_be_visible()
    expect(alice.page.locator(".msg-row.is-pending")).to_have_count(0)  # sent: a pending bubble is dimmed
    assert_accessible(alice.page, f"group chat ({scheme})")

    bubble(alice.page, hello).click(button="right")
    alice.page.get_by_test_id("forward-message").click()
    forward = alice.page.get_by_test_id("forward-dialog")
    forward.get_by_test_id("forward-target").first.click()  # ticked: the comment and Send show
    expect(forward.get_by_test_id("forward-send")).to_be_enabled()
    assert_accessible(alice.page, f"forward to several chats ({scheme})")
    alice.page.keyboard.press("Escape")
    expect(forward).not_to_be_visible()

    alice.page.get_by_test_id("members-button").click()
    expect(alice.page.get_by_test_id("member-panel")).to_be_visible()
    assert_accessible(alice.page, f"group info panel ({scheme})")
    alice.page.get_by_test_id("member-panel-close").click()

    alice.page.get_by_test_id("emoji-button").click()
    expect(alice.page.get_by_test_id("emoji-picker")).to_be_visible()
    assert_accessible(alice.page, f"emoji picker ({scheme})")
    alice.page.get_by_test_id("unicode-tab").click()
    expect(alice.page.get_by_test_id("unicode-item").first).to_be_visible()
    assert_accessible(alice.page, f"emoji picker, Unicode tab ({scheme})")
    alice.page.get_by_test_id("unicode-search").fill("heart")
    expect(alice.page.get_by_test_id("unicode-item").first).to_be_visible()
    assert_accessible(alice.page, f"emoji picker, Unicode search ({scheme})")
    alice.page.get_by_test_id("emoji-tab").click()
    alice.page.keyboard.press("Escape")

    alice.page.get_by_test_id("new-menu-button").click()
    assert_accessible(alice.page, f"new conversation menu ({scheme})")
    alice.page.get_by_test_id("new-chat-button").click()
    expect(alice.page.get_by_test_id("new-chat-dialog")).to_be_visible()
    assert_accessible(alice.page, f"new chat dialog ({scheme})")
    alice.page.keyboard.press("Escape")

    alice.page.get_by_test_id("account-button").click()
    alice.page.get_by_test_id("settings-button").click()
    assert_accessible(alice.page, f"profile and settings ({scheme})")
    alice.page.keyboard.press("Escape")

    alice.page.get_by_test_id("contacts-button").click()
    assert_accessible(alice.page, f"contacts ({scheme})")


def test_the_phone_layout_and_an_empty_list_have_no_serious_violation(open_as, make_user):
    make_user("axe_newcomer", nick="Newcomer")
    newcomer = open_as("axe_newcomer", viewport={"width": 360, "height": 740})
    expect(newcomer.page.get_by_test_id("conversations-empty")).to_be_visible()
    assert_accessible(newcomer.page, "empty conversation list, phone")
    dave = open_as("dave", viewport={"width": 360, "height": 740})
    conversation_item(dave.page, "GROUPdemo").click()
    expect(dave.page.get_by_test_id("composer-input")).to_be_visible()
    assert_accessible(dave.page, "group chat, phone")


# --- the keyboard alone ---------------------------------------------------------------------


def tab_to(page, selector, *, backwards=False, limit=80):
    """Press Tab (Shift+Tab) until the focus is on an element matching ``selector``; fail if
    ``limit`` presses never reach it (it is then not reachable by keyboard)."""
    key = "Shift+Tab" if backwards else "Tab"
    for _ in range(limit):
        if page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector):
            return
        page.keyboard.press(key)
    pytest.fail(f"{limit} presses of {key} never reached {selector}")


def focused(page, selector):
    return page.evaluate("(s) => !!document.activeElement && document.activeElement.matches(s)", selector)


def test_a_focused_conversation_keeps_the_focus_when_the_list_updates(open_as, make_user):
    """The list's items are made again on every update: the one the keyboard was on gets the
    focus back (a message arriving while someone tabs through the list once dropped it, and
    Enter then opened nothing)."""
    for user_id in ("axe_focus_a", "axe_focus_b"):
        make_user(user_id, nick=user_id.split("_")[2].upper())
    alice, bob = chat_between(open_as, "axe_focus_a", "axe_focus_b", unique("focus hello"))
    page = alice.page
    item = '[data-testid="conversation-item"][data-conversation-id="C2Caxe_focus_b"]'
    page.locator(item).focus()
    assert focused(page, item)
    before = page.locator(item).element_handle()
    text = unique("an update while focused")
    send(bob.page, text)
    expect(page.locator(item).get_by_test_id("conversation-preview")).to_contain_text(text)
    assert before.evaluate("(node) => node.isConnected") is False  # the item was made again
    assert focused(page, item)
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("composer-input")).to_be_focused()


def test_a_message_control_keeps_the_focus_when_the_messages_are_redrawn(open_as, make_user):
    """The open conversation's rows are put back (and some made again) on every update: a
    message arriving while a message's menu is open, or while the keyboard is on a message's
    actions button, once left the focus on nothing (CI saw Esc lose it)."""
    for user_id in ("axe_redraw_a", "axe_redraw_b"):
        make_user(user_id, nick=user_id.split("_")[2].upper())
    first = unique("redraw first")
    alice, bob = chat_between(open_as, "axe_redraw_a", "axe_redraw_b", first)
    page = alice.page
    actions = bubble(page, first).locator("xpath=ancestor::*[@data-row-id][1]").get_by_test_id("message-actions")
    actions.focus()
    page.keyboard.press("Enter")
    menu = page.locator("#msg-menu")
    expect(menu.locator(":focus")).to_have_count(1)
    before = actions.element_handle()
    for n in range(3):  # the first reply also makes alice's row again (it is no longer the last)
        text = unique(f"redraw arrives {n}")
        send(bob.page, text)
        expect(bubble(page, text)).to_be_visible()
    expect(menu.locator(":focus")).to_have_count(1)  # the menu kept the keyboard
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(actions).to_be_focused()
    assert before.evaluate("(node) => node.isConnected") is False  # it went to the row made again
    text = unique("redraw while on the button")
    send(bob.page, text)
    expect(bubble(page, text)).to_be_visible()
    expect(actions).to_be_focused()
    page.keyboard.press("Enter")
    expect(menu.locator(":focus")).to_have_count(1)


def test_a_reaction_chip_pressed_by_keyboard_keeps_the_focus_on_its_own_reaction(open_as, make_user):
    """Pressing a reaction chip redraws its row: the focus goes to the chip of the same
    reaction in the row made again, never to another chip of the row (the next Space
    would toggle a reaction nobody chose), and to nothing when the chip is gone."""
    for user_id in ("axe_chip_a", "axe_chip_b"):
        make_user(user_id, nick=user_id.split("_")[2].upper())
    text = unique("chips")
    alice, bob = chat_between(open_as, "axe_chip_a", "axe_chip_b", text)
    page = alice.page
    row = page.locator(".msg-row", has=bubble(page, text))
    for reaction in ("👍", "❤️"):
        bubble(page, text).click(button="right")
        page.get_by_test_id("message-menu").locator(f'[data-testid="quick-reaction"][data-reaction-id="{reaction}"]').click()
        expect(row.locator(f'[data-testid="reaction-chip"][data-reaction-id="{reaction}"]')).to_be_visible()
    bubble(bob.page, text).click(button="right")  # Bob's heart too: the chip stays when Alice takes hers back
    bob.page.get_by_test_id("message-menu").locator('[data-testid="quick-reaction"][data-reaction-id="❤️"]').click()
    heart = row.locator('[data-testid="reaction-chip"][data-reaction-id="❤️"]')
    expect(heart.get_by_test_id("reaction-count")).to_have_text("2")
    heart.focus()
    page.keyboard.press("Enter")  # takes Alice's heart back: the row is made again
    expect(heart.get_by_test_id("reaction-count")).to_have_text("1")
    expect(heart).to_be_focused()
    thumbs = row.locator('[data-testid="reaction-chip"][data-reaction-id="👍"]')
    thumbs.focus()
    page.keyboard.press("Enter")  # takes back the only thumbs-up: that chip is gone
    expect(thumbs).to_have_count(0)
    expect(heart).not_to_be_focused()
    assert page.evaluate("() => document.activeElement.dataset.testid || ''") != "reaction-chip"


def test_the_app_is_usable_by_keyboard_alone(browser, chat_site, make_user):
    """Sign in, open a chat, send, open a message's menu, start a new chat, open a profile
    and the settings, and sign out: Tab, the arrows, Enter and Esc only."""
    make_user("axe_keys_peer", nick="Keys Peer")  # a peer of its own: nobody else's unread count changes
    context = browser.new_context(base_url=chat_site, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto("/accounts/login/")
        tab_to(page, "input[name=username]")
        page.keyboard.type("carol")
        page.keyboard.press("Tab")
        assert focused(page, "input[name=password]")
        page.keyboard.type(DEMO_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(chat_site + "/")
        page.wait_for_function("() => window.chat && window.chat.isReady()")

        # A new chat, from the "New conversation" menu.
        tab_to(page, '[data-testid="new-menu-button"]')
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("new-chat-button")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("new-chat-input")).to_be_focused()
        page.keyboard.type("axe_keys_peer")
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("composer-input")).to_be_focused()
        text = unique("typed, never clicked")
        page.keyboard.type(text)
        page.keyboard.press("Enter")
        expect(bubble(page, text).get_by_test_id("message-status")).to_be_visible()  # sent

        # The message's menu: reached by Shift+Tab from the composer, walked with the arrows.
        tab_to(page, '[data-testid="message-actions"]', backwards=True)
        page.keyboard.press("Enter")
        menu = page.locator("#msg-menu")
        expect(menu).to_be_visible()
        expect(menu.locator(":focus")).to_have_count(1)
        before = page.evaluate("() => document.activeElement.outerHTML")
        page.keyboard.press("ArrowDown")
        expect(menu.locator(":focus")).to_have_count(1)
        assert page.evaluate("() => document.activeElement.outerHTML") != before
        page.keyboard.press("Escape")
        expect(menu).to_be_hidden()
        expect(page.get_by_test_id("message-actions").last).to_be_focused()

        # Another conversation, from the list: Tab to it, Enter opens it with the focus in the composer.
        tab_to(page, '[data-testid="conversation-item"][data-conversation-id="GROUPdemo"]', backwards=True)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("composer-input")).to_be_focused()

        # The group's info panel, and back.
        tab_to(page, '[data-testid="members-button"]', backwards=True)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("member-panel")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("member-panel")).to_be_hidden()

        # Settings, from the account menu, closed with Esc; then sign out.
        tab_to(page, '[data-testid="account-button"]', backwards=True)
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("settings-button")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.get_by_test_id("settings-dialog")).to_be_visible()
        page.keyboard.press("Escape")
        expect(page.get_by_test_id("settings-dialog")).to_be_hidden()
        expect(page.get_by_test_id("account-button")).to_be_focused()
        page.keyboard.press("Enter")
        tab_to(page, '[data-testid="logout-button"]')
        page.keyboard.press("Enter")
        page.wait_for_url("**/accounts/login/**")
    finally:
        context.close()
