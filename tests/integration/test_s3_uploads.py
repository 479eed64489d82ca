"""Uploads and downloads with django-storages' S3Storage against a real S3-protocol server.

The server is the one CI starts (CHAT_TEST_S3_ENDPOINT, see .ci/run); without it this
module starts moto's server itself on a free loopback port, and skips (fails in CI)
when it cannot. Each test makes its own bucket and switches Django's default storage
to it through the ``settings`` fixture, as CHAT_S3_* does in chatsite/settings.py.

The browser's path: POST /api/uploads/ → a presigned POST straight to the bucket →
POST .../complete (the server reads the object back, checks it, makes the variants)
→ GET /files/<uuid>/<variant> redirects members to a short-lived signed URL.
"""

import base64
import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.config import Config
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from messaging import actions, storage
from messaging.actions.message_types import downloaded_merger_list
from messaging.errors import ChatError
from messaging.models import Message, Upload
from tests.chat_helpers import fast_passwords  # noqa: F401
from tests.conftest import need_service
from tests.integration.conftest import unique_name
from tests.media_helpers import GPS_IFD, HTML, jpeg
from tests.servers import ServerDidNotStart, serve

pytestmark = [pytest.mark.integration, pytest.mark.django_db]

CREDENTIALS = {"access_key": "testing", "secret_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_url(request, tmp_path_factory):
    """CI's server when CHAT_TEST_S3_ENDPOINT is set; otherwise a moto server of our own."""
    if os.environ.get("CHAT_TEST_S3_ENDPOINT"):
        yield request.getfixturevalue("s3_endpoint")
        return
    moto_server = Path(sys.executable).with_name("moto_server")
    if not moto_server.exists():
        need_service("S3 server", f"CHAT_TEST_S3_ENDPOINT is not set and {moto_server} is missing")
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(
                serve(
                    "moto",
                    lambda port: [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
                    log_dir=tmp_path_factory.mktemp("moto"),
                )
            )
        except ServerDidNotStart as error:
            need_service("S3 server", str(error))
        yield server.origin


@pytest.fixture
def bucket(s3_url, settings):
    """A new bucket, made Django's default storage for the test; emptied and deleted after."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_url,
        aws_access_key_id=CREDENTIALS["access_key"],
        aws_secret_access_key=CREDENTIALS["secret_key"],
        region_name=CREDENTIALS["region_name"],
        config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}),
    )
    name = unique_name("chat-up").replace("_", "-")
    client.create_bucket(Bucket=name)
    settings.STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": name,
                "endpoint_url": s3_url,
                **CREDENTIALS,
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": False,
                "default_acl": None,
            },
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    assert storage.is_s3() and default_storage.bucket_name == name, "the settings fixture switched the default storage"
    yield client, name
    for item in client.list_objects_v2(Bucket=name).get("Contents", []):
        client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


@pytest.fixture
def http():
    """Straight to the loopback server, whatever proxy the environment names."""
    with requests.Session() as session:
        session.trust_env = False
        yield session


def logged_in(user=None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def create(client, kind, name, size):
    response = client.post(
        "/api/uploads/", json.dumps({"kind": kind, "name": name, "size": size}), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    return response.json()


def post_to_bucket(http, target, name, data):
    """The browser's multipart form: the presigned fields, then the file."""
    return http.post(target["url"], data=target["fields"], files={"file": (name, data)}, timeout=10)


def objects(client, name, prefix=""):
    return sorted(item["Key"] for item in client.list_objects_v2(Bucket=name, Prefix=prefix).get("Contents", []))


def policy_of(target):
    return json.loads(base64.b64decode(target["fields"]["policy"]))


def test_image_upload_by_presigned_post_then_signed_download_for_members(bucket, http, s3_url, alice, bob, carol):
    client, name = bucket
    data = jpeg(40, 20, orientation=6, gps=True)
    a = logged_in(alice)

    created = create(a, "image", "IMG_0001.JPG", len(data))
    upload_uuid, target = created["upload"]["uuid"], created["target"]
    key = f"uploads/{alice.pk}/{upload_uuid}/upload"
    assert target["method"] == "POST"
    assert target["url"].startswith(s3_url) and name in target["url"]
    assert target["fields"]["key"] == key
    conditions = policy_of(target)["conditions"]
    assert ["content-length-range", len(data), len(data)] in conditions, "the policy fixes the exact size"
    assert {"bucket": name} in conditions and {"key": key} in conditions
    # The filesystem chunk endpoint is not for S3.
    response = a.put(f"/api/uploads/{upload_uuid}/data?offset=0", data=data, content_type="application/octet-stream")
    assert response.status_code == 400 and response.json()["code"] == 10004
    assert objects(client, name) == []
    early = a.post(f"/api/uploads/{upload_uuid}/complete")
    assert early.status_code == 400 and early.json()["code"] == 2251, "nothing in the bucket yet"

    posted = post_to_bucket(http, target, "IMG_0001.JPG", data)
    assert posted.status_code in (200, 201, 204), posted.text
    assert objects(client, name) == [key]

    done = a.post(f"/api/uploads/{upload_uuid}/complete")
    assert done.status_code == 200, done.content
    info = done.json()["upload"]["image"]["imageInfoArray"]
    assert [(i["type"], i["width"], i["height"]) for i in info] == [(0, 20, 40), (1, 20, 40), (2, 20, 40)]
    prefix = f"uploads/{alice.pk}/{upload_uuid}/"
    assert objects(client, name, prefix) == [prefix + "large.jpg", prefix + "original.jpg", prefix + "thumb.jpg"]
    thumb = client.head_object(Bucket=name, Key=prefix + "thumb.jpg")
    assert thumb["ContentType"] == "image/jpeg"

    message = actions.send_message(
        alice, conversation_type="C2C", to="bob", msg_type="TIMImageElem", payload={"uuid": upload_uuid}
    ).message
    b = logged_in(bob)
    for item in message.payload["imageInfoArray"]:
        response = b.get(item["url"])
        assert response.status_code == 302
        assert response["X-Content-Type-Options"] == "nosniff"
        location = response["Location"]
        assert location.startswith(s3_url)
        query = parse_qs(urlsplit(location).query)
        assert "X-Amz-Signature" in query or "Signature" in query
        if "X-Amz-Expires" in query:
            assert int(query["X-Amz-Expires"][0]) <= 300
        else:
            assert int(query["Expires"][0]) <= time.time() + 305
        served = http.get(location, timeout=10)
        assert served.status_code == 200
        assert served.headers["Content-Type"] == "image/jpeg"
        assert served.headers["Content-Disposition"].startswith("inline;")
        image = Image.open(io.BytesIO(served.content))
        assert image.size == (20, 40), "served upright"
        exif = image.getexif()
        assert GPS_IFD not in exif and dict(exif.get_ifd(GPS_IFD)) == {}, "no GPS in what is served"
        assert b"PhoneMaker" not in served.content
    original = b.get(message.payload["imageInfoArray"][0]["url"])
    assert 'filename="IMG_0001.JPG"' in http.get(original["Location"], timeout=10).headers["Content-Disposition"]

    assert logged_in(carol).get(message.payload["imageInfoArray"][0]["url"]).status_code == 403
    anonymous = logged_in().get(message.payload["imageInfoArray"][0]["url"])
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_more_bytes_than_declared_never_become_a_ready_upload(bucket, http, alice):
    """The policy says exactly ``size`` bytes. AWS refuses a larger POST (EntityTooLarge);
    moto does not check policies, so the server's own check at complete must catch it."""
    client, name = bucket
    a = logged_in(alice)
    created = create(a, "file", "notes.txt", 100)
    upload_uuid, target = created["upload"]["uuid"], created["target"]
    assert ["content-length-range", 100, 100] in policy_of(target)["conditions"]

    posted = post_to_bucket(http, target, "notes.txt", b"x" * 150)
    response = a.post(f"/api/uploads/{upload_uuid}/complete")
    if posted.status_code >= 400:
        assert "EntityTooLarge" in posted.text
        assert response.status_code == 400 and response.json()["code"] == 2400
    else:
        assert response.status_code == 413 and response.json()["code"] == 2402
        assert Upload.objects.get(uuid=upload_uuid).status == "failed"
    assert objects(client, name) == [], "nothing too large stays in the bucket"
    with pytest.raises(ChatError) as info:
        actions.send_message(alice, conversation_type="C2C", to="bob", msg_type="TIMFileElem", payload={"uuid": upload_uuid})
    assert info.value.code == 2400
    assert Message.objects.count() == 0


def test_content_checked_from_the_bucket_and_a_bad_object_deleted(bucket, http, alice):
    client, name = bucket
    a = logged_in(alice)
    data = b"this is text, not a picture\n" * 5
    created = create(a, "image", "photo.png", len(data))
    assert post_to_bucket(http, created["target"], "photo.png", data).status_code in (200, 201, 204)
    assert objects(client, name)

    response = a.post(f"/api/uploads/{created['upload']['uuid']}/complete")
    assert response.status_code == 400 and response.json()["code"] == 2252
    assert Upload.objects.get(uuid=created["upload"]["uuid"]).status == "failed"
    assert objects(client, name) == []


def test_html_from_the_bucket_is_an_attachment_never_a_page(bucket, http, alice, bob):
    a = logged_in(alice)
    created = create(a, "file", "page.html", len(HTML))
    assert post_to_bucket(http, created["target"], "page.html", HTML).status_code in (200, 201, 204)
    done = a.post(f"/api/uploads/{created['upload']['uuid']}/complete")
    assert done.status_code == 200 and done.json()["upload"]["contentType"] == "application/octet-stream"
    message = actions.send_message(
        alice, conversation_type="C2C", to="bob", msg_type="TIMFileElem", payload={"uuid": created["upload"]["uuid"]}
    ).message

    for url in (message.payload["fileUrl"], f"/files/{created['upload']['uuid']}/original"):
        response = logged_in(bob).get(url)
        assert response.status_code == 302
        served = http.get(response["Location"], timeout=10)
        assert served.status_code == 200 and served.content == HTML
        assert served.headers["Content-Type"] == "application/octet-stream"
        assert served.headers["Content-Disposition"].startswith('attachment; filename="page.html"')


def test_a_large_merger_is_stored_in_the_bucket_and_downloaded(bucket, alice, bob, carol):
    client, name = bucket
    texts = [
        actions.send_message(
            alice, conversation_type="C2C", to="bob", msg_type="TIMTextElem", payload={"text": f"{i}" + "x" * 2000}
        ).message
        for i in range(5)
    ]
    refs = [{"ID": m.msg_id, "conversationID": "C2Cbob"} for m in texts]
    merged = actions.send_message(
        alice, conversation_type="C2C", to="carol", msg_type="TIMRelayElem", payload={"compatibleText": "c", "messageList": refs}
    ).message
    stored = Upload.objects.get(uuid=merged.payload["downloadKey"])
    assert objects(client, name) == [stored.key]
    assert [m["ID"] for m in downloaded_merger_list(merged)] == [m.msg_id for m in texts]


def test_storage_reads_only_the_head_and_saves_under_the_exact_key(bucket):
    """``storage.read_head`` is a ranged GET (S3Storage.open().read(n) would fetch the
    whole object); ``storage.save`` replaces the object at its key, with its type,
    though the storage is configured with ``file_overwrite=False``."""
    client, name = bucket
    big = bytes(range(256)) * (6 * 4096)  # 6 MB
    client.put_object(Bucket=name, Key="uploads/big.bin", Body=big)
    transferred = []

    def count(http_response, **_):
        transferred.append(int(http_response.headers.get("content-length") or 0))

    events = default_storage.connection.meta.client.meta.events
    events.register("after-call.s3.GetObject", count, unique_id="count-get-bytes")
    try:
        assert storage.read_head("uploads/big.bin", 8192) == big[:8192]
    finally:
        events.unregister("after-call.s3.GetObject", unique_id="count-get-bytes")
    assert sum(transferred) == 8192, transferred
    assert storage.size("uploads/big.bin") == len(big)
    assert storage.size("uploads/nothing.bin") is None

    assert storage.save("uploads/x/thumb.jpg", b"first", "image/jpeg") == "uploads/x/thumb.jpg"
    assert storage.save("uploads/x/thumb.jpg", b"second", "image/jpeg") == "uploads/x/thumb.jpg"
    assert objects(client, name, "uploads/x/") == ["uploads/x/thumb.jpg"]
    stored = client.get_object(Bucket=name, Key="uploads/x/thumb.jpg")
    assert (stored["Body"].read(), stored["ContentType"]) == (b"second", "image/jpeg")
