"""Reporting a message in the browser (docs/PROTOCOL.md §5.45): "Report" in the menu of a
peer's message (not of one's own), a dialog with the reasons and optional words (Esc and
Cancel close it), the confirmation toast, errors in words; the report is stored."""

import json

import pytest
from playwright.sync_api import expect

from tests.browser.pages import bubble, chat_between, send, unique

pytestmark = pytest.mark.browser


def stored_reports(site_shell, text):
    """The reports of messages with ``text`` in the site's database: [(reporter, reason, description, status)]."""
    code = (
        "import json\n"
        "from messaging.models import MessageReport\n"
        f"rows = MessageReport.objects.filter(message__payload__text={text!r}).order_by('pk')\n"
        "print(json.dumps([[r.reporter.username, r.reason, r.description, r.status] for r in rows]))\n"
    )
    return [tuple(row) for row in json.loads(site_shell(code).strip().splitlines()[-1])]


def open_report(page, text):
    bubble(page, text).click(button="right")
    page.get_by_test_id("report-message").click()
    dialog = page.get_by_test_id("report-dialog")
    expect(dialog).to_be_visible()
    return dialog


def test_bob_reports_alices_message_and_sees_the_toast(open_as, site_shell):
    text = unique("Cheap watches here")
    alice, bob = chat_between(open_as, "alice", "bob", text)

    dialog = open_report(bob.page, text)

    expect(dialog.get_by_test_id("report-what")).to_contain_text(text)
    expect(dialog.get_by_test_id("report-reason-spam")).to_be_focused()
    # No reason chosen: the dialog says so in words and stays open.
    dialog.get_by_test_id("report-submit").click()
    expect(dialog.locator("[data-error]")).to_have_text("Choose what's wrong with this message.")
    dialog.get_by_test_id("report-reason-spam").check()
    dialog.get_by_test_id("report-description").fill("  the third time today  ")
    dialog.get_by_test_id("report-submit").click()

    expect(dialog).not_to_be_visible()
    expect(bob.page.get_by_test_id("toast")).to_have_text("Reported. A moderator will look at it.")
    assert stored_reports(site_shell, text) == [("bob", "spam", "the third time today", "open")]
    # Alice's page is told nothing.
    expect(alice.page.get_by_test_id("toast")).to_have_count(0)


def test_report_is_not_offered_on_my_own_messages_and_esc_or_cancel_send_nothing(open_as, site_shell):
    text = unique("Just my words")
    alice, bob = chat_between(open_as, "alice", "bob", text)
    mine = unique("Bob's own")
    send(bob.page, mine)
    expect(bubble(bob.page, mine)).to_have_attribute("data-status", "success")

    bubble(bob.page, mine).click(button="right")
    expect(bob.page.get_by_test_id("copy-message")).to_be_visible()
    expect(bob.page.get_by_test_id("report-message")).to_have_count(0)
    bob.page.keyboard.press("Escape")

    dialog = open_report(bob.page, text)
    dialog.get_by_test_id("report-reason-abuse").check()
    bob.page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()
    dialog = open_report(bob.page, text)
    expect(dialog.get_by_test_id("report-reason-abuse")).not_to_be_checked()  # the form starts afresh
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).not_to_be_visible()
    assert stored_reports(site_shell, text) == []


def test_a_refused_report_is_explained_in_the_dialog(open_as, site_shell):
    text = unique("Gone soon")
    alice, bob = chat_between(open_as, "alice", "bob", text)
    dialog = open_report(bob.page, text)
    dialog.get_by_test_id("report-reason-other").check()
    # The server refuses this one (as it would a message bob can no longer see).
    bob.page.evaluate("() => { window.chat.reportMessage = () => Promise.reject({code: 10030, message: 'no such message'}); }")
    dialog.get_by_test_id("report-submit").click()
    expect(dialog.locator("[data-error]")).to_have_text("That message no longer exists.")
    expect(dialog).to_be_visible()
    assert stored_reports(site_shell, text) == []
