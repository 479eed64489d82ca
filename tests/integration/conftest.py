"""Fixtures that find the real services of the integration tests.

- PostgreSQL at ``CHAT_TEST_POSTGRES_URL`` (default ``postgres://postgres@127.0.0.1:5432``,
  trust auth): the tests make databases of their own with unique names and drop them.
- Redis at ``CHAT_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``): the tests
  keep their keys under a unique channel-layer prefix, so parallel runs never see
  each other's events, and delete them at the end.
- An S3-protocol server at ``CHAT_TEST_S3_ENDPOINT`` (``.ci/run`` starts moto's server
  on loopback and sets it; there is no default, since nothing listens by default).

When a service is absent the fixture calls ``need_service``: the test is skipped on
a developer's machine and fails in CI, where ``CHAT_REQUIRE_SERVICES=1``.

``daphne_env`` and ``migrate_with_sessions`` set up what a Daphne of these tests runs
on: its environment, the migrated database and users with a session each.

Child processes and servers (free ports, Daphne, Redis, the WebSocket client) are
``tests/servers.py``'s, shared with the browser tests.
"""

import contextlib
import json
import os
import secrets
import urllib.error
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from psycopg import sql

from tests.conftest import need_service
from tests.servers import DIRECT, child_env, manage

POSTGRES_URL = os.environ.get("CHAT_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432").rstrip("/")
REDIS_URL = os.environ.get("CHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CONNECT_TIMEOUT = 3


def unique_name(prefix):
    """A name no other run uses at the same time (databases, key prefixes, buckets)."""
    return f"{prefix}_{secrets.token_hex(5)}"


def maintenance_connection(postgres_url):
    """An autocommit connection to the server's ``postgres`` database (CREATE/DROP DATABASE)."""
    return psycopg.connect(f"{postgres_url}/postgres", autocommit=True, connect_timeout=CONNECT_TIMEOUT)


def drop_database(postgres_url, name):
    """Drop ``name`` if it exists, closing any connection a killed process left behind."""
    with maintenance_connection(postgres_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def fresh_database(postgres_url):
    """An empty database with a unique name; yields its DATABASE_URL and drops it at exit."""
    name = unique_name("chat_it")
    with maintenance_connection(postgres_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"{postgres_url}/{name}"
    finally:
        drop_database(postgres_url, name)


def daphne_env(database_url, redis_url, *, layer="pubsub", prefix="asgi"):
    """The environment of a Daphne (or ``manage.py``) on the test's database and Redis,
    with the channels-redis ``layer`` and channel-layer key ``prefix`` given."""
    return child_env(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_SETTINGS_MODULE="chatsite.settings",
        CHAT_CHANNEL_LAYER=layer,
        CHAT_CHANNEL_PREFIX=prefix,
        CHAT_DB_POOL_MIN=1,
        CHAT_DB_POOL_MAX=4,
        CHAT_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED=1,
    )


# Users and their sessions, made in the test database by a child ``manage.py shell``
# (as ``django.test.Client.force_login`` does): a session cookie then works on any
# Daphne, since sessions live in the shared database. Logging in through the form
# would tie these tests to the login template, which belongs to the UI.
CREATE_USERS_AND_SESSIONS = """
import json, sys
from importlib import import_module
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from messaging import actions
sessions = {}
for name in USERS:
    user = actions.create_user(name, password="pw-" + name, nick=name.title())
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    sessions[name] = session.session_key
print("SESSIONS=" + json.dumps(sessions))
"""


def migrate_with_sessions(env, usernames):
    """Migrate the database of ``env``, create ``usernames`` with a session each;
    returns {username: session key} (the ``sessionid`` cookie)."""
    manage(env, "migrate", "--noinput")
    output = manage(env, "shell", "-c", f"USERS = {list(usernames)!r}\n{CREATE_USERS_AND_SESSIONS}")
    return json.loads(output.rsplit("SESSIONS=", 1)[1])


@pytest.fixture(scope="session")
def postgres_url():
    """The PostgreSQL server's URL without a database name; needs CREATE DATABASE rights."""
    try:
        with maintenance_connection(POSTGRES_URL) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error as error:
        need_service("PostgreSQL", f"cannot connect to {POSTGRES_URL}: {' '.join(str(error).split())}")
    assert int(version.split(".")[0]) >= 13, f"PostgreSQL {version}: DROP DATABASE ... WITH (FORCE) needs 13+"
    return POSTGRES_URL


@pytest.fixture(scope="session")
def redis_url():
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=CONNECT_TIMEOUT)
    try:
        client.ping()
    except redis.RedisError as error:
        need_service("Redis", f"cannot reach {REDIS_URL}: {error}")
    finally:
        client.close()
    return REDIS_URL


def delete_redis_keys(url, prefix):
    """Delete the keys under ``prefix`` (bounded: SCAN in pages, at most 100,000 keys)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=10)
    try:
        batch = []
        for count, key in enumerate(client.scan_iter(match=f"{prefix}*", count=500)):
            if count >= 100_000:
                break
            batch.append(key)
            if len(batch) == 500:
                client.delete(*batch)
                batch = []
        if batch:
            client.delete(*batch)
    finally:
        client.close()


@pytest.fixture(scope="session")
def s3_endpoint():
    """The S3-protocol server's URL, from CHAT_TEST_S3_ENDPOINT."""
    endpoint = os.environ.get("CHAT_TEST_S3_ENDPOINT", "").rstrip("/")
    if not endpoint:
        need_service("S3 server", "CHAT_TEST_S3_ENDPOINT is not set (.ci/run starts moto's server and sets it)")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        need_service("S3 server", f"CHAT_TEST_S3_ENDPOINT={endpoint!r} is not an http(s) URL")
    try:
        # Any HTTP answer will do (an anonymous ListBuckets may be refused): the server is up.
        DIRECT.open(endpoint + "/", timeout=CONNECT_TIMEOUT).close()
    except urllib.error.HTTPError:
        pass
    except OSError as error:
        need_service("S3 server", f"nothing answers at {endpoint}: {error}")
    return endpoint
