"""The file store behind uploads: django-storages S3 in production, the local
filesystem by default. Everything that depends on which one is in use is here.

S3: the browser uploads straight to the bucket with a presigned POST whose policy
fixes the object key and its exact size; downloads redirect to a short-lived
signed URL whose response headers (type, disposition) are part of the signature.
Filesystem: the browser PUTs the bytes to the app's upload view in chunks of at
most ``UPLOAD_CHUNK_BYTES`` (Daphne queues a whole request body in memory, so a
100 MB file is never one request), which are streamed to disk; downloads are streamed by the app.

Everything goes through Django's Storage API (``save``, ``size``, ``open``,
``delete``, ``url``), which both backends implement, except two S3 calls that
django-storages has no public API for (django-storages 1.14):

- the presigned POST for the browser's upload: django-storages signs downloads
  only, so the POST is boto3's ``generate_presigned_post`` on the storage's own
  client (``S3Storage.connection``);
- reading the first bytes of an object (``read_head``): ``S3Storage.open(key).read(n)``
  downloads the whole object into a temporary file first (``S3File._get_file``
  calls ``download_fileobj``; measured against moto: ``read(8192)`` of a 50 MB object
  transferred 52,428,800 bytes, the ranged GET 8,192). So the sniffer's 8 KB is a
  ranged GET on the opened file's boto3 object (``S3File.obj``), the workaround
  django-storages' issues #163 and #383 give; the file is still opened through the
  Storage API, so the storage's ``location`` and its errors apply.

Filesystem: the chunks are appended at an offset in ``Storage.path(key)``: a
Storage can only save whole files, and an upload of 100 MB must never be one.
"""

import fcntl
import os
from urllib.parse import quote

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from messaging import conf

COPY_CHUNK = 1024 * 1024


def is_s3() -> bool:
    return hasattr(default_storage, "bucket_name")


def upload_target(key: str, size: int, upload_url: str) -> dict:
    """Where and how the browser sends the bytes of a new upload."""
    if is_s3():
        # Not in django-storages' API (see the module docstring): boto3 on the storage's client.
        post = default_storage.connection.meta.client.generate_presigned_post(
            Bucket=default_storage.bucket_name,
            Key=key,
            Conditions=[["content-length-range", size, size]],
            ExpiresIn=conf.get("UPLOAD_URL_EXPIRY"),
        )
        return {"method": "POST", "url": post["url"], "fields": post["fields"]}
    return {"method": "PUT", "url": upload_url, "fields": {}}


def write_chunk(key: str, offset: int, stream, total: int) -> int:
    """Filesystem only: append one chunk of an upload, streamed (never all in memory).

    The bytes go to ``<key>.part`` at ``offset``, which must be the size received so
    far (else nothing is written and the current size is returned, so the client
    can resume from there). When ``total`` bytes have arrived the part file becomes
    the object. Returns the size received so far, or -1 when the chunk would pass
    ``total`` (the partial upload is then discarded).
    """
    path = default_storage.path(key)
    partial = path + ".part"
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.exists(partial) and os.path.exists(path):
        return os.path.getsize(path)  # every byte has arrived: nothing more is written
    try:
        out = open(partial, "ab")  # noqa: SIM115 (closed below, after the lock)
    except FileNotFoundError:  # the folder went away: nothing of this upload is kept
        return 0
    with out:
        # One writer per upload, across threads and processes: a second request for the
        # same upload while a chunk is being written is told so (ChunkBusy), instead of
        # both appending, or one renaming the part file from under the other.
        try:
            fcntl.flock(out, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ChunkBusy(key) from None
        received = os.fstat(out.fileno()).st_size
        if received == 0 and os.path.exists(path):
            # Completed (renamed to the object) by the writer before us: opening made an
            # empty part file again, which is not kept.
            os.unlink(partial)
            return os.path.getsize(path)
        if offset != received:
            return received
        start = received
        try:
            while chunk := stream.read(COPY_CHUNK):
                received += len(chunk)
                if received > total:
                    break
                out.write(chunk)
        except ChunkTooLarge:
            out.truncate(start)  # none of this request's bytes are kept
            raise
        out.flush()
        if received > total:
            os.unlink(partial)
            return -1
        if received == total:
            os.replace(partial, path)
    return received


class ChunkBusy(Exception):
    """Another request is writing a chunk of the same upload right now."""


class ChunkTooLarge(Exception):
    """The request's body is longer than a chunk may be (raised by the body's reader)."""


class BoundedBody:
    """A request body read at most ``limit`` bytes far: past it, ChunkTooLarge. A chunk's
    length is checked as it streams in, also when no Content-Length announced it
    (``Transfer-Encoding: chunked``)."""

    def __init__(self, stream, limit):
        self.stream, self.left = stream, limit

    def read(self, size=-1):
        data = self.stream.read(self.left + 1 if size is None or size < 0 else min(size, self.left + 1))
        self.left -= len(data)
        if self.left < 0:
            raise ChunkTooLarge
        return data


def size(key: str) -> int | None:
    """The stored object's size, or None when nothing is stored under ``key``."""
    try:
        return default_storage.size(key)
    except FileNotFoundError:  # both backends raise it for a missing object
        return None


def read_head(key: str, length: int) -> bytes:
    """The first ``length`` bytes of the object, without reading the rest."""
    with default_storage.open(key, "rb") as handle:
        if is_s3():
            # A ranged GET: S3File.read(n) would download the whole object first (module docstring).
            return handle.obj.get(Range=f"bytes=0-{length - 1}")["Body"].read()
        return handle.read(length)


def read_all(key: str) -> bytes:
    with default_storage.open(key, "rb") as handle:
        return handle.read()


def save(key: str, data: bytes, content_type: str) -> str:
    """Store ``data`` under exactly ``key``, replacing what was there, as ``content_type``.

    Deleted first: the filesystem storage, and S3 with ``file_overwrite=False``
    (settings.py), would otherwise save under another name. S3Storage takes the
    object's Content-Type from the content's ``content_type``.
    """
    default_storage.delete(key)
    content = ContentFile(data)
    content.content_type = content_type
    saved = default_storage.save(key, content)
    if saved != key:
        raise RuntimeError(f"the storage saved {key!r} as {saved!r}")
    return key


def discard(key: str):
    """An upload's stored bytes, finished or not (the object, and a filesystem part file)."""
    delete(key)
    if not is_s3():
        try:
            os.unlink(default_storage.path(key) + ".part")
        except FileNotFoundError:
            pass


def delete(key: str):
    try:
        default_storage.delete(key)
    except Exception:  # a missing object is already gone
        pass


def content_disposition(filename: str, *, inline: bool) -> str:
    kind = "inline" if inline else "attachment"
    ascii_name = filename.encode("ascii", "replace").decode().replace('"', "").replace("?", "_")
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


def signed_url(key: str, *, filename: str, content_type: str, inline: bool) -> str:
    """S3 only: a short-lived URL that serves the object with our type and disposition."""
    return default_storage.url(
        key,
        parameters={
            "ResponseContentType": content_type,
            "ResponseContentDisposition": content_disposition(filename, inline=inline),
        },
        expire=conf.get("DOWNLOAD_URL_EXPIRY"),
    )


def open_file(key: str):
    return default_storage.open(key, "rb")


# --- this site's own URLs (avatars must be served from here) ----------------------------

AVATAR_PREFIX = "avatars/"
# (a percent sign too: "%2e%2e" is a ".." segment to the browser that fetches the URL)
_UNSAFE_IN_URL = set("\\<>\"'` %")


def own_url_prefixes() -> list[str]:
    """Where this site's own images are: its site-relative MEDIA_URL and STATIC_URL
    paths, and with S3 the storage's own base URL."""
    prefixes = [base for base in (settings.MEDIA_URL, settings.STATIC_URL) if base.startswith("/") and not base.startswith("//")]
    if is_s3():
        prefixes.append(s3_base_url())
    return prefixes


def s3_base_url() -> str:
    """The S3 storage's own base: its custom domain, else its endpoint and bucket."""
    location = f"{default_storage.location.strip('/')}/" if default_storage.location else ""
    if default_storage.custom_domain:
        return f"https://{default_storage.custom_domain.strip('/')}/{location}"
    endpoint = (default_storage.endpoint_url or "https://s3.amazonaws.com").rstrip("/")
    return f"{endpoint}/{default_storage.bucket_name}/{location}"


def is_own_url(url: str) -> bool:
    """Whether ``url`` names a file of this site: under one of ``own_url_prefixes``, in
    printable ASCII, without a ``..`` segment, a backslash or a quote."""
    if not isinstance(url, str) or not url.isascii() or not url.isprintable() or _UNSAFE_IN_URL & set(url):
        return False
    if "/../" in url or url.endswith("/..") or "/./" in url:
        return False
    return any(url.startswith(prefix) for prefix in own_url_prefixes())


def avatar_url(key: str) -> str:
    """The site-relative URL an avatar stored under ``key`` is served at (views.avatar)."""
    return settings.MEDIA_URL + key
