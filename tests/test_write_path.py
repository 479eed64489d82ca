"""The write path is guarded: chat state changes only in ``messaging/actions/``.

Like Zulip's lint rules for its ``zerver/actions/``, this test parses (``ast``) every
Python file of the project outside ``messaging/actions/`` and
``messaging/migrations/`` (``messaging/``, ``chatsite/``, ``tests/``, ``bench/``)
and fails on a direct write to a chat model:

- a write method (``save``, ``create``, ``update``, ``delete``, ``bulk_create``,
  ``bulk_update``, ``get_or_create``, ``update_or_create``, ``create_user``,
  ``create_superuser``) called on a chain that starts at a chat model (the models of
  ``messaging.models``, imported under any alias, ``get_user_model()``, or a name
  assigned from such a chain in the same function): ``Message.objects.filter(pk=1)
  .update(seq=2)``, ``qs = Group.objects.all(); qs.delete()``;
- ``.save()`` or ``.delete()`` with no positional argument on a variable or attribute
  (an instance write: ``conv.save()``, ``user.save(update_fields=[...])``), or such a
  bound method passed on to be called later (``database_sync_to_async(user.save)``);
  Pillow's ``image.save(out, "PNG")`` and ``storage.delete(key)`` take positional
  arguments and are not writes, and receivers named like a session, a storage, an
  image or a file are not models;
- raw SQL that writes (``cursor.execute("UPDATE ...")``).

Where code must arrange data no action can make (a million rows for a benchmark, a
corrupt state to test a guard against it), the (file, function) pair is on
``ALLOWED`` with its reason; an entry that no longer matches anything fails too.
"""

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("messaging", "chatsite", "tests", "bench")
NOT_SCANNED = ("messaging/actions/", "messaging/migrations/")

WRITE_METHODS = frozenset(
    {
        "save",
        "create",
        "update",
        "delete",
        "bulk_create",
        "bulk_update",
        "get_or_create",
        "update_or_create",
        "create_user",
        "create_superuser",
    }
)
INSTANCE_WRITES = frozenset({"save", "delete"})
# Receivers that are never chat models, whatever they call: Django sessions and
# their stores, file storages, Pillow images, files and buffers.
NOT_A_MODEL = re.compile(r"(^|_)(session|store|storage|image|img|im|file|fp|buffer|out)s?$", re.IGNORECASE)
WRITE_SQL = re.compile(r"^\s*(insert|update|delete|truncate|replace)\b", re.IGNORECASE)

# (file, function) -> why it may write directly. Functions are qualified names
# ("Class.method"); an entry covers functions nested in it.
ALLOWED = {
    (
        "bench/lists.py",
        "_insert_messages",
    ): "1,000,000 messages in one INSERT ... SELECT generate_series; post_message would take hours",
    ("bench/lists.py", "_c2c_thread"): "the thread of the million-message benchmark pair, filled by _insert_messages",
    ("bench/lists.py", "_many_conversations"): "1,000 conversations for the list benchmark, in bulk",
    ("bench/lists.py", "seed"): "benchmark users made in bulk inside the seed's one transaction",
    ("bench/directory.py", "load_users"): "100,000 directory users in one INSERT ... SELECT generate_series, no password hashing",
    ("bench/search.py", "load_search_world"): (
        "1,000,000 messages with their users, threads and conversations in INSERT ... SELECT generate_series"
    ),
    ("bench/floor.py", "FloorApp.reset"): (
        "the stack floor's own database (its floorapp tables, no chat model): emptied, threads made before a run"
    ),
    ("bench/load.py", "reset_load_data"): "deletes what an earlier load run left in the benchmark database",
    ("bench/load.py", "seed_load"): "thousands of load-test users in one bulk insert, without password hashing",
    ("messaging/admin.py", "_save_auth_fields"): "Django's auth fields of a user (email, names, staff flags): not chat state",
    ("tests/test_reactions.py", "test_reacting_in_a_big_group_is_a_fixed_number_of_queries_and_one_small_event"): (
        "arranges ~2,000 existing reactions in bulk so that the pinned query count is shown not to grow with them"
    ),
    ("tests/test_read_state.py", "test_read_cursor_never_moves_back"): "arranges a stale thread counter, a state no action makes",
    ("tests/test_message_types.py", "test_a_recalled_message_is_not_forwardable_2453"): (
        "no revoke action yet (recall comes in a later issue): use revoke_message then"
    ),
    ("tests/test_group_admin.py", "test_deleting_a_user_row_keeps_the_other_partys_thread_messages_and_conversation"): (
        "tests what deleting a user row from the shell does (on_delete)"
    ),
    (
        "tests/test_send_options.py",
        "_make_avchatroom",
    ): "no action creates an AVChatRoom yet; the send options refuse some in one",
    ("tests/test_group_admin.py", "test_deleting_a_user_who_is_still_a_group_member_is_refused"): (
        "tests what deleting a user row from the shell does (on_delete)"
    ),
}


@dataclass(frozen=True)
class Write:
    path: str
    line: int
    function: str
    code: str

    def __str__(self):
        return f"{self.path}:{self.line} in {self.function}: {self.code}"


def chat_model_names():
    return frozenset(model.__name__ for model in apps.get_app_config("messaging").get_models())


def scanned_files():
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if is_scanned(relative):
                yield relative


def is_scanned(relative_path):
    return relative_path.split("/")[0] in SCANNED and not relative_path.startswith(NOT_SCANNED)


def find_writes(source, path, models=None):
    """The direct writes to chat models in ``source`` (the code of ``path``)."""
    finder = _WriteFinder(path, models or chat_model_names(), source)
    finder.visit(ast.parse(source, filename=path))
    return finder.writes


class _WriteFinder(ast.NodeVisitor):
    def __init__(self, path, models, source):
        self.path, self.source = path, source
        self.models = set(models)
        self.scopes = [("<module>", set())]
        self.writes = []

    # --- scopes and names ---------------------------------------------------------------

    def visit_Module(self, node):
        for child in ast.walk(node):
            if isinstance(child, ast.ImportFrom) and (child.module or "").startswith("messaging.models"):
                for alias in child.names:
                    if alias.name in self.models and alias.asname:
                        self.models.add(alias.asname)
        self.scopes[0][1].update(self._tainted(node.body))
        self.generic_visit(node)

    def _scope(self, node, tainted):
        name = node.name if self.scopes[-1][0] == "<module>" else f"{self.scopes[-1][0]}.{node.name}"
        self.scopes.append((name, tainted))
        self.generic_visit(node)
        self.scopes.pop()

    def visit_ClassDef(self, node):
        self._scope(node, set())

    def visit_FunctionDef(self, node):
        self._scope(node, self._tainted(node.body))

    visit_AsyncFunctionDef = visit_FunctionDef

    def _tainted(self, body):
        """Names assigned (in ``body``) from a chain that starts at a chat model."""
        assignments = [
            (target.id, child.value)
            for statement in body
            for child in ast.walk(statement)
            if isinstance(child, ast.Assign | ast.AnnAssign) and child.value is not None
            for target in (child.targets if isinstance(child, ast.Assign) else [child.target])
            if isinstance(target, ast.Name)
        ]
        tainted = set()
        while True:
            found = {name for name, value in assignments if self._is_model_chain(value, tainted)}
            if found <= tainted:
                return tainted
            tainted |= found

    def _known(self):
        return self.models.union(*(tainted for _, tainted in self.scopes))

    def _is_model_chain(self, node, tainted=frozenset()):
        """Whether ``node`` is a chat model, its manager, a queryset or row of it."""
        known = self._known() | tainted
        while True:
            if isinstance(node, ast.Name):
                return node.id in known
            if isinstance(node, ast.Attribute):
                if node.attr in self.models and isinstance(node.value, ast.Name) and node.value.id == "models":
                    return True  # from messaging import models; models.Message...
                node = node.value
            elif isinstance(node, ast.Call):
                if isinstance(node.func, ast.Name) and node.func.id == "get_user_model":
                    return True
                node = node.func
            elif isinstance(node, ast.Subscript):
                node = node.value
            else:
                return False

    # --- writes -----------------------------------------------------------------------------

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr in WRITE_METHODS and self._is_write(func, node):
                self._report(node)
            elif func.attr == "execute" and node.args and WRITE_SQL.match(_literal_text(node.args[0])):
                self._report(node)
        for argument in node.args:
            # A bound save/delete handed on to be called later: database_sync_to_async(user.save).
            if isinstance(argument, ast.Attribute) and argument.attr in INSTANCE_WRITES and self._instance(argument.value):
                self._report(argument)
        self.generic_visit(node)

    def _is_write(self, func, call):
        receiver = func.value
        if self._is_model_chain(receiver):
            return True
        if (
            func.attr in ("create_user", "create_superuser")
            and isinstance(receiver, ast.Attribute)
            and receiver.attr == "objects"
        ):
            return True
        positional = [a for a in call.args if not isinstance(a, ast.Starred)] or any(
            isinstance(a, ast.Starred) for a in call.args
        )
        return func.attr in INSTANCE_WRITES and not positional and self._instance(receiver)

    def _instance(self, receiver):
        """A variable or attribute that may hold a model instance (not a session, storage, image...)."""
        if isinstance(receiver, ast.Name):
            return not NOT_A_MODEL.search(receiver.id)
        if isinstance(receiver, ast.Attribute):
            return not NOT_A_MODEL.search(receiver.attr)
        return False

    def _report(self, node):
        code = ast.get_source_segment(self.source, node) or ast.unparse(node)
        self.writes.append(Write(self.path, node.lineno, self.scopes[-1][0], " ".join(code.split())[:120]))


def _literal_text(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return ""


def allowed(write):
    return any(
        write.path == path and (write.function == function or write.function.startswith(function + "."))
        for path, function in ALLOWED
    )


@functools.cache
def project_writes():
    writes = []
    for relative in scanned_files():
        writes.extend(find_writes((ROOT / relative).read_text(), relative))
    return tuple(writes)


# --- the guard over the project ------------------------------------------------------------------


def test_no_chat_state_is_written_outside_messaging_actions():
    offending = [str(w) for w in project_writes() if not allowed(w)]
    assert offending == [], "direct writes to chat models outside messaging/actions/ (use or add an action):\n" + "\n".join(
        offending
    )


def test_every_allow_list_entry_is_still_needed():
    used = {(w.path, function) for w in project_writes() for (path, function) in ALLOWED if allowed(w) and w.path == path}
    stale = sorted(set(ALLOWED) - used)
    assert stale == [], f"allow-list entries that match no write any more (remove them): {stale}"


def test_the_guard_reads_the_whole_project_but_the_actions_and_migrations():
    files = set(scanned_files())
    assert {f.split("/")[0] for f in files} == set(SCANNED)
    assert {"messaging/admin.py", "messaging/consumers.py", "tests/conftest.py", "bench/lists.py"} <= files
    assert not any(f.startswith(NOT_SCANNED) for f in files)
    assert is_scanned("messaging/views.py") and not is_scanned("messaging/actions/users.py")


# --- the guard itself -------------------------------------------------------------------------------

CAUGHT = [
    "Message.objects.filter(pk=1).update(seq=2)",
    "def arrange(conv):\n    conv.save()",
    "def arrange(user):\n    user.save(update_fields=['nick'])",
    "def drop(message):\n    message.delete()",
    "Conversation.objects.create(user=user, thread=thread)",
    "Thread.objects.get_or_create(key='c2c:1:2')",
    "Group.objects.update_or_create(group_id='g', defaults={})",
    "GroupMember.objects.bulk_create([])",
    "Message.objects.bulk_update([], ['seq'])",
    "User.objects.create_user('x', password='pw')",
    "User.objects.create_superuser('boss', '', 'pw')",
    "get_user_model().objects.create_user('x')",
    "def reset():\n    rows = Group.objects.filter(group_id='g')\n    rows.delete()",
    "def reset():\n    rows = Group.objects.filter(group_id='g')\n    later = rows.exclude(pk=1)\n    later.update(name='x')",
    "from messaging.models import Message as M\nM.objects.all().delete()",
    "from messaging import models\nmodels.Upload.objects.filter(pk=1).update(status='ready')",
    "Conversation._default_manager.filter(pk=1).update(unread_count=0)",
    "async def ban(user):\n    await database_sync_to_async(user.save)(update_fields=['is_active'])",
    "def f(cursor):\n    cursor.execute('UPDATE messaging_thread SET last_seq = 0')",
    "def f(cursor, table):\n    cursor.execute(f'DELETE FROM {table} WHERE id = %s', [1])",
]


@pytest.mark.parametrize("snippet", CAUGHT)
def test_the_guard_catches_a_direct_write_in_a_non_actions_module(snippet):
    writes = find_writes(snippet, "messaging/consumers.py")
    assert len(writes) == 1, writes
    assert not allowed(writes[0])


def test_the_guard_names_the_file_line_and_function():
    [write] = find_writes(
        "import x\n\n\nclass Admin:\n    def save_model(self, obj):\n        obj.save()\n", "messaging/admin.py"
    )
    assert (write.path, write.line, write.function, write.code) == ("messaging/admin.py", 6, "Admin.save_model", "obj.save()")


IGNORED = [
    'image.save(out, "PNG")',
    'image.convert("RGB").save(out, "JPEG", quality=85, optimize=False)',
    'Image.new("RGB", (8, 8)).save(out, "TIFF")',
    "storage.delete(key)",
    "default_storage.save(key, ContentFile(data))",
    "default_storage.delete(key)",
    "payload.update({'muteTime': 60})",
    "env.update(extra)",
    "seen = set()\nseen.update(ids)",
    "request.session.save()",
    "store = SessionStore()\nstore.create()\nstore.save()",
    "Session.objects.all().delete()",
    "client.delete(*batch)",
    "client.delete('/admin/messaging/user/1/delete/')",
    "super().save_model(request, obj, form, change)",
    "Message.objects.filter(pk=1).exists()",
    "User.objects.get(username='alice')",
    "cursor.execute('SELECT last_seq FROM messaging_thread')",
    "cursor.execute('ANALYZE messaging_message')",
]


@pytest.mark.parametrize("snippet", IGNORED)
def test_the_guard_leaves_pillow_storage_sessions_and_reads_alone(snippet):
    assert find_writes(snippet, "messaging/media.py") == []


def test_a_write_inside_messaging_actions_is_not_scanned():
    assert not is_scanned("messaging/actions/message_send.py")
    assert not is_scanned("messaging/migrations/0001_initial.py")
