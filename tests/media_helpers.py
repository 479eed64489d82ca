"""Media made in memory for the upload and message-type tests, and an in-process upload.

Every file is a few kilobytes: sizes limits are tested by lowering ``settings.CHAT``.
"""

import io
import wave
import zlib
from struct import pack

from PIL import Image

from messaging.actions import uploads

GPS_IFD = 0x8825
ORIENTATION = 0x0112
# A minimal MP4: an ``ftyp`` box is what the type sniffing (``filetype``) reads.
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + bytes(200)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="10" height="10"/></svg>\n'


def use_filesystem_storage(settings, tmp_path):
    """Filesystem storage under a fresh folder (the embedded default, not S3); returns the folder.

    Call it from a ``media_root`` fixture of the test module.
    """
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    return root


def stored_files(root):
    """Relative paths of every file under ``root`` (the objects in storage)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def png(width=64, height=32, color=(30, 120, 200)):
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg(width=64, height=32, *, orientation=None, gps=False):
    """A JPEG; with EXIF orientation and GPS tags when asked (as phone cameras write them)."""
    image = Image.new("RGB", (width, height), (200, 40, 40))
    # The left half is dark: a rotation is visible in the pixels, not only in the size.
    image.paste((10, 10, 10), (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if orientation:
        exif[ORIENTATION] = orientation
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 30.0, 1.5), 3: "E", 4: (13.0, 24.0, 2.0)})
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def animated_gif(width=40, height=30, frames=3):
    images = [Image.new("RGB", (width, height), (60 * i % 256, 200, 40)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def wav(seconds=0.2, rate=8000):
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x10" * int(rate * seconds))
    return out.getvalue()


def png_header_only(width, height):
    """A valid PNG of ``width`` x ``height`` 1-bit pixels, all zero: tiny on disk, huge in memory.

    Made by hand (the pixel rows are zlib-compressed zeros), as a decompression
    bomb is: ``Image.new`` would allocate the whole image first.
    """

    def chunk(kind, data):
        return pack(">I", len(data)) + kind + data + pack(">I", zlib.crc32(kind + data))

    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def upload(owner, kind, data, name="file.bin", *, complete=True):
    """Create an upload of ``owner`` through the actions, store ``data``, and complete it."""
    created = uploads.create_upload(owner, kind=kind, name=name, size=len(data))
    uploads.receive_upload_chunk(owner, created.uuid.hex, 0, io.BytesIO(data))
    if not complete:
        return created
    return uploads.complete_upload(owner, created.uuid.hex)
