"""The two languages (English, Simplified Chinese): the translations are complete and
compiled, every marked text is in them, and the pages follow the browser's language
and the settings' switch. The browser side: tests/browser/test_i18n_ui.py."""

import gettext
import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from chatsite.po import parse_po
from messaging.management.commands.jsmessages import js_messages

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
DOMAINS = ("django", "djangojs")
PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")  # the UI's, and the server's sentences' ({operator})
# {% translate "…" %} and {% translate '…' %} in the templates
TEMPLATE_TEXT = re.compile(r"""\{% translate (?:"([^"]*)"|'([^']*)') %\}""")
TEMPLATE_BLOCK = re.compile(r"\{% blocktranslate trimmed %\}(.*?)\{% endblocktranslate %\}", re.S)


def entries(domain):
    return [e for e in parse_po((LC_MESSAGES / f"{domain}.po").read_text(encoding="utf-8")) if e["msgid"]]


def translations(entry):
    return list(entry["msgstr"].values()) if isinstance(entry["msgstr"], dict) else [entry["msgstr"]]


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_text_is_translated_and_none_is_fuzzy(domain):
    untranslated = [e["msgid"] for e in entries(domain) if not all(translations(e))]
    fuzzy = [e["msgid"] for e in entries(domain) if "fuzzy" in e["flags"]]
    assert not untranslated, f"{domain}.po: untranslated: {untranslated}"
    assert not fuzzy, f"{domain}.po: fuzzy: {fuzzy}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_translations_keep_the_placeholders(domain):
    wrong = [
        e["msgid"]
        for e in entries(domain)
        for text in translations(e)
        if set(PLACEHOLDER.findall(text)) != set(PLACEHOLDER.findall(e["msgid"]))
    ]
    assert not wrong, f"{domain}.po: placeholders differ: {wrong}"


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_catalog_is_the_po(domain):
    """The committed .mo says what the .po says (run `make messages` after editing a .po)."""
    with open(LC_MESSAGES / f"{domain}.mo", "rb") as file:
        compiled = gettext.GNUTranslations(file)._catalog
    for entry in entries(domain):
        if entry["msgid_plural"]:
            for index, text in entry["msgstr"].items():
                assert compiled.get((entry["msgid"], index)) == text, f"{domain}.mo is stale: {entry['msgid']!r}"
        else:
            assert compiled.get(entry["msgid"]) == entry["msgstr"], f"{domain}.mo is stale: {entry['msgid']!r}"
    in_po = {e["msgid"] for e in entries(domain)}
    extra = {key[0] if isinstance(key, tuple) else key for key in compiled} - in_po - {""}
    assert not extra, f"{domain}.mo has texts the .po no longer has: {sorted(extra)[:5]}"


def test_every_ui_text_is_in_the_js_catalog():
    """t("…"), nt("…", "…") and tlater("…") in static/chat/, and the server's sentences the UI
    fills in (group tips and notices, a recalled message) ↔ djangojs.po (`manage.py jsmessages`)."""
    marked = set(js_messages())
    in_po = {e["msgid"] for e in entries("djangojs")}
    assert not marked - in_po, f"not in djangojs.po (run make messages): {sorted(marked - in_po)}"
    assert not in_po - marked, f"no longer used (run make messages): {sorted(in_po - marked)}"


def test_every_template_text_is_in_the_catalog():
    in_po = {e["msgid"] for e in entries("django")}
    missing = set()
    for path in (Path(settings.BASE_DIR) / "templates").rglob("*.html"):
        source = path.read_text(encoding="utf-8")
        missing |= {a or b for a, b in TEMPLATE_TEXT.findall(source)} - in_po
        missing |= {" ".join(text.split()) for text in TEMPLATE_BLOCK.findall(source)} - in_po
    assert not missing, f"not in django.po (run make messages): {sorted(missing)}"


# --- the pages ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_follows_the_browsers_language():
    english = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/accounts/login/").content.decode()
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5").get("/accounts/login/").content.decode()
    assert '<html lang="en">' in english and "Sign in to Chat" in english
    assert '<html lang="zh-hans">' in chinese and "登录聊天" in chinese and "用户 ID" in chinese
    # A language the site does not have: English.
    assert "Sign in to Chat" in Client(HTTP_ACCEPT_LANGUAGE="fr-FR").get("/accounts/login/").content.decode()


@pytest.mark.django_db
def test_the_login_errors_are_in_the_pages_language():
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
    page = client.post("/accounts/login/", {"username": "", "password": ""}).content.decode()
    assert "请输入用户 ID。" in page and "请输入密码。" in page


@pytest.mark.django_db
def test_the_javascript_catalog_is_an_external_script_in_the_language():
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-CN").get("/i18n/catalog.js")
    assert chinese.status_code == 200 and chinese["Content-Type"].startswith("text/javascript")
    body = chinese.content.decode()
    assert all(json.dumps(text)[1:-1] in body for text in ("今天", "撤回")), "the catalog escapes non-ASCII as \\uXXXX"
    english = Client(HTTP_ACCEPT_LANGUAGE="en").get("/i18n/catalog.js").content.decode()
    assert json.dumps("今天")[1:-1] not in english


@pytest.mark.django_db
def test_the_settings_switch_sets_the_language_cookie():
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    response = client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    # The cookie wins over the browser's English.
    assert "登录聊天" in client.get("/accounts/login/").content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Sign in to Chat" in client.get("/accounts/login/").content.decode()


def test_the_password_reset_mail_is_in_the_language_it_was_asked_in(db, settings):
    from django.core import mail
    from django.test import Client

    from messaging import actions

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    actions.create_user("erin", password="pw-erin", email="erin@example.com")
    Client().post("/accounts/password_reset/", {"email": "erin@example.com"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    Client().post("/accounts/password_reset/", {"email": "erin@example.com"}, HTTP_ACCEPT_LANGUAGE="en")
    chinese, english = mail.outbox
    assert chinese.subject == "重置你的聊天密码" and "聊天账号 @erin 的密码" in chinese.body
    assert "请忽略此邮件" in chinese.body and "/accounts/reset/" in chinese.body
    assert english.subject == "Reset your Chat password" and "the Chat account @erin" in english.body
