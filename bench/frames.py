"""The CPU cost of the two frames on the hot path, without a server or a database
(docs/PERFORMANCE.md):

- decoding and validating one ``sendMessage`` request frame: the choice of msgspec for
  messaging/schemas.py;
- building one group delivery frame for a receiving socket (``serialize.message_patch``
  + ``message_frame``): what each of a group's sockets does per message.

    .venv/bin/python -m bench.frames [--frames 100000]

Compares: ``json.loads`` alone (what the consumer did before, with its hand checks
still to come), the project's msgspec path (``schemas.decode_frame`` + ``decode_args``),
and pydantic 2 models of the same fields in strict mode, if pydantic is installed
(it is not a dependency: ``pip install pydantic`` to include it).
"""

import argparse
import json
import os
import timeit
from typing import Annotated, Any, Literal

FRAME = json.dumps(
    {
        "id": 17,
        "op": "sendMessage",
        "args": {
            "message": {
                "ID": "alice-1700000000-12345",
                "to": "bob",
                "conversationType": "C2C",
                "type": "TIMTextElem",
                "payload": {"text": "hello there, how are you doing today?"},
                "priority": "Normal",
                "cloudCustomData": "",
                "random": 123456789,
                "clientTime": 1700000000,
            },
            "options": {},
        },
    }
)


GROUP_MESSAGE = json.dumps(
    {
        "ID": "12-1700000000-1",
        "type": "TIMTextElem",
        "payload": {"text": "hello everyone, how is it going"},
        "conversationType": "GROUP",
        "to": "bench-group",
        "from": "u001",
        "nick": "User 1",
        "avatar": "",
        "nameCard": "",
        "time": 1700000000,
        "clientTime": 1700000000,
        "sequence": 42,
        "random": 1,
        "status": "success",
        "priority": "Normal",
        "isRevoked": False,
        "revoker": None,
        "isPeerRead": False,
        "isDeleted": False,
        "isModified": False,
        "atUserList": [],
        "cloudCustomData": "",
        "needReadReceipt": False,
        "messageForShow": "hello everyone, how is it going",
    }
)


def pydantic_decoder():
    try:
        import pydantic
    except ImportError:
        return None

    class Ref(pydantic.BaseModel, extra="forbid", strict=True):
        ID: str
        conversationID: str

    class Message(pydantic.BaseModel, extra="forbid", strict=True):
        conversationType: str
        to: str
        type: str = ""
        payload: dict[str, Any] = {}
        ID: Annotated[str, pydantic.Field(min_length=1, max_length=64)] | None = None
        priority: Literal["High", "Normal", "Low", "Lowest"] = "Normal"
        cloudCustomData: str = ""
        random: Annotated[int, pydantic.Field(ge=0, lt=2**53)] = 0
        clientTime: Annotated[int, pydantic.Field(ge=0, lt=2**53)] = 0
        atUserList: list[str] = []
        forward: Ref | None = None
        needReadReceipt: bool = False
        receiverList: list[str] = []

    class Options(pydantic.BaseModel, extra="forbid", strict=True):
        onlineUserOnly: bool = False

    class Args(pydantic.BaseModel, extra="forbid"):
        message: Message
        options: Options = Options()

    def decode():
        frame = json.loads(FRAME)
        return Args.model_validate(frame.get("args", {}))

    return decode, pydantic.VERSION


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=100_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    import django

    django.setup()
    import msgspec

    from messaging import schemas

    def with_msgspec():
        frame = schemas.decode_frame(FRAME)
        return schemas.decode_args(frame.op, frame.args)

    cases = [("json.loads only (no checks)", lambda: json.loads(FRAME)), (f"msgspec {msgspec.__version__} structs", with_msgspec)]
    found = pydantic_decoder()
    if found:
        cases.append((f"pydantic {found[1]} (json.loads + model_validate)", found[0]))
    print(f"decode + validate one sendMessage frame ({len(FRAME)} bytes), best of 5 x {args.frames:,}:")
    for name, fn in cases:
        seconds = min(timeit.repeat(fn, number=args.frames, repeat=5)) / args.frames
        print(f"  {name:<48} {seconds * 1e6:6.2f} µs")

    from messaging import serialize

    delivery = serialize.delivery(json.loads(GROUP_MESSAGE), 1)

    def deliver():
        serialize.delivery_conversation_id(delivery, "u017")  # the consumer's unread key
        patch = serialize.message_patch(delivery, "u017", 3)
        return serialize.message_frame(delivery, "u017", patch, None)

    seconds = min(timeit.repeat(deliver, number=args.frames, repeat=5)) / args.frames
    print(f"build one group delivery frame for a receiving socket: {seconds * 1e6:.2f} µs")


if __name__ == "__main__":
    main()
