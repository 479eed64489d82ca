"""Uploads and downloads with the filesystem storage (the embedded default), over HTTP.

POST /api/uploads/ → PUT /api/uploads/<uuid>/data?offset=N (chunks) → POST .../complete
→ sendMessage → GET /files/<uuid>/<variant>. MEDIA_ROOT is a fresh temporary folder,
so "nothing is stored" is checked by listing it. Limits are lowered through
``settings.CHAT`` instead of writing 100 MB files.
"""

import io
import json

import pytest
from django.test import Client
from PIL import Image

from messaging import actions
from messaging.actions import uploads
from messaging.errors import ChatError
from messaging.models import Message, Upload
from tests.chat_helpers import fast_passwords, make_group  # noqa: F401
from tests.media_helpers import (
    GPS_IFD,
    HTML,
    MP4,
    ORIENTATION,
    SVG,
    animated_gif,
    jpeg,
    png,
    png_header_only,
    stored_files,
    upload,
    use_filesystem_storage,
    wav,
)

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def media_root(settings, tmp_path):
    return use_filesystem_storage(settings, tmp_path)


@pytest.fixture
def client_of(media_root):
    def make(user=None):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return make


def create(client, kind, name, size):
    return client.post("/api/uploads/", json.dumps({"kind": kind, "name": name, "size": size}), content_type="application/json")


def put(client, upload_uuid, offset, data):
    return client.put(f"/api/uploads/{upload_uuid}/data?offset={offset}", data=data, content_type="application/octet-stream")


def complete(client, upload_uuid):
    return client.post(f"/api/uploads/{upload_uuid}/complete")


def upload_over_http(client, kind, name, data, chunk=None):
    """The browser's flow: create, PUT every chunk, complete. Returns (uuid, complete response)."""
    response = create(client, kind, name, len(data))
    assert response.status_code == 201, response.content
    body = response.json()
    upload_uuid = body["upload"]["uuid"]
    target = body["target"]
    assert target["method"] == "PUT" and target["fields"] == {}
    chunk = chunk or target["chunkSize"]
    for offset in range(0, len(data), chunk):
        answer = put(client, upload_uuid, offset, data[offset : offset + chunk])
        assert answer.status_code == 200, answer.content
        assert answer.json() == {"received": min(len(data), offset + chunk)}
    return upload_uuid, complete(client, upload_uuid)


def get(client, url):
    """GET ``url``; returns (response, body bytes) with a streamed body read and closed."""
    response = client.get(url)
    if getattr(response, "streaming", False):
        body = b"".join(response.streaming_content)
        response.close()
    else:
        body = response.content
    return response, body


def send(sender, to, msg_type, payload, conversation_type="C2C", **options):
    return actions.send_message(
        sender, conversation_type=conversation_type, to=to, msg_type=msg_type, payload=payload, **options
    ).message


def code_of(call, *args, **kwargs):
    with pytest.raises(ChatError) as info:
        call(*args, **kwargs)
    return info.value.code


def assert_served_safely(response):
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


# --- the whole flow over HTTP --------------------------------------------------------------


def test_file_flow_in_chunks_then_send_then_download_as_member_only(settings, client_of, media_root, alice, bob, carol):
    settings.CHAT = {"UPLOAD_CHUNK_BYTES": 1024}
    data = b"%PDF-1.4\n" + bytes(range(256)) * 20  # 5,129 bytes: six chunks
    a = client_of(alice)

    response = create(a, "file", "Quarterly report.pdf", len(data))
    assert response.status_code == 201
    created = response.json()
    upload_uuid = created["upload"]["uuid"]
    assert created["upload"] | {} == {
        "uuid": upload_uuid,
        "kind": "file",
        "status": "pending",
        "name": "Quarterly report.pdf",
        "size": len(data),
        "contentType": "",
    }
    assert created["target"] == {"method": "PUT", "url": f"/api/uploads/{upload_uuid}/data", "fields": {}, "chunkSize": 1024}

    assert put(a, upload_uuid, 0, data[:1024]).json() == {"received": 1024}
    # A chunk sent again, or sent ahead, is not written: the answer is where to resume.
    assert put(a, upload_uuid, 0, data[:1024]).json() == {"received": 1024}
    assert put(a, upload_uuid, 3072, data[3072:4096]).json() == {"received": 1024}
    # Not ready before the last byte: completing now says nothing is there yet.
    early = complete(a, upload_uuid)
    assert early.status_code == 400 and early.json()["code"] == 2400
    for offset in range(1024, len(data), 1024):
        assert put(a, upload_uuid, offset, data[offset : offset + 1024]).json() == {"received": min(len(data), offset + 1024)}
    # Every byte is there: a chunk sent again is not written, and the answer says so.
    assert put(a, upload_uuid, 0, data[:1024]).json() == {"received": len(data)}
    assert stored_files(media_root) == [f"uploads/{alice.pk}/{upload_uuid}/upload"]

    done = complete(a, upload_uuid)
    assert done.status_code == 200, done.content
    assert done.json()["upload"] | {} == {
        "uuid": upload_uuid,
        "kind": "file",
        "status": "ready",
        "name": "Quarterly report.pdf",
        "size": len(data),
        "contentType": "application/pdf",
    }
    assert complete(a, upload_uuid).json() == done.json(), "complete is idempotent once ready"
    # No more bytes once it is complete.
    late = put(a, upload_uuid, len(data), b"x")
    assert late.status_code == 400 and late.json()["code"] == 10004

    message = send(alice, "bob", "TIMFileElem", {"uuid": upload_uuid})
    assert message.payload == {
        "uuid": upload_uuid,
        "fileName": "Quarterly report.pdf",
        "fileUrl": f"/files/{upload_uuid}/original?download=1",
        "fileSize": len(data),
    }

    for user in (alice, bob):
        response, body = get(client_of(user), message.payload["fileUrl"])
        assert response.status_code == 200
        assert body == data
        assert response["Content-Type"] == "application/octet-stream"
        assert response["Content-Disposition"].startswith('attachment; filename="Quarterly report.pdf"')
        assert_served_safely(response)

    response, _ = get(client_of(carol), message.payload["fileUrl"])
    assert response.status_code == 403 and response.json()["code"] == 10007
    response, _ = get(client_of(), message.payload["fileUrl"])
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_api_answers_401_to_anonymous_scripts(client_of, alice):
    created = upload(alice, "file", b"hello", "a.txt", complete=False)
    anonymous = client_of()
    for response in (
        create(anonymous, "file", "a.txt", 5),
        put(anonymous, created.uuid.hex, 0, b"hello"),
        complete(anonymous, created.uuid.hex),
    ):
        assert response.status_code == 401 and response.json()["code"] == 2024


def test_another_users_upload_cannot_be_written_completed_or_seen(client_of, media_root, alice, bob):
    created = upload(alice, "file", b"hello", "a.txt", complete=False)
    b = client_of(bob)
    answer = put(b, created.uuid.hex, 0, b"evil")
    assert answer.status_code == 404 and answer.json()["code"] == 2403
    answer = complete(b, created.uuid.hex)
    assert answer.status_code == 404 and answer.json()["code"] == 2403
    for bad in ("not-a-uuid", "0" * 32):
        assert put(b, bad, 0, b"x").json()["code"] == 2403
        assert complete(b, bad).json()["code"] == 2403
    assert Upload.objects.get(pk=created.pk).status == "pending"
    ready = upload(alice, "file", b"secret", "s.txt")
    response, _ = get(b, f"/files/{ready.uuid.hex}/original")
    assert response.status_code == 403, "an upload no message shares with bob is alice's alone"


def test_a_chunk_larger_than_the_chunk_size_is_refused_with_413(settings, client_of, media_root, alice):
    settings.CHAT = {"UPLOAD_CHUNK_BYTES": 1024}
    a = client_of(alice)
    upload_uuid = create(a, "file", "big.bin", 4096).json()["upload"]["uuid"]

    response = put(a, upload_uuid, 0, bytes(1025))
    assert response.status_code == 413 and response.json()["code"] == 10004
    assert stored_files(media_root) == []
    assert put(a, upload_uuid, 0, bytes(1024)).json() == {"received": 1024}


def test_a_chunk_without_a_length_is_bounded_as_it_streams(settings, client_of, media_root, alice):
    """A body sent with Transfer-Encoding: chunked announces no length: it used to be
    stored whole (100 MiB in one request). Read past the chunk size, it is refused and
    none of its bytes are kept; the upload resumes where it was."""
    settings.CHAT = {"UPLOAD_CHUNK_BYTES": 1024}
    a = client_of(alice)
    upload_uuid = create(a, "file", "big.bin", 4096).json()["upload"]["uuid"]
    assert put(a, upload_uuid, 0, bytes(1000)).json() == {"received": 1000}

    with pytest.raises(ChatError) as refused:
        uploads.receive_upload_chunk(alice, upload_uuid, 1000, io.BytesIO(bytes(3000)))  # no length given
    assert refused.value.code == 10004 and refused.value.http_status == 413
    assert put(a, upload_uuid, 1000, bytes(1024)).json() == {"received": 2024}


@pytest.mark.parametrize("chunks", [[150], [60, 60]], ids=["one-chunk", "two-chunks"])
def test_more_bytes_than_declared_are_refused_and_the_partial_file_dropped(client_of, media_root, alice, chunks):
    a = client_of(alice)
    upload_uuid = create(a, "file", "x.bin", 100).json()["upload"]["uuid"]
    offset = 0
    for size in chunks[:-1]:
        assert put(a, upload_uuid, offset, bytes(size)).json() == {"received": offset + size}
        offset += size

    response = put(a, upload_uuid, offset, bytes(chunks[-1]))
    assert response.status_code == 413 and response.json()["code"] == 2402
    assert stored_files(media_root) == []
    answer = complete(a, upload_uuid)
    assert answer.status_code == 400 and answer.json()["code"] == 2400
    assert code_of(send, alice, "bob", "TIMFileElem", {"uuid": upload_uuid}) == 2400


# --- limits and arguments at create ---------------------------------------------------------


@pytest.mark.parametrize(
    "kind, limit, code",
    [("image", 20 * MB, 2253), ("audio", 20 * MB, 2301), ("video", 100 * MB, 2351), ("file", 100 * MB, 2402)],
)
def test_the_sdk_size_limits_are_checked_at_create(client_of, alice, kind, limit, code):
    a = client_of(alice)
    assert create(a, kind, "x", limit).status_code == 201
    response = create(a, kind, "x", limit + 1)
    assert response.status_code == 413 and response.json()["code"] == code
    assert Upload.objects.count() == 1


@pytest.mark.parametrize(
    "body, code",
    [
        ({"kind": "file", "name": "x", "size": 0}, 2108),
        ({"kind": "merger", "name": "x", "size": 10}, 10004),
        ({"kind": "exe", "name": "x", "size": 10}, 10004),
        ({"kind": "file", "name": "x", "size": "10"}, 10004),
        ({"kind": "file", "name": "x", "size": True}, 10004),
        ({"kind": "file", "name": "x", "size": -1}, 10004),
        ({"kind": "file", "name": "x"}, 10004),
    ],
)
def test_bad_create_arguments_are_refused(client_of, alice, body, code):
    response = client_of(alice).post("/api/uploads/", json.dumps(body), content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == code
    assert Upload.objects.count() == 0


def test_a_body_that_is_not_a_json_object_is_refused(client_of, alice):
    a = client_of(alice)
    for body in ("{nope", "[1, 2]"):
        response = a.post("/api/uploads/", body, content_type="application/json")
        assert response.status_code == 400 and response.json()["code"] == 10011


def test_a_limit_lowered_after_create_is_checked_again_at_complete(settings, client_of, media_root, alice):
    """The stored object's size is what counts (on S3 the browser sent it, not us)."""
    a = client_of(alice)
    upload_uuid = create(a, "file", "x.bin", 2000).json()["upload"]["uuid"]
    put(a, upload_uuid, 0, bytes(2000))
    settings.CHAT = {"MAX_FILE_BYTES": 1000}

    response = complete(a, upload_uuid)
    assert response.status_code == 413 and response.json()["code"] == 2402
    assert Upload.objects.get(uuid=upload_uuid).status == "failed"
    assert stored_files(media_root) == []


# --- the type comes from the bytes; a bad upload fails and is deleted --------------------------


BAD_CONTENT = [
    pytest.param("image", "photo.png", b"just some text, not a picture\n" * 10, 2252, 2251, id="text-named-png-as-image"),
    pytest.param("image", "page.png", HTML, 2252, 2251, id="html-as-image"),
    pytest.param("image", "vector.png", SVG, 2252, 2251, id="svg-as-image"),
    pytest.param("image", "bomb.png", png_header_only(20000, 20000), 2252, 2251, id="400-megapixel-bomb"),
    pytest.param("image", "big.png", png_header_only(8000, 8000), 2252, 2251, id="64-megapixel-over-the-guard"),
    pytest.param("image", "tiff.png", None, 2252, 2251, id="tiff-not-a-chat-format"),
    pytest.param("video", "clip.mp4", png(), 2352, 2350, id="png-as-video"),
    pytest.param("video", "clip.mp4", wav(), 2352, 2350, id="wav-as-video"),
    pytest.param("audio", "voice.wav", b"hello, this is text\n" * 10, 2119, 2300, id="text-as-audio"),
    pytest.param("audio", "voice.mp3", MP4, 2119, 2300, id="mp4-video-as-audio"),
]


def tiff():
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "TIFF")
    return out.getvalue()


@pytest.mark.parametrize("kind, name, data, code, send_code", BAD_CONTENT)
def test_content_that_is_not_its_kind_fails_and_nothing_is_kept(client_of, media_root, alice, kind, name, data, code, send_code):
    data = tiff() if data is None else data
    a = client_of(alice)
    upload_uuid, response = upload_over_http(a, kind, name, data)

    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    failed = Upload.objects.get(uuid=upload_uuid)
    assert failed.status == "failed" and failed.error
    assert stored_files(media_root) == [], "the object and any variant are deleted"
    # It stays failed, and cannot be sent.
    again = complete(a, upload_uuid)
    assert again.status_code == 400 and again.json()["code"] == send_code
    payload = {"videoUUID": upload_uuid} if kind == "video" else {"uuid": upload_uuid}
    msg_type = {"image": "TIMImageElem", "video": "TIMVideoFileElem", "audio": "TIMSoundElem"}[kind]
    assert code_of(send, alice, "bob", msg_type, payload) == send_code
    assert Message.objects.count() == 0
    response, _ = get(a, f"/files/{upload_uuid}/original")
    assert response.status_code == 403


def test_the_pixel_guard_is_on_at_import(settings):
    from PIL import Image as PilImage

    assert PilImage.MAX_IMAGE_PIXELS == 50_000_000


# --- file names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, stored",
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\evil.exe", "evil.exe"),
        ("/absolute/path/notes.txt", "notes.txt"),
        (".htaccess", "htaccess"),
        ("..", "file"),
        ("", "file"),
        (None, "file"),
        ("rep\x00ort\n.txt", "rep_ort_.txt"),
        ("日本語 ファイル.txt", "日本語 ファイル.txt"),
        # A right-to-left override showed "invoice\u202efdp.exe" as "invoiceexe.pdf".
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("\u2067report\u2069\u200f.pdf\u061c", "report.pdf"),
    ],
)
def test_file_names_are_sanitised_and_the_key_stays_inside_media_root(client_of, media_root, tmp_path, alice, bob, name, stored):
    a = client_of(alice)
    response = create(a, "file", name, 5)
    assert response.status_code == 201
    created = response.json()["upload"]
    assert created["name"] == stored
    put(a, created["uuid"], 0, b"hello")
    assert complete(a, created["uuid"]).status_code == 200

    # Every byte landed under MEDIA_ROOT, under the owner's own folder, named by the server.
    assert [p for p in tmp_path.rglob("*") if p.is_file() and media_root not in p.parents] == []
    assert stored_files(media_root) == [f"uploads/{alice.pk}/{created['uuid']}/upload"]

    message = send(alice, "bob", "TIMFileElem", {"uuid": created["uuid"]})
    assert message.payload["fileName"] == stored
    response, body = get(client_of(bob), message.payload["fileUrl"])
    assert body == b"hello"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename=")
    assert "/" not in disposition and "\\" not in disposition and "\n" not in disposition


def test_a_long_file_name_is_cut_to_200_characters_keeping_its_extension(client_of, alice):
    created = create(client_of(alice), "file", "x" * 300 + ".pdf", 5).json()["upload"]
    assert len(created["name"]) <= 200
    assert created["name"].endswith(".pdf")


# --- downloads are never rendered as pages ---------------------------------------------------


@pytest.mark.parametrize("name, data", [("page.html", HTML), ("drawing.svg", SVG), ("page.htm", b"<script>x</script>")])
def test_html_and_svg_files_are_only_ever_downloaded_as_attachments(client_of, media_root, alice, bob, name, data):
    a = client_of(alice)
    upload_uuid, response = upload_over_http(a, "file", name, data)
    assert response.status_code == 200
    assert response.json()["upload"]["contentType"] == "application/octet-stream"
    message = send(alice, "bob", "TIMFileElem", {"uuid": upload_uuid})

    for url in (message.payload["fileUrl"], f"/files/{upload_uuid}/original"):
        for user in (alice, bob):
            response, body = get(client_of(user), url)
            assert response.status_code == 200 and body == data
            assert response["Content-Type"] == "application/octet-stream"
            assert response["Content-Disposition"].startswith(f'attachment; filename="{name}"')
            assert_served_safely(response)


def test_images_audio_and_video_are_inline_unless_download_is_asked(client_of, media_root, alice):
    a = client_of(alice)
    for kind, data, content_type in (("image", png(), "image/png"), ("audio", wav(), "audio/x-wav"), ("video", MP4, "video/mp4")):
        upload_uuid, response = upload_over_http(a, kind, f"x.{kind}", data)
        assert response.status_code == 200, response.content
        response, _ = get(a, f"/files/{upload_uuid}/original")
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith("inline;")
        assert_served_safely(response)
        response, _ = get(a, f"/files/{upload_uuid}/original?download=1")
        assert response["Content-Type"] == content_type
        assert response["Content-Disposition"].startswith("attachment;")


def test_download_of_unknown_uploads_variants_and_unfinished_uploads(client_of, media_root, alice):
    a = client_of(alice)
    image = upload(alice, "image", png())
    assert get(a, f"/files/{image.uuid.hex}/huge")[0].status_code == 404
    assert get(a, f"/files/{image.uuid.hex}/thumb")[0].status_code == 200
    assert get(a, "/files/not-a-uuid/original")[0].status_code == 403
    assert get(a, f"/files/{'0' * 32}/original")[0].status_code == 403
    pending = upload(alice, "file", b"abc", complete=False)
    assert get(a, f"/files/{pending.uuid.hex}/original")[0].status_code == 403
    assert a.post(f"/files/{image.uuid.hex}/original").status_code == 405


def test_group_members_download_from_when_they_may_see_the_message(client_of, media_root, alice, bob, carol, dave):
    make_group(alice, "Public", "g1", members=["bob"])
    image = upload(alice, "image", png())
    message = send(alice, "g1", "TIMImageElem", {"uuid": image.uuid.hex}, conversation_type="GROUP")
    url = message.payload["imageInfoArray"][1]["url"]
    actions.join_group(carol, "g1")  # joins after the message: pre-join history is hidden

    assert get(client_of(bob), url)[0].status_code == 200
    assert get(client_of(carol), url)[0].status_code == 403
    assert get(client_of(dave), url)[0].status_code == 403
    actions.quit_group(bob, "g1")
    assert get(client_of(bob), url)[0].status_code == 403, "an ex-member sees nothing more"


def test_a_targeted_image_is_downloaded_by_its_receivers_only(client_of, media_root, alice, bob, carol):
    make_group(alice, "Public", "g1", members=["bob", "carol"])
    image = upload(alice, "image", png())
    message = send(alice, "g1", "TIMImageElem", {"uuid": image.uuid.hex}, conversation_type="GROUP", receiver_list=["bob"])
    url = message.payload["imageInfoArray"][1]["url"]

    assert get(client_of(bob), url)[0].status_code == 200
    assert get(client_of(carol), url)[0].status_code == 403, "carol may not see the message (Message.visible_to)"


# --- images: upright, without metadata, with variants ----------------------------------------


def open_served(client, url):
    response, body = get(client, url)
    assert response.status_code == 200, url
    image = Image.open(io.BytesIO(body))
    image.load()
    return response, image, body


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_gps_and_exif_are_stripped_from_every_served_image(client_of, media_root, alice, fmt):
    source = Image.open(io.BytesIO(jpeg(80, 40, gps=True)))
    exif = source.getexif()
    out = io.BytesIO()
    source.save(out, fmt, exif=exif)
    data = out.getvalue()
    assert dict(Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)), "the test image carries GPS"

    a = client_of(alice)
    upload_uuid, response = upload_over_http(a, "image", f"photo.{fmt.lower()}", data)
    assert response.status_code == 200, response.content
    for variant in ("original", "large", "thumb"):
        _, image, body = open_served(a, f"/files/{upload_uuid}/{variant}")
        served = image.getexif()
        assert GPS_IFD not in served and dict(served.get_ifd(GPS_IFD)) == {}, variant
        assert 0x010F not in served, f"{variant} keeps the camera maker"
        assert b"PhoneMaker" not in body


def test_an_exif_rotated_photo_is_served_upright_without_exif(client_of, media_root, alice, bob):
    a = client_of(alice)
    data = jpeg(40, 20, orientation=6, gps=True)
    upload_uuid, response = upload_over_http(a, "image", "IMG_0001.JPG", data)
    assert response.status_code == 200, response.content
    image_info = response.json()["upload"]["image"]
    assert image_info["imageFormat"] == 1
    assert [(i["type"], i["width"], i["height"]) for i in image_info["imageInfoArray"]] == [(0, 20, 40), (1, 20, 40), (2, 20, 40)]
    # The object as sent is gone; the server's upright copies are what is stored.
    base = f"uploads/{alice.pk}/{upload_uuid}"
    assert stored_files(media_root) == [f"{base}/large.jpg", f"{base}/original.jpg", f"{base}/thumb.jpg"]

    message = send(alice, "bob", "TIMImageElem", {"uuid": upload_uuid})
    for info in message.payload["imageInfoArray"]:
        response, image, _ = open_served(client_of(bob), info["url"])
        assert response["Content-Type"] == "image/jpeg"
        assert image.size == (20, 40), "width and height swapped: turned upright"
        assert (info["width"], info["height"]) == image.size
        exif = image.getexif()
        assert exif.get(ORIENTATION, 1) == 1
        assert GPS_IFD not in exif and dict(exif.get_ifd(GPS_IFD)) == {}
        # Orientation 6 turns the picture 90° clockwise: the dark left half is now on top.
        assert sum(image.getpixel((10, 5))) < 100 and sum(image.getpixel((10, 35))) > 150


def test_a_large_image_gets_720_and_198_variants_with_their_sizes(client_of, media_root, alice, bob):
    data = png(1000, 500)
    message = send(alice, "bob", "TIMImageElem", {"uuid": upload(alice, "image", data, "wide.png").uuid.hex})
    payload = message.payload
    assert payload["imageFormat"] == 3
    expected = {0: (1000, 500), 1: (198, 99), 2: (720, 360)}
    for info in payload["imageInfoArray"]:
        response, image, body = open_served(client_of(bob), info["url"])
        assert image.size == expected[info["type"]] == (info["width"], info["height"])
        assert info["size"] == len(body)


def test_an_animated_gif_stays_animated_and_has_still_variants(client_of, media_root, alice, bob):
    data = animated_gif(frames=3)
    upload_uuid, response = upload_over_http(client_of(alice), "image", "party.gif", data)
    assert response.status_code == 200, response.content
    message = send(alice, "bob", "TIMImageElem", {"uuid": upload_uuid})
    assert message.payload["imageFormat"] == 2

    original, thumb, large = (info for info in message.payload["imageInfoArray"])
    response, image, body = open_served(client_of(bob), original["url"])
    assert response["Content-Type"] == "image/gif"
    assert body == data, "the original GIF is served as sent"
    assert image.is_animated and image.n_frames == 3
    for info in (thumb, large):
        response, image, _ = open_served(client_of(bob), info["url"])
        assert response["Content-Type"] in ("image/png", "image/jpeg")
        assert image.size == (40, 30)


# --- audio, video, file --------------------------------------------------------------------


def test_audio_and_video_are_accepted_by_content_and_sent(client_of, media_root, alice, bob):
    a = client_of(alice)
    audio_uuid, response = upload_over_http(a, "audio", "voice.bin", wav())
    assert response.status_code == 200 and response.json()["upload"]["contentType"] == "audio/x-wav"
    video_uuid, response = upload_over_http(a, "video", "clip.bin", MP4)
    assert response.status_code == 200 and response.json()["upload"]["contentType"] == "video/mp4"
    snapshot_uuid, response = upload_over_http(a, "image", "snap.jpg", jpeg(1280, 720))
    assert response.status_code == 200

    sound = send(alice, "bob", "TIMSoundElem", {"uuid": audio_uuid, "second": 2})
    assert sound.payload == {
        "uuid": audio_uuid,
        "url": f"/files/{audio_uuid}/original",
        "size": len(wav()),
        "second": 2,
        "downloadFlag": 2,
    }
    video = send(alice, "bob", "TIMVideoFileElem", {"videoUUID": video_uuid, "videoSecond": 7, "snapshotUUID": snapshot_uuid})
    assert video.payload == {
        "videoUUID": video_uuid,
        "videoUrl": f"/files/{video_uuid}/original",
        "videoSize": len(MP4),
        "videoSecond": 7,
        "videoFormat": "mp4",
        "snapshotUUID": snapshot_uuid,
        "snapshotUrl": f"/files/{snapshot_uuid}/large",
        "snapshotWidth": 720,
        "snapshotHeight": 405,
    }
    b = client_of(bob)
    for url, content in ((sound.payload["url"], wav()), (video.payload["videoUrl"], MP4)):
        response, body = get(b, url)
        assert response.status_code == 200 and body == content
    response, image, _ = open_served(b, video.payload["snapshotUrl"])
    assert image.size == (720, 405)


# --- sending an upload that is not yours, not there or not finished ------------------------------


@pytest.mark.parametrize(
    "kind, msg_type, field, pending_code",
    [
        ("image", "TIMImageElem", "uuid", 2251),
        ("audio", "TIMSoundElem", "uuid", 2300),
        ("video", "TIMVideoFileElem", "videoUUID", 2350),
        ("file", "TIMFileElem", "uuid", 2400),
    ],
)
def test_send_refuses_unknown_foreign_and_unfinished_uploads(media_root, alice, bob, kind, msg_type, field, pending_code):
    data = {"image": png(), "audio": wav(), "video": MP4, "file": b"abc"}[kind]
    pending = upload(alice, kind, data, complete=False)
    bobs = upload(bob, kind, data)
    other_kind = upload(alice, "file" if kind != "file" else "audio", wav())

    cases = [
        ({field: "0" * 32}, 2403),
        ({field: "not-a-uuid"}, 2403),
        ({}, 2403),
        ({field: bobs.uuid.hex}, 2403),
        ({field: other_kind.uuid.hex}, 2403),
        ({field: pending.uuid.hex}, pending_code),
    ]
    for payload, code in cases:
        assert code_of(send, alice, "bob", msg_type, payload) == code, payload
    assert Message.objects.count() == 0
    assert Upload.objects.get(pk=pending.pk).status == "pending"
    # Once complete, the same upload is sent.
    uploads.complete_upload(alice, pending.uuid.hex)
    assert send(alice, "bob", msg_type, {field: pending.uuid.hex}).type == msg_type


# --- two writers of one upload ------------------------------------------------------------------


def test_a_chunk_written_while_another_is_being_written_is_409_and_the_upload_resumes(client_of, alice):
    """Two PUTs at the same offset used to append both, then one renamed the part file from
    under the other: 500 FileNotFoundError. Now the second is told 409 and resumes."""
    import threading

    from messaging import storage

    a = client_of(alice)
    data = b"x" * 300
    upload_uuid = create(a, "file", "notes.txt", len(data)).json()["upload"]["uuid"]
    key = Upload.objects.get(uuid=upload_uuid).key
    started, release = threading.Event(), threading.Event()

    class SlowStream:
        """The first writer's body: half the bytes, then it waits."""

        def __init__(self):
            self.parts = [data[:150]]

        def read(self, size):
            if self.parts:
                return self.parts.pop()
            started.set()
            release.wait(5)
            return b""

    first = threading.Thread(target=storage.write_chunk, args=(key, 0, SlowStream(), len(data)))
    first.start()
    assert started.wait(5)
    busy = put(a, upload_uuid, 0, data)
    release.set()
    first.join(5)

    assert busy.status_code == 409, busy.content
    assert busy.json()["code"] == 10004 and "resume" in busy.json()["message"]
    resumed = put(a, upload_uuid, 150, data[150:])
    assert resumed.status_code == 200 and resumed.json() == {"received": 300}
    assert complete(a, upload_uuid).json()["upload"]["size"] == 300


# --- quota and abandoned uploads ----------------------------------------------------------------


def test_unfinished_uploads_per_user_are_bounded_429(settings, client_of, alice, bob):
    """50 pending 100 MiB uploads were accepted in 0.5 s; now a user holds at most
    MAX_PENDING_UPLOADS unfinished uploads and MAX_PENDING_UPLOAD_BYTES declared bytes."""
    settings.CHAT = {"MAX_PENDING_UPLOADS": 3, "MAX_PENDING_UPLOAD_BYTES": 1000}
    a, b = client_of(alice), client_of(bob)
    made = [create(a, "file", f"f{i}.bin", 100).json()["upload"]["uuid"] for i in range(3)]

    refused = create(a, "file", "f3.bin", 100)
    assert refused.status_code == 429 and refused.json()["code"] == 10006
    assert create(b, "file", "other.bin", 100).status_code == 201  # another user's count is their own
    # Finishing one makes room again.
    assert put(a, made[0], 0, bytes(100)).json() == {"received": 100}
    assert complete(a, made[0]).status_code == 200
    assert create(a, "file", "f3.bin", 100).status_code == 201
    # The declared bytes count too.
    settings.CHAT = {"MAX_PENDING_UPLOADS": 10, "MAX_PENDING_UPLOAD_BYTES": 1000}
    assert create(a, "file", "big.bin", 800).status_code == 429


def test_starting_uploads_too_fast_is_429_10006_per_user_and_per_address(settings, client_of, alice, bob, carol):
    """Besides the pending quota, upload creations have a rate (messaging/ratelimit.py):
    UPLOAD_BURST_PER_USER at once, then UPLOAD_RATE_PER_USER a second; the same per address.
    A refused creation makes no upload."""
    from messaging.models import Upload

    settings.CHAT = {"UPLOAD_BURST_PER_USER": 2, "UPLOAD_RATE_PER_USER": 0.01, "MAX_PENDING_UPLOADS": 100}
    a = client_of(alice)
    assert [create(a, "file", f"f{i}.bin", 10).status_code for i in range(2)] == [201, 201]
    refused = create(a, "file", "f2.bin", 10)
    assert refused.status_code == 429
    assert refused.json() == {
        "code": 10006,
        "message": "you are starting uploads too fast: at most 2 at once, then 0.01 a second",
    }
    assert Upload.objects.filter(owner=alice).count() == 2
    assert create(client_of(bob), "file", "b.bin", 10).status_code == 201  # bob's own budget

    settings.CHAT = {"UPLOAD_BURST_PER_ADDRESS": 2, "UPLOAD_RATE_PER_ADDRESS": 0.01}
    same_address = [client_of(user) for user in (bob, carol)]
    for client in same_address:
        client.defaults["REMOTE_ADDR"] = "203.0.113.7"
    assert create(same_address[0], "file", "b1.bin", 10).status_code == 201
    assert create(same_address[1], "file", "c1.bin", 10).status_code == 201
    assert create(same_address[1], "file", "c2.bin", 10).json()["code"] == 10006
    assert create(client_of(carol), "file", "c3.bin", 10).status_code == 201  # from loopback: no address budget


def test_a_storage_quota_refuses_files_past_it(settings, client_of, alice):
    settings.CHAT = {"USER_STORAGE_QUOTA": 250}
    a = client_of(alice)
    first = create(a, "file", "a.bin", 200).json()["upload"]["uuid"]
    put(a, first, 0, bytes(200))
    complete(a, first)

    refused = create(a, "file", "b.bin", 100)
    assert refused.status_code == 413 and refused.json()["code"] == 2400
    assert create(a, "file", "c.bin", 50).status_code == 201


def test_purge_uploads_removes_abandoned_unfinished_uploads_and_their_bytes(client_of, media_root, alice):
    import time

    from django.core.management import call_command

    a = client_of(alice)
    old = create(a, "file", "old.bin", 100).json()["upload"]["uuid"]
    put(a, old, 0, bytes(40))  # a part file on disk
    done = create(a, "file", "done.bin", 10).json()["upload"]["uuid"]
    put(a, done, 0, bytes(10))
    complete(a, done)
    time.sleep(1.2)
    assert create(a, "file", "fresh.bin", 100).status_code == 201
    assert any(path.name.endswith(".part") for path in media_root.rglob("*"))

    out = io.StringIO()
    call_command("purge_uploads", "--older-than", "1", stdout=out)

    assert "removed 1 unfinished upload" in out.getvalue()
    assert set(Upload.objects.values_list("name", flat=True)) == {"fresh.bin", "done.bin"}
    assert not any(path.name.endswith(".part") for path in media_root.rglob("*"))
