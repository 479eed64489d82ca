from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models

from messaging.compiled import CompiledQuery


class ChatUserManager(UserManager):
    """Django's ``UserManager``, with ``get(pk=<int>)`` run from a query compiled once.

    That is how Django's ``ModelBackend.get_user`` reads the user of every session, and so
    every WebSocket handshake (chatsite/socket_auth.py) and every HTTP request of a logged-in
    user: built and compiled each time, it was a tenth of a restarted Daphne's time while a
    thousand clients reconnected (docs/PERFORMANCE.md, "the storm on a held socket"). The
    row and the instance are the ORM's own (``CompiledQuery``); any other ``get`` is the
    queryset's, and so is every ``get`` of a manager made from this one: a related manager
    (``group.user_set``, whose class Django derives from this one, filters by its
    relation) and a migration's historical model (whose columns are not today's)."""

    def get(self, *args, **kwargs):
        pk = kwargs.get("pk")
        if (
            type(self) is not ChatUserManager
            or self.model is not User
            or self._db is not None
            or args
            or len(kwargs) != 1
            or type(pk) is not int
            or not -(2**63) <= pk < 2**63
        ):
            return super().get(*args, **kwargs)
        rows = USER_BY_PK.list(pk)
        if not rows:
            raise self.model.DoesNotExist(f"{self.model._meta.object_name} matching query does not exist.")
        return rows[0]


USER_BY_PK = CompiledQuery(lambda pk: User.objects.get_queryset().filter(pk=pk), int)


class User(AbstractUser):
    """A chat user. ``username`` is the SDK's ``userID``.

    An inactive user is banned: logins are refused and sockets closed.
    """

    nick = models.CharField(max_length=64, blank=True)
    # A URL, absolute or site-relative (e.g. /static/...).
    avatar = models.CharField(max_length=500, blank=True)
    # The SDK's add-friend mode (Tag_Profile_IM_AllowType): who may add this user as a
    # friend. updateMyProfile sets it; addFriend reads it (actions/friends.py).
    allow_type = models.CharField(
        max_length=32,
        default="AllowType_Type_NeedConfirm",
        choices=[
            ("AllowType_Type_AllowAny", "Anyone may add me"),
            ("AllowType_Type_NeedConfirm", "I confirm each request"),
            ("AllowType_Type_DenyAny", "Nobody may add me"),
        ],
    )
    # The rest of the SDK's Profile (updateMyProfile). Values and limits: actions/profiles.py.
    gender = models.CharField(max_length=24, default="Gender_Type_Unknown")
    birthday = models.BigIntegerField(default=0)  # a uint32, by convention YYYYMMDD
    location = models.CharField(max_length=16, blank=True)
    self_signature = models.CharField(max_length=500, blank=True)
    # Tag_Profile_Custom_* keys -> string values.
    profile_custom_field = models.JSONField(default=dict, blank=True)
    # Set when the user deleted their own account (actions.delete_account): the row stays,
    # inactive and anonymised, so that their messages in other people's history still
    # name a sender ("Deleted user") and their userID is never given to someone else.
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = ChatUserManager()

    @property
    def user_id(self):
        return self.username

    @property
    def display_name(self):
        return self.nick or self.username
