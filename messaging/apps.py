from django.apps import AppConfig
from django.db.models.signals import post_migrate


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Chat"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from messaging import conf, pg_loaders

        conf.validate()
        pg_loaders.install()  # timestamps parsed in C (messaging/pg_loaders.py)
        user_logged_out.connect(_close_the_sessions_sockets, dispatch_uid="chat-logout")
        post_migrate.connect(_make_the_moderators_group, sender=self, dispatch_uid="chat-moderators-group")


def _close_the_sessions_sockets(sender, request, user, **kwargs):
    """Logging out in one tab closes every socket of that login session (4001)."""
    from messaging import actions

    session = getattr(request, "session", None)
    actions.end_session(user, getattr(session, "session_key", None))


def _make_the_moderators_group(sender, app_config, using="default", apps=None, **kwargs):
    """After every ``migrate`` (and a test database's flush): the "Moderators" group with
    the permissions moderation needs (actions.moderation.MODERATOR_PERMISSIONS). A
    receiver, not a data migration: permissions are made by post_migrate themselves, and
    a flushed test database gets the group back."""
    from django.contrib.auth.management import create_permissions

    from messaging.actions.moderation import ensure_moderators_group

    create_permissions(app_config, verbosity=0, using=using)
    ensure_moderators_group(using=using)
