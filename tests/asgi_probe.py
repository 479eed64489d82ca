"""An ASGI application that answers every HTTP request with its process's pid: which
Daphne answered (tests/test_serve.py, the held listening socket)."""

import os


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = str(os.getpid()).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
