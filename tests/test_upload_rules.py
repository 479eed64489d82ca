"""Uploads in one room: one table of media types, one ownership check.

- What an upload kind accepts (``media.check_audio``/``check_video``/``process_image``)
  and what the download view serves inline are the same types: every accepted image,
  audio and video type is served inline, and nothing else is (HTML and SVG never).
- A message names an upload, and the HTTP API writes or completes one, only through
  ``messaging.access.access_own_upload``; no other module looks uploads up by owner.
"""

import ast
import io
import re
import sys
from pathlib import Path

import filetype
import pytest
from django.test import Client
from PIL import Image

from messaging import access, actions, media
from messaging.errors import ChatError, ErrorCode
from messaging.models import Upload
from tests.chat_helpers import fast_passwords  # noqa: F401
from tests.media_helpers import HTML, MP4, SVG, png, upload, use_filesystem_storage, wav

MESSAGING = Path(__file__).resolve().parents[1] / "messaging"
MEDIA_KINDS = ("image", "audio", "video")
# Types a browser renders as a document or script: never inline, whatever the table says.
DOCUMENT_TYPES = {"text/html", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml", "text/javascript"}


def python_sources():
    return [p for p in MESSAGING.rglob("*.py") if "migrations" not in p.parts]


@pytest.fixture
def media_root(settings, tmp_path):
    return use_filesystem_storage(settings, tmp_path)


# --- one table of media types -----------------------------------------------------------


def candidate_types():
    """Every type the sniffer can answer, the table's own, and document types."""
    return {kind.mime for kind in filetype.types} | set(media.INLINE_TYPES) | DOCUMENT_TYPES | {"application/octet-stream"}


def accepted_by_the_checks(monkeypatch):
    """The types the upload checks let through, found by running them (not by reading the table)."""

    def passes(check, mime):
        monkeypatch.setattr(media, "sniff", lambda head: mime)
        try:
            return check(b"") == mime
        except ChatError:
            return False

    candidates = candidate_types()
    accepted = {mime for mime in candidates if passes(media.check_audio, mime) or passes(media.check_video, mime)}
    monkeypatch.undo()
    for name in media.IMAGE_FORMATS:
        out = io.BytesIO()
        Image.new("RGB", (300, 200), (20, 90, 160)).save(out, name)
        processed = media.process_image(out.getvalue())
        accepted.add(processed.content_type)
        accepted.update(content_type for *_, content_type in processed.variants.values())
    return accepted


def test_every_accepted_media_type_is_served_inline_and_nothing_else(monkeypatch):
    accepted = accepted_by_the_checks(monkeypatch)
    served_inline = {mime for mime in candidate_types() if media.served_inline(mime)}
    assert served_inline == accepted, (
        f"accepted, not inline: {sorted(accepted - served_inline)}; inline, not accepted: {sorted(served_inline - accepted)}"
    )
    assert not served_inline & DOCUMENT_TYPES
    assert set(media.ACCEPTED_TYPES) == set(MEDIA_KINDS) and set(MEDIA_KINDS) < set(Upload.Kind.values)


def test_no_media_type_list_outside_media_py():
    """A MIME literal of an image, audio or video type anywhere else in the app is a second list."""
    literal = re.compile(r"""["'](image|audio|video)/[a-z0-9.+-]+["']""")
    found = [
        f"{path.relative_to(MESSAGING.parent)}:{number}: {line.strip()}"
        for path in python_sources()
        if path.name != "media.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if literal.search(line)
    ]
    assert not found, "media types belong in messaging/media.py's table:\n" + "\n".join(found)


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.content
    return response["Content-Type"], response["Content-Disposition"].split(";")[0]


@pytest.mark.django_db
def test_the_download_view_serves_inline_from_the_table(monkeypatch, media_root, alice):
    """Real uploads: media inline with their type; documents as attachments. With the
    table emptied the view serves nothing inline, so it has no list of its own."""
    files = {
        "image": upload(alice, "image", png(), "a.png"),
        "audio": upload(alice, "audio", wav(), "a.wav"),
        "video": upload(alice, "video", MP4, "a.mp4"),
        "html": upload(alice, "file", HTML, "a.html"),
        "svg": upload(alice, "file", SVG, "a.svg"),
        "png-as-file": upload(alice, "file", png(), "b.png"),
    }
    client = Client()
    client.force_login(alice)
    served = {name: download(client, f"/files/{item.uuid.hex}/original") for name, item in files.items()}
    assert served == {
        "image": ("image/png", "inline"),
        "audio": ("audio/x-wav", "inline"),
        "video": ("video/mp4", "inline"),
        "html": ("application/octet-stream", "attachment"),
        "svg": ("application/octet-stream", "attachment"),
        "png-as-file": ("image/png", "inline"),
    }

    monkeypatch.setattr(media, "INLINE_TYPES", frozenset())
    for name, item in files.items():
        assert download(client, f"/files/{item.uuid.hex}/original") == ("application/octet-stream", "attachment"), name


# --- one ownership check --------------------------------------------------------------------


@pytest.mark.django_db
def test_access_own_upload_returns_only_the_users_own_upload_of_the_kind(media_root, alice, bob):
    mine = upload(alice, "image", png(), "a.png")
    assert access.access_own_upload(alice, mine.uuid.hex) == mine
    assert access.access_own_upload(alice, str(mine.uuid), kind="image") == mine
    for user, key, kind in [
        (bob, mine.uuid.hex, None),
        (alice, mine.uuid.hex, "file"),
        (alice, "0" * 32, None),
        (alice, "../../etc", None),
        (alice, None, "image"),
    ]:
        with pytest.raises(ChatError) as refused:
            access.access_own_upload(user, key, kind=kind)
        assert refused.value.code == ErrorCode.UPLOAD_NOT_FOUND


@pytest.fixture
def ownership_checks(monkeypatch):
    """Every (user, uuid, kind) that asked ``access_own_upload``, in every module that imported it."""
    original = access.access_own_upload
    calls = []

    def spy(user, upload_uuid, *, kind=None):
        calls.append((user.username, str(upload_uuid), kind))
        return original(user, upload_uuid, kind=kind)

    for name, module in list(sys.modules.items()):
        if name.startswith("messaging") and getattr(module, "access_own_upload", None) is original:
            monkeypatch.setattr(module, "access_own_upload", spy)
    return calls


@pytest.mark.django_db
def test_every_path_that_names_an_upload_asks_the_one_access_function(media_root, ownership_checks, alice, bob):
    client = Client()
    client.force_login(alice)
    data = wav()
    created = client.post(
        "/api/uploads/", {"kind": "audio", "name": "v.wav", "size": len(data)}, content_type="application/json"
    ).json()["upload"]["uuid"]
    client.generic("PUT", f"/api/uploads/{created}/data?offset=0", data, content_type="application/octet-stream")
    assert client.post(f"/api/uploads/{created}/complete").status_code == 200
    assert ownership_checks == [("alice", created, None), ("alice", created, None)]

    image = upload(alice, "image", png(), "a.png")
    video = upload(alice, "video", MP4, "a.mp4")
    document = upload(alice, "file", b"%PDF-1.4 notes", "a.pdf")
    ownership_checks.clear()
    sends = [
        ("TIMImageElem", {"uuid": image.uuid.hex}),
        ("TIMSoundElem", {"uuid": created, "second": 1}),
        ("TIMVideoFileElem", {"videoUUID": video.uuid.hex, "snapshotUUID": image.uuid.hex, "videoSecond": 1}),
        ("TIMFileElem", {"uuid": document.uuid.hex}),
    ]
    for msg_type, payload in sends:
        actions.send_message(alice, conversation_type="C2C", to="bob", msg_type=msg_type, payload=payload)
    assert ownership_checks == [
        ("alice", image.uuid.hex, "image"),
        ("alice", created, "audio"),
        ("alice", video.uuid.hex, "video"),
        ("alice", image.uuid.hex, "image"),
        ("alice", document.uuid.hex, "file"),
    ]

    # And what it answers is what the sender gets: bob may not name alice's upload.
    for msg_type, payload in sends:
        with pytest.raises(ChatError) as refused:
            actions.send_message(bob, conversation_type="C2C", to="alice", msg_type=msg_type, payload=payload)
        assert refused.value.code == ErrorCode.UPLOAD_NOT_FOUND


def test_no_module_but_access_looks_uploads_up_by_owner():
    """``Upload.objects.get/filter/exclude(owner=...)`` outside access.py is a second ownership check."""
    found = []
    for path in python_sources():
        if path.name == "access.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in {"get", "filter", "exclude"} or "Upload.objects" not in ast.unparse(node.func.value):
                continue
            if any((keyword.arg or "").startswith("owner") for keyword in node.keywords):
                found.append(f"{path.relative_to(MESSAGING.parent)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, "use messaging.access.access_own_upload:\n" + "\n".join(found)


def test_images_are_processed_one_at_a_time_per_process(monkeypatch):
    """Three large images completing at once held three decoded copies (1.8 GB): now the
    image work of a process is one image at a time."""
    import threading
    import time

    from messaging import media

    running, peak = [0], [0]
    lock = threading.Lock()
    real = media._decode

    def counting_decode(*args, **kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        try:
            return real(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(media, "_decode", counting_decode)
    png = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(png, "PNG")
    threads = [threading.Thread(target=media.process_image, args=(png.getvalue(),)) for _ in range(4)]
    threads += [threading.Thread(target=media.square_avatar, args=(png.getvalue(),)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert peak[0] == 1
