"""The send path's SQL: statements and CPU per send, in-process, on PostgreSQL.

    python -m bench.sendpath [--sends 200] [--runs 5] [--members 50] [--smoke] [--keep]

Makes its own database (``chat_bench_sendpath`` on the bench server, dropped at the
end unless ``--keep``), migrates it, and calls ``actions.send_message`` (no socket, no
Daphne) for three paths:

- ``c2c``: a C2C message between two users who already have a thread;
- ``first``: a C2C message to a user the sender never wrote to (the thread and both
  conversation rows are made by the send);
- ``group``: a message to a Public group of ``--members`` members.

Every send carries a client message ID, as ``tim.js`` gives every message one (the
send's resend check reads it). Per path it prints the statements of one send (``CaptureQueriesContext``: every
statement Django sends, the transaction's BEGIN and COMMIT included: each is a round
trip) and the process CPU time per send (the median of
``--runs`` runs of ``--sends`` sends each). The group's send-rate window is emptied
between sends (outside the timing) so that no send is shed. ``--smoke`` runs 3 sends
in 1 run (the test's form, tests/test_bench_sendpath.py).
"""

import itertools

from bench import inprocess

PATHS = ("c2c", "first", "group")


def parse_args(argv=None):
    return inprocess.parse_args("sendpath", __doc__, "sends", lambda p: p.add_argument("--members", type=int, default=50), argv)


class World:
    """The users and group the sends go between; ``first`` uses a fresh peer per send."""

    def __init__(self, members, fresh):
        from messaging import actions

        self.sender = actions.create_user("sp_sender")
        self.peer = actions.create_user("sp_peer")
        self.fresh = iter([actions.create_user(f"sp_new{i:05d}") for i in range(fresh)])
        self.ids = itertools.count()
        others = [actions.create_user(f"sp_member{i:03d}") for i in range(members - 1)]
        actions.create_group(
            self.sender, group_type="Public", name="Bench", group_id="sp_group", member_user_ids=[u.username for u in others]
        )
        self.send("c2c")  # the pair's thread exists before the first measured C2C send

    def send(self, path):
        from messaging import actions

        if path == "group":
            kind, to = "GROUP", "sp_group"
        elif path == "first":
            kind, to = "C2C", next(self.fresh).username
        else:
            kind, to = "C2C", self.peer.username
        return actions.send_message(
            self.sender,
            conversation_type=kind,
            to=to,
            msg_type="TIMTextElem",
            payload={"text": "hi"},
            msg_id=f"sp-{next(self.ids)}",
        )


def measure(args):
    from messaging import ratelimit

    world = World(args.members, fresh=args.sends * args.runs + 1)
    calls = {path: (lambda path=path: world.send(path)) for path in PATHS}
    return inprocess.measure(calls, args.sends, args.runs, before=ratelimit.reset)


def main(argv=None):
    args = parse_args(argv)

    def work():
        header = f"{args.sends} sends x {args.runs} runs; group of {args.members}"
        inprocess.report(measure(args), header, "path", "send")

    inprocess.on_bench_database(args.database_url, args.keep, work)


if __name__ == "__main__":
    main()
