"""Accounts: creating users, their chat profile, banning and unbanning.

An inactive user is banned: Django refuses their logins and their sessions no
longer authenticate, and ``set_user_active(user, False)`` also closes the sockets
they have open (KICKED_OUT, then close code 4003), on every Daphne process.

A profile change (``update_user_profile``) reaches everyone who shows that profile:
the user's own tabs, the C2C peers that have a conversation with them and the
members of their groups get PROFILE_UPDATED; the C2C peers also get their
conversation's ``userProfile`` patched (CONVERSATION_LIST_UPDATED).
"""

import re
import secrets

from django.db import IntegrityError, transaction
from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from messaging import rules, serialize, storage
from messaging.access import access_moderated_user, own_unsent_uploads
from messaging.actions.moderation import record_audit
from messaging.errors import ChatError, ErrorCode
from messaging.events import kick_on_commit, kick_session, publish_on_commit
from messaging.models import Conversation, Friend, FriendApplication, Group, GroupApplication, GroupMember, Upload, User

MAX_USER_ID_BYTES = 32  # the SDK's userID: printable ASCII, at most 32 bytes (TIM.md 7)
MAX_NICK = 64
MAX_AVATAR = 500


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
    if isinstance(nick, str):
        nick = rules.without_bidi_controls(nick)
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


def update_user_profile(user: User, *, moderator: User | None = None, reason="", **fields) -> User:
    """Change the user's profile (the SDK's updateMyProfile; the admin's profile edits).

    ``fields`` are model names (``nick``, ``avatar``, ``gender``, ``birthday``,
    ``location``, ``self_signature``, ``allow_type``, ``profile_custom_field``); only
    what differs is written and announced. ``profile_custom_field`` is merged into the
    stored fields (a value of ``""`` removes its key), as the SDK sets the keys it is
    given. Every value is checked before anything is written (``check_profile_fields``
    for the codes). Who is told is computed in one query, whatever the number of peers
    and groups: PROFILE_UPDATED (the whole Profile) to the user's own tabs, their C2C
    peers and their groups' members; the C2C peers' conversation ``userProfile`` is
    patched too when the nick or the avatar changed.
    """
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"unknown profile field(s): {', '.join(sorted(unknown))}")
    if isinstance(fields.get("nick"), str):
        # A right-to-left override in a name reverses what follows it in every list.
        fields["nick"] = rules.without_bidi_controls(fields["nick"])
    check_profile_fields(fields)
    if moderator is not None:
        access_moderated_user(moderator, user)
    names = list(PROFILE_FIELDS)
    with transaction.atomic():
        current = User.objects.select_for_update().values(*names).get(pk=user.pk)
        wanted = dict(fields)
        if "profile_custom_field" in wanted:
            merged = {**(current["profile_custom_field"] or {}), **wanted["profile_custom_field"]}
            merged = {key: value for key, value in merged.items() if value != ""}
            if len(merged) > MAX_CUSTOM_FIELDS:
                raise ChatError(ErrorCode.INVALID_PARAMETERS, f"at most {MAX_CUSTOM_FIELDS} custom profile fields")
            wanted["profile_custom_field"] = merged
        changes = {name: value for name, value in wanted.items() if current[name] != value}
        for name in names:
            setattr(user, name, current[name])
        if not changes:
            return user
        User.objects.filter(pk=user.pk).update(**changes)
        if moderator is not None:
            diff = {PROFILE_FIELDS[name]: [current[name], value] for name, value in changes.items()}
            record_audit(moderator, "update_profile", "user", user.username, reason=reason, details=diff)
        for name, value in changes.items():
            setattr(user, name, value)
        peers, co_members = _profile_audience(user)
        publish_on_commit("PROFILE_UPDATED", [serialize.profile(user)], [user.pk, *sorted(peers | co_members)])
        if peers and changes.keys() & {"nick", "avatar"}:
            brief = serialize.user_profile(user)
            patch = [{"conversationID": rules.c2c_conversation_id(user.username), "userProfile": brief}]
            publish_on_commit("CONVERSATION_LIST_UPDATED", patch, sorted(peers))
    return user


# The profile the SDK's updateMyProfile sets (model field -> the SDK's name), with the
# vendor's rules (its Profile object and "Profile Management": standard fields are
# strings of at most 500 bytes except the location, 16 bytes; gender and allowType
# take their enum values; birthday is a uint32; custom fields are Tag_Profile_Custom_*
# keys with string values of at most 500 bytes, 20 keys per app at most).
PROFILE_FIELDS = {
    "nick": "nick",
    "avatar": "avatar",
    "gender": "gender",
    "birthday": "birthday",
    "location": "location",
    "self_signature": "selfSignature",
    "allow_type": "allowType",
    "profile_custom_field": "profileCustomField",
}
GENDERS = ("Gender_Type_Unknown", "Gender_Type_Female", "Gender_Type_Male")
ALLOW_TYPES = ("AllowType_Type_NeedConfirm", "AllowType_Type_AllowAny", "AllowType_Type_DenyAny")
# Bytes (UTF-8) per string field; the nick also fits its column (64 characters).
BYTE_LIMITS = {"nick": 500, "avatar": MAX_AVATAR, "self_signature": 500, "location": 16}
MAX_UINT32 = 2**32 - 1
CUSTOM_KEY = re.compile(r"^Tag_Profile_Custom_[A-Za-z0-9_]{1,8}$")
MAX_CUSTOM_FIELDS = 20
MAX_CUSTOM_VALUE_BYTES = 500


def check_profile_fields(fields: dict):
    """Each given profile field, or ChatError: 10004 for a wrong type, an avatar that is
    not on this site's storage or a custom key that is not ``Tag_Profile_Custom_`` and
    1–8 letters, digits or underscores; 40601 for a value over its length; 40605 for a
    gender, allowType or birthday outside its values."""
    for name, value in fields.items():
        sdk_name = PROFILE_FIELDS[name]
        if name in BYTE_LIMITS:
            if not isinstance(value, str):
                raise ChatError(ErrorCode.INVALID_PARAMETERS, f"{sdk_name} must be a string")
            limit = BYTE_LIMITS[name]
            if len(value.encode()) > limit or (name == "nick" and len(value) > MAX_NICK):
                extra = f" and {MAX_NICK} characters" if name == "nick" else ""
                raise ChatError(ErrorCode.PROFILE_VALUE_TOO_LONG, f"{sdk_name} is at most {limit} bytes{extra}")
            if name == "avatar":
                check_avatar_url(value)
        elif name == "gender" and value not in GENDERS:
            raise ChatError(ErrorCode.PROFILE_BAD_VALUE, f"gender must be one of {', '.join(GENDERS)}")
        elif name == "allow_type" and value not in ALLOW_TYPES:
            raise ChatError(ErrorCode.PROFILE_BAD_VALUE, f"allowType must be one of {', '.join(ALLOW_TYPES)}")
        elif name == "birthday" and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_UINT32):
            raise ChatError(ErrorCode.PROFILE_BAD_VALUE, "birthday must be an integer from 0 to 2^32 - 1 (e.g. 20000101)")
        elif name == "profile_custom_field":
            _check_custom_fields(value)


def _check_custom_fields(value):
    if not isinstance(value, dict):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "profileCustomField must be a list of {key, value}")
    if len(value) > MAX_CUSTOM_FIELDS:
        raise ChatError(ErrorCode.INVALID_PARAMETERS, f"at most {MAX_CUSTOM_FIELDS} custom profile fields")
    for key, item in value.items():
        if not isinstance(key, str) or not CUSTOM_KEY.fullmatch(key):
            raise ChatError(
                ErrorCode.INVALID_PARAMETERS, "custom profile keys are Tag_Profile_Custom_ and 1-8 letters, digits or _"
            )
        if not isinstance(item, str):
            raise ChatError(ErrorCode.INVALID_PARAMETERS, f"the value of {key} must be a string")
        if len(item.encode()) > MAX_CUSTOM_VALUE_BYTES:
            raise ChatError(ErrorCode.PROFILE_VALUE_TOO_LONG, f"the value of {key} is at most {MAX_CUSTOM_VALUE_BYTES} bytes")


def check_avatar_url(url: str, *, field="avatar"):
    """An avatar (a user's or a group's) must be served by this site: a path under
    MEDIA_URL or STATIC_URL, or a URL under the S3 storage's own base; anything else
    (another host, ``//host/...``, ``javascript:``) is refused with 10004, so that no
    profile makes other people's browsers fetch from elsewhere. ``""`` is no avatar."""
    if url == "":
        return
    if not storage.is_own_url(url):
        raise ChatError(
            ErrorCode.INVALID_PARAMETERS,
            f"{field} must be an image on this site (upload it): {', '.join(storage.own_url_prefixes())}",
        )


def _check_profile(nick, avatar):
    check_profile_fields({"nick": nick, "avatar": avatar})


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


def password_changed(user: User, *, moderator: User | None = None) -> None:
    """The user's password changed: every socket opened before (any session, this
    browser's too, whose session key changed with it) gets KICKED_OUT
    (``passwordChanged``) and is closed with 4001, on every process. A stolen session's
    open socket does not outlive the change; the user's own tabs reload into the new
    session. ``moderator``: a superuser set it in the admin (audited)."""
    with transaction.atomic():
        kick_on_commit([user.pk], "passwordChanged", code=4001)
        if moderator is not None:
            record_audit(moderator, "set_password", "user", user.username)


def set_user_active(
    user: User, active: bool, *, moderator: User | None = None, reason="", api_caller: User | None = None, audit=None
) -> bool:
    """Ban (``active=False``) or unban a user. Returns whether anything changed. A deleted
    account (``delete_account``) stays inactive: unbanning it changes nothing.
    ``moderator``: a moderator's ban (``access_moderated_user``), written to the audit log
    when it changed something. ``api_caller`` (with ``audit``, its details): the server
    API's token acts, its scope checked by the API; audited as that account."""
    if moderator is not None:
        access_moderated_user(moderator, user)
    if api_caller is not None and (user.is_staff or user.is_superuser):
        # The API's moderation scope acts on chat users, as a moderator does: a staff
        # account is the site's administrators' to change, in the admin.
        raise ChatError(ErrorCode.PERMISSION_DENIED, f"{user.username!r} is a staff account: ban it in the admin")
    auditor = moderator or api_caller
    with transaction.atomic():
        rows = User.objects.filter(pk=user.pk).exclude(is_active=active)
        if active:
            rows = rows.filter(deleted_at__isnull=True)
        changed = rows.update(is_active=active)
        if changed:
            user.is_active = active
        if changed and not active:
            kick_on_commit([user.pk], "banned")
        if changed and auditor is not None:
            record_audit(auditor, "unban_user" if active else "ban_user", "user", user.username, reason=reason, details=audit)
    return bool(changed)


# Length of a password ``reset_password`` makes (URL-safe characters: 16 of them, 96 bits).
RESET_PASSWORD_BYTES = 12


def reset_password(moderator: User, user: User, *, reason="") -> str:
    """A moderator resets ``user``'s password to a new random one, returned once (the
    caller shows it to the moderator; it is stored hashed and logged nowhere). As with
    ``password_changed``, every socket of the user gets KICKED_OUT (``passwordChanged``)
    and closes with 4001; their sessions no longer authenticate (Django's session hash
    follows the password). Checked with ``access_moderated_user``; audited."""
    access_moderated_user(moderator, user)
    password = secrets.token_urlsafe(RESET_PASSWORD_BYTES)
    user.set_password(password)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(password=user.password)
        kick_on_commit([user.pk], "passwordChanged", code=4001)
        record_audit(moderator, "reset_password", "user", user.username, reason=reason)
    return password


MAX_IMPORT_ACCOUNTS = 100  # the vendor's multiaccount_import takes at most 100 accounts


def import_account(user_id, *, nick="", avatar="") -> tuple[User, bool]:
    """The server API's account_import: an account that cannot log in with a password
    (the host's backend signs its users in), or the existing one unchanged: importing
    twice is not an error. Returns (user, created). 10004 for a bad userID, nick or
    avatar (``create_user``)."""
    existing = User.objects.filter(username=user_id).first() if isinstance(user_id, str) else None
    if existing is not None:
        return existing, False
    try:
        return create_user(user_id, nick=nick, avatar=avatar), True
    except ChatError:
        existing = User.objects.filter(username=user_id).first()  # imported meanwhile by another call
        if existing is None:
            raise
        return existing, False


def import_accounts(user_ids) -> dict:
    """The server API's multiaccount_import: each userID imported as ``import_account``
    does, each on its own (a bad one is listed in ``failed`` and the others are made).
    10005 for more than ``MAX_IMPORT_ACCOUNTS``, 10004 for an empty list."""
    if not isinstance(user_ids, list) or not user_ids or not all(isinstance(u, str) for u in user_ids):
        raise ChatError(ErrorCode.INVALID_PARAMETERS, "Accounts must be a non-empty list of userIDs")
    if len(user_ids) > MAX_IMPORT_ACCOUNTS:
        raise ChatError(ErrorCode.TOO_MANY_ACCOUNTS, f"at most {MAX_IMPORT_ACCOUNTS} accounts at once")
    wanted = list(dict.fromkeys(user_ids))
    existing = set(User.objects.filter(username__in=wanted).values_list("username", flat=True))
    result = {"created": [], "existing": sorted(existing), "failed": []}
    for user_id in wanted:
        if user_id in existing:
            continue
        try:
            _, created = import_account(user_id)
        except ChatError:
            result["failed"].append(user_id)
            continue
        result["created" if created else "existing"].append(user_id)
    return result


DELETED_USER_NICK = "Deleted user"


def delete_account(user: User) -> None:
    """The user deletes their own account; nobody else's history changes.

    - The user row stays (their messages in other people's history name a sender, and
      their C2C peers' conversations are ``C2C<userID>``): it is deactivated (logins
      refused, sessions no longer authenticate) and anonymised: nick "Deleted user",
      avatar, e-mail, names and the rest of the profile cleared, password unusable. The
      userID is kept, so it is never given to someone else, who would inherit the peers'
      conversations. Peers and co-members get PROFILE_UPDATED (and the C2C
      conversations' ``userProfile``) as for any profile change.
    - Groups: the user leaves each one with its quit tip. A group they own is first
      transferred (tip 6) to its oldest admin, or else its oldest member; a group with no
      other member is dismissed.
    - Friends: they leave their friends' lists and the pending requests to and from
      them are dropped, as are their pending requests to join groups.
    - Uploads no message refers to (avatars, unsent files) are removed from storage; the
      files of their sent messages stay: they are their peers' history too.
    - Every open socket gets KICKED_OUT (``accountDeleted``) and is closed with 4003.
    """
    from messaging.actions import friends, group_admin, groups, retention

    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if locked.deleted_at is not None:
            return
        update_user_profile(
            user,
            nick=DELETED_USER_NICK,
            avatar="",
            self_signature="",
            location="",
            gender=GENDERS[0],
            birthday=0,
            profile_custom_field={key: "" for key in locked.profile_custom_field or {}},
        )
        for membership in GroupMember.objects.filter(user=user).select_related("group").order_by("group_id"):
            group = membership.group
            if membership.role == GroupMember.Role.OWNER:
                heir = _heir(group, user)
                if heir is None:
                    group_admin.dismiss_group(user, group.group_id, by_admin=True)
                    continue
                group_admin.change_group_owner(user, group.group_id, heir.username, by_admin=True)
            groups.quit_group(user, group.group_id)
        friend_ids = list(Friend.objects.filter(owner=user).values_list("friend__username", flat=True))
        if friend_ids:
            friends.delete_friend(user, friend_ids)
        FriendApplication.objects.filter(Q(applicant=user) | Q(target=user)).delete()
        # Their pending requests to join groups: nobody is left to admit.
        GroupApplication.objects.filter(applicant=user, status=GroupApplication.Status.PENDING).delete()
        User.objects.filter(pk=user.pk).update(
            is_active=False,
            deleted_at=timezone.now(),
            email="",
            first_name="",
            last_name="",
            password=_unusable_password(),
        )
        user.is_active, user.email = False, ""
        unsent = list(own_unsent_uploads(user).values_list("pk", "key", "variants"))
        Upload.objects.filter(pk__in=[pk for pk, _, _ in unsent]).delete()
        keys = retention.stored_keys(unsent)
        transaction.on_commit(lambda: [storage.discard(key) for key in keys])
        kick_on_commit([user.pk], "accountDeleted")


def _heir(group: Group, user: User) -> User | None:
    """Who gets a group its owner leaves by deleting their account: the oldest admin,
    else the oldest member."""
    candidates = GroupMember.objects.filter(group=group).exclude(user=user).select_related("user")
    admin_first = Case(When(role=GroupMember.Role.ADMIN, then=Value(0)), default=Value(1), output_field=IntegerField())
    best = candidates.order_by(admin_first, "joined_at", "pk").first()
    return best.user if best else None


def _unusable_password() -> str:
    from django.contrib.auth.hashers import make_password

    return make_password(None)
