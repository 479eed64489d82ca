"""The composer and message bodies (issue 11, item 8): links that open safely, the
preview before files are sent (several images, remove, caption, cancel), audio files that
play in place."""

import uuid

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.browser.pages import bubble, confirm_send_files, conversation_item, send, start_chat, unique
from tests.media_helpers import wav

pytestmark = pytest.mark.browser


def pair(open_as, make_user):
    """Two new users (a sender and a reader) with no history, so counts are this test's own."""
    sender_id, reader_id = f"cs{uuid.uuid4().hex[:6]}", f"cr{uuid.uuid4().hex[:6]}"
    make_user(sender_id)
    make_user(reader_id)
    return open_as(sender_id), open_as(reader_id)


def png(path, width, height, colour):
    Image.new("RGB", (width, height), colour).save(path)
    return str(path)


def test_a_link_in_a_message_opens_in_a_new_tab_without_a_way_back(open_as, make_user):
    alice, bob = pair(open_as, make_user)
    start_chat(alice.page, bob.user_id)
    text = unique("Specs at https://example.com/specs?v=2. And javascript:alert(1) stays text")
    send(alice.page, text)
    item = conversation_item(bob.page, f"C2C{alice.user_id}")
    expect(item).to_contain_text("Specs at")
    assert item.locator("a").count() == 0  # the list's preview is one line of text, not links
    item.click()
    row = bubble(bob.page, "Specs at")
    link = row.get_by_test_id("message-link")
    expect(link).to_have_count(1)
    expect(link).to_have_text("https://example.com/specs?v=2")
    assert link.get_attribute("href") == "https://example.com/specs?v=2"
    assert link.get_attribute("target") == "_blank"
    assert set(link.get_attribute("rel").split()) == {"noopener", "noreferrer"}
    # The whole text is shown as sent (the full stop after the link stays outside it).
    assert row.locator(".msg-text").text_content() == text
    # Own messages are linked too.
    expect(bubble(alice.page, "Specs at").get_by_test_id("message-link")).to_have_count(1)


def test_files_are_previewed_with_a_caption_before_they_are_sent(open_as, make_user, tmp_path):
    alice, bob = pair(open_as, make_user)
    page = alice.page
    start_chat(page, bob.user_id)
    before = page.locator('[data-testid="message-bubble"][data-flow="out"]').count()
    picker = page.get_by_test_id("file-input")
    red, green = png(tmp_path / "red.png", 400, 300, (219, 58, 58)), png(tmp_path / "green.png", 200, 400, (58, 180, 90))
    notes = tmp_path / f"{unique('notes').replace(' ', '-')}.txt"
    notes.write_text("agenda\n")

    # Cancel: nothing is uploaded or sent.
    picker.set_input_files([red, green])
    dialog = page.get_by_test_id("send-files-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("send-file")).to_have_count(2)
    expect(dialog.locator("#dlg-send-files-title")).to_contain_text("Send 2 photos")
    dialog.get_by_test_id("send-files-cancel").click()
    expect(dialog).not_to_be_visible()
    page.wait_for_timeout(300)
    assert page.locator('[data-testid="message-bubble"][data-flow="out"]').count() == before

    # Two images and a file; the file is removed; a caption goes after the images.
    picker.set_input_files([red, green, str(notes)])
    expect(dialog.get_by_test_id("send-file")).to_have_count(3)
    expect(dialog.locator("#dlg-send-files-title")).to_contain_text("Send 3 files")
    page.screenshot(path="/tmp/send-files-preview.png")
    dialog.get_by_role("button", name=f"Remove {notes.name}").click()
    expect(dialog.get_by_test_id("send-file")).to_have_count(2)
    caption = unique("Site photos <b>v2</b>")
    confirm_send_files(page, caption)

    mine = page.locator('[data-testid="message-bubble"][data-flow="out"]')
    expect(mine).to_have_count(before + 3, timeout=20_000)
    expect(bubble(page, caption)).to_have_attribute("data-status", "success", timeout=20_000)
    kinds = mine.evaluate_all("rows => rows.slice(-3).map((r) => Boolean(r.querySelector('.media-frame')))")
    assert kinds == [True, True, False]  # the caption after the pictures

    conversation_item(bob.page, f"C2C{alice.user_id}").click()
    expect(bubble(bob.page, caption)).to_be_visible()
    expect(bubble(bob.page, caption).locator(".msg-text")).to_have_text(caption)
    theirs = bob.page.locator('[data-testid="message-bubble"][data-flow="in"]')
    kinds = theirs.evaluate_all("rows => rows.slice(-3).map((r) => Boolean(r.querySelector('.media-frame')))")
    assert kinds == [True, True, False]
    expect(bob.page.get_by_test_id("file-name").filter(has_text=notes.name)).to_have_count(0)


def test_an_audio_file_plays_in_the_chat(open_as, make_user, tmp_path):
    alice, bob = pair(open_as, make_user)
    start_chat(alice.page, bob.user_id)
    name = f"{unique('memo').replace(' ', '-')}.wav"
    path = tmp_path / name
    path.write_bytes(wav(seconds=0.3))
    alice.page.get_by_test_id("file-input").set_input_files(str(path))
    confirm_send_files(alice.page)
    conversation_item(bob.page, f"C2C{alice.user_id}").click()
    card = bob.page.locator('[data-testid="message-bubble"]', has=bob.page.locator(f'[data-testid="file-name"][title="{name}"]'))
    audio = card.get_by_test_id("file-audio")
    expect(audio).to_be_visible(timeout=20_000)
    assert audio.get_attribute("controls") is not None
    # It loads from the site under the page's CSP (media-src): the metadata arrives.
    audio.evaluate("a => a.load()")
    bob.page.wait_for_function("(a) => a.readyState >= 1 && a.duration > 0.2", arg=audio.element_handle(), timeout=15_000)
