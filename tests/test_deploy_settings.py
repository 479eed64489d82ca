"""Production settings: `check --deploy` is clean over HTTPS, the repository holds no
secret key to fall back on, and the demo accounts are never made on a real database
(issue 9 findings). Each case runs `manage.py` in a child process with its own
environment, as a deployment would start."""

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CHAT_", "DATABASE_URL", "REDIS_URL"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "chatsite.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SECRET_KEY=secrets.token_urlsafe(50), CHAT_HTTPS="1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_without_https_check_deploy_names_what_is_missing():
    """The same check fails loudly when the HTTPS settings are off, so the test above is not vacuous."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SECRET_KEY=secrets.token_urlsafe(50))
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr + result.stdout


@pytest.mark.parametrize(
    "key", ["dev-only-insecure-key-change-me-in-production-0123456789", "short-key", "django-insecure-" + "x" * 40]
)
def test_the_server_refuses_a_published_or_short_secret_key_outside_debug(key):
    result = manage("check", DJANGO_SECRET_KEY=key)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is a published or short key" in result.stderr
    assert manage("check", DJANGO_SECRET_KEY=key, DJANGO_DEBUG="1").returncode == 0  # a developer's DEBUG run may


def test_without_a_key_a_checkout_makes_its_own_private_one(tmp_path):
    key_file = tmp_path / "secret"
    script = "from django.conf import settings; print(settings.SECRET_KEY)"

    first = manage("shell", "--no-imports", "-c", script, CHAT_SECRET_KEY_FILE=str(key_file))
    second = manage("shell", "--no-imports", "-c", script, CHAT_SECRET_KEY_FILE=str(key_file))

    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.strip()) >= 50
    assert first.stdout.strip() == key_file.read_text()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_seed_demo_refuses_a_database_other_than_the_embedded_sqlite(db, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(connection, "vendor", "postgresql")
    with pytest.raises(CommandError, match="published password"):
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    from messaging.models import User

    assert not User.objects.exists()


def test_over_https_the_login_throttle_counts_the_client_behind_one_proxy():
    """Counting the proxy's own address would let anyone lock anyone out (every client one
    address): with CHAT_HTTPS the throttle reads the client from X-Forwarded-For."""
    script = (
        "from django.test import RequestFactory; from axes.helpers import get_client_ip_address; "
        "print(get_client_ip_address(RequestFactory().get('/', REMOTE_ADDR='10.0.0.1', "
        "HTTP_X_FORWARDED_FOR='6.6.6.6, 203.0.113.7, 10.0.0.2')))"
    )
    key = secrets.token_urlsafe(50)
    assert manage("shell", "--no-imports", "-c", script, DJANGO_SECRET_KEY=key, CHAT_HTTPS="1").stdout.strip() == "10.0.0.2"
    assert manage("shell", "--no-imports", "-c", script, DJANGO_SECRET_KEY=key).stdout.strip() == "10.0.0.1"
    assert (
        manage("shell", "--no-imports", "-c", script, DJANGO_SECRET_KEY=key, CHAT_HTTPS="1", CHAT_PROXY_COUNT="2").stdout.strip()
        == "203.0.113.7"
    )


@pytest.mark.parametrize("layer", ["pubsub", "core"])
def test_redis_url_may_list_several_hosts_for_the_channel_layer(layer):
    """REDIS_URL="redis://a/0, redis://b/0": channels-redis shards over both (in the order
    given, the same on every Daphne); presence and the rate counters use the first.
    tests/integration/test_redis_shards.py runs two Daphnes on two Redis servers."""
    script = (
        "import json; from django.conf import settings; "
        "print(json.dumps([settings.REDIS_URL, [h['address'] for h in settings.CHANNEL_LAYERS['default']['CONFIG']['hosts']]]))"
    )
    urls = "redis://10.0.0.1:6379/0, redis://10.0.0.2:6380/1,"
    result = manage("shell", "--no-imports", "-c", script, REDIS_URL=urls, CHAT_CHANNEL_LAYER=layer)
    assert result.returncode == 0, result.stderr
    first, hosts = json.loads(result.stdout)
    assert first == "redis://10.0.0.1:6379/0"
    assert hosts == ["redis://10.0.0.1:6379/0", "redis://10.0.0.2:6380/1"]

    result = manage("shell", "--no-imports", "-c", script, REDIS_URL="redis://10.0.0.1:6379/0", CHAT_CHANNEL_LAYER=layer)
    assert json.loads(result.stdout) == ["redis://10.0.0.1:6379/0", ["redis://10.0.0.1:6379/0"]]
