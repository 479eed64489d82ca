"""Every chat tunable in one place, with its default.

Override in ``settings.CHAT`` (a dict); unknown names raise ImproperlyConfigured
at start-up, as django-storages does with its settings. Tunables a moderator changes
at run time (revoke window, banned words...) live in the database instead.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULTS = {
    # The SDK's fixed message body limit (bytes of JSON: payload + cloudCustomData).
    "MAX_BODY_BYTES": 12 * 1024,
    # getMessageList: default and maximum page size (the SDK's 15).
    "MESSAGE_PAGE_SIZE": 15,
    # getConversationList: how many conversations come back (the SDK's 100).
    "CONVERSATION_LIST_LIMIT": 100,
    # Longest client message ID we store (the SDK's IDs are ~40 characters).
    "MAX_CLIENT_MESSAGE_ID": 64,
    # Mentions in one group text (userIDs plus @all), and messages merged into one.
    "MAX_AT_USERS": 100,
    "MAX_MERGED_MESSAGES": 100,
    "MAX_GROUP_MEMBERS": 6000,
    # PostgreSQL: database threads per Daphne process for the sockets' ops.
    "DB_THREADS": 4,
    # A frame larger than this is refused before it is parsed.
    "MAX_FRAME_BYTES": 64 * 1024,
    # Upload limits per kind (the SDK's: image 20 MB, audio 20 MB, video and file 100 MB).
    "MAX_IMAGE_BYTES": 20 * 1024 * 1024,
    "MAX_AUDIO_BYTES": 20 * 1024 * 1024,
    "MAX_VIDEO_BYTES": 100 * 1024 * 1024,
    "MAX_FILE_BYTES": 100 * 1024 * 1024,
    # Pillow's decompression-bomb guard: images with more pixels are refused.
    "MAX_IMAGE_PIXELS": 50_000_000,
    # Filesystem storage: the browser sends an upload in requests of at most this size.
    "UPLOAD_CHUNK_BYTES": 4 * 1024 * 1024,
    # Per user: unfinished uploads at once (count and declared bytes), and the bytes of
    # finished files kept (0: no limit). An unfinished upload older than
    # UPLOAD_ABANDONED_AFTER seconds is removed by `manage.py purge_uploads`.
    "MAX_PENDING_UPLOADS": 20,
    "MAX_PENDING_UPLOAD_BYTES": 1024 * 1024 * 1024,
    "USER_STORAGE_QUOTA": 0,
    "UPLOAD_ABANDONED_AFTER": 24 * 3600,
    # Signed download URLs (S3) and presigned upload POSTs live this long (seconds).
    "DOWNLOAD_URL_EXPIRY": 300,
    "UPLOAD_URL_EXPIRY": 900,
    # A merged message whose list is larger than this is stored as an object (downloadKey).
    "MERGER_INLINE_BYTES": 8 * 1024,
    # revokeMessage: how long (seconds) a sender may recall their own message (the SDK's
    # default 2 minutes). Group owners and admins may recall members' messages at any time.
    "REVOKE_WINDOW": 120,
    # modifyMessage: how long (seconds) a sender may edit their own text or custom message.
    "EDIT_WINDOW": 24 * 3600,
    # MESSAGE_READ_RECEIPT_RECEIVED: a sender's tab sends at most one frame per this many
    # seconds, with the latest counts of every message read meanwhile (50 members reading
    # at once is one frame, not 50). The first receipt after a quiet spell goes at once.
    "READ_RECEIPT_WINDOW": 1.0,
    # Group sends per second per group (the SDK's documented 40); over it, lower priorities
    # are shed with 10023 (messaging/ratelimit.py). Counted in Redis when REDIS_URL is set.
    "GROUP_SEND_RATE": 40,
    # Where the rate-limit counters live in Redis (a key per group per second, a key per budget).
    "RATE_LIMIT_KEY_PREFIX": "chat:rate:",
    # A sender's budgets (messaging/ratelimit.py), token buckets: BURST at once, then RATE a
    # second; over one, 10006 (HTTP 429) and nothing done. A rate of 0 turns a budget off.
    # WebSocket sends (every conversation, every priority) per user and per network address.
    # Per user: a person pasting or forwarding dozens of messages at once, or an outbox that
    # sends what was queued offline when the socket comes back, is not stopped.
    "SEND_RATE_PER_USER": 10.0,
    "SEND_BURST_PER_USER": 100,
    # Per address: many people share one behind a NAT (an office, a campus), so it is wide.
    "SEND_RATE_PER_ADDRESS": 100.0,
    "SEND_BURST_PER_ADDRESS": 500,
    # The expensive ops (ratelimit.BUDGETED_OPS: directory searches, createGroup, joinGroup,
    # addFriend), one budget per user; the people picker searches at most ~5 times a second.
    "OP_RATE_PER_USER": 2.0,
    "OP_BURST_PER_USER": 60,
    # Upload creations (POST /api/uploads/), per user and per address, besides the
    # pending-upload quota below (a drop of 50 files at once is fine).
    "UPLOAD_RATE_PER_USER": 1.0,
    "UPLOAD_BURST_PER_USER": 50,
    "UPLOAD_RATE_PER_ADDRESS": 10.0,
    "UPLOAD_BURST_PER_ADDRESS": 200,
    # Addresses with no per-address budget: loopback, where the benches and tests put many
    # users, and where every client seems to be behind a proxy not declared with
    # CHAT_PROXY_COUNT (README, Configuration). Their users keep their own budgets.
    "RATE_LIMIT_EXEMPT_ADDRESSES": ["127.0.0.1", "::1"],
    # Open sockets per user across every process (counted by messaging/presence.py); the
    # next one is closed with 4029 after a KICKED_OUT push (docs/PROTOCOL.md §1.2). 0: no cap.
    "MAX_SOCKETS_PER_USER": 20,
    # sync: messages in one reply (the client asks again until isSyncCompleted).
    "SYNC_PAGE_SIZE": 200,
    # sync: a conversation more changes behind than this answers 2290 (refetch instead).
    "SYNC_MAX_GAP": 5000,
    # sync: a conversation the client does not name yet brings its unread messages, at most this many.
    "SYNC_NEW_CONVERSATION_MESSAGES": 100,
    # The console's "relationship check for one-to-one messages": when on, a C2C send to a
    # user who is not a two-way friend gets 20009 and nothing is stored (env
    # CHAT_FRIENDSHIP_CHECK=1). Off by default, as the SDK's default.
    "FRIENDSHIP_CHECK": False,
    # Relationship chain limits (the SDK's: 3,000 friends, 1,000 blocked users).
    "MAX_FRIENDS": 3000,
    "MAX_BLACKLIST": 1000,
    "MAX_FRIEND_APPLICATIONS": 1000,
    # Presence (messaging/presence.py). A user whose last tab closed stays online this many
    # seconds, so that a page reload does not flap to offline.
    "PRESENCE_GRACE": 10.0,
    # A socket counts as live this long after its process last vouched for it; a process
    # vouches for all its sockets every PRESENCE_REFRESH seconds. A killed process's users
    # go offline within PRESENCE_SOCKET_TTL + PRESENCE_SWEEP seconds.
    "PRESENCE_SOCKET_TTL": 45.0,
    "PRESENCE_REFRESH": 15.0,
    # How often each process looks for users whose grace or socket expiry has passed.
    "PRESENCE_SWEEP": 1.0,
    # Where presence lives in Redis (when REDIS_URL is set).
    "PRESENCE_KEY_PREFIX": "chat:presence:",
    # Run-time settings (messaging/runtime.py): the defaults of what moderators may change in
    # the admin (ChatSettings). Text messages with a banned word are refused (80001) or masked.
    "BANNED_WORDS_ACTION": "refuse",
    # Messages and files older than this many days are purged by `manage.py purge_history`
    # (0: kept for ever).
    "RETENTION_DAYS": 0,
    # Anyone may create an account at /signup/ (off: accounts are made by an admin or the API).
    "OPEN_SIGNUP": False,
    # reportMessage: reports one user may make in an hour (updating an open report is free);
    # more answer 10006 (actions/reports.py).
    "MAX_REPORTS_PER_HOUR": 20,
    # Sign-up attempts (form posts) an hour from one address before 429 (views.signup).
    "SIGNUP_ATTEMPTS_PER_HOUR": 10,
    # Messages purged per transaction by `manage.py purge_history` (its --batch default).
    "PURGE_BATCH_SIZE": 1000,
    # Seconds each process keeps the ChatSettings row before reading it again.
    "RUNTIME_SETTINGS_TTL": 5.0,
    # The server REST API (docs/API.md): requests per token, counted per process in
    # Django's cache ("N/s", "N/m", "N/h"); the vendor's is 200 a second per API.
    "API_RATE": "200/s",
}


def get(name):
    overrides = getattr(settings, "CHAT", {}) or {}
    return overrides.get(name, DEFAULTS[name])


def validate():
    overrides = getattr(settings, "CHAT", {}) or {}
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise ImproperlyConfigured(f"Unknown CHAT settings: {', '.join(sorted(unknown))}")
    for name, value in overrides.items():
        expected = type(DEFAULTS[name])
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            continue  # a rate of 5 means 5.0
        if not isinstance(value, expected):
            raise ImproperlyConfigured(f"CHAT[{name!r}] must be {type(DEFAULTS[name]).__name__}")
    # A process renews its sockets' expiry every PRESENCE_REFRESH seconds: a refresh
    # slower than the expiry would show live users offline between refreshes.
    if get("PRESENCE_REFRESH") >= get("PRESENCE_SOCKET_TTL"):
        raise ImproperlyConfigured("CHAT['PRESENCE_REFRESH'] must be shorter than CHAT['PRESENCE_SOCKET_TTL']")
