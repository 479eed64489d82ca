"""Retention: ``manage.py purge_history`` purges messages and their files older than
RETENTION_DAYS in batches; conversation lists, unread counts, history pages and sync stay
consistent (messaging/actions/retention.py)."""

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from messaging import actions
from messaging.events import collect_events
from messaging.models import Message, Thread, Upload
from messaging.queries.conversation_list import get_conversation_list
from messaging.queries.message_list import get_message_list
from messaging.queries.sync import sync
from tests.chat_helpers import fast_passwords, make_group, send_group_text, send_text  # noqa: F401
from tests.media_helpers import stored_files, upload, use_filesystem_storage


@pytest.fixture
def media_root(settings, tmp_path):
    return use_filesystem_storage(settings, tmp_path)


def send_file(sender, to, name, data):
    made = upload(sender, "file", data, name=name)
    actions.send_message(sender, conversation_type="C2C", to=to, msg_type="TIMFileElem", payload={"uuid": made.uuid.hex})
    return made


def texts(user, conversation_id):
    return [m["payload"].get("text") for m in get_message_list(user, conversation_id)["messageList"]]


def by_id(conversations):
    return {c["conversationID"]: c for c in conversations}


@pytest.fixture
def history(db, alice, bob, carol, media_root):
    """Old: alice↔bob (bob read the first), alice↔carol (all old), group "club". Then new."""
    send_text(alice, "bob", "old 1")
    actions.mark_read(bob, "C2Calice")
    old_file = send_file(alice, "bob", "old.txt", b"old bytes")
    send_text(alice, "bob", "old 2")
    send_text(alice, "carol", "only old")
    make_group(alice, "Public", "club", members=["bob", "carol"])
    send_group_text(carol, "club", "old in club")
    cutoff = timezone.now()
    send_text(alice, "bob", "new 1")
    new_file = send_file(alice, "bob", "new.txt", b"new bytes")
    send_text(bob, "alice", "new 2")
    send_group_text(carol, "club", "new in club")
    return {"cutoff": cutoff, "old_file": old_file, "new_file": new_file}


def purge(history, batch=2):
    # "Now" a day after the cut-off with one day's retention: everything before it is old.
    # The stored bytes go once each batch commits.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return actions.purge_history(days=1, batch=batch, now=history["cutoff"] + timedelta(days=1))


def test_old_messages_and_their_files_go_recent_ones_stay(history, alice, bob, carol, media_root):
    before = {c["conversationID"]: c for c in get_conversation_list(bob)}
    result = purge(history)

    assert texts(bob, "C2Calice") == ["new 1", None, "new 2"]
    assert texts(alice, "C2Ccarol") == [] and texts(carol, "C2Calice") == []
    assert [t for t in texts(carol, "GROUPclub") if t] == ["new in club"]
    assert not Message.objects.filter(created_at__lt=history["cutoff"]).exists()
    assert not Upload.objects.filter(pk=history["old_file"].pk).exists()
    files = stored_files(media_root)
    assert files and not any(history["old_file"].uuid.hex in f for f in files)
    assert any(history["new_file"].key in f for f in files)
    assert result.files == 1 and result.batches >= 3  # 5 old messages and the tips, 2 a batch
    # bob's list: the new last message and unread count as before (the purged ones were read
    # or, unread, no longer count).
    after = by_id(get_conversation_list(bob))
    assert after["C2Calice"]["lastMessage"] == before["C2Calice"]["lastMessage"]
    assert after["C2Calice"]["unreadCount"] == 2  # "new 1" and the new file
    thread = Thread.objects.get(key__startswith="c2c:", conversations__user=bob, conversations__conversation_id="C2Calice")
    assert thread.purged_seq == 3


def test_a_conversation_with_only_old_messages_has_no_last_message_and_no_unread(history, alice, carol):
    assert by_id(get_conversation_list(carol))["C2Calice"]["unreadCount"] == 1
    purge(history)
    entry = by_id(get_conversation_list(carol))["C2Calice"]
    assert (entry["lastMessage"], entry["unreadCount"]) == ({}, 0)
    assert by_id(get_conversation_list(alice))["C2Ccarol"]["lastMessage"] == {}


def test_the_events_bring_an_open_list_to_what_a_fresh_fetch_says(history, carol):
    old = by_id(get_conversation_list(carol))
    with collect_events() as collected:
        purge(history)
    for message, targets in collected:
        if message.get("event") == "CONVERSATION_LIST_UPDATED" and carol.pk in targets:
            for patch in message["data"]:
                old[patch["conversationID"]].update({k: v for k, v in patch.items() if k != "conversationID"})
    fresh = by_id(get_conversation_list(carol))
    for conversation_id, entry in fresh.items():
        for key in ("unreadCount", "lastMessage"):
            assert old[conversation_id][key] == entry[key], (conversation_id, key)


def test_history_pages_end_at_the_purge(history, bob):
    purge(history)
    first = get_message_list(bob, "C2Calice", count=2)
    assert [m["payload"].get("text") for m in first["messageList"]] == [None, "new 2"]
    assert first["nextReqMessageID"] and not first["isCompleted"]
    second = get_message_list(bob, "C2Calice", count=2, next_req_message_id=first["nextReqMessageID"])
    assert [m["payload"].get("text") for m in second["messageList"]] == ["new 1"]
    assert second["isCompleted"] and second["nextReqMessageID"] == ""


def test_sync_after_a_purge_returns_what_is_left_and_reports_nothing_lost(history, bob):
    cursors_before_any = {"C2Calice": 0, "GROUPclub": 0}
    latest = {c["conversationID"]: c["syncCursor"] for c in get_conversation_list(bob)}
    purge(history)

    answer = sync(bob, cursors_before_any)
    assert answer["isSyncCompleted"]
    got = {c["conversationID"]: c for c in answer["conversations"]}
    assert [m["payload"].get("text") for m in got["C2Calice"]["messageList"]] == ["new 1", None, "new 2"]
    assert got["C2Calice"]["changedList"] == []
    assert got["C2Calice"]["syncCursor"] == latest["C2Calice"]  # purging takes no change number
    # A client that had everything: no change, no refetch asked for.
    caught_up = sync(bob, latest)
    assert caught_up["isSyncCompleted"]
    assert all(not c["messageList"] and not c["changedList"] for c in caught_up["conversations"])


def test_new_messages_after_a_purge_count_and_show_as_usual(history, alice, bob):
    purge(history)
    send_text(alice, "bob", "after purge")
    entry = by_id(get_conversation_list(bob))["C2Calice"]
    assert entry["unreadCount"] == 3 and entry["lastMessage"]["payload"]["text"] == "after purge"
    assert texts(bob, "C2Calice")[-1] == "after purge"


@pytest.mark.parametrize("batch", [1, 3, 1000])
def test_every_batch_size_purges_the_same(history, bob, batch):
    result = purge(history, batch=batch)
    assert texts(bob, "C2Calice") == ["new 1", None, "new 2"]
    assert result.batches >= (1 if batch == 1000 else 2)


def test_a_file_still_in_a_kept_message_stays(history, alice, carol, media_root):
    # alice forwards the old file in a new message: the upload is then referred to by it too.
    kept = Upload.objects.get(pk=history["old_file"].pk)
    message = Message.objects.filter(attachments=kept).get()
    forward = actions.send_message(
        alice,
        conversation_type="C2C",
        to="carol",
        msg_type=None,
        payload=None,
        forward={"conversationID": "C2Cbob", "ID": message.msg_id},
    )
    assert Message.objects.filter(pk=forward.message.pk, attachments=kept).exists()
    purge(history, batch=1000)
    assert Upload.objects.filter(pk=kept.pk).exists()
    assert any(kept.uuid.hex in f for f in stored_files(media_root))
    assert [m["payload"]["uuid"] for m in get_message_list(carol, "C2Calice")["messageList"]] == [kept.uuid.hex]


def test_retention_zero_keeps_everything_and_the_command_uses_the_setting(history, bob, django_capture_on_commit_callbacks):
    count = Message.objects.count()
    out = io.StringIO()
    call_command("purge_history", stdout=out)
    assert Message.objects.count() == count and "kept for ever" in out.getvalue()

    admin = actions.create_user("root", is_superuser=True)
    with django_capture_on_commit_callbacks(execute=True):
        actions.update_chat_settings(admin, {"retention_days": 1})
    result = actions.purge_history(batch=10, now=history["cutoff"] + timedelta(days=1))
    assert result.messages > 0 and texts(bob, "C2Calice") == ["new 1", None, "new 2"]


def test_the_command_purges_in_batches(alice, bob, monkeypatch):
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() - timedelta(days=3))
    for n in range(5):
        send_text(alice, "bob", f"old {n}")
    monkeypatch.setattr(timezone, "now", real_now)
    send_text(alice, "bob", "new")
    out = io.StringIO()

    call_command("purge_history", "--days", "2", "--batch", "2", stdout=out)

    assert out.getvalue().strip() == "purged 5 message(s) and 0 file(s) from 1 conversation(s) in 3 batch(es)"
    assert texts(bob, "C2Calice") == ["new"]
    assert by_id(get_conversation_list(bob))["C2Calice"]["unreadCount"] == 1
