// The harness of the SDK tests: tim.js loaded alone (as vendor code loads it) in its own
// realm with a fake WebSocket, and helpers to play the server's side of the socket.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import vm from "node:vm";

const SOURCE = readFileSync(new URL("../../static/chat/tim.js", import.meta.url), "utf8");
const RULES = { limits: { maxBodyBytes: 12288, messagePageSize: 15 }, groupTips: { templates: { 1: "{users} joined the group" }, profileFields: [] }, atAll: "__kImSDK_MesssageAtALL__" };

/** Values from the SDK's realm as plain data (arrays of another realm are not deepEqual to ours). */
const plain = (value) => JSON.parse(JSON.stringify(value));

/** A page with tim.js on it: {TIM, window, sockets}; each socket records the frames the SDK sent.
 * `globals` are added to the page (e.g. a localStorage, or timers of the test's own). */
function loadSDK(globals = {}) {
  const sockets = [];
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 1;
      this.sent = [];
      sockets.push(this);
    }
    send(text) {
      this.sent.push(JSON.parse(text));
    }
    close() {
      this.readyState = 3;
    }
  }
  // Timers are looked up when called, so that a test's mock.timers drive the SDK's; a
  // heartbeat left running does not keep the test process alive.
  const unref = (timer) => (timer && timer.unref ? timer.unref() : timer);
  const window = {
    WebSocket: FakeSocket,
    location: { protocol: "http:", host: "chat.test" },
    console,
    setTimeout: (...args) => globalThis.setTimeout(...args),
    clearTimeout: (timer) => globalThis.clearTimeout(timer),
    setInterval: (...args) => unref(globalThis.setInterval(...args)),
    clearInterval: (timer) => globalThis.clearInterval(timer),
    ...globals,
  };
  window.window = window;
  vm.createContext(window);
  vm.runInContext(SOURCE, window, { filename: "tim.js" });
  return { TIM: window.TIM, window, sockets };
}

const push = (socket, frame) => socket.onmessage({ data: JSON.stringify(frame) });
const reply = (socket, request, data) => push(socket, { id: request.id, ok: true, data });
const lastRequest = (socket, op) => socket.sent.filter((f) => f.op === op).pop();
const settle = () => new Promise((resolve) => setImmediate(resolve));

const conversation = (conversationID, lastTime, extra = {}) => ({
  conversationID,
  type: conversationID.startsWith("GROUP") ? "GROUP" : "C2C",
  unreadCount: 0,
  isPinned: false,
  lastMessage: { lastTime, lastSequence: lastTime, messageForShow: "hi" },
  ...extra,
});

/** A logged-in SDK whose server listed `conversations`; events: name -> [data, ...]. */
async function loggedIn(conversations = []) {
  const { TIM, sockets, window } = loadSDK();
  const chat = TIM.create({ SDKAppID: 0 });
  const events = {};
  for (const name of Object.values(TIM.EVENT)) chat.on(name, (e) => (events[name] = events[name] || []).push(plain(e.data === undefined ? null : e.data)));
  assert.equal(chat.getServerRules(), null, "no rules before the first hello");
  const login = chat.login({ userID: "alice" });
  const socket = sockets[0];
  push(socket, { event: "hello", data: { userID: "alice", profile: { userID: "alice", nick: "Alice" }, rules: RULES } });
  reply(socket, lastRequest(socket, "getConversationList"), { conversationList: conversations });
  const result = await login;
  assert.equal(result.code, 0);
  return { TIM, chat, socket, sockets, events, window };
}

/** A reconnect: the socket closes, the SDK opens another (after its first backoff) and the
 * server says hello on it. Returns the new socket. */
async function reconnect(sockets, socket) {
  socket.onclose({ code: 1006 });
  await new Promise((resolve) => setTimeout(resolve, 600));
  const next = sockets.at(-1);
  assert.notEqual(next, socket, "a new socket");
  push(next, { event: "hello", data: { userID: "alice", profile: { userID: "alice" } } });
  return next;
}

const listed = (events) => {
  const lists = events.onConversationListUpdated || [];
  return lists[lists.length - 1].map((c) => c.conversationID);
};

export { RULES, conversation, lastRequest, listed, loadSDK, loggedIn, plain, push, reconnect, reply, settle };
