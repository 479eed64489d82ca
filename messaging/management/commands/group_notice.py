"""Send a custom group system notice (operationType 255) to every member of a group, as
the app admin: ``manage.py group_notice <groupID> "<text>"``. A transport over
``actions.post_custom_notice`` (the REST API's send_group_system_notification)."""

from django.core.management.base import BaseCommand, CommandError

from messaging import actions
from messaging.errors import ChatError
from messaging.models import User


class Command(BaseCommand):
    help = "Send a custom system notice (operationType 255) to every member of a group."

    def add_arguments(self, parser):
        parser.add_argument("group_id")
        parser.add_argument("text")
        parser.add_argument("--as", dest="operator", default="", help="the superuser it is sent as (default: the first)")

    def handle(self, *args, group_id, text, operator, **options):
        admins = User.objects.filter(is_superuser=True, is_active=True).order_by("pk")
        sender = admins.filter(username=operator).first() if operator else admins.first()
        if sender is None:
            raise CommandError("no active superuser to send it as (--as <userID>)")
        try:
            group = actions.post_custom_notice(sender, group_id, text, by_admin=True)
        except ChatError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        self.stdout.write(f"notice sent to the {group.member_count} members of {group.group_id}")
