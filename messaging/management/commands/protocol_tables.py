"""Check (or, with --write, rewrite) docs/PROTOCOL.md's argument tables from messaging/schemas.py."""

from django.core.management.base import BaseCommand, CommandError

from messaging import protocol_doc


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="rewrite the tables in docs/PROTOCOL.md")

    def handle(self, *args, write=False, **options):
        text = protocol_doc.DOCUMENT.read_text()
        generated = protocol_doc.render_document(text)
        if generated == text:
            self.stdout.write("docs/PROTOCOL.md's argument tables match messaging/schemas.py")
        elif write:
            protocol_doc.DOCUMENT.write_text(generated)
            self.stdout.write("docs/PROTOCOL.md's argument tables rewritten")
        else:
            raise CommandError("docs/PROTOCOL.md's argument tables differ from messaging/schemas.py: run with --write")
