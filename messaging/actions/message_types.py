"""The rules of each message type: what a client may send, and the payload stored.

The stored payload is made by the server. For upload types the client names its
upload (``uuid``) and the server fills in size, dimensions and URLs from the
checked upload; forwarded and merged messages are copied from messages the sender
may see, with their attachments referenced, not copied.
"""

import json
import math
import uuid as uuid_lib
from dataclasses import dataclass, field

from messaging import conf, rules, serialize, storage
from messaging.access import access_message, access_own_upload
from messaging.errors import ChatError, ErrorCode
from messaging.models import Message, Upload, User
from messaging.rules import (
    AUDIO,
    CUSTOM,
    FACE,
    FILE,
    IMAGE,
    LOCATION,
    MERGER,
    NOT_FORWARDABLE,
    TEXT,
    VIDEO,
)

UPLOAD_CODES = {
    IMAGE: ErrorCode.IMAGE_NOT_SELECTED,
    AUDIO: ErrorCode.AUDIO_UPLOAD_FAILED,
    VIDEO: ErrorCode.VIDEO_UPLOAD_FAILED,
    FILE: ErrorCode.FILE_UPLOAD_FAILED,
}


@dataclass
class Body:
    type: str
    payload: dict
    attachments: list = field(default_factory=list)
    at_user_list: list = field(default_factory=list)
    created_upload: Upload | None = None


def invalid(message):
    return ChatError(ErrorCode.INVALID_PARAMETERS, message)


def _string(payload, name, *, required=False, default=""):
    value = payload.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str) or (required and not value.strip()):
        raise invalid(f"payload.{name} must be a {'non-empty ' if required else ''}string")
    return value


def _number(payload, name, low, high):
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or not low <= value <= high:
        raise invalid(f"payload.{name} must be a number from {low} to {high}")
    return value


def build_body(sender: User, msg_type, payload, *, conversation_type, at_user_list=None, forward=None) -> Body:
    """The stored Body for a message ``sender`` asks to send; raises ChatError."""
    if forward is not None:
        return _forwarded(sender, forward)
    if not isinstance(payload, dict):
        raise invalid("payload must be an object")
    builder = BUILDERS.get(msg_type)
    if builder is None:
        raise invalid(f"unsupported message type {msg_type!r}")
    body = builder(sender, payload)
    if at_user_list:
        if msg_type != TEXT or conversation_type != rules.GROUP:
            raise invalid("atUserList is only for text messages in groups")
        if (
            not isinstance(at_user_list, list)
            or len(at_user_list) > conf.get("MAX_AT_USERS")
            or not all(isinstance(u, str) and u for u in at_user_list)
        ):
            raise invalid("atUserList must be a list of user IDs")
        body.at_user_list = list(dict.fromkeys(at_user_list))
        body.payload["atUserList"] = body.at_user_list
    return body


def _text(sender, payload):
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        raise invalid("text message is empty")
    return Body(TEXT, {"text": text})


def _custom(sender, payload):
    return Body(
        CUSTOM,
        {
            "data": _string(payload, "data"),
            "description": _string(payload, "description"),
            "extension": _string(payload, "extension"),
        },
    )


def _face(sender, payload):
    index = payload.get("index")
    if isinstance(index, bool) or not isinstance(index, int):
        raise invalid("payload.index must be an integer")
    return Body(FACE, {"index": index, "data": _string(payload, "data")})


def _location(sender, payload):
    return Body(
        LOCATION,
        {
            "description": _string(payload, "description"),
            "longitude": _number(payload, "longitude", -180, 180),
            "latitude": _number(payload, "latitude", -90, 90),
        },
    )


def _ready_upload(sender, upload_uuid, kind, code) -> Upload:
    """The sender's own upload of ``kind`` (``access_own_upload``), checked and ready to send."""
    upload = access_own_upload(sender, upload_uuid, kind=kind)
    if upload.status != Upload.Status.READY:
        raise ChatError(code, f"the {kind} upload is not complete")
    return upload


def _image(sender, payload):
    upload = _ready_upload(sender, payload.get("uuid"), Upload.Kind.IMAGE, ErrorCode.IMAGE_NOT_SELECTED)
    return Body(IMAGE, serialize.image_payload(upload), attachments=[upload])


def _audio(sender, payload):
    upload = _ready_upload(sender, payload.get("uuid"), Upload.Kind.AUDIO, ErrorCode.AUDIO_UPLOAD_FAILED)
    second = payload.get("second", 0)
    if isinstance(second, bool) or not isinstance(second, (int, float)) or not 0 <= second <= 24 * 3600:
        raise invalid("payload.second must be the duration in seconds")
    return Body(
        AUDIO,
        {
            "uuid": upload.uuid.hex,
            "url": serialize.file_url(upload),
            "size": upload.size,
            "second": round(second),
            "downloadFlag": 2,
        },
        attachments=[upload],
    )


def _video(sender, payload):
    video = _ready_upload(
        sender, payload.get("videoUUID") or payload.get("uuid"), Upload.Kind.VIDEO, ErrorCode.VIDEO_UPLOAD_FAILED
    )
    second = payload.get("videoSecond", 0)
    if isinstance(second, bool) or not isinstance(second, (int, float)) or not 0 <= second <= 24 * 3600:
        raise invalid("payload.videoSecond must be the duration in seconds")
    body = {
        "videoUUID": video.uuid.hex,
        "videoUrl": serialize.file_url(video),
        "videoSize": video.size,
        "videoSecond": round(second),
        "videoFormat": video.content_type.rsplit("/", 1)[-1],
        "snapshotUUID": "",
        "snapshotUrl": "",
        "snapshotWidth": 0,
        "snapshotHeight": 0,
    }
    attachments = [video]
    if payload.get("snapshotUUID"):
        snapshot = _ready_upload(sender, payload["snapshotUUID"], Upload.Kind.IMAGE, ErrorCode.VIDEO_UPLOAD_FAILED)
        large = snapshot.variants.get("large", {})
        body |= {
            "snapshotUUID": snapshot.uuid.hex,
            "snapshotUrl": serialize.file_url(snapshot, "large"),
            "snapshotWidth": large.get("width", snapshot.width or 0),
            "snapshotHeight": large.get("height", snapshot.height or 0),
        }
        attachments.append(snapshot)
    return Body(VIDEO, body, attachments=attachments)


def _file(sender, payload):
    upload = _ready_upload(sender, payload.get("uuid"), Upload.Kind.FILE, ErrorCode.FILE_UPLOAD_FAILED)
    return Body(
        FILE,
        {
            "uuid": upload.uuid.hex,
            "fileName": upload.name,
            "fileUrl": serialize.file_url(upload, download=True),
            "fileSize": upload.size,
        },
        attachments=[upload],
    )


def _merger(sender, payload):
    refs = payload.get("messageList")
    limit = conf.get("MAX_MERGED_MESSAGES")
    if not isinstance(refs, list) or not refs or len(refs) > limit:
        raise invalid(f"payload.messageList must hold 1 to {limit} messages")
    compatible = _string(payload, "compatibleText", required=True)
    title = _string(payload, "title")
    abstract = payload.get("abstractList") or []
    if not isinstance(abstract, list) or not all(isinstance(a, str) for a in abstract) or len(abstract) > 20:
        raise invalid("payload.abstractList must be a list of at most 20 strings")
    messages = []
    for ref in refs:
        if not isinstance(ref, dict):
            raise invalid("each merged message is {ID, conversationID}")
        message = access_message(sender, ref.get("conversationID"), ref.get("ID"))
        if message.type in NOT_FORWARDABLE:
            raise ChatError(ErrorCode.CANNOT_FORWARD, "group tips cannot be merged or forwarded")
        if message.is_revoked:
            raise ChatError(ErrorCode.CANNOT_FORWARD, "a recalled message cannot be merged or forwarded")
        messages.append(message)
    messages.sort(key=lambda m: (m.created_at, m.seq))
    attachments = list(Upload.objects.filter(messages__in=messages).distinct())
    snapshot = [
        {
            "ID": m.msg_id,
            "type": m.type,
            "payload": m.payload,
            "from": m.sender.username if m.sender else "",
            "nick": m.sender.nick if m.sender else "",
            "avatar": m.sender.avatar if m.sender else "",
            "time": serialize.epoch(m.created_at),
            "sequence": m.seq,
            "cloudCustomData": m.cloud_custom_data,
            "messageForShow": rules.message_for_show(m.type, m.payload),
        }
        for m in messages
    ]
    body = {
        "title": title,
        "abstractList": abstract,
        "compatibleText": compatible,
        "layersOverLimit": False,
        "downloadKey": "",
        "messageList": snapshot,
    }
    encoded = json.dumps(snapshot, ensure_ascii=False).encode()
    created = None
    if len(encoded) > conf.get("MERGER_INLINE_BYTES"):
        created = Upload.objects.create(
            owner=sender,
            kind=Upload.Kind.MERGER,
            status=Upload.Status.READY,
            name="messages.json",
            declared_size=len(encoded),
            size=len(encoded),
            content_type="application/json",
            key=f"uploads/{sender.pk}/{uuid_lib.uuid4().hex}/merger.json",
        )
        storage.save(created.key, encoded, "application/json")
        body["downloadKey"] = created.uuid.hex
        body["messageList"] = []
        attachments.append(created)
    return Body(MERGER, body, attachments=attachments, created_upload=created)


def _forwarded(sender, forward) -> Body:
    if not isinstance(forward, dict):
        raise invalid("forward must be {ID, conversationID}")
    original = access_message(sender, forward.get("conversationID"), forward.get("ID"))
    if original.type in NOT_FORWARDABLE:
        raise ChatError(ErrorCode.CANNOT_FORWARD, "group tips cannot be forwarded")
    if original.is_revoked:
        raise ChatError(ErrorCode.CANNOT_FORWARD, "a recalled message cannot be forwarded")
    payload = dict(original.payload)
    payload.pop("atUserList", None)
    return Body(original.type, payload, attachments=list(original.attachments.all()))


BUILDERS = {
    TEXT: _text,
    IMAGE: _image,
    AUDIO: _audio,
    VIDEO: _video,
    FILE: _file,
    CUSTOM: _custom,
    FACE: _face,
    LOCATION: _location,
    MERGER: _merger,
}


def downloaded_merger_list(message: Message, download_key=None) -> list:
    """The message list of a merged message, from its stored object when it has one.

    ``download_key`` opens a merged message nested inside ``message`` (which the
    viewer may see): its stored list is among ``message``'s attachments, since a
    merge references the attachments of everything it holds.
    """
    if message.type != MERGER:
        raise ChatError(ErrorCode.NOT_A_MERGER_MESSAGE, "not a merged message")
    if message.is_revoked:
        raise ChatError(ErrorCode.MERGER_DOWNLOAD_FAILED, "the merged message was recalled")
    key = download_key or message.payload.get("downloadKey")
    if not key:
        return message.payload.get("messageList", [])
    upload = message.attachments.filter(kind=Upload.Kind.MERGER, uuid=_uuid_or_none(key)).first()
    if upload is None:
        raise ChatError(ErrorCode.BAD_MERGER_KEY, "the merged messages are not stored")
    try:
        return json.loads(storage.read_all(upload.key))
    except Exception:
        raise ChatError(ErrorCode.MERGER_DOWNLOAD_FAILED, "the merged messages could not be read") from None


def _uuid_or_none(value):
    try:
        return uuid_lib.UUID(str(value))
    except ValueError:
        return None
