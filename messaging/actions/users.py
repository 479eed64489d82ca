"""Accounts: creating users, their chat profile, banning and unbanning.

An inactive user is banned: Django refuses their logins and their sessions no
longer authenticate, and ``set_user_active(user, False)`` also closes the sockets
they have open (KICKED_OUT, then close code 4003), on every Daphne process.

A profile change (``update_user_profile``) reaches everyone who shows that profile:
the user's own tabs, the C2C peers that have a conversation with them and the
members of their groups get PROFILE_UPDATED; the C2C peers also get their
conversation's ``userProfile`` patched (CONVERSATION_LIST_UPDATED).
"""

from django.db import IntegrityError, transaction
from django.db.models import IntegerField, Value

from messaging import rules, serialize
from messaging.errors import ChatError, ErrorCode
from messaging.events import kick_on_commit, kick_session, publish_on_commit
from messaging.models import Conversation, GroupMember, User

MAX_USER_ID_BYTES = 32  # the SDK's userID: printable ASCII, at most 32 bytes (TIM.md 7)
MAX_NICK = 64
MAX_AVATAR = 500
UNSET = object()


def create_user(
    username,
    *,
    password=None,
    nick="",
    avatar="",
    email="",
    is_staff=False,
    is_superuser=False,
) -> User:
    """A new user. ``username`` is the SDK's userID; ``password`` None makes an account
    that cannot log in with a password. 10004 for a bad userID, nick or avatar, or a
    userID already taken."""
    check_user_id(username)
    _check_profile(nick, avatar)
    if password is not None and not isinstance(password, str):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "password must be a string")
    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=username,
                password=password,
                email=email,
                nick=nick,
                avatar=avatar,
                is_staff=is_staff or is_superuser,
                is_superuser=is_superuser,
            )
    except IntegrityError:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"user {username!r} already exists") from None


def check_user_id(username):
    """The SDK's userID rule (printable ASCII, at most 32 bytes), without spaces: 10004."""
    if not isinstance(username, str) or not 0 < len(username.encode()) <= MAX_USER_ID_BYTES:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"userID must be 1 to {MAX_USER_ID_BYTES} bytes")
    if not username.isascii() or not username.isprintable() or " " in username:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "userID must be printable ASCII without spaces")


def update_user_profile(user: User, *, nick=UNSET, avatar=UNSET) -> User:
    """Change the user's nick and/or avatar; only what differs is written and announced.

    Errors: 10004 for a nick over 64 characters or an avatar over 500, or a value that
    is not a string. Who is told is computed in one query, whatever the number of
    peers and groups.
    """
    wanted = {name: value for name, value in (("nick", nick), ("avatar", avatar)) if value is not UNSET}
    _check_profile(wanted.get("nick", ""), wanted.get("avatar", ""))
    with transaction.atomic():
        current = User.objects.select_for_update().values("nick", "avatar").get(pk=user.pk)
        changes = {name: value for name, value in wanted.items() if current[name] != value}
        user.nick, user.avatar = current["nick"], current["avatar"]
        if not changes:
            return user
        User.objects.filter(pk=user.pk).update(**changes)
        for name, value in changes.items():
            setattr(user, name, value)
        profile = serialize.user_profile(user)
        peers, co_members = _profile_audience(user)
        publish_on_commit("PROFILE_UPDATED", [profile], [user.pk, *sorted(peers | co_members)])
        if peers:
            patch = [{"conversationID": rules.c2c_conversation_id(user.username), "userProfile": profile}]
            publish_on_commit("CONVERSATION_LIST_UPDATED", patch, sorted(peers))
    return user


def _check_profile(nick, avatar):
    if not isinstance(nick, str) or len(nick) > MAX_NICK:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"nick must be a string of at most {MAX_NICK} characters")
    if not isinstance(avatar, str) or len(avatar) > MAX_AVATAR:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"avatar must be a URL of at most {MAX_AVATAR} characters")


def _profile_audience(user: User):
    """(C2C peers with a conversation with ``user``, members of ``user``'s groups), as
    sets of user pks, from one query (a UNION tagged by where each row came from)."""
    peers = Conversation.objects.filter(peer=user).annotate(source=Value(0, output_field=IntegerField()))
    groups = GroupMember.objects.filter(user=user).values("group_id")
    members = (
        GroupMember.objects.filter(group_id__in=groups).exclude(user=user).annotate(source=Value(1, output_field=IntegerField()))
    )
    rows = list(peers.values_list("user_id", "source").union(members.values_list("user_id", "source")))
    return {pk for pk, source in rows if source == 0}, {pk for pk, source in rows if source == 1}


def end_session(user: User | None, session_key) -> None:
    """The login session ``session_key`` ended (the user logged out): every socket
    opened with it gets KICKED_OUT (``userSigExpired``: its credential is gone) and is
    closed with 4001, on every process; the user's other sessions stay."""
    if session_key:
        kick_session(session_key, "userSigExpired")


def set_user_active(user: User, active: bool) -> bool:
    """Ban (``active=False``) or unban a user. Returns whether anything changed."""
    with transaction.atomic():
        changed = User.objects.filter(pk=user.pk).exclude(is_active=active).update(is_active=active)
        user.is_active = active
        if changed and not active:
            kick_on_commit([user.pk], "banned")
    return bool(changed)
