"""Accounts: banning and unbanning.

An inactive user is banned: Django refuses their logins and their sessions no
longer authenticate, and ``set_user_active(user, False)`` also closes the sockets
they have open (KICKED_OUT, then close code 4003), on every Daphne process.
"""

from django.db import transaction

from messaging.events import kick_on_commit
from messaging.models import User


def set_user_active(user: User, active: bool) -> bool:
    """Ban (``active=False``) or unban a user. Returns whether anything changed."""
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk).exclude(is_active=active).update(is_active=active)
        user.is_active = active
        if changed and not active:
            kick_on_commit([user.pk], "banned")
    return bool(changed)
