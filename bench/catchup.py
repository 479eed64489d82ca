"""The reads of a reconnecting socket: statements and CPU per call, in-process, on PostgreSQL.

    python -m bench.catchup [--calls 200] [--runs 5] [--conversations 20] [--smoke] [--keep]

What each of a reconnect storm's thousand sockets costs its process in the database
threads (docs/PERFORMANCE.md, the storm), without sockets or Daphne: the handshake's
session and user read (Channels' ``get_user``), the state read at connect
(``session.load_session_state``), and the ``sync`` from the cursors the client had (one
conversation changed since: one new message), whose last page carries the conversation
list and the group list. The user has ``--conversations`` conversations, a quarter of
them groups.

Makes its own database (``chat_bench_catchup`` on the bench server, dropped at the end
unless ``--keep``). Per read it prints the statements of one call and the process CPU
time per call (the median of ``--runs`` runs of ``--calls`` calls). ``--smoke``: 3 calls,
1 run (tests/integration/test_bench_sendpath.py).
"""

from bench import inprocess

READS = ("auth", "state", "sync")


def parse_args(argv=None):
    return inprocess.parse_args(
        "catchup", __doc__, "calls", lambda p: p.add_argument("--conversations", type=int, default=20), argv
    )


class World:
    """A user with conversations (a quarter of them groups), a session, and the cursors
    of a client that saw everything but the last message of one conversation."""

    def __init__(self, conversations):
        from django.contrib.sessions.backends.db import SessionStore

        from messaging import actions
        from messaging.queries import sync

        self.user = actions.create_user("cu_user")
        groups = conversations // 4
        peers = [actions.create_user(f"cu_peer{i:03d}") for i in range(conversations - groups)]
        for peer in peers:
            actions.send_message(peer, conversation_type="C2C", to="cu_user", msg_type="TIMTextElem", payload={"text": "hi"})
        for i in range(groups):
            actions.create_group(
                peers[i], group_type="Public", name=f"g{i}", group_id=f"cu_g{i}", member_user_ids=["cu_user", peers[-1].username]
            )
            actions.send_message(
                peers[i], conversation_type="GROUP", to=f"cu_g{i}", msg_type="TIMTextElem", payload={"text": "hi"}
            )
        self.cursors = {c["conversationID"]: c["syncCursor"] for c in sync.sync(self.user, {})["conversationList"]}
        actions.send_message(peers[0], conversation_type="C2C", to="cu_user", msg_type="TIMTextElem", payload={"text": "new"})
        session = SessionStore()
        session["_auth_user_id"] = str(self.user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = self.user.get_session_auth_hash()
        session.save()
        self.session_key = session.session_key

    def read(self, name):
        from importlib import import_module

        from channels.auth import get_user
        from django.conf import settings

        from messaging.queries import session, sync

        if name == "auth":  # the site's session store (chatsite/sessions.py), as the socket's authentication reads it
            return get_user.func({"session": import_module(settings.SESSION_ENGINE).SessionStore(self.session_key)})
        if name == "state":
            return session.load_session_state(self.user)
        return sync.sync(self.user, self.cursors)


def measure(args):
    world = World(args.conversations)
    answer = world.read("sync")
    assert answer["isSyncCompleted"] and len(answer["conversations"]) == 1, answer
    calls = {name: (lambda name=name: world.read(name)) for name in READS}
    return inprocess.measure(calls, args.calls, args.runs)


def main(argv=None):
    args = parse_args(argv)

    def work():
        header = f"{args.calls} calls x {args.runs} runs; {args.conversations} conversations"
        inprocess.report(measure(args), header, "read", "call")

    inprocess.on_bench_database(args.database_url, args.keep, work)


if __name__ == "__main__":
    main()
