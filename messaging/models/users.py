from django.contrib.auth.models import AbstractUser
from django.db import models


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

    @property
    def user_id(self):
        return self.username

    @property
    def display_name(self):
        return self.nick or self.username
