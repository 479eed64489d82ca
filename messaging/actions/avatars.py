"""Avatars: an uploaded image made into the square picture a profile or a group shows.

The browser uploads the image through the same path as an image message (create,
chunks or presigned POST, complete: size, type from the bytes, pixel limit, upright
copy and variants); ``make_avatar`` then crops its "large" variant to a centred
square (``media.square_avatar``), stores it under ``avatars/`` and returns the URL
to set with updateMyProfile or updateGroupProfile. The URL is on this site
(``/media/avatars/...``, served by ``views.avatar``), which is the only kind of avatar
URL those ops accept (``users.check_avatar_url``).
"""

import uuid as uuid_lib

from messaging import media, storage
from messaging.access import access_own_upload
from messaging.errors import ChatError, ErrorCode
from messaging.models import Upload, User


def make_avatar(owner: User, upload_uuid) -> dict:
    """``{"avatar": url, "width", "height", "contentType"}`` from ``owner``'s ready image
    upload; 2403 for an upload that is not theirs or not an image, 2251 while it is not
    ready. Writes a new object (the old avatar's object stays: messages and tips may
    still show it)."""
    upload = access_own_upload(owner, upload_uuid, kind=Upload.Kind.IMAGE)
    if upload.status != Upload.Status.READY:
        raise ChatError(ErrorCode.IMAGE_NOT_SELECTED, "the image is not uploaded yet")
    source = upload.variants.get("large") or upload.variants.get("original") or {"key": upload.key}
    data, content_type = media.square_avatar(storage.read_all(source["key"]))
    key = f"{storage.AVATAR_PREFIX}{uuid_lib.uuid4().hex}.{media.IMAGE_EXTENSIONS[content_type]}"
    storage.save(key, data, content_type)
    side = media.AVATAR_SIDE
    return {"avatar": storage.avatar_url(key), "width": side, "height": side, "contentType": content_type}
