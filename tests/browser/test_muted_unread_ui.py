"""The unread count in the title and favicon leaves out muted conversations, as the vendor's
total does (issue 11; docs/PROTOCOL.md §5.8, §5.49.3): the conversation keeps its own
badge, and muting or unmuting it (on another device: here, on the server) moves the
count live (here through a second socket of the same user, as another device would)."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.pages import conversation_item

pytestmark = pytest.mark.browser

ARRANGE = """
from messaging import actions
from messaging.models import User
me, ann, ben = (User.objects.get(username=u) for u in (ME, ANN, BEN))
for sender, n in ((ann, 2), (ben, 1)):
    for i in range(n):
        actions.send_message(sender, conversation_type="C2C", to=ME, msg_type="TIMTextElem", payload={"text": f"hi {i}"})
actions.set_message_remind_type(me, user_ids=[ANN], remind_type="AcceptNotNotify")
"""

# setMessageRemindType from another socket of the user (another device), not the page's SDK.
REMIND = """(args) => new Promise((resolve, reject) => {
  const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/chat/");
  ws.onmessage = (e) => {
    const frame = JSON.parse(e.data);
    if (frame.event === "hello") ws.send(JSON.stringify({ id: 1, op: "setMessageRemindType", args }));
    if (frame.id === 1) {
      ws.close();
      if (frame.ok) resolve(frame.data); else reject(new Error(frame.message));
    }
  };
  ws.onerror = () => reject(new Error("socket"));
})"""


def favicon(page):
    return page.evaluate("() => decodeURIComponent(document.querySelector(\"link[rel~='icon']\").href)")


def test_a_muted_chat_keeps_its_badge_but_leaves_the_title_and_favicon_count(open_as, make_user, site_shell):
    tag = uuid.uuid4().hex[:6]
    me, ann, ben = f"mutee{tag}", f"muteann{tag}", f"muteben{tag}"
    for user_id in (me, ann, ben):
        make_user(user_id, nick=user_id)
    names = f"ME, ANN, BEN = {me!r}, {ann!r}, {ben!r}\n"
    site_shell(names + ARRANGE)
    page = open_as(me).page

    expect(conversation_item(page, f"C2C{ann}").get_by_test_id("unread-badge")).to_have_text("2")
    expect(conversation_item(page, f"C2C{ann}").get_by_test_id("muted-mark")).to_be_visible()
    expect(page).to_have_title("(1) Chat")  # ben's only
    assert ">1</text>" in favicon(page)

    page.evaluate(REMIND, {"userIDList": [ann], "messageRemindType": "AcceptAndNotify"})
    expect(page).to_have_title("(3) Chat")
    assert ">3</text>" in favicon(page)
    page.evaluate(REMIND, {"userIDList": [ann], "messageRemindType": "Discard"})
    expect(page).to_have_title("(1) Chat")
    expect(conversation_item(page, f"C2C{ann}").get_by_test_id("unread-badge")).to_have_text("2")
