"""A user downloads their own data (``/account/export/``): profile, the messages they sent
and the files of those messages, as a streamed zip; nothing of other people's messages."""

import io
import json
import os
import zipfile

import pytest
from django.test import AsyncClient, Client

from messaging import actions, storage
from messaging.queries import export
from tests.chat_helpers import fast_passwords, make_group, send_group_text, send_text  # noqa: F401
from tests.media_helpers import upload, use_filesystem_storage


@pytest.fixture
def media_root(settings, tmp_path):
    return use_filesystem_storage(settings, tmp_path)


@pytest.fixture
def chats(alice, bob, carol, media_root):
    make_group(carol, "Public", "a/b", members=["alice", "bob"])
    send_text(alice, "bob", "hi bob")
    mine = upload(alice, "file", b"alice's contract", name="contract.txt")
    actions.send_message(alice, conversation_type="C2C", to="bob", msg_type="TIMFileElem", payload={"uuid": mine.uuid.hex})
    send_text(bob, "alice", "bob's secret")
    theirs = upload(bob, "file", b"bob's private file", name="bob.txt")
    actions.send_message(bob, conversation_type="C2C", to="alice", msg_type="TIMFileElem", payload={"uuid": theirs.uuid.hex})
    send_group_text(alice, "a/b", "hello group")
    send_group_text(carol, "a/b", "carol's words")
    revoked = send_text(alice, "bob", "oops")
    actions.revoke_message(alice, "C2Cbob", revoked.msg_id)
    return {"mine": mine, "theirs": theirs}


def archive_of(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'filename="chat-export-alice.zip"' in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def check_archive(archive, chats):
    names = set(archive.namelist())
    mine = chats["mine"]
    assert names == {
        "README.txt",
        "profile.json",
        "account.json",
        "messages/C2Cbob.json",
        "messages/GROUPa%2Fb.json",
        f"files/{mine.uuid.hex}/contract.txt",
    }
    assert json.loads(archive.read("profile.json"))["userID"] == "alice"
    assert json.loads(archive.read("account.json"))["userID"] == "alice"
    c2c = json.loads(archive.read("messages/C2Cbob.json"))
    assert [(m["type"], m["from"], m["flow"], m["conversationID"]) for m in c2c] == [
        ("TIMTextElem", "alice", "out", "C2Cbob"),
        ("TIMFileElem", "alice", "out", "C2Cbob"),
        ("TIMTextElem", "alice", "out", "C2Cbob"),
    ]
    assert c2c[0]["payload"] == {"text": "hi bob"}
    assert c2c[2]["isRevoked"] and c2c[2]["payload"] == {}
    group = json.loads(archive.read("messages/GROUPa%2Fb.json"))
    assert [m["payload"]["text"] for m in group] == ["hello group"]
    assert archive.read(f"files/{mine.uuid.hex}/contract.txt") == b"alice's contract"
    everything = b"".join(archive.read(name) for name in names)
    for other in (b"bob's secret", b"carol's words", b"bob's private file", chats["theirs"].uuid.hex.encode()):
        assert other not in everything


def test_the_export_has_my_messages_and_files_and_nothing_of_others(alice, chats):
    client = Client()
    client.force_login(alice)
    check_archive(archive_of(client.get("/account/export/")), chats)


@pytest.mark.django_db(transaction=True)
async def test_under_asgi_the_zip_is_streamed_piece_by_piece(alice, chats):
    client = AsyncClient()
    await client.aforce_login(alice)
    response = await client.get("/account/export/")
    assert response.is_async  # not read whole into memory by Django first
    pieces = [piece async for piece in response.streaming_content]
    response.streaming_content = iter(pieces)
    check_archive(archive_of(response), chats)


def test_memory_stays_bounded_pieces_are_handed_out_as_they_are_written(alice, bob, media_root, monkeypatch):
    monkeypatch.setattr(export, "PIECE", 1024)
    monkeypatch.setattr(export, "EXPORT_PAGE", 7)
    for n in range(40):
        send_text(alice, "bob", f"message {n} " + "x" * 200)
    data = os.urandom(3 * 1024 * 1024 + 5)
    big = upload(alice, "file", data, name="big.bin")
    actions.send_message(alice, conversation_type="C2C", to="bob", msg_type="TIMFileElem", payload={"uuid": big.uuid.hex})
    pieces = list(export.zip_stream(alice))
    # The file is copied a megabyte at a time: no piece holds it whole.
    assert len(pieces) >= 5 and max(len(p) for p in pieces) <= storage.COPY_CHUNK + 64 * 1024
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    assert len(json.loads(archive.read("messages/C2Cbob.json"))) == 41  # pages of 7
    assert archive.read(f"files/{big.uuid.hex}/big.bin") == data


def test_anonymous_users_are_sent_to_log_in(db):
    response = Client().get("/account/export/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_file_forwarded_or_only_in_recalled_messages_is_not_exported(alice, bob, carol, media_root):
    """Bob's file that alice forwarded is bob's, not her data; alice's own file whose only
    message was recalled left her history with it."""
    bobs = upload(bob, "file", b"bob's file", name="bob.txt")
    sent = actions.send_message(bob, conversation_type="C2C", to="alice", msg_type="TIMFileElem", payload={"uuid": bobs.uuid.hex})
    actions.send_message(
        alice,
        conversation_type="C2C",
        to="carol",
        msg_type="",
        payload={},
        forward={"ID": sent.message.msg_id, "conversationID": "C2Cbob"},
    )
    recalled = upload(alice, "file", b"oops", name="oops.txt")
    oops = actions.send_message(
        alice, conversation_type="C2C", to="bob", msg_type="TIMFileElem", payload={"uuid": recalled.uuid.hex}
    )
    actions.revoke_message(alice, "C2Cbob", oops.message.msg_id)
    kept = upload(alice, "file", b"mine", name="mine.txt")
    actions.send_message(alice, conversation_type="C2C", to="bob", msg_type="TIMFileElem", payload={"uuid": kept.uuid.hex})

    names = zipfile.ZipFile(io.BytesIO(b"".join(export.zip_stream(alice)))).namelist()

    files = sorted(n for n in names if n.startswith("files/"))
    assert files == [f"files/{kept.uuid.hex}/mine.txt"]
