// tim.js's side of sync (docs/PROTOCOL.md §5.21, §8): the cursors it keeps, when it asks,
// what it emits from the answer, and the pushes that arrive meanwhile.
import assert from "node:assert/strict";
import { mock, test } from "node:test";
import { conversation, lastRequest, loggedIn, plain, push, reconnect, reply, settle } from "./sdk-harness.js";

const message = (ID, sequence, extra = {}) => ({
  ID,
  conversationID: "C2Cbob",
  sequence,
  from: "bob",
  flow: "in",
  type: "TIMTextElem",
  payload: { text: ID },
  isRevoked: false,
  ...extra,
});
const patch = (syncCursor, extra = {}) => ({ conversationID: "C2Cbob", type: "C2C", syncCursor, ...extra });
const emitted = (events, name) => (events[name] || []).map((batch) => batch.map((m) => m.ID));

test("a reconnect syncs from the listed cursors and emits what was missed, each once", async () => {
  const { socket, events, sockets } = await loggedIn([conversation("C2Cbob", 5, { syncCursor: 7 })]);
  const next = await reconnect(sockets, socket);

  const request = lastRequest(next, "sync");
  assert.deepEqual(plain(request.args), { cursors: { C2Cbob: 7 } });
  // A live delivery during the sync waits, and is not emitted again afterwards.
  push(next, { event: "MESSAGE_RECEIVED", data: [message("b-9", 9)], conversation: patch(10, { unreadCount: 2, lastMessage: { lastSequence: 9 } }) });
  assert.equal(events.onMessageReceived, undefined, "held until the sync ends");
  reply(next, request, {
    conversations: [{ conversationID: "C2Cbob", syncCursor: 10, messageList: [message("b-8", 8), message("b-9", 9)], changedList: [] }],
    isSyncCompleted: true,
    conversationList: [conversation("C2Cbob", 9, { syncCursor: 10, unreadCount: 2 })],
    groupList: [],
  });
  await settle();

  assert.deepEqual(emitted(events, "onMessageReceived"), [["b-8", "b-9"]]);
  assert.deepEqual(events.onGroupListUpdated.at(-1), []);
  // The cursor moved: the next live change is 11, and it triggers no sync.
  push(next, { event: "MESSAGE_RECEIVED", data: [message("b-10", 10)], conversation: patch(11) });
  assert.equal(next.sent.filter((f) => f.op === "sync").length, 1);
  assert.deepEqual(emitted(events, "onMessageReceived").at(-1), ["b-10"]);
});

test("pages are followed to the end with the new cursors; a recall of a held message is MESSAGE_REVOKED", async () => {
  const { chat, socket, events, sockets } = await loggedIn([conversation("C2Cbob", 5, { syncCursor: 5 })]);
  const history = chat.getMessageList({ conversationID: "C2Cbob" });
  reply(socket, lastRequest(socket, "getMessageList"), { messageList: [message("b-5", 5)], nextReqMessageID: "", isCompleted: true });
  const [held] = (await history).data.messageList;
  const next = await reconnect(sockets, socket);

  reply(next, lastRequest(next, "sync"), {
    conversations: [{ conversationID: "C2Cbob", syncCursor: 6, messageList: [message("b-6", 6)], changedList: [] }],
    isSyncCompleted: false,
  });
  await settle();
  const second = lastRequest(next, "sync");
  assert.deepEqual(plain(second.args), { cursors: { C2Cbob: 6 } });
  reply(next, second, {
    conversations: [{ conversationID: "C2Cbob", syncCursor: 7, messageList: [], changedList: [message("b-5", 5, { isRevoked: true, payload: {} })] }],
    isSyncCompleted: true,
    conversationList: [conversation("C2Cbob", 6, { syncCursor: 7 })],
    groupList: [],
  });
  await settle();

  assert.deepEqual(emitted(events, "onMessageReceived"), [["b-6"]]);
  assert.deepEqual(emitted(events, "onMessageRevoked"), [["b-5"]]);
  assert.equal(held.isRevoked, true, "the application's own object is marked");
  // The same recall arriving live afterwards is not told twice.
  push(next, { event: "MESSAGE_REVOKED", data: [message("b-5", 5, { isRevoked: true })], conversation: patch(7) });
  assert.equal(events.onMessageRevoked.length, 1);
});

test("a skipped change number starts a sync; a stale patch is not applied", async () => {
  const { socket, events } = await loggedIn([conversation("C2Cbob", 5, { syncCursor: 5, unreadCount: 0 })]);
  push(socket, { event: "MESSAGE_RECEIVED", data: [message("b-6", 6)], conversation: patch(6, { unreadCount: 1 }) });
  assert.equal(lastRequest(socket, "sync"), undefined, "6 follows 5");
  push(socket, { event: "MESSAGE_RECEIVED", data: [message("b-8", 8)], conversation: patch(8, { unreadCount: 3 }) });
  const request = lastRequest(socket, "sync");
  assert.deepEqual(plain(request.args), { cursors: { C2Cbob: 6 } }, "7 was missed");
  reply(socket, request, {
    conversations: [{ conversationID: "C2Cbob", syncCursor: 8, messageList: [message("b-7", 7), message("b-8", 8)], changedList: [] }],
    isSyncCompleted: true,
    conversationList: [conversation("C2Cbob", 8, { syncCursor: 8, unreadCount: 3 })],
    groupList: [],
  });
  await settle();
  assert.deepEqual(emitted(events, "onMessageReceived"), [["b-6"], ["b-8"], ["b-7"]]);
  push(socket, { event: "CONVERSATION_LIST_UPDATED", data: [patch(7, { unreadCount: 99 })] });
  assert.equal(events.onConversationListUpdated.at(-1)[0].unreadCount, 3, "change 7 is already applied");
});

test("GROUP_LIST_UPDATED syncs: a group joined brings its unread messages", async () => {
  const { socket, events } = await loggedIn([conversation("C2Cbob", 5, { syncCursor: 5 })]);
  push(socket, { event: "GROUP_LIST_UPDATED", data: [{ groupID: "g1" }] });
  const request = lastRequest(socket, "sync");
  assert.deepEqual(plain(request.args), { cursors: { C2Cbob: 5 } });
  const tip = { ...message("tip-1", 1), conversationID: "GROUPg1", type: "TIMGroupTipElem" };
  reply(socket, request, {
    conversations: [{ conversationID: "GROUPg1", syncCursor: 1, messageList: [tip], changedList: [] }],
    isSyncCompleted: true,
    conversationList: [conversation("GROUPg1", 6, { syncCursor: 1 }), conversation("C2Cbob", 5, { syncCursor: 5 })],
    groupList: [{ groupID: "g1" }],
  });
  await settle();
  assert.deepEqual(emitted(events, "onMessageReceived"), [["tip-1"]]);
  assert.deepEqual(events.onConversationListUpdated.at(-1).map((c) => c.conversationID), ["GROUPg1", "C2Cbob"]);
});

test("2290 (resync required) starts over: SDK_NOT_READY, the list again, SDK_READY", async () => {
  const { socket, events } = await loggedIn([conversation("C2Cbob", 5, { syncCursor: 5 })]);
  push(socket, { event: "GROUP_LIST_UPDATED", data: [] });
  push(socket, { id: lastRequest(socket, "sync").id, ok: false, code: 2290, message: "cannot sync" });
  await settle();
  assert.equal(events.sdkStateNotReady.length, 1);
  reply(socket, lastRequest(socket, "getConversationList"), { conversationList: [conversation("C2Cbob", 9, { syncCursor: 2 })] });
  await settle();
  assert.equal(events.sdkStateReady.length, 2);
  // The cursor is the new list's: change 3 follows it without a sync.
  const syncs = socket.sent.filter((f) => f.op === "sync").length;
  push(socket, { event: "MESSAGE_RECEIVED", data: [message("b-10", 10)], conversation: patch(3) });
  assert.equal(socket.sent.filter((f) => f.op === "sync").length, syncs);
});

test("a peer's read while away is told as MESSAGE_READ_BY_PEER for the held messages it covers", async () => {
  const { chat, socket, events, sockets } = await loggedIn([conversation("C2Cbob", 5, { syncCursor: 5, peerReadSequence: 3 })]);
  const history = chat.getMessageList({ conversationID: "C2Cbob" });
  const mine = (ID, sequence) => message(ID, sequence, { from: "alice", flow: "out", isPeerRead: sequence <= 3 });
  reply(socket, lastRequest(socket, "getMessageList"), { messageList: [mine("a-4", 4), mine("a-5", 5)], nextReqMessageID: "", isCompleted: true });
  const [four, five] = (await history).data.messageList;
  const next = await reconnect(sockets, socket);
  reply(next, lastRequest(next, "sync"), {
    conversations: [],
    isSyncCompleted: true,
    conversationList: [conversation("C2Cbob", 5, { syncCursor: 5, peerReadSequence: 4 })],
    groupList: [],
  });
  await settle();
  assert.deepEqual(emitted(events, "onMessageReadByPeer"), [["a-4"]]);
  assert.equal(four.isPeerRead, true);
  assert.equal(five.isPeerRead, false);
});

test("a heartbeat: an unanswered ping reconnects; every twelfth beat syncs", async () => {
  mock.timers.enable({ apis: ["setInterval", "setTimeout"] });
  try {
    const { socket, sockets } = await loggedIn([conversation("C2Cbob", 5, { syncCursor: 5 })]);
    mock.timers.tick(25000);
    const ping = lastRequest(socket, "ping");
    assert.ok(ping, "a ping after 25 s");
    reply(socket, ping, {});
    await settle();
    mock.timers.tick(10000);
    assert.equal(sockets.length, 1, "answered: the socket stays");
    for (let beat = 2; beat <= 12; beat++) {
      mock.timers.tick(25000);
      reply(socket, lastRequest(socket, "ping"), {});
      await settle();
    }
    assert.deepEqual(plain(lastRequest(socket, "sync").args), { cursors: { C2Cbob: 5 } });
    mock.timers.tick(25000); // this ping gets no answer
    mock.timers.tick(10000);
    mock.timers.tick(1000); // the reconnect's backoff
    assert.equal(sockets.length, 2, "unanswered: a new socket");
  } finally {
    mock.timers.reset();
  }
});

test("an online-only message has no change number; a targeted message to others moves the cursor alone; neither syncs", async () => {
  const { socket, events } = await loggedIn([conversation("GROUPteam", 5, { syncCursor: 5, unreadCount: 0 })]);
  const group = (ID, sequence) => ({ ...message(ID, sequence), conversationID: "GROUPteam" });
  push(socket, { event: "MESSAGE_RECEIVED", data: [group("typing", 0)] });
  push(socket, { event: "CONVERSATION_LIST_UPDATED", data: [{ conversationID: "GROUPteam", syncCursor: 6 }] });
  push(socket, { event: "MESSAGE_RECEIVED", data: [group("b-8", 8)], conversation: { conversationID: "GROUPteam", type: "GROUP", syncCursor: 7, unreadCount: 1 } });
  assert.equal(lastRequest(socket, "sync"), undefined);
  assert.deepEqual(emitted(events, "onMessageReceived"), [["typing"], ["b-8"]]);
  assert.equal(events.onConversationListUpdated.at(-1)[0].unreadCount, 1);
});

test("a read made before a change already applied (seenCursor below the cursor) does not reset the count", async () => {
  const { socket, events } = await loggedIn([conversation("C2Cbob", 5, { syncCursor: 5, unreadCount: 0 })]);
  push(socket, { event: "MESSAGE_RECEIVED", data: [message("b-6", 6)], conversation: patch(6, { unreadCount: 1 }) });
  push(socket, { event: "CONVERSATION_LIST_UPDATED", data: [{ conversationID: "C2Cbob", unreadCount: 0, groupAtInfoList: [], seenCursor: 5 }] });
  assert.equal(events.onConversationListUpdated.at(-1)[0].unreadCount, 1, "the read came before message 6");
  push(socket, { event: "CONVERSATION_LIST_UPDATED", data: [{ conversationID: "C2Cbob", unreadCount: 0, groupAtInfoList: [], seenCursor: 6 }] });
  const [conv] = events.onConversationListUpdated.at(-1);
  assert.equal(conv.unreadCount, 0, "a read after it");
  assert.equal(conv.seenCursor, undefined, "not a field");
});

test("a conversation the list leaves out keeps its cursor: the next sync names it", async () => {
  const { socket } = await loggedIn([conversation("C2Cbob", 5, { syncCursor: 5 })]);
  push(socket, { event: "GROUP_LIST_UPDATED", data: [] });
  reply(socket, lastRequest(socket, "sync"), {
    conversations: [{ conversationID: "C2Cold", syncCursor: 3, messageList: [message("o-3", 3, { conversationID: "C2Cold" })], changedList: [] }],
    isSyncCompleted: true,
    conversationList: [conversation("C2Cbob", 5, { syncCursor: 5 })],
    groupList: [],
  });
  await settle();
  push(socket, { event: "GROUP_LIST_UPDATED", data: [] });
  assert.deepEqual(plain(lastRequest(socket, "sync").args), { cursors: { C2Cbob: 5, C2Cold: 3 } });
});

test("a recall keeps the held message's group name card (the recall does not carry it)", async () => {
  const { chat, socket, events } = await loggedIn([conversation("GROUPg1", 5, { syncCursor: 5 })]);
  const history = chat.getMessageList({ conversationID: "GROUPg1" });
  const said = message("b-5", 5, { conversationID: "GROUPg1", nameCard: "Bobby" });
  reply(socket, lastRequest(socket, "getMessageList"), { messageList: [said], nextReqMessageID: "", isCompleted: true });
  const [held] = (await history).data.messageList;
  push(socket, { event: "MESSAGE_REVOKED", data: [{ ...said, nameCard: "", isRevoked: true, payload: {} }], conversation: patch(6, { conversationID: "GROUPg1" }) });
  assert.equal(events.onMessageRevoked.length, 1);
  assert.equal(held.isRevoked, true);
  assert.equal(held.nameCard, "Bobby");
});

test("a socket refused with only an 'error' (a page policy) is treated as lost: the SDK retries", async () => {
  const { socket, sockets } = await loggedIn([]);
  socket.onclose({ code: 1006 });
  await new Promise((resolve) => setTimeout(resolve, 600));
  const refused = sockets.at(-1);
  assert.notEqual(refused, socket);
  refused.readyState = 3; // Chromium: CSP-blocked, 'error' fires and 'close' never does
  refused.onerror({});
  await new Promise((resolve) => setTimeout(resolve, 1200));
  assert.notEqual(sockets.at(-1), refused, "another attempt after the error alone");
});

test("my deletions from another tab, live or from a sync, mark the held messages and emit MESSAGE_DELETED", async () => {
  const { chat, socket, events, sockets } = await loggedIn([conversation("C2Cbob", 5, { syncCursor: 5 })]);
  const history = chat.getMessageList({ conversationID: "C2Cbob" });
  reply(socket, lastRequest(socket, "getMessageList"), {
    messageList: [message("b-3", 3), message("b-4", 4), message("b-5", 5)],
    nextReqMessageID: "",
    isCompleted: true,
  });
  const [three, four, five] = (await history).data.messageList;

  push(socket, { event: "MESSAGE_DELETED", data: { conversationID: "C2Cbob", messageIDList: ["b-5"] } });
  push(socket, { event: "CONVERSATION_LIST_UPDATED", data: [patch(6, { unreadCount: 0, lastMessage: { ID: "b-4", lastSequence: 4 } })] });
  assert.equal(five.isDeleted, true);
  assert.deepEqual(events.onMessageDeleted.map((d) => d.messageList.map((m) => m.ID)), [["b-5"]]);
  assert.equal(events.onConversationListUpdated.at(-1)[0].lastMessage.ID, "b-4");
  assert.equal(lastRequest(socket, "sync"), undefined, "the deletion's change number follows");

  const next = await reconnect(sockets, socket);
  reply(next, lastRequest(next, "sync"), {
    conversations: [{ conversationID: "C2Cbob", syncCursor: 7, messageList: [], changedList: [], deletedList: [], clearedSequence: 5 }],
    isSyncCompleted: true,
    conversationList: [conversation("C2Cbob", 5, { syncCursor: 7, lastMessage: {} })],
    groupList: [],
  });
  await settle();
  assert.deepEqual(plain([three.isDeleted, four.isDeleted]), [true, true]);
  assert.equal(events.onMessageDeleted.at(-1).clearedSequence, 5);
});
