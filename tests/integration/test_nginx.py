"""nginx from Debian's package in front of two Daphne processes, as docs/DEPLOY.md deploys it.

The module renders the repository's deploy/nginx/chat.conf (the same file a deployment
installs, its ``${NAME}`` placeholders filled as envsubst would) for loopback ports and
a self-signed certificate, and starts ``nginx`` with it in front of two Daphnes on a
fresh PostgreSQL database and Redis (tests/integration/conftest.py). The Daphnes run as
in production behind it: CHAT_HTTPS=1, CHAT_PROXY_COUNT=1, CHAT_SERVE_STATIC=0 (nginx
serves /static/ from the collected STATIC_ROOT).

Through nginx only: two users log in with the login form, exchange messages over
WebSockets that land on different Daphnes, alice uploads a file in two chunks
(filesystem storage) and bob downloads it; a body over ``client_max_body_size`` is
refused by nginx with 413; static files come hashed, compressed and cached for a year.

Without nginx (or openssl for the certificate) the module skips, and fails under
CHAT_REQUIRE_SERVICES=1 (``.ci/run`` installs Debian's ``nginx-light``).
"""

import asyncio
import contextlib
import gzip
import http.client
import http.cookies
import json
import os
import re
import secrets
import shutil
import ssl
import subprocess
import urllib.parse
from dataclasses import dataclass, field

import pytest

from tests.conftest import need_service
from tests.integration.conftest import daphne_env, delete_redis_keys, fresh_database, migrate_with_sessions, unique_name
from tests.servers import REPO_ROOT, RemoteTab, Server, collected_static, free_port, in_own_loop, serve, start_daphne

pytestmark = pytest.mark.integration

USERS = ("alice", "bob")
CONFIG = REPO_ROOT / "deploy" / "nginx" / "chat.conf"
PLACEHOLDER = re.compile(r"\$\{(CHAT_[A-Z_]+)\}")
CHUNK = 4 * 1024 * 1024  # messaging/conf.py UPLOAD_CHUNK_BYTES


def nginx_binary():
    for candidate in (os.environ.get("CHAT_NGINX"), shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and os.path.exists(candidate):
            return candidate
    need_service("nginx", "no nginx binary (apt-get install nginx-light)")


def self_signed_certificate(directory):
    if not shutil.which("openssl"):
        need_service("nginx", "openssl is needed for the test's certificate (apt-get install openssl)")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def render(template, values):
    """``envsubst`` with a list of names: only ``${CHAT_...}`` placeholders are replaced."""
    missing = set(PLACEHOLDER.findall(template)) - set(values)
    assert not missing, f"{CONFIG} names placeholders the test does not fill: {missing}"
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def nginx_main_config(tmp, site_config):
    """A main nginx.conf of the test's own (pid, logs and temporary files in ``tmp``)
    that includes the rendered site, as Debian's /etc/nginx/nginx.conf includes sites-enabled."""
    temp_paths = "\n".join(f"    {kind}_temp_path {tmp}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # As root, workers would drop to "nobody", who cannot read the test's private folders.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}daemon off;\nworker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;\n"
        "events { worker_connections 512; }\n"
        "http {\n    include /etc/nginx/mime.types;\n    default_type application/octet-stream;\n"
        f"    access_log {tmp}/access.log;\n{temp_paths}\n    include {site_config};\n}}\n"
    )


@dataclass
class Front:
    """nginx as the clients see it: ``RemoteTab.open`` takes it like a ``Server``."""

    port: int
    http_port: int
    ssl_context: ssl.SSLContext
    name: str = "nginx"

    @property
    def origin(self):
        return f"https://127.0.0.1:{self.port}"

    @property
    def ws_url(self):
        return f"wss://127.0.0.1:{self.port}/ws/chat/"

    def request(self, method, path, body=None, headers=None):
        """One HTTPS request through nginx: (status, headers with lower-case names, body).
        A header sent more than once (Set-Cookie) is kept as a list."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=30, context=self.ssl_context)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            collected = {}
            for name, value in response.getheaders():
                collected.setdefault(name.lower(), []).append(value)
            answer = {name: values if name == "set-cookie" else values[-1] for name, values in collected.items()}
            return response.status, answer, response.read()
        finally:
            conn.close()


@dataclass
class Browser:
    """One user's cookies, logged in through nginx with the login form."""

    front: Front
    cookies: dict = field(default_factory=dict)
    set_cookie_headers: list = field(default_factory=list)

    def send(self, method, path, body=None, headers=None):
        headers = {"Origin": self.front.origin, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET" and "csrftoken" in self.cookies:
            headers["X-CSRFToken"] = self.cookies["csrftoken"]
        status, answer, content = self.front.request(method, path, body, headers)
        for line in answer.get("set-cookie", []):
            self.set_cookie_headers.append(line)
            for name, morsel in http.cookies.SimpleCookie(line).items():
                self.cookies[name] = morsel.value
        return status, answer, content

    def log_in(self, username, password):
        status, _, page = self.send("GET", "/accounts/login/")
        assert status == 200, page[:500]
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        form = urllib.parse.urlencode({"username": username, "password": password, "csrfmiddlewaretoken": token})
        status, answer, body = self.send("POST", "/accounts/login/", form, {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 302 and answer["location"] == "/", (status, body[:500])
        return answer

    def post_json(self, path, data):
        status, _, body = self.send("POST", path, json.dumps(data), {"Content-Type": "application/json"})
        return status, json.loads(body)


@dataclass
class Deployment:
    front: Front
    daphnes: list
    nginx: Server
    static_root: object

    def daphne_of_new_socket(self, offsets):
        """The Daphne whose log shows a WebSocket accepted since ``offsets``."""
        hits = [d for d, start in zip(self.daphnes, offsets, strict=True) if "WSCONNECT /ws/chat/" in d.log_text(start)]
        assert len(hits) == 1, f"one socket, accepted by {[d.name for d in hits]}"
        return hits[0]

    def log_offsets(self):
        return [len(d.log_text().encode()) for d in self.daphnes]


@pytest.fixture(scope="module")
def deployment(postgres_url, redis_url, tmp_path_factory):
    nginx = nginx_binary()
    tmp = tmp_path_factory.mktemp("nginx")
    cert, key = self_signed_certificate(tmp)
    prefix = unique_name("chat-nginx")
    static_root = collected_static()
    with fresh_database(postgres_url) as database_url, contextlib.ExitStack() as stack:
        stack.callback(delete_redis_keys, redis_url, prefix)
        env = daphne_env(database_url, redis_url, prefix=prefix)
        migrate_with_sessions(env, USERS)
        env.update(
            CHAT_HTTPS="1",
            CHAT_PROXY_COUNT="1",
            CHAT_SERVE_STATIC="0",
            CHAT_STATIC_ROOT=str(static_root),
            DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        )
        daphnes = [stack.enter_context(start_daphne(env, tmp, name=f"daphne-{n}")) for n in "ab"]
        ports = {}

        def command(http_port):
            # serve() picks (and on "Address already in use" re-picks) the plain-HTTP port;
            # the HTTPS one is picked with it.
            ports[http_port] = https_port = free_port()
            site = tmp / f"chat-{http_port}.conf"
            site.write_text(
                render(
                    CONFIG.read_text(),
                    {
                        "CHAT_SERVER_NAME": "127.0.0.1",
                        "CHAT_LISTEN_HTTP": f"127.0.0.1:{http_port}",
                        "CHAT_LISTEN_HTTPS": f"127.0.0.1:{https_port}",
                        "CHAT_TLS_CERT": str(cert),
                        "CHAT_TLS_KEY": str(key),
                        "CHAT_STATIC_ROOT": str(static_root),
                        "CHAT_UPSTREAMS": " ".join(f"server 127.0.0.1:{d.port};" for d in daphnes),
                    },
                )
            )
            main = tmp / f"nginx-{http_port}.conf"
            main.write_text(nginx_main_config(tmp, site))
            return [nginx, "-p", str(tmp), "-c", str(main), "-e", str(tmp / "error.log")]

        proxy = stack.enter_context(serve("nginx", command, log_dir=tmp))
        context = ssl.create_default_context(cafile=str(cert))
        yield Deployment(Front(ports[proxy.port], proxy.port, context), daphnes, proxy, static_root)


@pytest.fixture(autouse=True)
def daphnes_log_no_tracebacks(deployment):
    for server in deployment.daphnes:
        server.new_log_errors()
    yield
    for server in deployment.daphnes:
        server.check_log()
    assert deployment.nginx.process.poll() is None, deployment.nginx.log_tail()


def logged_in(front, username):
    browser = Browser(front)
    browser.log_in(username, "pw-" + username)
    return browser


# --- the tests ------------------------------------------------------------------------------


def test_login_through_nginx_is_https_to_django(deployment):
    """X-Forwarded-Proto reaches Django: secure cookies and HSTS, no redirect loop; plain
    HTTP is sent to HTTPS by nginx."""
    browser = Browser(deployment.front)
    answer = browser.log_in("alice", "pw-alice")
    session_cookie = next(line for line in browser.set_cookie_headers if line.startswith("sessionid="))
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie
    assert answer["strict-transport-security"].startswith("max-age=31536000")

    conn = http.client.HTTPConnection("127.0.0.1", deployment.front.http_port, timeout=10)
    conn.request("GET", "/accounts/login/?next=/")
    response = conn.getresponse()
    assert response.status == 301 and response.getheader("Location") == "https://127.0.0.1/accounts/login/?next=/"
    conn.close()


@in_own_loop
async def test_a_chat_session_through_nginx_across_both_daphnes(deployment):
    front = deployment.front
    alice, bob = [await asyncio.to_thread(logged_in, front, name) for name in USERS]
    tabs = []
    try:
        offsets = deployment.log_offsets()
        tabs.append(await RemoteTab.open(front, alice.cookies["sessionid"]))
        alice_on = deployment.daphne_of_new_socket(offsets)
        # least_conn spreads sockets: bob's lands on the other Daphne (a few tries at most).
        for _ in range(4):
            offsets = deployment.log_offsets()
            bob_tab = await RemoteTab.open(front, bob.cookies["sessionid"])
            tabs.append(bob_tab)
            if deployment.daphne_of_new_socket(offsets) is not alice_on:
                break
        else:
            pytest.fail("every socket of bob's landed on alice's Daphne")
        alice_tab = tabs[0]

        tag = secrets.token_hex(4)
        sent = await alice_tab.send_text("bob", f"through nginx {tag}")
        got = await bob_tab.message(lambda m: m["ID"] == sent["ID"])
        assert (got["from"], got["payload"]) == ("alice", {"text": f"through nginx {tag}"})
        reply = await bob_tab.send_text("alice", f"back {tag}")
        got = await alice_tab.message(lambda m: m["ID"] == reply["ID"])
        assert got["payload"] == {"text": f"back {tag}"} and reply["sequence"] == sent["sequence"] + 1
    finally:
        for tab in tabs:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(tab.close(), 5)


@in_own_loop
async def test_an_upload_in_chunks_through_nginx_sent_and_downloaded(deployment):
    """The filesystem flow (messaging/api/uploads.py): create, PUT two chunks (a full 4 MiB
    one fits under client_max_body_size), complete, send as a file message, download."""
    alice, bob = [await asyncio.to_thread(logged_in, deployment.front, name) for name in USERS]
    data = secrets.token_bytes(CHUNK + 300_000)

    def upload():
        status, created = alice.post_json("/api/uploads/", {"kind": "file", "name": "report.bin", "size": len(data)})
        assert status == 201, created
        upload_uuid = created["upload"]["uuid"]
        assert created["target"]["chunkSize"] == CHUNK
        for offset in range(0, len(data), CHUNK):
            status, _, body = alice.send(
                "PUT",
                f"/api/uploads/{upload_uuid}/data?offset={offset}",
                data[offset : offset + CHUNK],
                {"Content-Type": "application/octet-stream"},
            )
            assert status == 200 and json.loads(body) == {"received": min(len(data), offset + CHUNK)}, body
        status, done = alice.post_json(f"/api/uploads/{upload_uuid}/complete", {})
        assert status == 200 and done["upload"]["size"] == len(data), done
        return upload_uuid

    upload_uuid = await asyncio.to_thread(upload)
    tab = await RemoteTab.open(deployment.front, alice.cookies["sessionid"])
    try:
        message = {"to": "bob", "conversationType": "C2C", "type": "TIMFileElem", "payload": {"uuid": upload_uuid}}
        sent = (await tab.request("sendMessage", message=message))["message"]
    finally:
        await asyncio.wait_for(tab.close(), 5)

    status, headers, body = await asyncio.to_thread(bob.send, "GET", sent["payload"]["fileUrl"])
    assert status == 200 and body == data
    assert headers["content-disposition"].startswith("attachment")


def test_a_body_over_client_max_body_size_is_refused_by_nginx(deployment):
    """6 MiB in one PUT: nginx answers 413 itself; no Daphne sees the request."""
    alice = logged_in(deployment.front, "alice")
    status, created = alice.post_json("/api/uploads/", {"kind": "file", "name": "big.bin", "size": 6 * 1024 * 1024})
    assert status == 201, created
    offsets = deployment.log_offsets()

    status, headers, body = alice.send(
        "PUT",
        f"/api/uploads/{created['upload']['uuid']}/data?offset=0",
        b"\0" * (6 * 1024 * 1024),
        {"Content-Type": "application/octet-stream"},
    )

    assert status == 413 and headers["server"].startswith("nginx") and b"413 Request Entity Too Large" in body
    assert all("/data" not in d.log_text(start) for d, start in zip(deployment.daphnes, offsets, strict=True))


def test_static_files_served_by_nginx_hashed_compressed_cached(deployment):
    front = deployment.front
    status, _, page = front.request("GET", "/accounts/login/")
    assert status == 200
    css = re.search(rb'href="(/static/chat/app\.[0-9a-f]{12}\.css)"', page).group(1).decode()
    original = (deployment.static_root / css.removeprefix("/static/")).read_bytes()
    offsets = deployment.log_offsets()

    status, headers, body = front.request("GET", css, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["server"].startswith("nginx")
    assert headers["cache-control"] == "max-age=31536000, public, immutable"
    assert headers["content-encoding"] == "gzip" and gzip.decompress(body) == original
    status, headers, body = front.request("GET", "/static/chat/app.css")
    assert status == 200 and headers["cache-control"] == "max-age=60, public" and "content-encoding" not in headers
    assert all("/static/" not in d.log_text(start) for d, start in zip(deployment.daphnes, offsets, strict=True))

    for path in ("/static/../chatsite/settings.py", "/static/%2e%2e/chatsite/settings.py", "/static../chatsite/settings.py"):
        status, _, body = front.request("GET", path)
        assert status == 404 and b"SECRET_KEY" not in body, path
