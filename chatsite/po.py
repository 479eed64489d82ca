"""A small reader and writer of gettext .po files (no fuzzy flags, no contexts): what
``manage.py jsmessages`` writes and tests/test_i18n.py checks. Entries are
{msgid: (msgid_plural or None, msgstr or [msgstr[0], ...] or None)}."""

import re

HEADER = (
    'msgid ""\n'
    'msgstr ""\n'
    '"Project-Id-Version: chat\\n"\n'
    '"Language: {language}\\n"\n'
    '"MIME-Version: 1.0\\n"\n'
    '"Content-Type: text/plain; charset=UTF-8\\n"\n'
    '"Content-Transfer-Encoding: 8bit\\n"\n'
    '"Plural-Forms: nplurals=1; plural=0;\\n"\n'
)


def quote(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def unquote(line):
    body = line.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def parse_po(text):
    """[{"msgid", "msgid_plural", "msgstr": str or {index: str}, "flags": set}] of a .po file's text."""
    entries, entry, key = [], None, None
    for line in text.splitlines() + [""]:
        line = line.rstrip()
        if not line:
            if entry is not None:
                entries.append(entry)
            entry, key = None, None
            continue
        if entry is None:
            entry = {"msgid": None, "msgid_plural": None, "msgstr": None, "flags": set(), "obsolete": False}
        if line.startswith("#~"):
            entry["obsolete"] = True
            continue
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = re.match(r'(msgid_plural|msgid|msgstr(?:\[(\d+)\])?) (".*")$', line)
        if match:
            key = (match.group(1), match.group(2))
            value = unquote(match.group(3))
        elif line.startswith('"'):
            value = unquote(line)
        else:
            raise ValueError(f"unexpected line in .po: {line!r}")
        name, index = key
        if name.startswith("msgstr") and index is not None:
            entry["msgstr"] = entry["msgstr"] or {}
            entry["msgstr"][int(index)] = entry["msgstr"].get(int(index), "") + value
        else:
            field = "msgstr" if name.startswith("msgstr") else name
            entry[field] = (entry[field] or "") + value
    return [e for e in entries if not e["obsolete"]]


def read_po(path):
    return {
        e["msgid"]: (
            e["msgid_plural"],
            [e["msgstr"][i] for i in sorted(e["msgstr"])] if isinstance(e["msgstr"], dict) else e["msgstr"],
        )
        for e in parse_po(path.read_text(encoding="utf-8"))
        if e["msgid"]
    }


def write_po(path, entries, language):
    out = [HEADER.format(language=language)]
    for msgid, (plural, msgstr) in entries.items():
        lines = [f"msgid {quote(msgid)}"]
        if plural is not None:
            forms = msgstr if isinstance(msgstr, list) else [msgstr or ""]
            lines.append(f"msgid_plural {quote(plural)}")
            lines += [f"msgstr[{i}] {quote(form or '')}" for i, form in enumerate(forms)]
        else:
            lines.append(f"msgstr {quote(msgstr or '')}")
        out.append("\n".join(lines) + "\n")
    path.write_text("\n".join(out), encoding="utf-8")
