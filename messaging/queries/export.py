"""A user's own data as a zip (``/account/export/``): what they may take with them.

The archive holds ``profile.json`` (the SDK's Profile), ``account.json`` (e-mail,
dates), ``messages/<conversationID>.json``
per conversation they wrote in (the messages they sent, oldest first, in the SDK's
Message shape as they see them: ``flow: "out"``; a recalled one without its content,
as everyone sees it) and ``files/<uuid>/<name>``: the files of those messages, from
storage (filesystem or S3, through ``messaging.storage``). Nothing of other people's
messages is in it.

Memory stays bounded whatever the history: messages are read in pages of
``EXPORT_PAGE`` by sequence and written to the zip as they come, files are copied a
megabyte at a time, and the zip is handed out in pieces as it is written
(``zip_stream`` is a generator; zipfile writes to an unseekable stream with data
descriptors). Queries: the threads, one per page of messages, the uploads.
"""

import json
import zipfile
from urllib.parse import quote

from messaging import rules, serialize, storage
from messaging.access import own_sent_uploads
from messaging.models import Message, Thread, User

EXPORT_PAGE = 500
PIECE = 64 * 1024
README = """Your data from Chat, as of {now}.

profile.json                    your profile
account.json                    your account: e-mail, when it was made, the last sign-in
messages/<conversationID>.json  the messages you sent, one file per conversation
files/<id>/<name>               the files you sent in those messages
"""


class _Sink:
    """The unseekable file zipfile writes to; ``drain`` hands out what it holds."""

    def __init__(self):
        self.parts, self.size = [], 0

    def write(self, data):
        self.parts.append(bytes(data))
        self.size += len(data)
        return len(data)

    def flush(self):
        pass

    def drain(self, at_least=None):
        if self.size >= (PIECE if at_least is None else at_least) and self.parts:
            data = b"".join(self.parts)
            self.parts, self.size = [], 0
            yield data


def zip_stream(user: User):
    """The archive's bytes, a piece at a time (see the module)."""
    from django.utils import timezone

    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", README.format(now=timezone.now().isoformat(timespec="seconds")))
        archive.writestr("profile.json", json.dumps(serialize.profile(user), ensure_ascii=False, indent=1))
        archive.writestr("account.json", json.dumps(_account(user), ensure_ascii=False, indent=1))
        for thread, to in _threads(user):
            conversation_id = rules.viewer_conversation_id(thread.kind, to, user.username, user.username)
            name = f"messages/{quote(conversation_id, safe='@#')}.json"
            with archive.open(name, "w") as out:
                out.write(b"[")
                first = True
                for message in _sent_messages(user, thread):
                    data = serialize.for_viewer(serialize.message_base(message, thread, sender=user, to=to), user.username)
                    out.write((b"\n" if first else b",\n") + json.dumps(data, ensure_ascii=False).encode())
                    first = False
                    yield from sink.drain()
                out.write(b"\n]\n")
            yield from sink.drain()
        for upload in sent_uploads(user):
            key = (upload.variants.get("original") or {}).get("key") or upload.key
            name = f"files/{upload.uuid.hex}/{_file_name(upload.name)}"
            with storage.open_file(key) as source:
                with archive.open(zipfile.ZipInfo(name), "w") as out:
                    while chunk := source.read(storage.COPY_CHUNK):
                        out.write(chunk)
                        yield from sink.drain()
    yield from sink.drain(at_least=0)


def _account(user: User) -> dict:
    def when(moment):
        return moment.isoformat(timespec="seconds") if moment else None

    return {
        "userID": user.username,
        "email": user.email,
        "dateJoined": when(user.date_joined),
        "lastLogin": when(user.last_login),
    }


def _threads(user: User):
    """(thread, ``to``) of every thread ``user`` sent a message in: ``to`` is the peer's
    userID (C2C) or the groupID."""
    threads = (
        Thread.objects.filter(pk__in=Message.objects.filter(sender=user).values("thread_id"))
        .select_related("group", "user_low", "user_high")
        .order_by("pk")
    )
    for thread in threads:
        if thread.kind == Thread.Kind.GROUP:
            yield thread, thread.group.group_id
        elif thread.kind == Thread.Kind.C2C:
            peer = thread.user_high if thread.user_low_id == user.pk else thread.user_low
            yield thread, peer.username if peer else ""


def _sent_messages(user: User, thread: Thread):
    after = 0
    while True:
        page = list(
            Message.objects.filter(thread=thread, sender=user, seq__gt=after)
            .select_related("revoker")
            .order_by("seq")[:EXPORT_PAGE]
        )
        yield from page
        if len(page) < EXPORT_PAGE:
            return
        after = page[-1].seq


def sent_uploads(user: User):
    """The files of the export: ``access.own_sent_uploads``, each once."""
    return own_sent_uploads(user).distinct().order_by("pk").only("uuid", "name", "key", "variants")


def _file_name(name: str) -> str:
    """A stored file name made safe as a zip member (no folders, no leading dots)."""
    name = name.replace("/", "_").replace("\\", "_").lstrip(".") or "file"
    return name
