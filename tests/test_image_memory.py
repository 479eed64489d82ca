"""Image processing is bounded: one image at a time per process (messaging/media.py), and
a 49-megapixel image costs under 300 MB at its peak (issue 9: a 7,000 × 7,000 PNG cost
481 MB, three at once 1.8 GB).

Each case runs in a fresh Python process, since the peak RSS is a high-water mark of the
whole process: the child reads a prepared file, notes its peak (``VmHWM`` of
/proc/self/status: ``ru_maxrss`` would carry the parent's peak across exec), processes the
image and reports how far the peak rose.
"""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SIDE = 7000  # 49 MP: just under the 50 MP pixel limit
LIMIT_MB = 300

CHILD = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
import django
django.setup()
from messaging import media
def peak_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
data = open(sys.argv[1], "rb").read()
before = peak_kb()
result = media.process_image(data)
after = peak_kb()
print(json.dumps({"peak_mb": (after - before) / 1024, "width": result.width, "height": result.height,
                  "variants": sorted(result.variants)}))
"""


def big_image(mode, fmt, orientation=None):
    image = Image.linear_gradient("L").resize((SIDE, SIDE // 2 if orientation else SIDE))
    image = image.convert(mode)
    out = io.BytesIO()
    options = {"quality": 80} if fmt == "JPEG" else {}
    if orientation:
        exif = Image.Exif()
        exif[0x0112] = orientation
        options["exif"] = exif.tobytes()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mode", "fmt", "orientation"),
    [("RGB", "JPEG", None), ("RGB", "JPEG", 6), ("RGBA", "PNG", None), ("L", "PNG", None)],
    ids=["jpeg", "jpeg-rotated", "png-rgba", "png-grey"],
)
def test_a_49_megapixel_image_peaks_under_300_mb(tmp_path, mode, fmt, orientation):
    path = tmp_path / f"big.{fmt.lower()}"
    path.write_bytes(big_image(mode, fmt, orientation))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["variants"] == ["large", "thumb"]
    if orientation == 6:  # turned upright: the stored width is the image's height
        assert (report["width"], report["height"]) == (SIDE // 2, SIDE)
    print(f"{mode} {fmt} rotated={bool(orientation)}: peak +{report['peak_mb']:.0f} MB")
    assert report["peak_mb"] < LIMIT_MB
