"""Message search in the browser (docs/PROTOCOL.md §5.50): typing in the list's search
box finds messages as well as chats, in English and in Chinese, with the keyword
highlighted; a click opens the chat at the message, though it is pages back in the
history."""

import json
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble
from tests.browser.test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

ARRANGE = """
from messaging import actions
from messaging.models import User
a, b = User.objects.get(username=A), User.objects.get(username=B)
for text in TEXTS:
    actions.send_message(a, conversation_type="C2C", to=B, msg_type="TIMTextElem", payload={"text": text})
"""


def test_search_in_english_and_chinese_opens_the_chat_at_the_message(open_as, make_user, site_shell):
    tag = uuid.uuid4().hex[:6]
    a, b = f"finder{tag}", f"seeker{tag}"
    make_user(a, nick="Finder")
    make_user(b, nick="Seeker")
    english, chinese = f"Quarterly budget review {tag}", f"我说你好世界 {tag}"
    # both matches are pages back; each filler ends in a word, so that "filler 3" followed by
    # its time label "9:26 PM" never reads as "filler 39"
    fillers = [f"filler {i} here" for i in range(40)]
    site_shell(f"A, B, TEXTS = {a!r}, {b!r}, {json.dumps([english, chinese, *fillers])}\n{ARRANGE}")
    seeker = open_as(b)
    page = seeker.page
    search = page.get_by_test_id("conversation-filter")

    search.fill("budget REVIEW")
    result = page.get_by_test_id("message-search-result")
    expect(result).to_have_count(1)
    expect(result).to_contain_text("Finder")
    expect(result.locator("mark")).to_have_text("budget review")
    result.click()
    expect(bubble(page, english)).to_be_in_viewport()
    expect(page.locator(".msg-row.search-flash")).to_have_count(1)

    search.fill("你好")
    expect(result).to_have_count(1)
    expect(result.locator("mark")).to_have_text("你好")
    result.click()
    expect(bubble(page, chinese)).to_be_in_viewport()
    expect(bubble(page, "filler 39 here")).not_to_be_in_viewport()

    search.fill("nothing like this anywhere")
    expect(page.get_by_test_id("message-search")).to_contain_text("No messages match.")


ORDER = """() => {
  const at = (el) => (el && !el.hidden && el.getClientRects().length ? el : null);
  const nodes = {
    chats: at(document.getElementById("chat-search-title")),
    list: document.getElementById("conv-list"),
    messages: at(document.querySelector("#message-search h2")),
    state: at(document.querySelector("#message-search [role=status]")),
  };
  const before = (a, b) => Boolean(a && b && a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);
  return {
    chatsTitle: nodes.chats ? nodes.chats.textContent : null,
    messagesTitle: nodes.messages ? nodes.messages.textContent : null,
    state: nodes.state ? nodes.state.textContent : null,
    order: before(nodes.chats, nodes.list) && before(nodes.list, nodes.messages) && before(nodes.messages, nodes.state),
    stateAbove: nodes.messages && nodes.state
      ? nodes.messages.getBoundingClientRect().bottom <= nodes.state.getBoundingClientRect().top : false,
  };
}"""

TYPE_AND_READ = """(keyword) => {
  const box = document.getElementById("conv-filter");
  box.value = keyword;
  box.dispatchEvent(new Event("input", { bubbles: true }));
  const state = document.querySelector("#message-search [role=status]");
  return state ? state.textContent : null;
}"""


def test_the_results_read_chats_then_messages_with_searching_and_no_match_states(open_as, make_user, site_shell):
    """While the box holds a keyword: "Chats" (the matching conversations) above "Messages",
    whose state line ("Searching…" at once, then the hits or "No messages match.") sits
    under its own heading, never with the chats; clearing the box hides both."""
    tag = uuid.uuid4().hex[:6]
    a, b = f"lister{tag}", f"reader{tag}"
    make_user(a, nick=f"Lister {tag}")
    make_user(b, nick="Reader")
    site_shell(f"A, B, TEXTS = {a!r}, {b!r}, {json.dumps([f'hello {tag}'])}\n{ARRANGE}")
    page = open_as(b).page
    expect(page.get_by_test_id("conversation-list").locator(".conv")).to_have_count(1)

    assert page.evaluate(TYPE_AND_READ, "zzqx nothing") == "Searching…", "a state at once, before the answer"
    expect(page.get_by_test_id("message-search-empty")).to_have_text("No messages match.")
    layout = page.evaluate(ORDER)
    assert layout == {
        "chatsTitle": "Chats",
        "messagesTitle": "Messages",
        "state": "No messages match.",
        "order": True,
        "stateAbove": True,
    }, layout
    expect(page.locator("#conv-nomatch")).to_be_visible()  # under "Chats", above "Messages"
    assert_accessible(page, "search with no match")
    assert page.evaluate(
        "() => document.getElementById('conv-nomatch').compareDocumentPosition("
        "document.querySelector('#message-search h2')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )

    page.get_by_test_id("conversation-filter").fill(f"lister {tag}")  # the chat matches, no message does
    expect(page.get_by_test_id("conversation-list").locator(".conv")).to_have_count(1)
    expect(page.get_by_test_id("message-search-empty")).to_be_visible()
    assert page.evaluate(ORDER)["order"]

    page.get_by_test_id("conversation-filter").fill(f"hello {tag}")
    expect(page.get_by_test_id("message-search-result")).to_have_count(1)
    expect(page.get_by_test_id("message-search-empty")).to_have_count(0)

    page.get_by_test_id("conversation-filter").fill("")
    expect(page.get_by_test_id("chat-search-title")).to_be_hidden()
    expect(page.get_by_test_id("message-search")).to_be_hidden()
