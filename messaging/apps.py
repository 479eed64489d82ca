from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Chat"

    def ready(self):
        from django.contrib.auth.signals import user_logged_out

        from messaging import conf

        conf.validate()
        user_logged_out.connect(_close_the_sessions_sockets, dispatch_uid="chat-logout")


def _close_the_sessions_sockets(sender, request, user, **kwargs):
    """Logging out in one tab closes every socket of that login session (4001)."""
    from messaging import actions

    session = getattr(request, "session", None)
    actions.end_session(user, getattr(session, "session_key", None))
