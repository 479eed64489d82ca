"""Purge messages and their files older than the retention setting (``manage.py
purge_history``; run it daily from cron or a systemd timer). The days are the run-time
RETENTION_DAYS (the admin's Chat settings; 0 keeps everything) unless ``--days`` says
otherwise; ``--batch`` messages per transaction (default PURGE_BATCH_SIZE).
See messaging/actions/retention.py for what stays consistent."""

from django.core.management.base import BaseCommand, CommandError

from messaging.actions import purge_history


class Command(BaseCommand):
    help = "Purge messages and files older than RETENTION_DAYS (or --days), in batches."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="days to keep (default: the RETENTION_DAYS setting)")
        parser.add_argument("--batch", type=int, default=None, help="messages per transaction (default: PURGE_BATCH_SIZE)")

    def handle(self, *args, days, batch, **options):
        if days is not None and days < 0:
            raise CommandError("--days must be 0 or more")
        if batch is not None and batch < 1:
            raise CommandError("--batch must be 1 or more")
        result = purge_history(days=days, batch=batch)
        if not result.batches and days is None and not result.messages:
            self.stdout.write("nothing to purge (RETENTION_DAYS is 0: messages are kept for ever, or none is old enough)")
            return
        self.stdout.write(
            f"purged {result.messages} message(s) and {result.files} file(s) from {len(result.threads)} conversation(s)"
            f" in {result.batches} batch(es)"
        )
