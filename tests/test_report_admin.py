"""The moderators' queue of reports in the admin: open reports newest first, a report's page
with the message among its neighbours (and no other thread's), and resolutions that take the
moderation step, close the reports with the action, moderator and time, and write the audit log.

Driven through /admin/ with Django's test client, as tests/test_admin.py does.
"""

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.models import Permission
from django.test import Client

from messaging import actions
from messaging.errors import ChatError
from messaging.models import AuditLogEntry, Message, MessageReport, User
from messaging.queries.reports import message_context
from tests.chat_helpers import db_snapshot, fast_passwords, make_group, send_group_text, send_text  # noqa: F401
from tests.media_helpers import png, upload, use_filesystem_storage

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/messaging/messagereport/"


def page(report):
    return f"{CHANGELIST}{report.pk}/change/"


@pytest.fixture
def client(boss):
    client = Client()
    client.force_login(boss)
    return client


@pytest.fixture
def group(alice, bob, carol, dave):
    return make_group(alice, group_type="Public", members=["bob", "carol", "dave"])


def report(reporter, message, reason="spam", description=""):
    conversation_id = "GROUPg1" if message.thread.kind == "GROUP" else f"C2C{message.sender.username}"
    return actions.report_message(reporter, conversation_id, message.msg_id, reason, description).report


def test_the_queue_lists_open_reports_newest_first_with_who_what_and_where(client, boss, group, alice, bob, carol, dave):
    old = report(bob, send_group_text(dave, "g1", "first spam"))
    new = report(carol, send_group_text(dave, "g1", "second spam " + "x" * 100), reason="abuse")
    c2c = report(bob, send_text(alice, "bob", "private insult"), reason="other")
    closed = report(bob, send_group_text(carol, "g1", "fine really"))
    actions.resolve_report(boss, closed, MessageReport.Action.DISMISSED)

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [c2c, new, old]
    text = response.content.decode()
    assert "first spam" in text and "GROUPg1 (Team)" in text and "C2C alice ↔ bob" in text
    assert "fine really" not in text
    assert "second spam " + "x" * 60 in text and "x" * 100 not in text  # previews are cut
    everything = client.get(CHANGELIST + "?status=all")
    assert set(everything.context["cl"].result_list) == {old, new, c2c, closed}
    dismissed = client.get(CHANGELIST + "?status=dismissed")
    assert list(dismissed.context["cl"].result_list) == [closed]


def test_the_report_page_shows_five_messages_either_side_from_its_own_thread_only(client, group, alice, bob, dave):
    sent = [send_group_text(dave, "g1", f"group line {i}") for i in range(14)]
    for i in range(3):
        send_text(alice, "bob", f"other thread {i}")
    target = sent[7]
    filed = report(bob, target)

    response = client.get(page(filed))

    assert response.status_code == 200
    rows = response.context["context_rows"]
    texts = [row["text"] for row in rows]
    assert texts == [f"group line {i}" for i in range(2, 13)]
    assert [row["reported"] for row in rows].count(True) == 1 and rows[5]["message"].pk == target.pk
    body = response.content.decode()
    assert "other thread" not in body and "group line 1<" not in body and "group line 13" not in body
    assert "Recall message" in body and "Ban sender" in body and "Dismiss" in body
    assert "Save" not in body.split('data-testid="report-context"')[1]  # no model form to save


def test_near_the_start_of_a_thread_fewer_neighbours_are_shown(client, alice, bob):
    first = send_text(alice, "bob", "hello")
    send_text(bob, "alice", "hi")
    filed = report(bob, first)
    rows = client.get(page(filed)).context["context_rows"]
    assert [row["text"] for row in rows] == ["hello", "hi"]


def test_the_context_is_four_queries_whatever_the_threads_size(django_assert_num_queries, alice, bob):
    messages = [send_text(alice, "bob", f"m{i}") for i in range(30)]
    for target in (messages[1], messages[20]):
        with django_assert_num_queries(4):
            context = message_context(target)
            assert all(m.sender.username == "alice" for m in context.messages)
            assert all(list(m.attachments.all()) == [] for m in context.messages)


def test_attachments_show_as_thumbnails_and_links_served_to_the_moderator(client, settings, tmp_path, alice, bob):
    use_filesystem_storage(settings, tmp_path)
    image = upload(alice, "image", png(400, 300), "cat.png")
    sent = actions.send_message(
        alice, conversation_type="C2C", to="bob", msg_type="TIMImageElem", payload={"uuid": image.uuid.hex}
    )
    elsewhere = upload(alice, "image", png(40, 30), "other.png")
    filed = report(bob, sent.message)

    response = client.get(page(filed))

    [row] = response.context["context_rows"]
    [shown] = row["files"]
    assert shown["name"] == "cat.png" and shown["thumb"].endswith("/thumb/") and shown["url"].endswith("/original/")
    body = response.content.decode()
    assert f'src="{shown["thumb"]}"' in body and f'href="{shown["url"]}"' in body
    thumb = client.get(shown["thumb"])
    assert thumb.status_code == 200 and thumb["Content-Type"].startswith("image/")
    assert client.get(shown["url"]).status_code == 200
    # A file of no message on this page is not served through it.
    assert client.get(f"{CHANGELIST}{filed.pk}/file/{elsewhere.uuid.hex}/original/").status_code == 404


def test_banning_the_sender_resolves_every_open_report_of_the_message_and_is_audited(client, boss, group, bob, carol, dave):
    spam = send_group_text(dave, "g1", "spam spam")
    first, second = report(bob, spam), report(carol, spam, reason="abuse")
    other = report(bob, send_group_text(dave, "g1", "another one"))

    response = client.post(page(first), {"_resolve": "banned", "note": "repeat offender"})

    assert response.status_code == 302 and response.url == CHANGELIST
    assert User.objects.get(username="dave").is_active is False
    for pk in (first.pk, second.pk):
        closed = MessageReport.objects.get(pk=pk)
        assert (closed.status, closed.action_taken, closed.resolved_by, closed.note) == (
            "resolved",
            "banned",
            boss,
            "repeat offender",
        )
        assert closed.resolved_at is not None
    assert MessageReport.objects.get(pk=other.pk).status == "open"
    ban, entry = AuditLogEntry.objects.order_by("pk")  # the ban's own entry, then the resolution's
    assert (ban.actor, ban.action, ban.target_id, ban.reason) == (boss, "ban_user", "dave", "repeat offender")
    assert (entry.actor, entry.action, entry.target_type, entry.target_id, entry.reason) == (
        boss,
        "resolve_report",
        "message_report",
        str(first.pk),
        "repeat offender",
    )
    assert entry.details["action_taken"] == "banned" and entry.details["sender"] == "dave"
    assert entry.details["reports"] == [first.pk, second.pk] and entry.details["message"] == spam.msg_id
    # A closed report has no buttons any more, and cannot be resolved twice.
    assert "Ban sender" not in client.get(page(first)).content.decode()
    client.post(page(first), {"_resolve": "dismissed"})
    assert MessageReport.objects.get(pk=first.pk).action_taken == "banned" and AuditLogEntry.objects.count() == 2


@pytest.mark.django_db(transaction=True)
async def test_recalling_through_a_report_reaches_open_tabs_as_message_revoked(open_tab, alice, bob, carol, dave):
    def arrange():
        boss = actions.create_user("boss", password="pw-boss", is_superuser=True, is_staff=True)
        make_group(alice, group_type="Public", members=["bob", "carol", "dave"])
        return boss

    boss = await database_sync_to_async(arrange)()
    b, c = await open_tab(bob), await open_tab(carol)
    spam = await c.send_text("g1", "buy now", conversation_type="GROUP")
    await b.wait_event("MESSAGE_RECEIVED")
    await b.request("reportMessage", message={"ID": spam["ID"], "conversationID": "GROUPg1"}, reason="spam")
    await b.drain()

    def resolve_in_the_admin():
        client = Client()
        client.force_login(boss)
        return client.post(page(MessageReport.objects.get()), {"_resolve": "recalled"})

    response = await database_sync_to_async(resolve_in_the_admin)()

    assert response.status_code == 302
    [revoked] = await b.wait_event("MESSAGE_REVOKED")
    assert (revoked["ID"], revoked["isRevoked"], revoked["revoker"]) == (spam["ID"], True, "boss")
    [own_tab] = await c.wait_event("MESSAGE_REVOKED")
    assert own_tab["ID"] == spam["ID"]

    def stored():
        closed = MessageReport.objects.select_related("resolved_by").get()
        return (
            closed.status,
            closed.action_taken,
            closed.resolved_by.username,
            list(AuditLogEntry.objects.order_by("pk").values_list("action", flat=True)),
            AuditLogEntry.objects.get(action="resolve_report").details["action_taken"],
        )

    assert await database_sync_to_async(stored)() == (
        "resolved",
        "recalled",
        "boss",
        ["recall_message", "resolve_report"],
        "recalled",
    )


def test_a_c2c_message_is_recalled_by_the_moderator_at_any_age(client, boss, alice, bob):
    filed = report(bob, send_text(alice, "bob", "rude"))
    body = client.get(page(filed)).content.decode()
    assert "Recall message" in body and "Ban sender" in body and "Delete message for everyone" in body

    response = client.post(page(filed), {"_resolve": "recalled", "note": "rude"})

    assert response.status_code == 302
    recalled = Message.objects.select_related("revoker").get(pk=filed.message_id)
    assert recalled.is_revoked and recalled.revoker == boss
    assert MessageReport.objects.get(pk=filed.pk).action_taken == "recalled"


def test_a_refused_step_writes_nothing(client, alice, bob, carol):
    """A step the action refuses (here: staff without the moderation permission) leaves the
    report open and writes nothing, not even an audit entry."""
    filed = report(bob, send_text(alice, "bob", "rude"))
    plain = actions.create_user("plainstaff", password="pw-plain", is_staff=True)
    before = db_snapshot()
    with pytest.raises(ChatError) as refused:
        actions.resolve_report(plain, MessageReport.objects.get(pk=filed.pk), "recalled", "")
    assert refused.value.code == 10007
    assert db_snapshot() == before
    assert MessageReport.objects.get(pk=filed.pk).status == "open" and AuditLogEntry.objects.count() == 0


def test_delete_for_everyone_through_a_report(client, boss, group, bob, dave):
    spam = send_group_text(dave, "g1", "gross")
    filed = report(bob, spam)
    assert "Delete message for everyone" in client.get(page(filed)).content.decode()

    client.post(page(filed), {"_resolve": "deleted", "note": "vile"})

    deleted = Message.objects.get(pk=spam.pk)
    assert deleted.is_revoked and deleted.deleted_at is not None and deleted.payload in ({}, None)
    assert MessageReport.objects.get(pk=filed.pk).action_taken == "deleted"
    assert list(AuditLogEntry.objects.order_by("pk").values_list("action", "reason")) == [
        ("delete_message", "vile"),
        ("resolve_report", "vile"),
    ]


def test_the_bulk_dismiss_closes_the_selected_reports(client, boss, group, bob, carol, dave):
    spam = send_group_text(dave, "g1", "meh")
    reports = [report(bob, spam), report(carol, spam), report(bob, send_group_text(dave, "g1", "meh 2"))]

    client.post(CHANGELIST, {"action": "dismiss_reports", "_selected_action": [r.pk for r in reports]})

    assert set(MessageReport.objects.values_list("status", "action_taken", "resolved_by")) == {
        ("dismissed", "dismissed", boss.pk)
    }
    assert AuditLogEntry.objects.count() == 2  # one per message: the second report closed with the first


def test_a_staff_user_who_may_only_view_reports_cannot_resolve_them(group, bob, dave):
    viewer = actions.create_user("viewer", password="pw-viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_messagereport"))
    client = Client()
    client.force_login(viewer)
    filed = report(bob, send_group_text(dave, "g1", "bad"))

    assert client.get(CHANGELIST).status_code == 200
    body = client.get(page(filed)).content.decode()
    assert "bad" in body and "Ban sender" not in body
    assert client.post(page(filed), {"_resolve": "banned"}).status_code == 403
    assert User.objects.get(username="dave").is_active and MessageReport.objects.get().status == "open"


def test_a_report_shows_neighbours_and_files_only_to_who_may_view_messages_and_uploads(settings, tmp_path, alice, bob):
    """Staff given only "view message report" see the reported message, not the messages
    around it nor any file: those are the message and upload permissions' (the Moderators
    group has all three)."""
    use_filesystem_storage(settings, tmp_path)
    send_text(alice, "bob", "earlier, private")
    image = upload(alice, "image", png(40, 30), "cat.png")
    sent = actions.send_message(
        alice, conversation_type="C2C", to="bob", msg_type="TIMImageElem", payload={"uuid": image.uuid.hex}
    )
    filed = report(bob, sent.message)
    viewer = actions.create_user("triage", password="pw-triage", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_messagereport"))
    client = Client()
    client.force_login(viewer)

    response = client.get(page(filed))

    [row] = response.context["context_rows"]
    assert row["files"] == [] and "earlier, private" not in response.content.decode()
    assert client.get(f"{CHANGELIST}{filed.pk}/file/{image.uuid.hex}/original/").status_code == 403
    viewer.user_permissions.add(*Permission.objects.filter(codename__in=["view_message", "view_upload"]))
    client.force_login(User.objects.get(pk=viewer.pk))  # permissions are cached on the user object
    response = client.get(page(filed))
    assert len(response.context["context_rows"]) == 2 and "earlier, private" in response.content.decode()
    assert client.get(f"{CHANGELIST}{filed.pk}/file/{image.uuid.hex}/original/").status_code == 200
