"""The composer counts a text as the server does, and refuses before sending what the
server would refuse (issue 6, point 4).

The server's limit is on the body as compact JSON (``messaging.rules.body_bytes``): a
newline is two bytes there. A text of about 7,000 characters, nearly all newlines, is
under 12 KB as raw text and over it as JSON: the UI must say so and send nothing. A
text just under the limit counted the JSON way goes through.

The texts are pasted (Ctrl+V from the clipboard), which is how such a text reaches a
composer: Playwright's fill() inserts newlines in quadratic time in Chromium (1,000
newlines 1.3 s, 3,000 7 s, 7,000 over 40 s), a paste takes a fraction of a second.
"""

import json
import uuid

import pytest
from playwright.sync_api import expect

from messaging import rules
from tests.browser.pages import start_chat

pytestmark = pytest.mark.browser


def text_of_bytes(head, body_bytes):
    """``head`` and newlines, then "end": a text whose body is ``body_bytes`` as the server counts it."""
    newlines = (body_bytes - rules.body_bytes({"text": head + "end"})) // 2
    text = head + "\n" * newlines + "end"
    assert rules.body_bytes({"text": text}) == body_bytes
    return text


def paste(page, field, text):
    """Replace what the field holds with ``text``, by the clipboard."""
    page.evaluate("t => navigator.clipboard.writeText(t)", text)
    field.focus()
    page.keyboard.press("Control+A")
    page.keyboard.press("Control+V")
    expect(field).to_have_value(text)


def sent_texts(frames):
    """The texts of the sendMessage requests among the frames a page sent (not the typing
    signals, online-only Custom messages the composer sends while the user types)."""
    texts = []
    for frame in frames:
        request = json.loads(frame)
        if request.get("op") == "sendMessage" and request["args"]["message"]["type"] == "TIMTextElem":
            texts.append(request["args"]["message"]["payload"]["text"])
    return texts


def test_a_text_over_the_limit_as_json_is_refused_before_sending(open_as):
    bob = open_as("bob")
    # Texts only: alice's typing signals (online-only Custom messages) reach bob too.
    bob.page.evaluate(
        "() => { window.__got = []; chat.on(TIM.EVENT.MESSAGE_RECEIVED, e => e.data.forEach(m => "
        "m.type === 'TIMTextElem' && window.__got.push(m.payload.text))); }"
    )
    alice = open_as("alice")
    page = alice.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    # Watch what leaves the page: the socket of a fresh load (the first one is already open).
    frames = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: frames.append(payload)))
    page.reload()
    alice.wait_ready()
    assert frames, "the new socket's frames are watched"

    limit = page.evaluate("() => chat.getServerRules().limits.maxBodyBytes")
    assert limit == rules.client_rules()["limits"]["maxBodyBytes"]
    tag = uuid.uuid4().hex[:6]
    over = f"over {tag}" + "\n" * 7000
    assert len(over.encode()) < limit < rules.body_bytes({"text": over})
    under = text_of_bytes(f"under {tag}", limit - 2)

    start_chat(page, "bob")
    composer = page.get_by_test_id("composer-input")
    count = page.get_by_test_id("composer-count")
    send_button = page.get_by_test_id("send-button")

    # Over the limit as JSON: the counter says so, the button is off, Enter sends nothing.
    paste(page, composer, over)
    expect(count).to_be_visible()
    expect(count).to_contain_text("Too long")
    expect(count).to_contain_text("12 KB")
    expect(count).to_have_class("composer-count is-over")
    expect(send_button).to_be_disabled()
    composer.press("Enter")
    expect(page.get_by_test_id("error-toast")).to_contain_text("That message is too long: the limit is 12 KB.")
    expect(composer).to_have_value(over)
    send_button.click(force=True)  # a click on the disabled button does nothing either
    expect(page.locator('[data-testid="message-bubble"]', has_text=f"over {tag}")).to_have_count(0)

    # Just under it: the counter shows the size, the text is sent and Bob gets it.
    paste(page, composer, under)
    expect(count).not_to_have_class("composer-count is-over")
    expect(count).to_have_text(f"{(limit - 2) / 1024:.1f} / 12 KB")
    expect(send_button).to_be_enabled()
    composer.press("Enter")
    expect(composer).to_have_value("")
    mine = page.locator('[data-testid="message-bubble"]', has_text=f"under {tag}")
    expect(mine).to_have_attribute("data-status", "success")
    bob.page.wait_for_function("t => window.__got.includes(t)", arg=under)

    # Bob got the text under the limit and never the one over it; the page sent only the first.
    assert [t for t in bob.page.evaluate("() => window.__got") if tag in t] == [under]
    assert [t for t in sent_texts(frames) if tag in t] == [under]
