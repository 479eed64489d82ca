// Editing (docs/PROTOCOL.md §5.51, §6.18): tim.js's modifyMessage and MESSAGE_MODIFIED, live
// and from a sync, and the rule the menu uses to offer "Edit" (rules.js mayModify, with
// the server's own hello rules).
import assert from "node:assert/strict";
import { test } from "node:test";
import { mayModify } from "../../static/chat/rules.js";
import { conversation, lastRequest, loggedIn, plain, push, reconnect, reply, settle } from "./sdk-harness.js";
import { serverRules } from "./server-rules.js";

const own = (text, extra = {}) => ({
  ID: "a-1",
  conversationID: "C2Cbob",
  sequence: 5,
  from: "alice",
  flow: "out",
  type: "TIMTextElem",
  status: "success",
  payload: { text },
  cloudCustomData: "",
  isRevoked: false,
  isModified: false,
  version: 0,
  ...extra,
});

async function holding(message) {
  const session = await loggedIn([conversation("C2Cbob", 5, { syncCursor: 5, lastMessage: { ID: message.ID, lastTime: 5, lastSequence: 5 } })]);
  const history = session.chat.getMessageList({ conversationID: "C2Cbob" });
  reply(session.socket, lastRequest(session.socket, "getMessageList"), { messageList: [message], nextReqMessageID: "", isCompleted: true });
  const [held] = (await history).data.messageList;
  return { ...session, held };
}

test("modifyMessage sends the version held and updates the held Message and lastMessage with the reply", async () => {
  const { chat, socket, events, held } = await holding(own("helo"));
  held.payload.text = "hello"; // as the vendor's docs do: change the message, then pass it
  const done = chat.modifyMessage(held);

  const request = lastRequest(socket, "modifyMessage");
  assert.deepEqual(plain(request.args), { message: { ID: "a-1", conversationID: "C2Cbob", version: 0, payload: { text: "hello" }, cloudCustomData: "" } });
  reply(socket, request, { message: own("hello", { isModified: true, version: 1 }) });
  const result = await done;

  assert.equal(result.code, 0);
  assert.equal(result.data.message, held, "the same object");
  assert.equal(held.version, 1);
  assert.equal(held.isModified, true);
  assert.equal(events.onConversationListUpdated.at(-1)[0].lastMessage.payload.text, "hello");
  assert.equal(events.onMessageModified, undefined, "the asking instance gets the promise, not the event");
});

test("a conflict rejects with 2480 and data.message, the held Message brought to the current version", async () => {
  const { chat, socket, held } = await holding(own("draft"));
  const done = chat.modifyMessage({ ...held, payload: { text: "mine" } });
  const current = own("theirs", { isModified: true, version: 1 });
  push(socket, { id: lastRequest(socket, "modifyMessage").id, ok: false, code: 2480, message: "message modification conflict", data: { message: current } });

  const error = await done.then(() => assert.fail("resolved"), (e) => e);

  assert.equal(error.code, 2480);
  assert.equal(error.data.message.payload.text, "theirs");
  assert.equal(held.payload.text, "theirs");
  assert.equal(held.version, 1);
});

test("MESSAGE_MODIFIED live updates the held Message; a sync brings an edit it missed, once", async () => {
  const { socket, sockets, events, held } = await holding(own("one", { from: "bob", flow: "in" }));
  const edited = (text, version) => own(text, { from: "bob", flow: "in", isModified: true, version });

  push(socket, { event: "MESSAGE_MODIFIED", data: [edited("two", 1)], conversation: { conversationID: "C2Cbob", type: "C2C", syncCursor: 6 } });
  assert.equal(held.payload.text, "two");
  assert.deepEqual(events.onMessageModified.map((batch) => batch.map((m) => m.payload.text)), [["two"]]);

  const next = await reconnect(sockets, socket);
  reply(next, lastRequest(next, "sync"), {
    conversations: [{ conversationID: "C2Cbob", syncCursor: 8, messageList: [], changedList: [edited("three", 2)] }],
    isSyncCompleted: true,
    conversationList: [conversation("C2Cbob", 5, { syncCursor: 8 })],
    groupList: [],
  });
  await settle();
  assert.equal(held.payload.text, "three");
  assert.equal(events.onMessageModified.length, 2);
  // The same edit again (live after the sync) is not told twice.
  push(next, { event: "MESSAGE_MODIFIED", data: [edited("three", 2)], conversation: { conversationID: "C2Cbob", type: "C2C", syncCursor: 8 } });
  assert.equal(events.onMessageModified.length, 2);
});

test("mayModify: my own text or custom message, stored, not recalled, within the server's window", () => {
  const modify = serverRules().modify;
  assert.deepEqual(modify.types, ["TIMTextElem", "TIMCustomElem"]);
  const now = 1_800_000_000_000;
  const mine = own("x", { time: now / 1000 - 60 });
  const may = (m, viewerID = "alice") => mayModify(m, { viewerID, modify, nowMs: now });
  assert.equal(may(mine), true);
  assert.equal(may({ ...mine, type: "TIMCustomElem" }), true);
  assert.equal(may(mine, "bob"), false, "someone else's");
  assert.equal(may({ ...mine, type: "TIMImageElem" }), false);
  assert.equal(may({ ...mine, isRevoked: true }), false);
  assert.equal(may({ ...mine, status: "fail" }), false);
  assert.equal(may({ ...mine, time: now / 1000 - modify.window - 1 }), false, "after the window");
  assert.equal(mayModify(mine, { viewerID: "alice", modify: null, nowMs: now }), false, "no rules yet");
});
