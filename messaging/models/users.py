from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A chat user. ``username`` is the SDK's ``userID``.

    An inactive user is banned: logins are refused and sockets closed.
    """

    nick = models.CharField(max_length=64, blank=True)
    # A URL, absolute or site-relative (e.g. /static/...).
    avatar = models.CharField(max_length=500, blank=True)

    @property
    def user_id(self):
        return self.username

    @property
    def display_name(self):
        return self.nick or self.username
