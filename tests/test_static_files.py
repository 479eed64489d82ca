"""Static files as a deployment serves them: ``collectstatic`` (hashed, compressed names,
tests/servers.py's ``collected_static``) and WhiteNoise in a real Daphne
(chatsite/staticfiles.py). Issue 9: ``GET /static/../chatsite/settings.py`` answered 500
with a traceback, and nothing was hashed, compressed or cached."""

import gzip
import http.client
import json
import re

import brotli
import pytest

from tests.servers import REPO_ROOT, child_env, collected_static, manage, start_daphne

ONE_YEAR = "max-age=31536000, public, immutable"


@pytest.fixture(scope="module")
def site_env(tmp_path_factory):
    """A migrated SQLite database (the login page reads the run-time settings)."""
    tmp = tmp_path_factory.mktemp("static_site")
    env = child_env(
        unset={"DATABASE_URL", "REDIS_URL", "CHAT_S3_BUCKET", "CHAT_SERVE_STATIC", "CHAT_STATIC_ROOT"},
        DJANGO_SETTINGS_MODULE="chatsite.settings",
        CHAT_SQLITE_PATH=tmp / "chat.sqlite3",
        CHAT_MEDIA_ROOT=tmp / "media",
    )
    manage(env, "migrate", "--noinput", "-v", "0")
    return env


@pytest.fixture(scope="module")
def site(site_env, tmp_path_factory):
    with start_daphne(site_env, tmp_path_factory.mktemp("static_logs"), name="daphne-static") as daphne:
        yield daphne
        daphne.check_log()


def get(server, path, headers=None, method="GET"):
    """One request with ``path`` sent as is (no client-side normalisation of ``..``)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def manifest():
    return json.loads((collected_static() / "staticfiles.json").read_text())["paths"]


def test_pages_name_hashed_files_served_for_a_year(site):
    status, _, body = get(site, "/accounts/login/")
    assert status == 200
    css = re.search(r'href="(/static/chat/app\.[0-9a-f]{12}\.css)"', body.decode())
    assert css, body.decode()[:2000]
    assert css.group(1) == "/static/" + manifest()["chat/app.css"]

    status, headers, body = get(site, css.group(1))
    assert status == 200 and headers["cache-control"] == ONE_YEAR
    assert body == (collected_static() / manifest()["chat/app.css"]).read_bytes()
    # The unhashed name still answers (the emoji sets are loaded by name), cached briefly.
    status, headers, _ = get(site, "/static/chat/app.css")
    assert status == 200 and headers["cache-control"] == "max-age=60, public"


@pytest.mark.parametrize("encoding, decode", [("gzip", gzip.decompress), ("br", brotli.decompress)])
def test_compressed_variants_for_clients_that_accept_them(site, encoding, decode):
    name = manifest()["chat/tim.js"]
    original = (collected_static() / name).read_bytes()

    status, headers, body = get(site, "/static/" + name, {"Accept-Encoding": encoding})

    assert status == 200 and headers["content-encoding"] == encoding and "Accept-Encoding" in headers["vary"]
    assert len(body) < len(original) / 3 and decode(body) == original
    assert headers["cache-control"] == ONE_YEAR
    status, headers, body = get(site, "/static/" + name)  # no Accept-Encoding: the file as it is
    assert status == 200 and "content-encoding" not in headers and body == original


@pytest.mark.parametrize(
    "path",
    [
        "/static/../chatsite/settings.py",
        "/static/%2e%2e/chatsite/settings.py",
        "/static/chat/../../chatsite/settings.py",
        "/static/..%2fchatsite/settings.py",
        "/static//etc/passwd",
        "/static/chat/app.css.gz",  # the compressed variants are served by negotiation only
    ],
)
def test_paths_outside_the_static_files_answer_404(site, path):
    status, _, body = get(site, path)
    assert status == 404, (path, status)
    assert b"SECRET_KEY" not in body and b"Traceback" not in body


def test_conditional_and_head_requests(site):
    path = "/static/" + manifest()["chat/app.css"]
    _, headers, _ = get(site, path)
    status, _, body = get(site, path, {"If-None-Match": headers["etag"]})
    assert status == 304 and body == b""
    status, head, body = get(site, path, method="HEAD")
    assert status == 200 and body == b"" and head["content-length"] == headers["content-length"]


def test_before_any_collectstatic_pages_and_files_are_served_unhashed(site_env, tmp_path):
    """A bare ``daphne`` in a fresh checkout: no manifest, so unhashed names, served from
    ``static/`` itself (briefly cached), instead of "Missing staticfiles manifest entry"."""
    env = {**site_env, "CHAT_STATIC_ROOT": str(tmp_path / "never-collected")}
    with start_daphne(env, tmp_path, name="daphne-uncollected") as daphne:
        status, _, body = get(daphne, "/accounts/login/")
        assert status == 200 and b'href="/static/chat/app.css"' in body
        status, headers, body = get(daphne, "/static/chat/app.css")
        assert status == 200 and headers["cache-control"] == "max-age=60, public"
        assert body == (REPO_ROOT / "static" / "chat" / "app.css").read_bytes()
        assert get(daphne, "/static/../chatsite/settings.py")[0] == 404
