"""Checking uploaded bytes and making image variants.

Type is decided from the bytes (``filetype`` signatures, then Pillow for images),
never from the name. Pillow's decompression-bomb guard is on and stricter than
its default: an image over ``MAX_IMAGE_PIXELS`` is refused, not just warned
about. Images are turned upright (``ImageOps.exif_transpose``) and re-encoded
without their metadata (EXIF, GPS), except animated GIFs, whose original is kept
byte for byte so they stay animated.

What each upload kind accepts and what the download view serves inline come from
one table, ``ACCEPTED_TYPES``; ``tests/test_upload_rules.py`` keeps them together.
"""

import functools
import io
import threading
import warnings
from dataclasses import dataclass, field

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError

from messaging import conf
from messaging.errors import ChatError, ErrorCode

Image.MAX_IMAGE_PIXELS = conf.get("MAX_IMAGE_PIXELS")

# TIM imageFormat codes and MIME types, by Pillow's format name.
IMAGE_FORMATS = {"JPEG": 1, "GIF": 2, "PNG": 3, "BMP": 4, "WEBP": 255}
IMAGE_MIME = {"JPEG": "image/jpeg", "GIF": "image/gif", "PNG": "image/png", "BMP": "image/bmp", "WEBP": "image/webp"}
# The extension of a stored image's key, by its MIME type.
IMAGE_EXTENSIONS = {mime: name.lower().replace("jpeg", "jpg") for name, mime in IMAGE_MIME.items()}

# The one table of media types: what each upload kind accepts, by the type its bytes
# say (``sniff``; Pillow's format for images). A file of kind "file" may be anything.
# Several names are aliases that ``filetype`` never answers today (audio/wav,
# audio/flac, audio/x-m4a, audio/webm); they are kept so that a type a browser or
# another sniffer reports is treated the same. MediaRecorder's voice notes are WebM,
# which the bytes cannot tell from video, hence "video/webm" under audio.
ACCEPTED_TYPES = {
    "image": frozenset(IMAGE_MIME.values()),
    "audio": frozenset(
        {
            "audio/mpeg",
            "audio/mp4",
            "audio/x-m4a",
            "audio/ogg",
            "audio/x-wav",
            "audio/wav",
            "audio/aac",
            "audio/webm",
            "video/webm",
            "audio/amr",
            "audio/x-flac",
            "audio/flac",
        }
    ),
    "video": frozenset({"video/mp4", "video/quicktime", "video/webm"}),
}
# Served inline (shown in the page) exactly when accepted as an image, audio or video:
# a browser never renders these as a document. Everything else, HTML and SVG included,
# is served as an attachment.
INLINE_TYPES = frozenset().union(*ACCEPTED_TYPES.values())

# (name, longest side) of the variants the SDK describes: type 2 "large" 720p, type 1 "thumb" 198p.
IMAGE_VARIANTS = (("large", 720), ("thumb", 198))
HEAD_BYTES = 8192


@dataclass
class ProcessedImage:
    width: int
    height: int
    image_format: int
    content_type: str
    original: bytes | None  # None: keep the uploaded bytes as they are
    original_ext: str
    variants: dict = field(default_factory=dict)  # name -> (bytes, width, height, content_type)


def sniff(head: bytes) -> str:
    """The MIME type the bytes say, or '' when they say nothing we know."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    if head[:4] == b"\x1aE\xdf\xa3":  # EBML: WebM/Matroska, as MediaRecorder makes
        return "video/webm"
    return ""


def served_inline(content_type: str) -> bool:
    """Whether a file of this type may be shown in the page rather than downloaded."""
    return content_type in INLINE_TYPES


def check_audio(head: bytes) -> str:
    mime = sniff(head)
    if mime not in ACCEPTED_TYPES["audio"]:
        raise ChatError(ErrorCode.UNSUPPORTED_AUDIO, "the file is not an audio format this chat plays")
    return mime


def check_video(head: bytes) -> str:
    mime = sniff(head)
    if mime not in ACCEPTED_TYPES["video"]:
        raise ChatError(ErrorCode.VIDEO_FORMAT, "the file is not an MP4 (or WebM) video")
    return mime


def _decode(data: bytes, formats=None) -> Image.Image:
    """The image in ``data``, decoded (its first frame), or 2252: not an image, not one of
    ``formats`` (checked before decoding), or more pixels than Pillow's bomb limit."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if formats is not None and image.format not in formats:
                raise ChatError(ErrorCode.IMAGE_FORMAT, "images must be JPEG, PNG, GIF, BMP or WebP")
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ChatError(ErrorCode.IMAGE_FORMAT, "the image has too many pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ChatError(ErrorCode.IMAGE_FORMAT, "the file is not an image") from None
    return image


# Decoding a large image takes hundreds of MB for a moment: one at a time per process, so
# that N uploads completing at once cost one image's peak, not N (issue 9's 1.8 GB).
_IMAGE_WORK = threading.BoundedSemaphore(1)


def one_image_at_a_time(func):
    """Run ``func`` holding this process's image slot (the others wait their turn)."""

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        with _IMAGE_WORK:
            return func(*args, **kwargs)

    return wrapped


@one_image_at_a_time
def process_image(data: bytes) -> ProcessedImage:
    """Check ``data`` is an image we serve, and make its upright, metadata-free variants.

    Memory: the decoded image is the only full-size copy. It is turned upright in place,
    re-encoded as a baseline JPEG (a progressive one makes libjpeg hold every DCT
    coefficient of the image: twice the decoded size again), and the variants are
    scaled from it straight to their size (``reduce`` first, then resampling): no
    full-size copy is made for them. A 49-megapixel RGB image peaks at about 1.1 × its
    decoded size (``tests/test_image_memory.py``)."""
    image = _decode(data, IMAGE_FORMATS)
    image_format = image.format
    animated = getattr(image, "is_animated", False)
    ImageOps.exif_transpose(image, in_place=True)
    width, height = image.size
    result = ProcessedImage(
        width=width,
        height=height,
        image_format=IMAGE_FORMATS[image_format],
        content_type=IMAGE_MIME[image_format],
        original=None,
        original_ext=IMAGE_EXTENSIONS[IMAGE_MIME[image_format]],
    )
    if not (image_format == "GIF" and animated):
        result.original = _encode(image, image_format, large=True)
    alpha = _has_alpha(image)
    source = image
    for name, side in IMAGE_VARIANTS:  # largest first: each is scaled from the one before
        variant = _scaled(source, side)
        if variant.mode != ("RGBA" if alpha else "RGB"):
            variant = variant.convert("RGBA" if alpha else "RGB")
        fmt = "PNG" if variant.mode == "RGBA" else "JPEG"
        result.variants[name] = (_encode(variant, fmt), variant.width, variant.height, IMAGE_MIME[fmt])
        source = variant
    return result


def _scaled(image, side):
    """``image`` scaled to fit ``side`` × ``side`` (never up), as a new image, without a
    full-size copy of the source: ``thumbnail`` works in place (it would need a copy), and
    Pillow's ``resize`` and ``reduce`` premultiply an RGBA image's alpha into a full-size
    copy first. So a large image is first box-reduced by an integer factor a band of rows
    at a time (the bands are aligned to the factor, so the result is the same), then
    resampled from that small image."""
    if image.width <= side and image.height <= side:
        return image.copy()
    ratio = min(side / image.width, side / image.height)
    size = (max(1, round(image.width * ratio)), max(1, round(image.height * ratio)))
    mode = ("RGBA" if _has_alpha(image) else "RGB") if image.mode not in ("RGB", "RGBA", "L", "LA") else image.mode
    factor = int(1 / ratio / 2)  # Pillow's reducing_gap=2.0: reduce to at least twice the size
    if factor >= 2:
        band = factor * 64
        reduced = Image.new(mode, (-(-image.width // factor), -(-image.height // factor)))
        for top in range(0, image.height, band):
            strip = image.crop((0, top, image.width, min(top + band, image.height)))
            if strip.mode != mode:
                strip = strip.convert(mode)
            reduced.paste(strip.reduce(factor), (0, top // factor))
        image = reduced
    elif image.mode != mode:
        image = image.convert(mode)
    return image.resize(size, Image.Resampling.LANCZOS)


def _has_alpha(image):
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)


def _encode(image, image_format, *, large=False) -> bytes:
    """Re-encode with no metadata: ``save`` writes no EXIF/GPS unless asked to. ``large``:
    a full-size original, encoded as a baseline JPEG (see ``process_image``)."""
    out = io.BytesIO()
    if image_format == "JPEG":
        rgb = image if image.mode == "RGB" else image.convert("RGB")
        rgb.save(out, "JPEG", quality=85, optimize=False, progressive=not large)
    elif image_format == "GIF":
        image.save(out, "GIF")
    elif image_format == "WEBP":
        image.save(out, "WEBP", quality=85)
    elif image_format == "BMP":
        (image if image.mode == "RGB" else image.convert("RGB")).save(out, "BMP")
    else:
        image.save(out, "PNG")
    return out.getvalue()


AVATAR_SIDE = 256


@one_image_at_a_time
def square_avatar(data: bytes, side: int = AVATAR_SIDE) -> tuple[bytes, str]:
    """An avatar from an image we already checked: the centred square crop, scaled to
    ``side`` × ``side``; PNG when the image has transparency, else JPEG. Returns
    (bytes, content type). The caller passes the upload's "large" variant (at most
    720 px, upright, metadata-free), so this never decodes a big original."""
    image = ImageOps.exif_transpose(_decode(data))
    alpha = _has_alpha(image)
    image = image.convert("RGBA" if alpha else "RGB")
    square = ImageOps.fit(image, (side, side), Image.Resampling.LANCZOS, centering=(0.5, 0.5))
    fmt = "PNG" if alpha else "JPEG"
    return _encode(square, fmt), IMAGE_MIME[fmt]
