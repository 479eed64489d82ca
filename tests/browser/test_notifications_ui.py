"""Desktop notifications, the chime and the unread count in the title and favicon (issue 11,
item 7; static/chat/notify.js decides, static/chat/ui/notifications.js shows).

The browser's Notification is replaced by a recorder before the page loads (Chromium
headless shows no desktop notifications to look at); its `permission` is the real one the
context grants. A hidden tab is emulated by overriding document.visibilityState and
dispatching visibilitychange, as the browser does when the user switches tabs."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble, conversation_item, send, start_chat, unique

pytestmark = pytest.mark.browser

# Records every `new Notification(...)`; permission is the real one unless a test sets
# window.__notifyPermission; requestPermission notes whether it ran inside a user gesture.
RECORDER = """
(() => {
  const Real = window.Notification;
  window.__notes = [];
  window.__permissionAsks = [];
  window.__hidden = false;
  class Recorder {
    constructor(title, options = {}) {
      this.title = title;
      this.options = options;
      this.closed = false;
      window.__notes.push({ title, body: options.body, icon: options.icon || "", tag: options.tag || "" });
      window.__lastNote = this;
    }
    close() { this.closed = true; }
    static get permission() { return window.__notifyPermission || (Real ? Real.permission : "denied"); }
    static requestPermission() {
      window.__permissionAsks.push({ gesture: navigator.userActivation.isActive });
      window.__notifyPermission = window.__grantOnAsk || "granted";
      return Promise.resolve(window.__notifyPermission);
    }
  }
  window.Notification = Recorder;
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => (window.__hidden ? "hidden" : "visible") });
  Object.defineProperty(document, "hidden", { configurable: true, get: () => window.__hidden });
  window.__setHidden = (hidden) => { window.__hidden = hidden; document.dispatchEvent(new Event("visibilitychange")); };
})();
"""


def notes(page):
    return page.evaluate("() => window.__notes")


def set_hidden(page, hidden):
    page.evaluate("(h) => window.__setHidden(h)", hidden)


def favicon(page):
    return page.evaluate("() => decodeURIComponent(document.querySelector(\"link[rel~='icon']\").href)")


def open_notified(open_as, user_id, **kwargs):
    user = open_as(user_id, init_script=RECORDER, permissions=["notifications"], **kwargs)
    # A click, as a person's first one: browsers let the chime's AudioContext start only then.
    user.page.get_by_test_id("conversation-filter").click()
    return user


def test_a_message_to_a_hidden_tab_notifies_counts_and_opens_the_chat(open_as, make_user):
    sender_id, reader_id = f"nb{uuid.uuid4().hex[:6]}", f"nr{uuid.uuid4().hex[:6]}"
    make_user(sender_id, nick="Nora Bell")
    make_user(reader_id)
    reader = open_notified(open_as, reader_id)
    sender = open_as(sender_id)
    page = reader.page
    assert page.evaluate("() => Notification.permission") == "granted"
    expect(page.get_by_test_id("notify-banner")).to_be_hidden()  # already granted: nothing to ask
    assert page.title() == "Chat"
    assert "</text>" not in favicon(page)

    set_hidden(page, True)
    text = unique("Lunch at <b>noon</b>?\nBring   the slides")
    start_chat(sender.page, reader_id)
    send(sender.page, text)

    page.wait_for_function("() => window.__notes.length === 1")
    [note] = notes(page)
    assert note["title"] == "Nora Bell"
    assert note["body"] == " ".join(text.split())  # one line, the text as it is (no markup is drawn)
    assert note["tag"] == f"C2C{sender_id}"
    assert note["icon"].startswith("data:image/png")  # no photo: the initials avatar
    expect(page).to_have_title("(1) Chat")
    assert ">1</text>" in favicon(page)
    assert page.evaluate("() => window.__chatChimes || 0") == 1

    # An image: a summary, never the file.
    sender.page.evaluate(
        """async (to) => {
             const c = document.createElement('canvas'); c.width = 8; c.height = 8;
             const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
             const file = new File([blob], 'dot.png', {type: 'image/png'});
             await chat.sendMessage(chat.createImageMessage({to, conversationType: TIM.TYPES.CONV_C2C, payload: {file}}));
           }""",
        reader_id,
    )
    page.wait_for_function("() => window.__notes.length === 2")
    assert notes(page)[1]["body"] == "[Image]"
    expect(page).to_have_title("(2) Chat")
    assert ">2</text>" in favicon(page)

    # Clicking the notification brings the tab forward on that chat, which is then read.
    set_hidden(page, False)
    page.evaluate("() => window.__lastNote.onclick()")
    expect(page.get_by_test_id("chat-title")).to_contain_text("Nora Bell")
    expect(bubble(page, text.split("\n")[0])).to_be_visible()
    assert page.evaluate("() => window.__lastNote.closed")
    expect(page).to_have_title("Chat")
    page.wait_for_function("() => !decodeURIComponent(document.querySelector(\"link[rel~='icon']\").href).includes('</text>')")

    # Looking at the chat: no notification, no chime.
    send(sender.page, unique("seen live"))
    expect(bubble(page, "seen live")).to_be_visible()
    page.wait_for_timeout(300)
    assert len(notes(page)) == 2
    assert page.evaluate("() => window.__chatChimes") == 2

    # The tab visible but another chat open: it notifies (the brief's "conversation not open").
    start_chat(page, "alice")
    send(sender.page, unique("while elsewhere"))
    page.wait_for_function("() => window.__notes.length === 3")
    assert notes(page)[2]["body"].startswith("while elsewhere")

    # The sound turned off in the settings: the notification still comes, silently.
    page.get_by_test_id("account-button").click()
    page.get_by_test_id("settings-button").click()
    sound = page.get_by_test_id("settings-notify-sound")
    expect(sound).to_be_checked()
    expect(page.get_by_test_id("settings-notify-desktop")).to_be_checked()
    sound.uncheck()
    page.keyboard.press("Escape")
    chimes = page.evaluate("() => window.__chatChimes")
    send(sender.page, unique("quietly"))
    page.wait_for_function("() => window.__notes.length === 4")
    assert page.evaluate("() => window.__chatChimes") == chimes
    assert not reader.errors


def test_desktop_notifications_are_asked_for_from_a_click_never_on_load(open_as, make_user):
    reader_id = f"na{uuid.uuid4().hex[:6]}"
    make_user(reader_id)
    reader = open_as(reader_id, init_script=RECORDER + "window.__notifyPermission = 'default';")
    page = reader.page
    banner = page.get_by_test_id("notify-banner")
    expect(banner).to_be_visible()
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__permissionAsks") == []  # nothing asked on load
    page.screenshot(path="/tmp/notify-banner.png")

    page.get_by_test_id("notify-enable").click()
    expect(banner).to_be_hidden()
    assert page.evaluate("() => window.__permissionAsks") == [{"gesture": True}]
    page.get_by_test_id("account-button").click()
    page.get_by_test_id("settings-button").click()
    expect(page.get_by_test_id("settings-notify-desktop")).to_be_checked()
    page.screenshot(path="/tmp/notify-settings.png")

    # Turned off in the settings: a hidden tab gets no notification.
    page.get_by_test_id("settings-notify-desktop").uncheck()
    page.keyboard.press("Escape")
    sender = open_as("bob")
    set_hidden(page, True)
    start_chat(sender.page, reader_id)
    send(sender.page, unique("no popup"))
    expect(conversation_item(page, "C2Cbob")).to_be_visible()
    page.wait_for_timeout(300)
    assert notes(page) == []
    expect(page).to_have_title("(1) Chat")

    # Refused by the browser: the settings say how to allow them again.
    page.evaluate("() => { window.__notifyPermission = 'denied'; }")
    page.get_by_test_id("account-button").click()
    page.get_by_test_id("settings-button").click()
    expect(page.get_by_test_id("settings-notify-desktop")).to_be_disabled()
    expect(page.get_by_test_id("settings-notify-hint")).to_contain_text("blocked")


def test_a_group_message_names_the_group_and_a_mention_says_so(open_as, make_user):
    sender_id, reader_id = f"gs{uuid.uuid4().hex[:6]}", f"gr{uuid.uuid4().hex[:6]}"
    make_user(sender_id, nick="Gus Sender")
    make_user(reader_id)
    group_id = f"ntf{uuid.uuid4().hex[:6]}"
    reader = open_notified(open_as, reader_id)
    sender = open_as(sender_id)
    sender.page.evaluate(
        """async ([groupID, member]) => {
             await chat.createGroup({type: TIM.TYPES.GRP_WORK, name: 'Launch crew', groupID, memberList: [{userID: member}]});
           }""",
        [group_id, reader_id],
    )
    page = reader.page
    expect(conversation_item(page, f"GROUP{group_id}")).to_be_visible()
    page.evaluate("() => { window.__notes.length = 0; }")  # the group's creation tip is no news
    set_hidden(page, True)
    sender.page.evaluate(
        """async ([groupID, member]) => {
             const m = chat.createTextAtMessage({to: groupID, conversationType: TIM.TYPES.CONV_GROUP,
               payload: {text: '@' + member + ' can you check the deck?', atUserList: [member]}});
             await chat.sendMessage(m);
           }""",
        [group_id, reader_id],
    )
    page.wait_for_function("() => window.__notes.length === 1")
    [note] = notes(page)
    assert note["title"] == "Gus Sender · Launch crew"
    assert note["body"] == f"@{reader_id} can you check the deck?"
    assert note["tag"] == f"GROUP{group_id}"
