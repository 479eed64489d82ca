"""Recall and read-receipt fan-out in one large group (issue 7 item 9).

``python -m bench.run --only fanout-receipts [--members 1000] [--servers 1]``
(with ``--servers 2`` socket i connects to Daphne i % 2)

Setup (this process, the ORM): ``members`` users with sessions and one Work group of
all of them (bench/load.py's ``seed_load``, no C2C pairs); user 0 is the owner, who
sends. Run (asyncio + ``websockets``): every member opens one socket.

1. **Recall**: the owner sends a group message, waits until every other socket has
   it, then recalls it. Latency per socket = MESSAGE_REVOKED's arrival minus the
   revokeMessage request's send time; p50/p99/max over the ``members - 1`` sockets
   ("to the last tab" is the max).
2. **Receipts**: the owner sends a message with ``needReadReceipt``; once every socket
   has it, all ``members - 1`` others send ``sendMessageReadReceipt`` at once. Measured:
   the readers' reply latency (p50/p99), the time until the owner's socket sees the
   final ``readCount`` (``members - 1``), and how many MESSAGE_READ_RECEIPT_RECEIVED
   frames it took (batched per ``READ_RECEIPT_WINDOW``, default 1 s).
3. **Queries per reader**: one more reader's receipt in the same group, run in this
   process against the bench database with Django's query capture (the statements an
   op runs, BEGIN/COMMIT not counted).

Everything is on loopback and bounded in time (``budget``).
"""

import asyncio
import json
import time

from bench.load import GROUP_ID, LoadConfig, connect_socket, seed_load
from bench.stats import percentile


class Socket:
    def __init__(self, idx, session_key):
        self.idx = idx
        self.session_key = session_key
        self.ws = None
        self.ready = asyncio.Event()
        self.replies = {}
        self.next_id = 0


class FanoutRun:
    def __init__(self, seeded, servers):
        """``servers``: (ws_url, origin) of each Daphne; socket i uses server i % len(servers)."""
        self.servers = list(servers)
        self.sockets = [Socket(i, k) for i, k in enumerate(seeded["session_keys"])]
        self.owner = self.sockets[0]
        self.others = self.sockets[1:]
        self.received = {}  # text -> {socket idx: time}
        self.revoked = {}  # message ID -> {socket idx: time}
        self.receipt_frames = []  # (time, readCount) at the owner
        self.waiters = []

    async def open(self, socket, semaphore):
        ws_url, origin = self.servers[socket.idx % len(self.servers)]
        async with semaphore:
            socket.ws = await connect_socket(ws_url, origin, socket.session_key, open_timeout=60)
            socket.reader = asyncio.create_task(self.read(socket))
            await asyncio.wait_for(socket.ready.wait(), 60)

    async def read(self, socket):
        async for frame in socket.ws:
            now = time.perf_counter()
            data = json.loads(frame)
            event = data.get("event")
            if event is None:
                future = socket.replies.pop(data.get("id"), None)
                if future is not None and not future.done():
                    future.set_result((now, data))
            elif event == "hello":
                socket.ready.set()
            elif event == "MESSAGE_RECEIVED":
                for message in data["data"]:
                    self.received.setdefault(message["payload"].get("text", ""), {})[socket.idx] = now
            elif event == "MESSAGE_REVOKED":
                for message in data["data"]:
                    self.revoked.setdefault(message["ID"], {})[socket.idx] = now
            elif event == "MESSAGE_READ_RECEIPT_RECEIVED" and socket is self.owner:
                self.receipt_frames.append((now, max(item["readCount"] for item in data["data"])))

    async def request(self, socket, op, **args):
        socket.next_id += 1
        future = asyncio.get_running_loop().create_future()
        socket.replies[socket.next_id] = future
        sent_at = time.perf_counter()
        await socket.ws.send(json.dumps({"id": socket.next_id, "op": op, "args": args}))
        replied_at, reply = await asyncio.wait_for(future, 60)
        if not reply["ok"]:
            raise RuntimeError(f"{op}: {reply['code']} {reply['message']}")
        return sent_at, replied_at, reply["data"]

    async def wait_until(self, condition, timeout):
        deadline = time.perf_counter() + timeout
        while not condition():
            if time.perf_counter() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True

    async def send_to_all(self, text, **extra):
        message = {"to": GROUP_ID, "conversationType": "GROUP", "type": "TIMTextElem", "payload": {"text": text}, **extra}
        _, _, data = await self.request(self.owner, "sendMessage", message=message)
        everyone = len(self.others)
        await self.wait_until(lambda: len(self.received.get(text, ())) >= everyone, 60)
        return data["message"]

    async def run(self):
        semaphore = asyncio.Semaphore(20)
        t = time.perf_counter()
        await asyncio.gather(*(self.open(s, semaphore) for s in self.sockets))
        connect_s = time.perf_counter() - t
        conversation_id = "GROUP" + GROUP_ID

        # 1. recall
        target = await self.send_to_all("recall me")
        sent_at, replied_at, _ = await self.request(
            self.owner, "revokeMessage", message={"ID": target["ID"], "conversationID": conversation_id}
        )
        everyone = len(self.others)
        await self.wait_until(lambda: len(self.revoked.get(target["ID"], ())) >= everyone, 60)
        recall = [1000 * (at - sent_at) for at in self.revoked.get(target["ID"], {}).values()]

        # 2. receipts
        asked = await self.send_to_all("please read", needReadReceipt=True)
        ref = [{"ID": asked["ID"], "conversationID": conversation_id}]
        t0 = time.perf_counter()
        replies = await asyncio.gather(*(self.request(s, "sendMessageReadReceipt", messageList=ref) for s in self.others))
        last_ack = max(replied for _, replied, _ in replies)
        final = await self.wait_until(lambda: bool(self.receipt_frames) and self.receipt_frames[-1][1] >= everyone, 30)
        await asyncio.sleep(1.5)  # any frame after the final count would be counted too
        acks = [1000 * (replied - sent) for sent, replied, _ in replies]
        seen_final = next((at for at, count in self.receipt_frames if count >= everyone), None)
        for socket in self.sockets:
            await socket.ws.close()
        return {
            "members": len(self.sockets),
            "connect_s": connect_s,
            "recall_reached": len(recall),
            "recall_ack_ms": 1000 * (replied_at - sent_at),
            "recall_p50": percentile(recall, 50),
            "recall_p99": percentile(recall, 99),
            "recall_max": max(recall) if recall else None,
            "receipts_sent": len(acks),
            "receipt_ack_p50": percentile(acks, 50),
            "receipt_ack_p99": percentile(acks, 99),
            "receipts_all_acked_ms": 1000 * (last_ack - t0),
            "final_count_seen": final,
            "final_count_ms": 1000 * (seen_final - t0) if seen_final else None,
            "receipt_frames": len(self.receipt_frames),
            "frame_counts": [count for _, count in self.receipt_frames],
            "asked_id": asked["ID"],
        }


def queries_per_reader(members: int) -> dict:
    """The statements one more reader's receipt runs in the seeded group (PostgreSQL)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from messaging import actions
    from messaging.models import User
    from messaging.schemas import MessageRef

    owner = User.objects.get(username="bload0000")
    reader = User.objects.get(username=f"bload{members - 1:04d}")
    asked = actions.send_message(
        owner,
        conversation_type="GROUP",
        to=GROUP_ID,
        msg_type="TIMTextElem",
        payload={"text": "one more"},
        need_read_receipt=True,
    ).message
    with CaptureQueriesContext(connection) as captured:
        actions.send_message_read_receipt(reader, [MessageRef(ID=asked.msg_id, conversationID="GROUP" + GROUP_ID)])
    return {"queries": len(captured.captured_queries), "sql": [q["sql"][:120] for q in captured.captured_queries]}


def seed(members: int) -> dict:
    return seed_load(LoadConfig(clients=members, group_size=members, pairs=0))
