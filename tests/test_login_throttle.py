"""Login throttling (chatsite/security.py, django-axes): 100 wrong passwords in a row
were all tried; now five lock the user ID and address pair out, with a wait that
doubles with each further attempt, shared by every process through the database."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from chatsite import security
from tests.chat_helpers import fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db

PASSWORD = "right-password-1"


@pytest.fixture
def carol_account(db):
    from messaging import actions

    return actions.create_user("carol", password=PASSWORD)


def attempt(password, username="carol", address="203.0.113.7"):
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_pair_out_even_for_the_right_password(carol_account):
    for _ in range(security.LOGIN_FAILURE_LIMIT - 1):
        assert attempt("wrong").status_code == 200  # the form again, with its error
    locked = attempt("wrong")
    assert locked.status_code == 429
    assert b"Too many wrong passwords" in locked.content and b"Wait 1 minute " in locked.content
    assert attempt(PASSWORD).status_code == 429  # no guess is tried while locked


def test_the_wait_doubles_with_each_attempt_while_locked_up_to_an_hour(carol_account):
    for _ in range(100):
        response = attempt("wrong")
    assert response.status_code == 429
    assert b"Wait 60 minutes" in response.content
    assert AccessAttempt.objects.get(username="carol").failures_since_start == 100


def test_other_addresses_and_other_users_are_not_locked_out(carol_account):
    from messaging import actions

    actions.create_user("dave", password=PASSWORD)
    for _ in range(security.LOGIN_FAILURE_LIMIT):
        attempt("wrong")

    assert attempt(PASSWORD, address="198.51.100.9").status_code == 302  # carol from elsewhere
    assert attempt(PASSWORD, username="dave").status_code == 302  # dave from the same address


def test_after_the_wait_the_right_password_works_and_resets_the_count(carol_account):
    for _ in range(security.LOGIN_FAILURE_LIMIT):
        attempt("wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=2))

    assert attempt(PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(username="carol").exists()


def test_behind_a_proxy_the_lockout_is_the_clients_not_the_proxys(carol_account, settings):
    """Every request comes from the proxy's address: counted by it, five wrong guesses by
    anyone would lock carol out for everyone. Behind CHAT_PROXY_COUNT proxies the address
    is the one the proxy saw (the last of X-Forwarded-For), whatever the client put before it."""
    settings.CHAT_PROXY_COUNT = 1

    def via_proxy(password, client):
        forwarded = f"198.51.100.1, {client}"  # the client's own (forged) entry, then the proxy's
        return Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded).post(
            "/accounts/login/", {"username": "carol", "password": password}
        )

    for _ in range(security.LOGIN_FAILURE_LIMIT):
        via_proxy("wrong", "203.0.113.7")
    assert via_proxy(PASSWORD, "203.0.113.7").status_code == 429
    assert via_proxy(PASSWORD, "203.0.113.8").status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}
