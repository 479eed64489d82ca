"""Upload benchmarks (issue #3): server memory during a 100 MB upload through the
filesystem default, and the time to process a 12-megapixel JPEG.

    python -m bench.uploads [--size-mb 100] [--runs 3] [--image-runs 5]

1. Memory: a Daphne subprocess on the embedded defaults (a temporary SQLite database
   and media folder, the in-memory channel layer) serves the site; a client logs in
   (a session made with ``manage.py shell``), creates a file upload of ``--size-mb``
   and sends it as the browser does (PUT chunks of the server's ``chunkSize``), then
   completes it. The server's memory is read from ``/proc/<pid>/status``: VmRSS just
   before the upload and VmHWM (the peak) after it; growth = peak - before.
2. Image: a 4000x3000 JPEG with EXIF orientation (noise, so it compresses like a
   photo) is processed with ``messaging.media.process_image`` (decode, upright,
   re-encode without metadata, 720 and 198 px variants), in this process; the median
   of ``--image-runs`` runs.

Loopback only, bounded in time, stops by itself. Targets: growth <= 50 MB, image <= 1 s.
"""

import argparse
import http.client
import io
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.stack import free_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

SESSION_SCRIPT = """
from django.contrib.sessions.backends.db import SessionStore
from messaging import actions
user = actions.create_user("uploader", password="not-used-here")
session = SessionStore()
session["_auth_user_id"] = str(user.pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = user.get_session_auth_hash()
session.create()
print("SESSION=" + session.session_key)
"""


def memory_kb(pid, field):
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1))


def request(port, method, path, body=None, headers=None, timeout=120):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.getheader("Set-Cookie") or "", data


def measure_upload(size_mb):
    with tempfile.TemporaryDirectory(prefix="chat-bench-upload-") as tmp:
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="chatsite.settings",
            CHAT_SQLITE_PATH=f"{tmp}/db.sqlite3",
            CHAT_MEDIA_ROOT=f"{tmp}/media",
            DATABASE_URL="",
            REDIS_URL="",
            CHAT_S3_BUCKET="",
        )
        subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
        out = subprocess.run(
            [PYTHON, "manage.py", "shell", "-c", SESSION_SCRIPT],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        ).stdout
        session = out.rsplit("SESSION=", 1)[1].strip()
        port = free_port()
        daphne = subprocess.Popen(
            [PYTHON, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "chatsite.asgi:application"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    status, set_cookie, _ = request(port, "GET", "/", headers={"Cookie": f"sessionid={session}"}, timeout=5)
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("Daphne did not start") from None
                    time.sleep(0.3)
            csrf = re.search(r"csrftoken=([^;]+)", set_cookie).group(1)
            cookie = f"sessionid={session}; csrftoken={csrf}"
            base_headers = {"Cookie": cookie, "X-CSRFToken": csrf, "Origin": f"http://127.0.0.1:{port}"}
            size = size_mb * 1024 * 1024
            # Warm up the upload path with a small file so that imports and caches are
            # in the baseline, not counted as the big upload's growth.
            for probe_size in (1024, size):
                status, _, data = request(
                    port,
                    "POST",
                    "/api/uploads/",
                    json.dumps({"kind": "file", "name": "big.bin", "size": probe_size}),
                    {**base_headers, "Content-Type": "application/json"},
                )
                assert status == 201, data
                created = json.loads(data)
                chunk = created["target"]["chunkSize"]
                if probe_size == size:
                    before = memory_kb(daphne.pid, "VmRSS")
                    started = time.monotonic()
                payload = os.urandom(min(chunk, probe_size))
                offset = 0
                while offset < probe_size:
                    piece = payload[: min(chunk, probe_size - offset)]
                    status, _, data = request(
                        port,
                        "PUT",
                        f"{created['target']['url']}?offset={offset}",
                        piece,
                        {**base_headers, "Content-Type": "application/octet-stream"},
                    )
                    assert status == 200, data
                    offset = json.loads(data)["received"]
                status, _, data = request(port, "POST", f"/api/uploads/{created['upload']['uuid']}/complete", b"", base_headers)
                assert status == 200, data
            elapsed = time.monotonic() - started
            peak = memory_kb(daphne.pid, "VmHWM")
            stored = Path(f"{tmp}/media").rglob("upload")
            stored_size = max((p.stat().st_size for p in stored), default=0)
            return {
                "size_mb": size_mb,
                "rss_before_mb": before / 1024,
                "peak_mb": peak / 1024,
                "growth_mb": (peak - before) / 1024,
                "seconds": elapsed,
                "stored_bytes": stored_size,
            }
        finally:
            daphne.terminate()
            try:
                daphne.wait(10)
            except subprocess.TimeoutExpired:
                daphne.kill()


def make_photo(width=4000, height=3000):
    from PIL import Image

    noise = Image.effect_noise((width // 4, height // 4), 40).convert("RGB").resize((width, height))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 on display
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def measure_image(runs):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    import django

    django.setup()
    from messaging.media import process_image

    data = make_photo()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = process_image(data)
        times.append(time.perf_counter() - started)
    return {
        "input_bytes": len(data),
        "megapixels": 12.0,
        "upright_size": [result.width, result.height],
        "variants": {name: [w, h] for name, (_, w, h, _) in result.variants.items()},
        "runs_s": [round(t, 3) for t in times],
        "median_s": statistics.median(times),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3, help="upload runs (each with a fresh Daphne)")
    parser.add_argument("--image-runs", type=int, default=5)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    uploads = [measure_upload(args.size_mb) for _ in range(args.runs)]
    print("| run | upload MB | RSS before MB | peak MB | growth MB | seconds | stored bytes |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for i, r in enumerate(uploads, 1):
        print(
            f"| {i} | {r['size_mb']} | {r['rss_before_mb']:.1f} | {r['peak_mb']:.1f} | {r['growth_mb']:.1f} | {r['seconds']:.1f} | {r['stored_bytes']} |"
        )
    growth = statistics.median(r["growth_mb"] for r in uploads)
    print(f"median growth {growth:.1f} MB: target <= 50 MB {'met' if growth <= 50 else 'MISSED'}")

    image = measure_image(args.image_runs)
    print(f"12 MP JPEG ({image['input_bytes']} bytes) -> upright {image['upright_size']}, variants {image['variants']}")
    print(
        f"runs {image['runs_s']} s; median {image['median_s']:.3f} s: target <= 1 s {'met' if image['median_s'] <= 1 else 'MISSED'}"
    )
    if args.json:
        Path(args.json).write_text(json.dumps({"uploads": uploads, "image": image}, indent=2))


if __name__ == "__main__":
    main()
