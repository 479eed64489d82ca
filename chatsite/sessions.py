"""Django's database session store, its row read with a query compiled once.

Every WebSocket handshake loads its session (chatsite/socket_auth.py), and so does every
HTTP request with a session cookie. Through the ORM, building and compiling that one
query was an eighth of a restarted Daphne's time while a thousand clients reconnected
(docs/PERFORMANCE.md, "the storm on a held socket"). Here it is compiled once
(messaging/compiled.py) and run with each call's key; an expired row counts as none, as
Django's ``expire_date__gt=now()`` filter has it. Everything else (saving, creating,
cycling keys, flushing, ``clearsessions``) is Django's ``db.SessionStore``.
"""

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.utils import timezone

from messaging.compiled import CompiledQuery

SESSION_BY_KEY = CompiledQuery(lambda key: Session.objects.filter(session_key=key), str)


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        key = self.session_key
        rows = SESSION_BY_KEY.list(key) if isinstance(key, str) and key else []
        if rows and rows[0].expire_date > timezone.now():
            return rows[0]
        self._session_key = None
        return None
