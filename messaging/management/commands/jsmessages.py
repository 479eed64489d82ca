"""``manage.py jsmessages``: the UI's texts (static/chat/) into each language's djangojs.po.

The UI's modules mark texts as ``t("…")``, ``nt("…", "…", n)`` and ``tlater("…")``
(static/chat/i18n.js), always with double-quoted literals. GNU xgettext 0.21 loses
non-ASCII characters ("…") in these files, so the texts are found here instead; the
translations already in the .po are kept, texts no longer used are dropped. Then
``manage.py compilemessages`` (GNU msgfmt) writes the .mo files, which are committed.
``make messages`` runs ``makemessages`` (templates, Python), this, and ``compilemessages``.
"""

import json
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from chatsite.po import read_po, write_po

STRING = r'"((?:[^"\\]|\\.)*)"'
SINGULAR = re.compile(r"(?<![\w.$])(?:t|tlater)\(\s*" + STRING)
PLURAL = re.compile(r"(?<![\w.$])nt\(\s*" + STRING + r",\s*" + STRING)


def js_string(literal):
    return json.loads('"' + literal.replace("\\'", "'") + '"')


def server_sentences():
    """The server's sentences the UI fills in itself (hello.rules: group tips, group notices,
    a recalled message): the UI looks each up in the catalog as it is (static/chat/rules.js)."""
    from messaging import rules

    return [*rules.TIP_TEMPLATES.values(), *rules.NOTICE_TEMPLATES.values(), rules.REVOKED_TEMPLATE]


def js_messages(root=None):
    """{msgid: msgid_plural or None} of every text marked in static/chat/**/*.js, in file
    order, and the server's sentences the UI translates (server_sentences)."""
    root = Path(root or settings.BASE_DIR / "static" / "chat")
    found = dict.fromkeys(server_sentences())
    for path in sorted(root.rglob("*.js")):
        source = path.read_text(encoding="utf-8")
        for match in PLURAL.finditer(source):
            found[js_string(match.group(1))] = js_string(match.group(2))
        for match in SINGULAR.finditer(source):
            found.setdefault(js_string(match.group(1)), None)
    return found


class Command(BaseCommand):
    help = "Collect the UI's texts (static/chat/) into locale/<lang>/LC_MESSAGES/djangojs.po."

    def handle(self, *args, **options):
        messages = js_messages()
        for code, _name in settings.LANGUAGES:
            if code == settings.LANGUAGE_CODE:
                continue
            folder = Path(settings.LOCALE_PATHS[0]) / to_locale(code) / "LC_MESSAGES"
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / "djangojs.po"
            old = read_po(path) if path.exists() else {}
            entries = {msgid: (plural, old.get(msgid, (None, None))[1]) for msgid, plural in sorted(messages.items())}
            write_po(path, entries, language=to_locale(code))
            self.stdout.write(f"{path}: {len(entries)} texts, {sum(1 for _p, s in entries.values() if not s)} untranslated")


def to_locale(code):
    from django.utils.translation import to_locale as django_to_locale

    return django_to_locale(code)
