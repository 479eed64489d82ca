"""Summarise a py-spy ``--format raw`` profile (collapsed stacks) of Daphne.

    python -m bench.profile /tmp/prof/daphne-run1.txt [--top 25] [--match messaging/]

Prints samples per thread, then the functions with the largest inclusive and self
share of the samples (py-spy samples only threads that are not idle).
"""

import argparse
import re
from collections import Counter

LINE = re.compile(r"^(.*) (\d+)$")
LOCATION = re.compile(r" \(([^)]*?):\d+\)$")


def load(path):
    stacks = []
    with open(path) as f:
        for raw in f:
            m = LINE.match(raw.rstrip("\n"))
            if m:
                stacks.append((m.group(1).split(";"), int(m.group(2))))
    return stacks


def function(frame):
    """``name (file)`` without the line number, so a function's samples add up."""
    return LOCATION.sub(lambda m: f" ({m.group(1)})", frame)


# (label, substrings of the stack): the first rule that matches a sample wins.
DATABASE_THREADS = ("ThreadPoolExecutor", ": db_")  # asgiref's executor; bench/instrument.py's "db" pool
CATEGORIES = [
    ("channel layer group_send (redis client)", ("group_send",)),
    (
        "channel layer receive (redis client)",
        ("RedisChannelLayer.receive", "RedisSingleShardConnection", "_receive_task", "_do_receiving"),
    ),
    ("WebSocket frames out (daphne, autobahn, twisted)", ("handle_reply", "WebSocketProtocol.sendMessage", "doWrite")),
    ("WebSocket frames in (twisted, autobahn)", ("dataReceived", "doRead")),
    ("consumer code (messaging/)", ("messaging/",)),
    ("channels dispatch (consumer, middleware)", ("channels/",)),
    ("redis client, other", ("redis/",)),
]


def categorise(path):
    """Share of the samples per category (most useful with ``py-spy --gil``)."""
    stacks = load(path)
    total = sum(n for _, n in stacks) or 1
    counts = Counter()
    for frames, n in stacks:
        if any(name in frames[0] for name in DATABASE_THREADS):
            counts["database thread (ORM, psycopg)"] += n
            continue
        text = ";".join(frames)
        for label, needles in CATEGORIES:
            if any(needle in text for needle in needles):
                counts[label] += n
                break
        else:
            counts["event loop, other"] += n
    return total, {label: 100 * n / total for label, n in counts.most_common()}


def summarise(path, top=25, match=None):
    stacks = load(path)
    total = sum(n for _, n in stacks)
    threads, inclusive, self_time = Counter(), Counter(), Counter()
    for frames, n in stacks:
        thread = frames[0].split(":", 1)[-1].strip() if frames[0].startswith("thread") else "?"
        threads["event loop (MainThread)" if thread == "MainThread" else thread] += n
        seen = set()
        for frame in frames[1:]:
            fn = function(frame)
            if fn not in seen:
                inclusive[fn] += n
                seen.add(fn)
        self_time[function(frames[-1])] += n
    lines = [f"{path}: {total} samples"]
    lines.append("by category:")
    lines += [f"  {share:5.1f}%  {label}" for label, share in categorise(path)[1].items()]
    lines.append("samples by thread:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in threads.most_common(8)]
    lines.append("inclusive (a function and what it calls):")
    shown = 0
    for fn, n in inclusive.most_common():
        if match and match not in fn:
            continue
        lines.append(f"  {100 * n / total:5.1f}%  {fn}")
        shown += 1
        if shown >= top:
            break
    lines.append("self (leaf frames):")
    lines += [f"  {100 * n / total:5.1f}%  {fn}" for fn, n in self_time.most_common(top)]
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("path")
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--match", help="only inclusive entries whose name contains this")
    args = p.parse_args()
    print(summarise(args.path, args.top, args.match))


if __name__ == "__main__":
    main()
