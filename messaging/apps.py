from django.apps import AppConfig


class MessagingConfig(AppConfig):
    name = "messaging"
    verbose_name = "Chat"

    def ready(self):
        from messaging import conf

        conf.validate()
