"""Message search in the browser (docs/PROTOCOL.md §5.50): typing in the list's search
box finds messages as well as chats, in English and in Chinese, with the keyword
highlighted; a click opens the chat at the message, though it is pages back in the
history."""

import json
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble

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
