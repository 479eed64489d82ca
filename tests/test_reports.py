"""reportMessage (docs/PROTOCOL.md §5.45): a user reports a message they can see; the refusals
write nothing; one open report per user and message; a rate per hour.

The moderators' side (the admin's queue and resolutions) is tests/test_report_admin.py.
"""

from datetime import timedelta
from unittest import mock

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from messaging import actions, rules
from messaging.models import MessageReport
from tests.chat_helpers import (  # noqa: F401
    assert_refused,
    db_snapshot,
    fast_passwords,
    make_group,
    send_group_text,
    send_text,
)

pytestmark = pytest.mark.django_db(transaction=True)


def ref(message, conversation_id=None):
    return {"ID": message["ID"], "conversationID": conversation_id or message["conversationID"]}


def reports():
    return list(
        MessageReport.objects.order_by("pk").values_list(
            "reporter__username", "message__msg_id", "reason", "description", "status"
        )
    )


def snapshot():
    return db_snapshot(), reports()


async def test_a_member_reports_a_group_message_and_nobody_is_told(open_tab, alice, bob, carol):
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob", "carol"])
    a, b, c = await open_tab(alice), await open_tab(bob), await open_tab(carol)
    spam = await c.send_text("g1", "buy now", conversation_type="GROUP")
    await b.wait_event("MESSAGE_RECEIVED")
    for tab in (a, b, c):
        await tab.drain()

    reply = await b.request("reportMessage", message=ref(spam), reason="spam", description="  selling things  ")

    report = reply["report"]
    assert reply["isUpdate"] is False
    assert (report["messageID"], report["conversationID"], report["reason"], report["description"], report["status"]) == (
        spam["ID"],
        "GROUPg1",
        "spam",
        "selling things",
        "open",
    )
    assert report["reportID"] and isinstance(report["time"], int)
    rows = await database_sync_to_async(reports)()
    assert rows == [("bob", spam["ID"], "spam", "selling things", "open")]
    assert await a.drain() == [] and await c.drain() == [] and await b.drain() == []


async def test_a_c2c_message_is_reported_by_its_receiver(open_tab, alice, bob):
    a, b = await open_tab(alice), await open_tab(bob)
    sent = await a.send_text("bob", "you are an idiot")
    [received] = await b.wait_event("MESSAGE_RECEIVED")

    reply = await b.request("reportMessage", message=ref(received), reason="abuse")

    assert reply["report"]["conversationID"] == "C2Calice" and reply["report"]["description"] == ""
    assert await database_sync_to_async(reports)() == [("bob", sent["ID"], "abuse", "", "open")]


async def test_a_message_the_reporter_cannot_see_gets_the_access_code_and_nothing_is_written(open_tab, alice, bob, carol, dave):
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob", "carol"])
    a, b, c, d = await open_tab(alice), await open_tab(bob), await open_tab(carol), await open_tab(dave)
    private = await a.send_text("bob", "between us")
    group = await a.send_text("g1", "members only", conversation_type="GROUP")
    targeted = await a.send_text("g1", "just bob", conversation_type="GROUP", receiverList=["bob"])
    before = await database_sync_to_async(snapshot)()

    # Someone else's C2C: dave has no conversation with alice holding it.
    await d.expect_error(10030, "reportMessage", message=ref(private, "C2Calice"), reason="spam")
    # A group dave is not in, and a group that does not exist.
    await d.expect_error(10007, "reportMessage", message=ref(group), reason="spam")
    await d.expect_error(10010, "reportMessage", message=ref(group, "GROUPnope"), reason="spam")
    # A targeted group message carol is not a receiver of.
    await c.expect_error(10030, "reportMessage", message=ref(targeted), reason="spam")
    # The message is not in the conversation named, or does not exist.
    await b.expect_error(10030, "reportMessage", message=ref(group, "C2Calice"), reason="spam")
    await b.expect_error(10030, "reportMessage", message={"ID": "nope", "conversationID": "GROUPg1"}, reason="spam")
    await b.expect_error(20003, "reportMessage", message=ref(private, "C2Cnobody"), reason="spam")

    assert await database_sync_to_async(snapshot)() == before
    # bob, the receiver, may report the targeted message.
    await b.request("reportMessage", message=ref(targeted), reason="other")


async def test_own_messages_tips_and_bad_arguments_are_refused(open_tab, alice, bob):
    await database_sync_to_async(make_group)(alice, group_type="Public", members=["bob"])
    a, b = await open_tab(alice), await open_tab(bob)
    mine = await a.send_text("bob", "mine")
    history = await b.request("getMessageList", conversationID="GROUPg1")
    [tip] = [m for m in history["messageList"] if m["type"] == rules.GROUP_TIP]
    before = await database_sync_to_async(snapshot)()

    await a.expect_error(10004, "reportMessage", message=ref(mine), reason="spam")
    await b.expect_error(10004, "reportMessage", message=ref(tip), reason="spam")
    await b.expect_error(10004, "reportMessage", message=ref(mine, "C2Calice"), reason="bogus")
    await b.expect_error(10004, "reportMessage", message=ref(mine, "C2Calice"))
    await b.expect_error(10004, "reportMessage", message=ref(mine, "C2Calice"), reason="spam", description="x" * 501)
    await b.expect_error(10004, "reportMessage", message=ref(mine, "C2Calice"), reason="spam", extra=1)
    await b.expect_error(10004, "reportMessage", message=ref(mine, "C2Calice"), reason="spam", description=5)
    await b.expect_error(10004, "reportMessage", message="m1", reason="spam")
    await b.expect_error(2503, "reportMessage", message={"ID": mine["ID"]}, reason="spam")

    assert await database_sync_to_async(snapshot)() == before
    reply = await b.request("reportMessage", message=ref(mine, "C2Calice"), reason="spam", description="x" * 500)
    assert len(reply["report"]["description"]) == 500


async def test_reporting_again_updates_the_open_report_and_a_closed_one_can_be_reported_anew(open_tab, alice, bob, boss):
    a, b = await open_tab(alice), await open_tab(bob)
    sent = await a.send_text("bob", "hmm")

    first = await b.request("reportMessage", message=ref(sent, "C2Calice"), reason="spam")
    again = await b.request("reportMessage", message=ref(sent, "C2Calice"), reason="abuse", description="it got worse")

    assert again["isUpdate"] is True and again["report"]["reportID"] == first["report"]["reportID"]
    assert await database_sync_to_async(reports)() == [("bob", sent["ID"], "abuse", "it got worse", "open")]

    def dismiss():
        actions.resolve_report(boss, MessageReport.objects.get(), MessageReport.Action.DISMISSED)

    await database_sync_to_async(dismiss)()
    anew = await b.request("reportMessage", message=ref(sent, "C2Calice"), reason="spam")
    assert anew["isUpdate"] is False and anew["report"]["reportID"] != first["report"]["reportID"]
    assert [r[-1] for r in await database_sync_to_async(reports)()] == ["dismissed", "open"]


async def test_new_reports_are_limited_per_hour_with_10006(open_tab, alice, bob, settings):
    settings.CHAT = {**settings.CHAT, "MAX_REPORTS_PER_HOUR": 2}
    a, b = await open_tab(alice), await open_tab(bob)
    sent = [await a.send_text("bob", f"m{i}") for i in range(3)]
    await b.request("reportMessage", message=ref(sent[0], "C2Calice"), reason="spam")
    await b.request("reportMessage", message=ref(sent[1], "C2Calice"), reason="spam")
    before = await database_sync_to_async(snapshot)()

    error = await b.expect_error(10006, "reportMessage", message=ref(sent[2], "C2Calice"), reason="spam")

    assert "2 reports an hour" in error.message
    assert await database_sync_to_async(snapshot)() == before
    # Updating an open report is not a new one.
    again = await b.request("reportMessage", message=ref(sent[0], "C2Calice"), reason="other")
    assert again["isUpdate"] is True
    # Another user has their own allowance.
    c_sent = await b.send_text("alice", "and you")
    await a.request("reportMessage", message=ref(c_sent, "C2Cbob"), reason="spam")


def test_an_hour_later_the_reporter_may_report_again(alice, bob, settings):
    settings.CHAT = {**settings.CHAT, "MAX_REPORTS_PER_HOUR": 1}
    first, second = send_text(alice, "bob", "one"), send_text(alice, "bob", "two")
    actions.report_message(bob, "C2Calice", first.msg_id, "spam")
    assert_refused(10006, actions.report_message, bob, "C2Calice", second.msg_id, "spam")

    later = timezone.now() + timedelta(hours=1, seconds=1)
    with mock.patch("messaging.actions.reports.timezone.now", return_value=later):
        filed = actions.report_message(bob, "C2Calice", second.msg_id, "spam")

    assert filed.is_update is False and MessageReport.objects.count() == 2


def test_report_reasons_are_the_rules_reasons():
    assert tuple(MessageReport.Reason.values) == rules.REPORT_REASONS
    assert MessageReport._meta.get_field("description").max_length == rules.MAX_REPORT_DESCRIPTION


def test_group_message_of_a_former_member_is_reportable_by_members(alice, bob, carol):
    """The sender left the group: their message stays reportable by those who see it."""
    make_group(alice, group_type="Public", members=["bob", "carol"])
    sent = send_group_text(carol, "g1", "bye losers")
    actions.quit_group(carol, "g1")
    filed = actions.report_message(bob, "GROUPg1", sent.msg_id, "abuse")
    assert filed.report.message_id == sent.pk and filed.report.reporter_id == bob.pk
