"""The S3-protocol server on loopback answers: buckets, objects, signed URLs.

A minimal check of the service that uploads will use (CHAT_TEST_S3_ENDPOINT; .ci/run
starts moto's server). Uploads themselves are tested with their own issue. Each
test makes a bucket with a unique name and deletes it.
"""

import boto3
import pytest
from botocore.config import Config
from django.core.files.base import ContentFile
from storages.backends.s3 import S3Storage

from tests.integration.conftest import unique_name
from tests.servers import DIRECT

pytestmark = pytest.mark.integration

CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture
def bucket(s3_endpoint):
    """A new bucket on the server; emptied and deleted afterwards."""
    client = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        config=Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2}),
        **CREDENTIALS,
    )
    name = unique_name("chat-it").replace("_", "-")
    client.create_bucket(Bucket=name)
    yield client, name
    for item in client.list_objects_v2(Bucket=name).get("Contents", []):
        client.delete_object(Bucket=name, Key=item["Key"])
    client.delete_bucket(Bucket=name)


def test_bucket_put_and_get(bucket):
    client, name = bucket
    assert name in {b["Name"] for b in client.list_buckets()["Buckets"]}
    body = "héllo, object storage".encode()
    client.put_object(Bucket=name, Key="greetings/hello.txt", Body=body, ContentType="text/plain; charset=utf-8")
    stored = client.get_object(Bucket=name, Key="greetings/hello.txt")
    assert stored["Body"].read() == body
    assert stored["ContentType"] == "text/plain; charset=utf-8"


def test_storage_backend_saves_and_signs(bucket, s3_endpoint):
    """django-storages' S3Storage, configured as settings.py does for CHAT_S3_*, works against the server."""
    _, name = bucket
    storage = S3Storage(
        bucket_name=name,
        endpoint_url=s3_endpoint,
        access_key=CREDENTIALS["aws_access_key_id"],
        secret_key=CREDENTIALS["aws_secret_access_key"],
        region_name=CREDENTIALS["region_name"],
        querystring_auth=True,
        querystring_expire=300,
        file_overwrite=False,
        default_acl=None,
    )
    first = storage.save("uploads/note.txt", ContentFile(b"first"))
    second = storage.save("uploads/note.txt", ContentFile(b"second"))
    assert first == "uploads/note.txt" and second != first, "file_overwrite=False must keep both files"
    with storage.open(second) as stored:
        assert stored.read() == b"second"

    # The short-lived signed URL the download view redirects to serves the bytes.
    url = storage.url(first)
    assert url.startswith(s3_endpoint) and "Signature" in url
    with DIRECT.open(url, timeout=10) as response:
        assert response.read() == b"first"
