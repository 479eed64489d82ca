"""Create the demo users alice, bob, carol and dave and a demo group with all four.

Idempotent; writes only through the actions (users that exist are left as they are).
Only ``make run``'s demo step calls it, and only on the embedded SQLite database: the
demo accounts (a superuser among them) have a published password, so pointed at any
other database (a deployment's) it refuses unless given ``--force``."""

import os

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from messaging import actions
from messaging.models import Group, User

DEMO_USERS = [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol"), ("dave", "Dave")]
DEMO_GROUP_ID = "demo"


class Command(BaseCommand):
    help = "Create demo users (alice, bob, carol, dave) and a demo group; prints the password."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="seed a database other than the embedded SQLite")

    def handle(self, *args, **options):
        if connection.vendor != "sqlite" and not options["force"]:
            raise CommandError(
                "seed_demo makes accounts with a published password (a superuser among them): it runs on the embedded"
                " SQLite database only (make run); --force to seed this database anyway"
            )
        password = os.environ.get("CHAT_DEMO_PASSWORD", "chat-demo-2026")
        existing = {u.username: u for u in User.objects.filter(username__in=[u for u, _ in DEMO_USERS])}
        users = [
            existing.get(username) or actions.create_user(username, password=password, nick=nick) for username, nick in DEMO_USERS
        ]
        if not User.objects.filter(username="admin").exists():
            actions.create_user("admin", password=password, nick="Moderator", is_superuser=True)
        if not Group.objects.filter(group_id=DEMO_GROUP_ID).exists():
            actions.create_group(
                users[0],
                group_type=Group.Type.WORK,
                name="Demo group",
                group_id=DEMO_GROUP_ID,
                member_user_ids=[u.username for u in users[1:]],
            )
        self.stdout.write(f"Demo users: {', '.join(u for u, _ in DEMO_USERS)} (and admin for /admin/); password: {password}")
