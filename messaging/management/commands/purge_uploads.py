"""Remove the uploads left unfinished (``manage.py purge_uploads``; run it from cron or a
systemd timer): their stored bytes and rows. ``--older-than SECONDS`` (default: the
UPLOAD_ABANDONED_AFTER setting, a day)."""

from django.core.management.base import BaseCommand

from messaging.actions.uploads import purge_abandoned_uploads


class Command(BaseCommand):
    help = "Remove uploads left unfinished for longer than UPLOAD_ABANDONED_AFTER (or --older-than seconds)."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=None, help="seconds (default: UPLOAD_ABANDONED_AFTER)")

    def handle(self, *args, older_than, **options):
        removed = purge_abandoned_uploads(older_than)
        self.stdout.write(f"removed {removed} unfinished upload(s)")
