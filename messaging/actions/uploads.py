"""Uploads: create (reserve a key and say where to send the bytes), receive the bytes
(filesystem only), and complete (check what arrived, make image variants).

Nothing is trusted from the client but the kind it asks for: the size is the
stored object's, the type is read from the bytes. A failed check marks the upload
``failed`` and deletes the stored object.
"""

import os
import uuid as uuid_lib
from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone
from pathvalidate import sanitize_filename

from messaging import conf, media, rules, runtime, storage
from messaging.access import access_own_upload
from messaging.errors import ChatError, ErrorCode
from messaging.models import Upload, User

Kind = Upload.Kind

# kind -> (limit setting, code when over it, code when the upload failed)
LIMITS = {
    Kind.IMAGE: ("MAX_IMAGE_BYTES", ErrorCode.IMAGE_TOO_LARGE, ErrorCode.IMAGE_NOT_SELECTED),
    Kind.AUDIO: ("MAX_AUDIO_BYTES", ErrorCode.AUDIO_TOO_LARGE, ErrorCode.AUDIO_UPLOAD_FAILED),
    Kind.VIDEO: ("MAX_VIDEO_BYTES", ErrorCode.VIDEO_TOO_LARGE, ErrorCode.VIDEO_UPLOAD_FAILED),
    Kind.FILE: ("MAX_FILE_BYTES", ErrorCode.FILE_TOO_LARGE, ErrorCode.FILE_UPLOAD_FAILED),
}


def limit_of(kind) -> int:
    return runtime.get(LIMITS[kind][0])


def clean_filename(name) -> str:
    """The base name only (no folders, no control characters, no bidirectional controls
    that would show another extension), at most 200 UTF-8 bytes.

    The stem is cut before sanitising: pathvalidate cuts a name over 255 bytes
    from the end, which would drop its extension.
    """
    if not isinstance(name, str):
        name = ""
    name = rules.without_bidi_controls(name)
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    stem, ext = os.path.splitext(base)
    ext = ext[:20]
    stem = stem.encode()[: 200 - len(ext.encode())].decode(errors="ignore")
    cleaned = sanitize_filename(stem + ext, replacement_text="_").strip().lstrip(".")
    return cleaned or "file"


def create_upload(owner: User, *, kind, name, size) -> Upload:
    if kind not in LIMITS:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "kind must be image, audio, video or file")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "size must be the file's size in bytes")
    if size == 0:
        raise ChatError(ErrorCode.EMPTY_FILE, "the file is empty")
    if size > limit_of(kind):
        raise ChatError(LIMITS[kind][1], f"the {kind} is larger than {limit_of(kind) // (1024 * 1024)} MB")
    upload_uuid = uuid_lib.uuid4()
    with transaction.atomic():
        # The user's row lock orders their concurrent creates: the quota is checked against
        # every upload committed before (50 parallel requests cannot all pass one count).
        User.objects.select_for_update().filter(pk=owner.pk).values_list("pk", flat=True).first()
        _check_quota(owner, size)
        return Upload.objects.create(
            uuid=upload_uuid,
            owner=owner,
            kind=kind,
            name=clean_filename(name),
            declared_size=size,
            key=f"uploads/{owner.pk}/{upload_uuid.hex}/upload",
        )


class OverQuota(ChatError):
    """Too many unfinished uploads, or the user's storage is full: HTTP 429 / 413."""

    def __init__(self, code, message, http_status):
        super().__init__(code, message)
        self.http_status = http_status


def _check_quota(owner: User, size: int):
    """The user's unfinished uploads (count, declared bytes) and kept bytes, against
    MAX_PENDING_UPLOADS, MAX_PENDING_UPLOAD_BYTES and USER_STORAGE_QUOTA. One query."""
    totals = owner.uploads.filter(status__in=(Upload.Status.PENDING, Upload.Status.READY)).aggregate(
        pending=Count("pk", filter=Q(status=Upload.Status.PENDING)),
        pending_bytes=Sum("declared_size", filter=Q(status=Upload.Status.PENDING), default=0),
        kept=Sum("size", filter=Q(status=Upload.Status.READY), default=0),
    )
    if totals["pending"] >= conf.get("MAX_PENDING_UPLOADS") or totals["pending_bytes"] + size > conf.get(
        "MAX_PENDING_UPLOAD_BYTES"
    ):
        raise OverQuota(ErrorCode.FREQUENCY_LIMIT, "too many unfinished uploads: finish or wait for them first", 429)
    quota = runtime.get("USER_STORAGE_QUOTA")
    if quota and totals["kept"] + size > quota:
        raise OverQuota(ErrorCode.FILE_UPLOAD_FAILED, "your file storage is full", 413)


def purge_abandoned_uploads(older_than_seconds=None) -> int:
    """Remove the uploads left unfinished for longer than UPLOAD_ABANDONED_AFTER: their
    bytes and their rows (no message names an unfinished upload). Returns how many."""
    age = conf.get("UPLOAD_ABANDONED_AFTER") if older_than_seconds is None else older_than_seconds
    cutoff = timezone.now() - timedelta(seconds=age)
    # Claim the rows first (still pending, still old: an upload completing meanwhile is
    # not taken), then remove only the claimed ones' bytes and rows.
    with transaction.atomic():
        stale = list(
            Upload.objects.select_for_update(skip_locked=True)
            .filter(status=Upload.Status.PENDING, created_at__lt=cutoff)
            .values_list("pk", "key")
        )
        Upload.objects.filter(pk__in=[pk for pk, _ in stale]).update(status=Upload.Status.FAILED, error="abandoned")
    for _, key in stale:
        storage.discard(key)
    Upload.objects.filter(pk__in=[pk for pk, _ in stale], status=Upload.Status.FAILED).delete()
    return len(stale)


class UploadBusy(ChatError):
    """Two chunks of one upload at once: the later gets HTTP 409 and resumes."""

    http_status = 409


class ChunkTooLarge(ChatError):
    """A chunk over UPLOAD_CHUNK_BYTES, however its length was (not) announced: 413."""

    http_status = 413


def receive_upload_chunk(owner: User, upload_uuid, offset, stream) -> int:
    """Filesystem storage only: append a chunk at ``offset``; returns the bytes received so far."""
    upload = access_own_upload(owner, upload_uuid)
    if storage.is_s3():
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "upload to the bucket with the presigned POST")
    if upload.status != Upload.Status.PENDING:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "this upload is already complete")
    if not isinstance(offset, int) or offset < 0:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "offset must be a byte position")
    try:
        received = storage.write_chunk(
            upload.key, offset, storage.BoundedBody(stream, conf.get("UPLOAD_CHUNK_BYTES")), upload.declared_size
        )
    except storage.ChunkBusy:
        raise UploadBusy(ErrorCode.INVALID_PARAMETERS, "another chunk of this upload is being written: resume") from None
    except storage.ChunkTooLarge:
        raise ChunkTooLarge(ErrorCode.INVALID_PARAMETERS, "send the file in chunks of at most 4 MB") from None
    if received < 0:
        raise ChatError(LIMITS[upload.kind][1], "more bytes came than the upload declared")
    return received


def complete_upload(owner: User, upload_uuid) -> Upload:
    """Check the stored bytes and make the upload ready. Idempotent once ready."""
    upload = access_own_upload(owner, upload_uuid)
    if upload.status == Upload.Status.READY:
        return upload
    if upload.status == Upload.Status.FAILED:
        raise ChatError(LIMITS[upload.kind][2], upload.error or "this upload failed")
    stored_size = storage.size(upload.key)
    if stored_size is None:
        raise ChatError(LIMITS[upload.kind][2], "nothing has been uploaded yet")
    try:
        fields = _check(upload, stored_size)
    except ChatError as error:
        storage.delete(upload.key)
        Upload.objects.filter(pk=upload.pk, status=Upload.Status.PENDING).update(
            status=Upload.Status.FAILED, error=error.message[:200]
        )
        raise
    with transaction.atomic():
        updated = Upload.objects.filter(pk=upload.pk, status=Upload.Status.PENDING).update(
            status=Upload.Status.READY, completed_at=timezone.now(), **fields
        )
    upload.refresh_from_db()
    if not updated and upload.status != Upload.Status.READY:
        raise ChatError(LIMITS[upload.kind][2], "this upload failed")
    return upload


def _check(upload: Upload, stored_size: int) -> dict:
    if stored_size == 0:
        raise ChatError(ErrorCode.EMPTY_FILE, "the file is empty")
    if stored_size > limit_of(upload.kind) or stored_size != upload.declared_size:
        raise ChatError(LIMITS[upload.kind][1], "the stored file does not have the declared size")
    fields = {"size": stored_size}
    if upload.kind == Kind.IMAGE:
        return fields | _process_image(upload)
    head = storage.read_head(upload.key, media.HEAD_BYTES)
    if upload.kind == Kind.AUDIO:
        fields["content_type"] = media.check_audio(head)
    elif upload.kind == Kind.VIDEO:
        fields["content_type"] = media.check_video(head)
    else:
        fields["content_type"] = media.sniff(head) or "application/octet-stream"
    return fields


def _process_image(upload: Upload) -> dict:
    image = media.process_image(storage.read_all(upload.key))
    base = upload.key.rsplit("/", 1)[0]
    variants = {}
    if image.original is not None:
        # The upright, metadata-free copy replaces what the user sent.
        original_key = f"{base}/original.{image.original_ext}"
        storage.save(original_key, image.original, image.content_type)
        storage.delete(upload.key)
        original_size = len(image.original)
    else:
        original_key, original_size = upload.key, upload.declared_size
    variants["original"] = {
        "key": original_key,
        "width": image.width,
        "height": image.height,
        "size": original_size,
        "content_type": image.content_type,
    }
    for name, (data, width, height, content_type) in image.variants.items():
        key = f"{base}/{name}.{media.IMAGE_EXTENSIONS[content_type]}"
        storage.save(key, data, content_type)
        variants[name] = {"key": key, "width": width, "height": height, "size": len(data), "content_type": content_type}
    return {
        "content_type": image.content_type,
        "width": image.width,
        "height": image.height,
        "image_format": image.image_format,
        "variants": variants,
    }
