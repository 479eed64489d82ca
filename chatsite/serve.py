"""Daphne on uvloop's event loop: ``python -m chatsite.serve`` takes Daphne's arguments.

    python -m chatsite.serve -b 127.0.0.1 -p 8000 chatsite.asgi:application

Daphne runs Twisted on an asyncio loop that it makes when ``daphne.server`` is imported,
from the event loop policy in force. With asyncio's own loop (selectors in Python),
every frame written to a socket registered and unregistered a writer in Python
(``selectors.modify`` and a named tuple each time): in a 1,000-member fan-out that was a
fifth of the process's time, and the loop's own bookkeeping another fifth
(docs/PERFORMANCE.md, "uvloop"). uvloop does the same work in C. The policy has to be
set before Daphne's module is imported, hence this entry point instead of ``daphne``.
Everything else is Daphne's command line, unchanged.
"""

import asyncio
import sys


def install():
    """Make uvloop the event loop policy; True if it was installed (it is a requirement,
    but a platform without it still runs, on asyncio's loop)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is in requirements.txt
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def main(argv=None):
    if "daphne.server" in sys.modules:
        raise RuntimeError("chatsite.serve must run before daphne.server is imported")
    install()
    from daphne.cli import CommandLineInterface

    CommandLineInterface().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
