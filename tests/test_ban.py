"""A banned user is disconnected: every open socket gets KICKED_OUT and closes with 4003."""

import pytest
from channels.db import database_sync_to_async
from django.test import Client

from messaging import actions
from messaging.models import User
from tests.chat_helpers import fast_passwords  # noqa: F401
from tests.ws import Tab

pytestmark = pytest.mark.django_db(transaction=True)


async def closed_with(tab):
    kicked = await tab.wait_event("KICKED_OUT")
    output = await tab.communicator.receive_output(timeout=3)
    return kicked, output


async def test_banning_closes_every_socket_of_the_user(alice, bob):
    first, second, other = await Tab.open(alice), await Tab.open(alice), await Tab.open(bob)

    changed = await database_sync_to_async(actions.set_user_active)(alice, False)

    assert changed is True
    for tab in (first, second):
        kicked, output = await closed_with(tab)
        assert kicked == {"type": "banned"}
        assert output == {"type": "websocket.close", "code": 4003}
    assert await other.communicator.receive_nothing(timeout=0.2)
    assert not await database_sync_to_async(lambda: User.objects.get(pk=alice.pk).is_active)()
    await other.close()


def test_admin_unticking_active_bans_through_the_action(alice, bob, monkeypatch):
    calls = []
    real = actions.set_user_active
    monkeypatch.setattr(
        actions,
        "set_user_active",
        lambda user, active, **kwargs: calls.append((user.username, active)) or real(user, active, **kwargs),
    )
    admin = actions.create_user("boss", password="pw-boss", is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get(f"/admin/messaging/user/{alice.pk}/change/")
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.pop("password", None)
    data["is_active"] = ""
    data["date_joined_0"], data["date_joined_1"] = "2026-01-01", "00:00:00"
    data.pop("date_joined", None)
    data.pop("last_login", None)
    data.pop("groups", None)
    data.pop("user_permissions", None)
    response = client.post(f"/admin/messaging/user/{alice.pk}/change/", data)

    assert response.status_code == 302, response.content[:2000]
    assert calls == [("alice", False)]
    assert not User.objects.get(pk=alice.pk).is_active


def test_set_user_active_is_idempotent(alice):
    assert actions.set_user_active(alice, False) is True
    assert actions.set_user_active(alice, False) is False
    assert actions.set_user_active(alice, True) is True


# --- logging out ------------------------------------------------------------------------------


async def test_logging_out_closes_every_socket_of_that_session_and_no_other(alice, bob):
    """Logging out in one tab left the session's other sockets reading and sending: now
    each gets KICKED_OUT (userSigExpired) and is closed with 4001, as a socket without a
    session is; the user's other login (another browser) and other users stay."""
    first = await Tab.open(alice)
    second = await Tab.open(alice, cookie=first.cookie)
    other_browser, other_user = await Tab.open(alice), await Tab.open(bob)

    def log_out():
        client = Client()
        client.cookies["sessionid"] = first.cookie
        return client.post("/accounts/logout/").status_code

    assert await database_sync_to_async(log_out)() == 302
    for tab in (first, second):
        kicked, output = await closed_with(tab)
        assert kicked == {"type": "userSigExpired"}
        assert output == {"type": "websocket.close", "code": 4001}
    for tab in (other_browser, other_user):
        assert (await tab.request("getMyProfile"))["userID"] in ("alice", "bob")
        assert tab.events == []
        await tab.close()
    # The ended session cannot open a socket again.
    with pytest.raises(AssertionError):
        await Tab.open(alice, cookie=first.cookie)


async def test_changing_the_password_closes_every_socket_opened_before(alice, bob):
    """A stolen session's open socket outlived a password change (and, its session key
    changed, a later logout missed it): now every socket of the user opened before the
    change gets KICKED_OUT (passwordChanged) and 4001; other users' stay."""
    stolen, own = await Tab.open(alice), await Tab.open(alice)
    other = await Tab.open(bob)

    def change_password():
        client = Client()
        client.cookies["sessionid"] = own.cookie
        form = {"old_password": "pw-alice", "new_password1": "n3w-secret-pw", "new_password2": "n3w-secret-pw"}
        return client.post("/accounts/password_change/", form).status_code

    assert await database_sync_to_async(change_password)() == 302
    for tab in (stolen, own):
        kicked, output = await closed_with(tab)
        assert kicked == {"type": "passwordChanged"}
        assert output == {"type": "websocket.close", "code": 4001}
    assert (await other.request("getMyProfile"))["userID"] == "bob" and other.events == []
    await other.close()
