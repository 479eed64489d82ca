"""What a socket reads about its user when it opens and when its groups change."""

from messaging import rules
from messaging.compiled import CompiledQuery
from messaging.models import User
from messaging.queries import conversation_list, groups

# Compiled once (messaging/compiled.py): every socket reads it when it opens.
USER_STATE = CompiledQuery(lambda pk: User.objects.filter(pk=pk).values_list("is_active", "nick", "avatar"), int)


def load_session_state(user: User):
    """(still active?, (conversationID -> unread count, the muted conversations), the threads of the user's groups, the
    rules for the hello frame). Three queries, and a fourth at most once per
    RUNTIME_SETTINGS_TTL per process: the rules carry run-time settings (messaging/runtime.py),
    which may need the settings row, so they are read here, in the database thread, and
    never in the consumer's event loop."""
    rows = USER_STATE.list(user.pk)
    user.is_active, user.nick, user.avatar = rows[0] if rows else (False, user.nick, user.avatar)
    return user.is_active, conversation_list.get_unread_state(user), groups.get_group_thread_ids(user), rules.client_rules()


def refresh_groups(user: User):
    """The user's group list and their threads (the channel-layer groups to follow)."""
    return groups.get_group_list(user), groups.get_group_thread_ids(user)
