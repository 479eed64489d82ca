"""HTTP transport for files: create an upload, receive its bytes (filesystem
storage), complete it, and download files. Thin: each view parses, calls one
action or access check, and answers. Errors are JSON ``{"code", "message"}``
with the SDK's codes.

Downloads are for members only. Every response that serves user bytes carries
``X-Content-Type-Options: nosniff`` and a sandboxing CSP; only images, audio and
video are served inline (``media.INLINE_TYPES``, the types accepted as media),
everything else (HTML and SVG included) as an attachment.
"""

import json
import re

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from messaging import conf, media, ratelimit, serialize, storage
from messaging.access import access_upload_for_download
from messaging.actions import avatars, uploads
from messaging.errors import ChatError, ErrorCode

AVATAR_NAME = re.compile(r"^[0-9a-f]{32}\.(png|jpg)$")

STATUS_FOR = {
    ErrorCode.UPLOAD_NOT_FOUND: 404,
    ErrorCode.IMAGE_TOO_LARGE: 413,
    ErrorCode.AUDIO_TOO_LARGE: 413,
    ErrorCode.VIDEO_TOO_LARGE: 413,
    ErrorCode.FILE_TOO_LARGE: 413,
}


def error_response(error: ChatError):
    return JsonResponse(error.as_reply(), status=getattr(error, "http_status", None) or STATUS_FOR.get(error.code, 400))


def json_body(request):
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise ChatError(ErrorCode.JSON_PARSE_ERROR, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise ChatError(ErrorCode.JSON_PARSE_ERROR, "the body must be a JSON object")
    return data


def api_login_required(view):
    """login_required that answers 401 JSON to scripts instead of redirecting."""

    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return JsonResponse({"code": ErrorCode.NOT_LOGGED_IN, "message": "log in first"}, status=401)
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


@require_POST
@api_login_required
def create_upload(request):
    """``{"kind": "image"|"audio"|"video"|"file", "name", "size"}`` → the upload and where to
    send it. Over the user's or the address's upload rate (messaging/ratelimit.py): 429 10006."""
    try:
        ratelimit.check_upload(ratelimit.Client(request.user.pk, ratelimit.request_address(request)))
        data = json_body(request)
        upload = uploads.create_upload(request.user, kind=data.get("kind"), name=data.get("name"), size=data.get("size"))
    except ChatError as error:
        return error_response(error)
    target = storage.upload_target(upload.key, upload.declared_size, reverse("upload-data", args=[upload.uuid.hex]))
    target["chunkSize"] = conf.get("UPLOAD_CHUNK_BYTES")
    return JsonResponse({"upload": serialize.upload(upload), "target": target}, status=201)


@require_http_methods(["PUT"])
@api_login_required
def upload_data(request, upload_uuid):
    """Filesystem storage: one chunk of the bytes as the body, at ``?offset=N``.

    Answers ``{"received": N}``: the bytes stored so far. When it is not the
    offset plus this chunk, the chunk was not at the right place and the client
    resumes from ``received``.
    """
    try:
        offset = int(request.GET.get("offset", "0"))
    except ValueError:
        offset = -1
    if int(request.headers.get("Content-Length") or 0) > conf.get("UPLOAD_CHUNK_BYTES"):
        return JsonResponse(
            {"code": ErrorCode.INVALID_PARAMETERS, "message": "send the file in chunks of at most 4 MB"}, status=413
        )
    try:
        received = uploads.receive_upload_chunk(request.user, upload_uuid, offset, request)
    except ChatError as error:
        return error_response(error)
    return JsonResponse({"received": received})


@require_POST
@api_login_required
def complete_upload(request, upload_uuid):
    """Check the stored bytes (size, type from content, image variants); then it can be sent."""
    try:
        upload = uploads.complete_upload(request.user, upload_uuid)
    except ChatError as error:
        return error_response(error)
    return JsonResponse({"upload": serialize.upload(upload)})


@require_GET
@login_required
def download(request, upload_uuid, variant="original"):
    upload = access_upload_for_download(request.user, upload_uuid)
    if upload is None:
        return JsonResponse({"code": ErrorCode.PERMISSION_DENIED, "message": "no such file, or not yours to see"}, status=403)
    return serve_upload(request, upload, variant)


def serve_upload(request, upload, variant="original"):
    """The bytes of ``upload``'s ``variant`` (a redirect to a signed URL on S3), to a caller
    whose right to see it was checked: the chat's download above, the admin's report page."""
    if variant == "original":
        info = upload.variants.get("original") or {"key": upload.key, "content_type": upload.content_type}
    else:
        info = upload.variants.get(variant)
        if info is None:
            return JsonResponse({"code": ErrorCode.INVALID_PARAMETERS, "message": "no such variant"}, status=404)
    content_type = info.get("content_type") or "application/octet-stream"
    servable = media.served_inline(content_type)
    content_type = content_type if servable else "application/octet-stream"
    inline = servable and request.GET.get("download") != "1"
    filename = upload.name if variant == "original" else f"{variant}-{upload.name}"
    if storage.is_s3():
        response = HttpResponseRedirect(
            storage.signed_url(info["key"], filename=filename, content_type=content_type, inline=inline)
        )
    else:
        response = FileResponse(storage.open_file(info["key"]), content_type=content_type)
        response["Content-Disposition"] = storage.content_disposition(filename, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_POST
@api_login_required
def make_avatar(request, upload_uuid):
    """A square avatar (256 × 256) from a completed image upload: ``{"avatar": url, ...}``;
    then set it with updateMyProfile or updateGroupProfile."""
    try:
        made = avatars.make_avatar(request.user, upload_uuid)
    except ChatError as error:
        return error_response(error)
    return JsonResponse(made, status=201)


@require_GET
@login_required
def avatar(request, name):
    """An avatar made by ``make_avatar``, to any logged-in user (avatars are shown to
    everyone who sees the profile). The name is the stored object's (hex + extension)."""
    if not AVATAR_NAME.match(name):
        return JsonResponse({"code": ErrorCode.INVALID_PARAMETERS, "message": "no such avatar"}, status=404)
    key = storage.AVATAR_PREFIX + name
    content_type = media.IMAGE_MIME["PNG"] if name.endswith(".png") else media.IMAGE_MIME["JPEG"]
    if storage.is_s3():
        response = HttpResponseRedirect(storage.signed_url(key, filename=name, content_type=content_type, inline=True))
    else:
        if storage.size(key) is None:
            return JsonResponse({"code": ErrorCode.INVALID_PARAMETERS, "message": "no such avatar"}, status=404)
        response = FileResponse(storage.open_file(key), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=86400"
    return response
