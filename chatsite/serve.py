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

It also lets a TCP connection write at once (``write_through``): Twisted's
``FileDescriptor.write`` never sends, it buffers and registers a writer with the loop
(``add_writer``), sends when the loop next reports the socket writable, and removes the
writer again. On uvloop that was still 45 % of a live room's Daphne (one Meeting group,
2,500 sockets per process: ``addWriter`` alone 31 % of the samples), for frames that
the kernel takes whole at once nearly always (docs/PERFORMANCE.md, "write-through").
And autobahn formats its debug lines only while its debug log is on
(``pformat_when_debugging``, ``highlight_when_debugging``).

And the objects made at startup are frozen out of the garbage collector's full
collections (``freeze_startup_objects``; docs/PERFORMANCE.md, "the storm's pauses"), and
the collector is off until then (``pause_collector_during_startup``).

And once Daphne has stopped cleanly, the process ends without the interpreter's teardown
(``end_without_teardown``): a restart's new process starts that much sooner.
"""

import atexit
import gc
import os
import pprint
import sys

# Set when Daphne's ``run`` has returned (it stopped cleanly): see ``end_without_teardown``.
_stopped_cleanly = False


def install():
    """Make uvloop the event loop policy; True if it was installed (it is a requirement,
    but a platform without it still runs, on asyncio's loop)."""
    import asyncio

    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is in requirements.txt
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True


def write_through(buffered_write):
    """A ``tcp.Connection.write`` that sends ``data`` at once when nothing is waiting to
    be sent before it, as asyncio's transports do, and hands Twisted's buffered
    ``buffered_write`` only what the kernel did not take (or everything, when the
    connection is TLS, closing, or has data queued: order and Twisted's error handling
    stay its own; a send error leaves the data to ``doWrite``, which sees the error
    again and closes the connection as before)."""

    def write(self, data):
        if (
            type(data) is bytes
            and data
            and not self.TLS
            and self.connected
            and not self.disconnecting
            and not self._writeDisconnected
            and not self._tempDataBuffer
            and len(self.dataBuffer) == self.offset
        ):
            try:
                sent = self.socket.send(data)
            except OSError:  # EAGAIN, EINTR, or an error that doWrite will meet again
                sent = 0
            if sent == len(data):
                return
            data = data[sent:]
        buffered_write(self, data)

    write.__doc__ = write_through.__doc__
    return write


def install_write_through():
    from twisted.internet import tcp

    if not getattr(tcp.Connection.write, "writes_through", False):
        tcp.Connection.write = write_through(tcp.Connection.write)
        tcp.Connection.write.writes_through = True


def prepare_daphne():
    """After ``daphne.server`` made the reactor: the startup objects frozen when the
    reactor runs (the application is loaded by then)."""
    from twisted.internet import reactor

    reactor.callWhenRunning(freeze_startup_objects)


def pause_collector_during_startup():
    """Turn the garbage collector off until the reactor runs (``freeze_startup_objects``
    collects once and turns it on again). Importing Django, the apps, Twisted and Daphne
    makes ~145,000 objects that live as long as the process; the collector ran three full
    collections of them meanwhile, 0.10-0.15 s of the start (docs/PERFORMANCE.md, "a
    restart's dead time"), while a restarted process's clients wait in its socket's queue."""
    gc.disable()


def freeze_startup_objects():
    """Collect, then move every object alive now (Django, the apps, the modules: ~145,000
    objects) to the collector's permanent generation. A full collection walks every
    object it tracks and holds every thread meanwhile: with 2,000 sockets a process's
    took 150-330 ms, and it runs again each time the heap grows by a quarter, as it does
    while a storm's clients come in. Startup objects live as long as the process, so
    walking them again finds nothing; they still go when their last reference does.
    The collector, off since ``pause_collector_during_startup``, is on again from here."""
    gc.collect()
    gc.freeze()
    gc.enable()


def pformat_when_debugging(obj, *args, **kwargs):
    """``pprint.pformat`` for autobahn's debug lines, only while its debug log is on.
    autobahn pretty-prints its thirty settings for a debug line at every connection,
    whether that line is logged or not: 3.5 % of a Daphne taking a reconnect storm
    (docs/PERFORMANCE.md, the storm)."""
    import txaio

    if txaio.get_global_log_level() in ("debug", "trace"):
        return pprint.pformat(obj, *args, **kwargs)
    return "(not formatted: autobahn's debug log is off)"


def highlight_when_debugging(highlight):
    """autobahn's ``hltype`` or ``hlval`` (a name or value coloured for a log line), only
    while its debug log is on; else the object as it is (a line that is logged formats it).
    ``sendData`` highlights its own name and the peer's address for a debug line at every
    frame it writes, whether that line is logged or not: 11 % of a live room's Daphne
    (docs/PERFORMANCE.md, "the live room under 1 s")."""
    import txaio

    def quiet(obj, *args, **kwargs):
        if txaio.get_global_log_level() in ("debug", "trace"):
            return highlight(obj, *args, **kwargs)
        return obj

    quiet.highlights = highlight
    return quiet


def install_quiet_autobahn():
    from autobahn.websocket import protocol

    protocol.pformat = pformat_when_debugging
    for name in ("hltype", "hlval"):
        if not hasattr(getattr(protocol, name), "highlights"):
            setattr(protocol, name, highlight_when_debugging(getattr(protocol, name)))


def end_without_teardown():
    """The last exit handler (registered before any library's; they run last first): after
    a clean stop, end the process here instead of tearing the interpreter down.

    By now Python has joined the threads that were still working (the database threads
    among them) and run every other exit handler (logging's flush among them). What the
    teardown would do next is free every module and object one by one: with 1,000 sockets
    open that took 0.4-0.5 s, between SIGTERM and the moment systemd may start the next
    process, while the clients wait in the held socket's queue (docs/PERFORMANCE.md, "a
    restart's dead time"). The database and Redis connections still open are closed by
    the kernel; PostgreSQL takes that from an idle client as an ordinary end (it logs it
    only at DEBUG1). After a failed start or an exception, the teardown runs as usual."""
    if not _stopped_cleanly:
        return
    if "logging" in sys.modules:  # already done if its handler ran before this one; harmless again
        sys.modules["logging"].shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # None, a closed pipe, a closed file
            pass
    os._exit(0)


def main(argv=None):
    global _stopped_cleanly
    if "daphne.server" in sys.modules:
        raise RuntimeError("chatsite.serve must run before daphne.server is imported")
    atexit.register(end_without_teardown)
    pause_collector_during_startup()
    install()
    install_write_through()
    install_quiet_autobahn()
    from daphne.cli import CommandLineInterface  # imports daphne.server: its reactor

    prepare_daphne()
    CommandLineInterface().run(sys.argv[1:] if argv is None else argv)
    _stopped_cleanly = True


if __name__ == "__main__":
    main()
