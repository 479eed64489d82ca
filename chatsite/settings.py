"""Settings, read from the environment with embedded defaults.

With no variables set the site runs on a fresh machine: SQLite, the in-memory
channel layer and a local media folder. ``DATABASE_URL`` (PostgreSQL),
``REDIS_URL`` (channels-redis) and ``CHAT_S3_BUCKET`` (django-storages S3) switch
each part to its production engine; nothing else changes.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# Served over TLS by a proxy in front (see "HTTPS" below).
CHAT_HTTPS = env_bool("CHAT_HTTPS", False)


def local_secret_key(path):
    """This checkout's own random key, made on first use (``make run``, the tests): the
    repository holds no key to fall back on. A deployment sets DJANGO_SECRET_KEY."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(key)
        return key
    except FileExistsError:  # another process made it first
        return path.read_text().strip()


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or local_secret_key(
    Path(os.environ.get("CHAT_SECRET_KEY_FILE", str(BASE_DIR / ".secret_key")))
)
# The key this repository once shipped as a fallback, and keys too short to be secret:
# refused outside DEBUG, so a deployment cannot run on a key anyone can read.
if not DEBUG and (
    SECRET_KEY.startswith("dev-only-insecure-key") or len(SECRET_KEY) < 40 or SECRET_KEY.startswith("django-insecure-")
):
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is a published or short key: set a random one of 50 characters")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "axes",
    "csp",
    "ninja",  # the server API's docs page: Swagger UI from its static files, not a CDN
    "messaging",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (WhiteNoise, made async for Daphne: chatsite/staticfiles.py), before
    # sessions and the rest, which a static file does not need. CHAT_SERVE_STATIC=0 when
    # the web server in front serves /static/ itself (deploy/nginx/chat.conf does).
    *(["chatsite.staticfiles.StaticFilesMiddleware"] if env_bool("CHAT_SERVE_STATIC", True) else []),
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language: the language cookie (the settings' switch, django.views.i18n.set_language),
    # else the browser's Accept-Language, else English (docs/ARCHITECTURE.md "Languages").
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as axes asks: it turns a locked-out login into the lockout page (429).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "chatsite.urls"
ASGI_APPLICATION = "chatsite.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Channels runs ORM calls in a thread pool: without a pool every call
        # would open a connection of its own.
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": int(os.environ.get("CHAT_DB_POOL_MIN", "2")),
            "max_size": int(os.environ.get("CHAT_DB_POOL_MAX", "20")),
            "timeout": 10,
        }
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        # Parameters bound by the server, and a statement run CHAT_DB_PREPARE times on a
        # connection prepared there: PostgreSQL then parses and plans the send path's
        # statements once per connection, not once per message (docs/PERFORMANCE.md).
        # Django turns both off by default for poolers in transaction mode (PgBouncer
        # before 1.21), which cannot keep a session's prepared statements:
        # CHAT_DB_PREPARE=off behind one.
        prepare = os.environ.get("CHAT_DB_PREPARE", "2")
        if prepare != "off":
            DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
            DATABASES["default"]["OPTIONS"]["prepare_threshold"] = int(prepare)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("CHAT_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                # WAL + a busy timeout + IMMEDIATE transactions: concurrent sends
                # wait for the write lock instead of failing with "database is locked".
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "messaging.User"

# --- Channel layer -----------------------------------------------------------------
# One Redis URL, or several separated by commas: channels-redis then spreads channels and
# groups over them (a hash of each name picks its host; every Daphne must list the same
# hosts in the same order). Presence and the rate counters live on the first one.
REDIS_URLS = env_list("REDIS_URL", [])
REDIS_URL = REDIS_URLS[0] if REDIS_URLS else ""
# Which channels-redis layer: "pubsub" (default) or "core". Chosen by measurement
# (docs/PERFORMANCE.md): with pub/sub a group message is one PUBLISH that each
# Daphne process receives once and hands to its local sockets; the core layer
# pushes and pops one Redis list entry per socket. Both are at-most-once; the
# database is the record either way.
CHAT_CHANNEL_LAYER = os.environ.get("CHAT_CHANNEL_LAYER", "pubsub")
if REDIS_URL and CHAT_CHANNEL_LAYER == "pubsub":
    CHANNEL_LAYERS = {
        "default": {
            # channels-redis's pub/sub layer that closes its sockets for a resync when
            # its Redis connection was lost and made again (events lost meanwhile).
            "BACKEND": "messaging.channel_layer.PubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": url, "socket_connect_timeout": 5} for url in REDIS_URLS],
                "prefix": os.environ.get("CHAT_CHANNEL_PREFIX", "asgi"),
            },
        }
    }
elif REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # channels-redis waits for a socket's next event with a 5 s blocking
                # read; redis-py 8's default 5 s socket timeout would fire first and
                # crash every idle socket (channels_redis#422).
                "hosts": [{"address": url, "socket_timeout": 30, "socket_connect_timeout": 5} for url in REDIS_URLS],
                "prefix": os.environ.get("CHAT_CHANNEL_PREFIX", "asgi"),
                # The sockets of one Daphne process share one Redis list for their
                # events, and a send over ``capacity`` is dropped: size it for a
                # process's burst, not a socket's (the default is 100).
                "capacity": 20000,
                "expiry": 60,
                # Longer than any WebSocket lives: sockets never silently leave groups.
                "group_expiry": 7 * 24 * 3600,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 2000}}}

# --- Files ------------------------------------------------------------------------
MEDIA_ROOT = Path(os.environ.get("CHAT_MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# `manage.py collectstatic` (run by `make run`, the tests' servers and a deployment)
# copies every file here under a hashed name, compressed (chatsite/staticfiles.py).
STATIC_ROOT = Path(os.environ.get("CHAT_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATIC_STORAGE = {"BACKEND": "chatsite.staticfiles.StaticStorage"}

CHAT_S3_BUCKET = os.environ.get("CHAT_S3_BUCKET", "")
if CHAT_S3_BUCKET:
    STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": CHAT_S3_BUCKET,
                "endpoint_url": os.environ.get("CHAT_S3_ENDPOINT_URL") or None,
                "access_key": os.environ.get("CHAT_S3_ACCESS_KEY") or None,
                "secret_key": os.environ.get("CHAT_S3_SECRET_KEY") or None,
                "region_name": os.environ.get("CHAT_S3_REGION", "us-east-1"),
                "querystring_auth": True,
                "querystring_expire": 300,
                "file_overwrite": False,
                "default_acl": None,
            },
        },
        "staticfiles": STATIC_STORAGE,
    }
else:
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": STATIC_STORAGE,
    }


# --- Content-Security-Policy (django-csp) ------------------------------------------------
# Every page: scripts and styles from this site's files only (no inline script, no
# style attribute: the UI styles through the CSSOM), no plugins, no framing, forms
# posting here only. Files (images, voice, video) come from this site, from blob:
# previews, or from the S3 bucket the presigned URLs point at (CHAT_FILE_ORIGINS to
# name other origins, e.g. a CDN in front of the bucket).
def url_origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


CHAT_FILE_ORIGINS = env_list("CHAT_FILE_ORIGINS", [])
if CHAT_S3_BUCKET and not CHAT_FILE_ORIGINS:
    _endpoint = os.environ.get("CHAT_S3_ENDPOINT_URL")
    _region = os.environ.get("CHAT_S3_REGION", "us-east-1")
    CHAT_FILE_ORIGINS = (
        [url_origin(_endpoint)]
        if _endpoint
        else [f"https://{CHAT_S3_BUCKET}.s3.amazonaws.com", f"https://{CHAT_S3_BUCKET}.s3.{_region}.amazonaws.com"]
    )
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *CHAT_FILE_ORIGINS],
        "media-src": [SELF, "blob:", *CHAT_FILE_ORIGINS],
        "connect-src": [SELF, *CHAT_FILE_ORIGINS],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Auth ---------------------------------------------------------------------------
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
# Login throttling (chatsite/security.py): axes checks before the password does.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = "chatsite.security.login_cooloff"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "chatsite.security.lockout_response"
AXES_VERBOSE = False
# Behind a proxy (CHAT_HTTPS=1 or CHAT_PROXY_COUNT) the client's address is the last
# one the proxy appended to X-Forwarded-For; directly, the socket's.
# Over HTTPS the site is behind a proxy (CHAT_HTTPS says so): one, unless told otherwise;
# counting the proxy's own address would let anyone lock anyone out.
# The same address counts for the chat's rate limits (messaging/ratelimit.client_address).
CHAT_PROXY_COUNT = int(os.environ.get("CHAT_PROXY_COUNT", "1" if CHAT_HTTPS else "0"))
AXES_CLIENT_IP_CALLABLE = "chatsite.security.client_ip"
# The database store with its read compiled once (chatsite/sessions.py).
SESSION_ENGINE = "chatsite.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- E-mail (password reset links) --------------------------------------------------------
# With EMAIL_HOST set, mail goes out over SMTP; without it, to the console (the log), so a
# fresh checkout's "Forgot your password?" shows the link there.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "587"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "chat@localhost")
PASSWORD_RESET_TIMEOUT = int(os.environ.get("CHAT_PASSWORD_RESET_SECONDS", str(3 * 24 * 3600)))

# --- HTTPS (CHAT_HTTPS=1: the site is served over TLS, usually by a proxy in front) -----
# The proxy must set X-Forwarded-Proto (docs/DEPLOY.md); then plain HTTP is redirected,
# browsers are told to use HTTPS only (HSTS) and cookies never travel in clear.
if CHAT_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("CHAT_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("CHAT_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("CHAT_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Asking browsers to preload the domain is the domain owner's decision (hard to
        # undo), not the software's: opt in with CHAT_HSTS_PRELOAD=1.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LANGUAGE_CODE = "en"
# English and Simplified Chinese (the SDK's own users read Chinese): templates through
# {% translate %}, the UI's modules through the JavaScript catalog (static/chat/i18n.js).
# Translations: locale/zh_Hans/LC_MESSAGES/django.po and djangojs.po, with their compiled .mo
# committed (tests/test_i18n.py fails on an untranslated entry or a stale .mo).
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("CHAT_LOG_LEVEL", "WARNING")},
}

# Every chat tunable lives in messaging/conf.py (validated at start-up).
CHAT = {}
# The benchmarks raise the group send rate so that their load measures the send path
# (limiter included), not shedding.
if os.environ.get("CHAT_GROUP_SEND_RATE"):
    CHAT["GROUP_SEND_RATE"] = int(os.environ["CHAT_GROUP_SEND_RATE"])
# Deployments (and test runs) that share a Redis under different channel prefixes keep
# their rate-limit counters apart too.
if os.environ.get("CHAT_CHANNEL_PREFIX"):
    CHAT["RATE_LIMIT_KEY_PREFIX"] = os.environ["CHAT_CHANNEL_PREFIX"] + ":rate:"
# A sender's budgets and the socket cap (messaging/ratelimit.py, messaging/conf.py), e.g.
# CHAT_SEND_RATE_PER_USER=5 CHAT_MAX_SOCKETS_PER_USER=10; a rate of 0 turns a budget off.
for _kind in ("SEND", "OP", "UPLOAD"):
    for _per in ("USER", "ADDRESS"):
        if os.environ.get(f"CHAT_{_kind}_RATE_PER_{_per}"):
            CHAT[f"{_kind}_RATE_PER_{_per}"] = float(os.environ[f"CHAT_{_kind}_RATE_PER_{_per}"])
        if os.environ.get(f"CHAT_{_kind}_BURST_PER_{_per}"):
            CHAT[f"{_kind}_BURST_PER_{_per}"] = int(os.environ[f"CHAT_{_kind}_BURST_PER_{_per}"])
if os.environ.get("CHAT_MAX_SOCKETS_PER_USER"):
    CHAT["MAX_SOCKETS_PER_USER"] = int(os.environ["CHAT_MAX_SOCKETS_PER_USER"])
if os.environ.get("CHAT_RATE_LIMIT_EXEMPT_ADDRESSES") is not None:
    CHAT["RATE_LIMIT_EXEMPT_ADDRESSES"] = os.environ["CHAT_RATE_LIMIT_EXEMPT_ADDRESSES"].split()
# C2C only between two-way friends (20009 otherwise): messaging/conf.py FRIENDSHIP_CHECK.
if os.environ.get("CHAT_FRIENDSHIP_CHECK"):
    CHAT["FRIENDSHIP_CHECK"] = env_bool("CHAT_FRIENDSHIP_CHECK")
# Open sign-up at /signup/ by default (moderators still switch it in the admin's Chat settings).
if os.environ.get("CHAT_OPEN_SIGNUP"):
    CHAT["OPEN_SIGNUP"] = env_bool("CHAT_OPEN_SIGNUP")

# Presence timings (messaging/conf.py), e.g. short ones for the integration tests.
for _name in ("PRESENCE_GRACE", "PRESENCE_SOCKET_TTL", "PRESENCE_REFRESH", "PRESENCE_SWEEP"):
    if os.environ.get("CHAT_" + _name):
        CHAT[_name] = float(os.environ["CHAT_" + _name])
if os.environ.get("CHAT_CHANNEL_PREFIX"):
    CHAT["PRESENCE_KEY_PREFIX"] = os.environ["CHAT_CHANNEL_PREFIX"] + ":presence:"
