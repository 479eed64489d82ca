"""The settings moderators change while the site runs, as every process sees them.

``get(name)`` is the value of ``ChatSettings`` (the one row moderators edit in the admin)
where a moderator set one, and the deployment's default (``messaging.conf``) otherwise.
``banned_words()`` is the compiled matcher of the current list.

Each process keeps the row for ``RUNTIME_SETTINGS_TTL`` seconds (default 5), so reading a
setting costs no query on the send path; a change made in a process applies there at once
(``actions.update_chat_settings`` installs the new row) and in the others within the TTL.
Tests install an empty row for the whole test (``use_defaults``): query counts stay fixed,
and a test that changes a setting does it through the action, as a moderator would.
"""

import threading
import time

from messaging import conf
from messaging.banned_words import NONE, BannedWords

# Setting name (as in messaging.conf) -> ChatSettings field. Empty fields fall back to conf.
FIELDS = {
    "REVOKE_WINDOW": "revoke_window",
    "EDIT_WINDOW": "edit_window",
    "GROUP_SEND_RATE": "group_send_rate",
    "FRIENDSHIP_CHECK": "friendship_check",
    "BANNED_WORDS_ACTION": "banned_words_action",
    "MAX_IMAGE_BYTES": "max_image_bytes",
    "MAX_AUDIO_BYTES": "max_audio_bytes",
    "MAX_VIDEO_BYTES": "max_video_bytes",
    "MAX_FILE_BYTES": "max_file_bytes",
    "USER_STORAGE_QUOTA": "user_storage_quota",
    "RETENTION_DAYS": "retention_days",
    "OPEN_SIGNUP": "open_signup",
}


class Snapshot:
    def __init__(self, row=None):
        self.values = {}
        words = ""
        if row is not None:
            self.values = {name: getattr(row, field) for name, field in FIELDS.items()}
            words = row.banned_words
        self._words_text = words
        self._banned_words = None

    def get(self, name):
        value = self.values.get(name)
        if value is None or value == "":
            return conf.get(name)
        return value

    def banned_words(self) -> BannedWords:
        if self._banned_words is None:
            self._banned_words = BannedWords(self._words_text.splitlines()) if self._words_text.strip() else NONE
        return self._banned_words


_lock = threading.Lock()
_current = None
_expires = 0.0


def _load():
    from messaging.models import ChatSettings

    return Snapshot(ChatSettings.objects.filter(pk=1).first())


def current() -> Snapshot:
    global _current, _expires
    snapshot = _current
    if snapshot is not None and time.monotonic() < _expires:
        return snapshot
    fresh = _load()
    with _lock:
        _current, _expires = fresh, time.monotonic() + conf.get("RUNTIME_SETTINGS_TTL")
    return fresh


def get(name):
    return current().get(name)


def banned_words() -> BannedWords:
    return current().banned_words()


def install(row):
    """Make ``row`` this process's settings now (after the action that saved it commits)."""
    global _current, _expires
    with _lock:
        _current, _expires = Snapshot(row), time.monotonic() + conf.get("RUNTIME_SETTINGS_TTL")


def use_defaults():
    """Tests: the deployment's defaults for good (no row, no query) until ``install``."""
    global _current, _expires
    with _lock:
        _current, _expires = Snapshot(None), float("inf")


def forget():
    """The next read loads the row again."""
    global _current, _expires
    with _lock:
        _current, _expires = None, 0.0
