"""The session and the user of every handshake and request, read with queries compiled
once (chatsite/sessions.py, ``ChatUserManager.get`` in messaging/models/users.py): the
same rows and the same refusals as Django's own reads, one statement each, nothing
compiled after the first call. What a socket does with them: tests/test_consumer.py,
tests/test_ban.py."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user
from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from chatsite.sessions import SessionStore
from messaging import actions
from messaging.models import User
from tests.conftest import session_cookie
from tests.test_compiled import fields

pytestmark = pytest.mark.django_db


class Request:
    def __init__(self, session):
        self.session = session


def test_the_site_uses_the_compiled_session_store(settings):
    assert settings.SESSION_ENGINE == "chatsite.sessions" and issubclass(SessionStore, db.SessionStore)


def test_a_user_by_primary_key_is_the_orms_row_in_one_statement_compiled_once(alice, bob, compiles):
    User.objects.get(pk=alice.pk)  # the first call compiles
    compiles.clear()
    with CaptureQueriesContext(connection) as queries:
        found = User.objects.get(pk=bob.pk)
    assert len(queries) == 1 and compiles == []
    assert fields(found) == fields(User.objects.get_queryset().get(pk=bob.pk)) and found._state.adding is False
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=bob.pk + 1000)
    # Any other get is the queryset's: by name, with a string primary key, out of range.
    assert User.objects.get(username="alice") == alice and User.objects.get(pk=str(alice.pk)) == alice
    with pytest.raises(User.DoesNotExist):
        User.objects.get(pk=2**70)


def test_a_related_managers_get_keeps_its_filter(alice, bob):
    """Django derives a related manager's class from the default manager's: ``user_set``
    of an auth group must still look only among the group's users."""
    from django.contrib.auth.models import Group as AuthGroup

    from messaging.actions.moderation import MODERATORS_GROUP
    from tests.test_admin_moderation import make_staff

    mod = make_staff("mod", moderator=True)
    group = AuthGroup.objects.get(name=MODERATORS_GROUP)
    assert group.user_set.get(pk=mod.pk) == mod
    with pytest.raises(User.DoesNotExist):
        group.user_set.get(pk=bob.pk)


def test_a_session_is_read_in_one_statement_compiled_once_and_expired_or_unknown_ones_are_empty(alice, compiles):
    key = session_cookie(alice)
    SessionStore(key).load()
    compiles.clear()
    with CaptureQueriesContext(connection) as queries:
        data = SessionStore(key).load()
    assert len(queries) == 1 and compiles == []
    assert data == db.SessionStore(key).load() and data["_auth_user_id"] == str(alice.pk)
    unknown = SessionStore("no-such-session-key")
    assert unknown.load() == {} and unknown.session_key is None
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = SessionStore(key)
    assert expired.load() == {} and expired.session_key is None


def test_djangos_get_user_over_them_keeps_its_checks(alice):
    """Django's ``get_user`` (what Channels' and the socket's authentication call) over the
    compiled reads: the user of a good session; none for an inactive user, nor once the
    password changed (the session's hash no longer matches)."""
    key = session_cookie(alice)
    assert get_user(Request(SessionStore(key))) == alice
    actions.set_user_active(alice, False)
    assert not get_user(Request(SessionStore(key))).is_authenticated
    actions.set_user_active(alice, True)
    assert get_user(Request(SessionStore(key))) == alice
    browser = Client()  # another session changes the password: this one's hash no longer matches
    browser.force_login(alice)
    form = {"old_password": "pw-alice", "new_password1": "n3w-secret-pw", "new_password2": "n3w-secret-pw"}
    assert browser.post("/accounts/password_change/", form).status_code == 302
    assert not get_user(Request(SessionStore(key))).is_authenticated
