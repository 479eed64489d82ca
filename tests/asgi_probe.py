"""An ASGI application that answers every HTTP request with its process's pid: which
Daphne answered (tests/test_serve.py, the held listening socket); at ``/gc``, whether the
garbage collector was on when this module was imported, and whether it is on now.

With ``CHAT_PROBE_EXIT_LOG`` set to a path, the process also writes there "exit handler"
when its exit handlers run, and "teardown" when the interpreter's teardown clears its
state (the audit event ``cpython.PyInterpreterState_Clear``): tests/test_serve.py, the end
without the teardown."""

import atexit
import gc
import os
import sys

GC_AT_IMPORT = gc.isenabled()

EXIT_LOG = os.environ.get("CHAT_PROBE_EXIT_LOG")


def note(line, write=os.write):  # bound now: the teardown takes modules and builtins away
    write(LOG_FD, line.encode() + b"\n")


def audit(event, args, note=note):
    if event == "cpython.PyInterpreterState_Clear":
        note("teardown")


if EXIT_LOG:
    LOG_FD = os.open(EXIT_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    atexit.register(note, "exit handler")
    sys.addaudithook(audit)


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/gc":
        body = f"at import {GC_AT_IMPORT}, now {gc.isenabled()}".encode()
    else:
        body = str(os.getpid()).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
