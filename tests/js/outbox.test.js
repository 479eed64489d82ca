// The outbox of static/chat/tim.js: sends made while the socket is down wait and go out in
// order after hello; a failed message is kept in localStorage and comes back after a reload
// in its conversation's history with status 'fail'; resendMessage uses the same ID;
// deleteMessage drops an unsent one. tim.js runs alone on a fake page whose localStorage
// (and, for media messages with their File, IndexedDB) outlives a "reload" (a second page
// on the same storage).
import assert from "node:assert/strict";
import { test } from "node:test";

import { loadSDK, plain, push, reply } from "./sdk-harness.js";

function fakeStorage() {
  const items = new Map();
  return {
    items,
    getItem: (key) => (items.has(key) ? items.get(key) : null),
    setItem: (key, value) => items.set(key, String(value)),
    removeItem: (key) => items.delete(key),
  };
}

/** The part of IndexedDB the outbox uses, on Maps that outlive a page: name -> (ID -> record).
 * With `broken`, opening fails (private mode, blocked storage). */
function fakeIndexedDB({ broken = false } = {}) {
  const databases = new Map();
  const later = (fn) => setImmediate(fn);
  const transaction = (rows) => {
    const tx = { aborted: false };
    const getAll = {};
    tx.objectStore = () => ({
      getAll: () => {
        later(() => (getAll.result = [...rows.values()]));
        return getAll;
      },
      put: (record) => rows.set(record.ID, record),
      delete: (ID) => rows.delete(ID),
    });
    later(() => later(() => tx.oncomplete()));
    return tx;
  };
  return {
    databases,
    open(name, version) {
      const request = {};
      later(() => {
        if (broken) return request.onerror();
        const fresh = !databases.has(name);
        if (fresh) databases.set(name, new Map());
        const rows = databases.get(name);
        request.result = { version, transaction: () => transaction(rows), createObjectStore: (store, options) => assert.deepEqual([store, options.keyPath], ["media", "ID"]) };
        if (fresh) request.onupgradeneeded();
        request.onsuccess();
      });
      return request;
    },
  };
}

/** The upload API and the storage answering XMLHttpRequest; `uploads.log` holds what was sent,
 * `uploads.down` makes every request fail as a lost connection does, and answers wait for `uploads.gate`. */
function fakeUploads() {
  const uploads = { log: [], down: false, gate: Promise.resolve() };
  const answers = {
    "POST /api/uploads/": [201, { upload: { uuid: "up1" }, target: { method: "POST", url: "/storage/up1", fields: { key: "k" } } }],
    "POST /storage/up1": [204, null],
    "POST /api/uploads/up1/complete": [200, { upload: { uuid: "up1" } }],
  };
  uploads.XMLHttpRequest = class {
    open(method, url) {
      this.target = `${method} ${url}`;
    }
    setRequestHeader() {}
    send(body) {
      uploads.log.push({ target: this.target, body });
      uploads.gate.then(() => {
        if (uploads.down) return this.onerror();
        [this.status, this.responseText] = [answers[this.target][0], JSON.stringify(answers[this.target][1])];
        this.onload();
      });
    }
  };
  uploads.FormData = class {
    constructor() {
      this.parts = new Map();
    }
    append(name, value) {
      this.parts.set(name, value);
    }
  };
  return uploads;
}

/** A page with tim.js on `storage`; reconnect delays are cut to 0 (request timeouts kept, unref'd). */
function openPage(storage, globals = {}) {
  const quickTimeout = (fn, ms) => (ms >= 10000 ? setTimeout(fn, ms).unref() : setTimeout(fn, 0));
  return loadSDK({ localStorage: storage, setTimeout: quickTimeout, ...globals });
}

const ids = (list) => plain(list.map((m) => m.ID));
const sentOps = (socket, op) => socket.sent.filter((f) => f.op === op);
const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

/** The server's hello, and its answer to what the SDK asks then: the list at login, a sync after a reconnect. */
function hello(socket, userID = "alice") {
  push(socket, { event: "hello", data: { userID, profile: { userID }, rules: {} } });
  const [sync] = sentOps(socket, "sync");
  if (sync) reply(socket, sync, { conversations: [], conversationList: [], groupList: [], isSyncCompleted: true });
  else reply(socket, sentOps(socket, "getConversationList").pop(), { conversationList: [] });
}

async function login(storage, userID = "alice", globals = {}) {
  const page = openPage(storage, globals);
  const chat = page.TIM.create({ SDKAppID: 0 });
  const done = chat.login({ userID });
  hello(page.sockets[0], userID);
  await done;
  return { ...page, chat };
}

/** What the server answers to a sendMessage frame: the message stored with a sequence. */
const storedFrom = (frame, sequence, time) => ({ ...frame.args.message, sequence, time, status: "success", flow: "out", conversationID: "C2Cbob", from: "alice" });

const storedText = (ID, sequence, time) => ({ ID, sequence, time, type: "TIMTextElem", payload: { text: ID }, status: "success", flow: "in", conversationID: "C2Cbob", from: "bob" });

const text = (chat, words, to = "bob") => chat.createTextMessage({ to, conversationType: "C2C", payload: { text: words } });

async function dropSocket(page) {
  page.sockets[page.sockets.length - 1].onclose({ code: 1006 });
  await settle(); // the reconnect timer
  return page.sockets[page.sockets.length - 1];
}

/** Fail one send by losing the socket before the reply, then reconnect. Resolves the rejected message. */
async function failOne(page, words) {
  const message = text(page.chat, words);
  const sending = page.chat.sendMessage(message).catch((error) => error);
  const socket = await dropSocket(page);
  assert.equal((await sending).code, 2100);
  hello(socket);
  return message;
}

async function historyOf(page, args, answer) {
  const listing = page.chat.getMessageList({ conversationID: "C2Cbob", ...args });
  const socket = page.sockets[page.sockets.length - 1];
  reply(socket, sentOps(socket, "getMessageList").pop(), answer);
  return (await listing).data.messageList;
}

test("sends made while the socket is down wait, then go out one at a time in order after hello", async () => {
  const page = await login(fakeStorage());
  const socket = await dropSocket(page);
  const messages = ["one", "two"].map((words) => text(page.chat, words));
  const results = messages.map((m) => page.chat.sendMessage(m));
  assert.deepEqual(sentOps(socket, "sendMessage"), [], "nothing is sent before hello");
  assert.deepEqual(plain(messages.map((m) => m.status)), ["unSend", "unSend"]);

  hello(socket);
  await settle();
  const third = text(page.chat, "three");
  const thirdResult = page.chat.sendMessage(third); // while the queue is being sent: after it
  for (let sequence = 1; sequence <= 3; sequence++) {
    const frames = sentOps(socket, "sendMessage");
    assert.equal(frames.length, sequence, "one send at a time");
    reply(socket, frames[sequence - 1], { message: storedFrom(frames[sequence - 1], sequence, 100 + sequence) });
    await settle();
  }
  const frames = sentOps(socket, "sendMessage").map((f) => f.args.message.payload.text);
  assert.deepEqual(frames, ["one", "two", "three"]);
  for (const [index, result] of [...results, thirdResult].entries()) {
    const { data } = await result;
    assert.equal(data.message.status, "success");
    assert.equal(data.message.sequence, index + 1);
  }
});

test("a history page fetched while queued messages go out returns those very messages, still sending", async () => {
  const page = await login(fakeStorage());
  const socket = await dropSocket(page);
  const queued = text(page.chat, "waiting");
  const sending = page.chat.sendMessage(queued);
  hello(socket);
  const listing = page.chat.getMessageList({ conversationID: "C2Cbob" });
  reply(socket, sentOps(socket, "getMessageList").pop(), { messageList: [storedText("m1", 1, queued.time - 1)], nextReqMessageID: "", isCompleted: true });
  const listed = (await listing).data.messageList;
  assert.deepEqual(ids(listed), ["m1", queued.ID]);
  assert.equal(listed[1], queued);
  assert.equal(queued.status, "unSend");
  const [frame] = sentOps(socket, "sendMessage");
  reply(socket, frame, { message: storedFrom(frame, 2, queued.time) });
  assert.equal((await sending).data.message, queued);
});

test("a failed message survives a reload, shows at its time in the history, and a resend uses the same ID", async () => {
  const storage = fakeStorage();
  const first = await login(storage);
  const failed = await failOne(first, "lost on the way");
  assert.equal(failed.status, "fail");

  const reloaded = await login(storage);
  const t = failed.time;
  const page = await historyOf(reloaded, {}, { messageList: [storedText("older", 1, t - 10), storedText("newer", 2, t + 10)], nextReqMessageID: "", isCompleted: true });
  assert.deepEqual(ids(page), ["older", failed.ID, "newer"]);
  const restored = page[1];
  assert.equal(restored.status, "fail");
  assert.equal(restored.payload.text, "lost on the way");
  assert.ok(restored instanceof reloaded.TIM.Message);

  const resending = reloaded.chat.resendMessage(restored);
  await settle();
  const socket = reloaded.sockets[0];
  const [frame] = sentOps(socket, "sendMessage");
  assert.equal(frame.args.message.ID, failed.ID);
  reply(socket, frame, { message: storedFrom(frame, 3, t) });
  assert.equal((await resending).data.message.status, "success");
  assert.equal(storage.items.size, 0, "a stored message leaves the outbox");
});

test("an unsent message is handed out once, with the page whose span covers its time", async () => {
  const storage = fakeStorage();
  const failed = await failOne(await login(storage), "from long ago");
  const reloaded = await login(storage);
  const t = failed.time;
  const latest = await historyOf(reloaded, {}, { messageList: [storedText("m3", 3, t + 5), storedText("m4", 4, t + 9)], nextReqMessageID: "m3", isCompleted: false });
  assert.deepEqual(ids(latest), ["m3", "m4"]);
  const older = await historyOf(reloaded, { nextReqMessageID: "m3" }, { messageList: [storedText("m1", 1, t - 9), storedText("m2", 2, t - 5)], nextReqMessageID: "m1", isCompleted: false });
  assert.deepEqual(ids(older), ["m1", "m2", failed.ID]);
});

test("an unsent message the server stored after all leaves the outbox when the history lists it", async () => {
  const storage = fakeStorage();
  const failed = await failOne(await login(storage), "committed, reply lost");
  const reloaded = await login(storage);
  const page = await historyOf(reloaded, {}, { messageList: [{ ...storedText(failed.ID, 7, failed.time), flow: "out", from: "alice" }], nextReqMessageID: "", isCompleted: true });
  assert.deepEqual(plain(page.map((m) => [m.ID, m.status])), [[failed.ID, "success"]]);
  assert.equal(storage.items.size, 0);
});

test("deleteMessage drops an unsent message locally and asks the server for a stored one; a resend of a sent one is refused", async () => {
  const storage = fakeStorage();
  const page = await login(storage);
  const failed = await failOne(page, "never mind");
  assert.equal(storage.items.size, 1);
  await assert.rejects(page.chat.resendMessage(text(page.chat, "new")), (e) => e.code === 10004);
  const stored = (await historyOf(page, {}, { messageList: [storedText("m1", 1, 1)], nextReqMessageID: "", isCompleted: true }))[0];
  const socket = page.sockets[page.sockets.length - 1];
  const deleting = page.chat.deleteMessage([stored, failed]);
  const [frame] = sentOps(socket, "deleteMessage");
  assert.deepEqual(plain(frame.args), { messageList: [{ ID: "m1", conversationID: "C2Cbob" }] }, "only the stored one goes to the server");
  reply(socket, frame, { conversationID: "C2Cbob", messageIDList: ["m1"] });
  const deleted = await deleting;
  assert.deepEqual(plain(deleted.data.messageList.map((m) => m.isDeleted)), [true, true]);
  assert.equal(storage.items.size, 0);
});

test("the localStorage outbox is per user, bounded, and keeps no media, forwards or online-only messages", async () => {
  const storage = fakeStorage();
  const page = await login(storage);
  const socket = await dropSocket(page);
  const image = page.chat.createImageMessage({ to: "bob", conversationType: "C2C", payload: { file: { name: "a.png", size: 3 } } });
  for (let i = 0; i < 105; i++) page.chat.sendMessage(text(page.chat, `m${i}`)).catch(() => {});
  page.chat.sendMessage(image).catch(() => {});
  page.chat.sendMessage(text(page.chat, "typing"), { onlineUserOnly: true }).catch(() => {});
  const forward = page.chat.createForwardMessage({ to: "carol", conversationType: "C2C", payload: { ID: "x", conversationID: "C2Cbob", type: "TIMTextElem", payload: { text: "fw" } } });
  page.chat.sendMessage(forward).catch(() => {});
  const kept = JSON.parse(storage.items.get("TIM_outbox_alice"));
  assert.equal(kept.length, 100);
  assert.deepEqual([kept[0].payload.text, kept[99].payload.text], ["m5", "m104"]);
  assert.equal(socket.sent.length, 0);

  const carol = await login(storage, "carol");
  const page2 = await historyOf(carol, {}, { messageList: [], nextReqMessageID: "", isCompleted: true });
  assert.deepEqual(plain(page2), [], "alice's outbox is not carol's");
});

// --- media messages: kept with their File in IndexedDB ------------------------------------

/** Globals of a page with IndexedDB `db`, the upload API, and object URLs naming the Blob's size. */
const mediaPage = (db, uploads) => ({ indexedDB: db, XMLHttpRequest: uploads.XMLHttpRequest, FormData: uploads.FormData, URL: { createObjectURL: (blob) => `blob:local/${blob.size}` } });

const imageOf = (chat, blob) => chat.createImageMessage({ to: "bob", conversationType: "C2C", payload: { file: blob } });

const keptIDs = (db) => [...(db.databases.get("TIM_outbox_alice") || new Map()).keys()];

test("a media message sent offline survives a reload with its File: shown failed with a local preview, resent by uploading that File, with the same ID", async () => {
  const [db, uploads, storage] = [fakeIndexedDB(), fakeUploads(), fakeStorage()];
  const first = await login(storage, "alice", mediaPage(db, uploads));
  await dropSocket(first);
  const blob = new Blob(["a picture"], { type: "image/png" });
  const image = imageOf(first.chat, blob);
  first.chat.sendMessage(image).catch(() => {}); // waits for the socket; the page is closed meanwhile
  await settle();
  assert.deepEqual(keptIDs(db), [image.ID]);
  assert.equal(storage.items.size, 0, "media is not in localStorage");

  const reloaded = await login(storage, "alice", mediaPage(db, uploads));
  const t = image.time;
  const page = await historyOf(reloaded, {}, { messageList: [storedText("older", 1, t - 10), storedText("newer", 2, t + 10)], nextReqMessageID: "", isCompleted: true });
  assert.deepEqual(ids(page), ["older", image.ID, "newer"]);
  const restored = page[1];
  assert.ok(restored instanceof reloaded.TIM.Message);
  assert.deepEqual(plain([restored.status, restored.type, restored.messageForShow]), ["fail", "TIMImageElem", "[Image]"]);
  assert.deepEqual(plain(restored.payload.imageInfoArray.map((i) => [i.url, i.size])), Array(3).fill([`blob:local/${blob.size}`, blob.size]));

  const resending = reloaded.chat.resendMessage(restored);
  for (let i = 0; i < 10 && !sentOps(reloaded.sockets[0], "sendMessage").length; i++) await settle();
  assert.deepEqual(uploads.log.map((r) => r.target), ["POST /api/uploads/", "POST /storage/up1", "POST /api/uploads/up1/complete"]);
  assert.equal(uploads.log[1].body.parts.get("file"), blob, "the kept Blob is uploaded");
  const [frame] = sentOps(reloaded.sockets[0], "sendMessage");
  assert.deepEqual(plain([frame.args.message.ID, frame.args.message.payload]), [image.ID, { uuid: "up1" }]);
  reply(reloaded.sockets[0], frame, { message: storedFrom(frame, 3, t) });
  assert.equal((await resending).data.message.status, "success");
  await settle();
  assert.deepEqual(keptIDs(db), [], "a stored message leaves the outbox");
});

test("a file whose upload failed online is kept then; deleteMessage removes it, and it is not written while it is sending", async () => {
  const [db, uploads, storage] = [fakeIndexedDB(), fakeUploads(), fakeStorage()];
  const page = await login(storage, "alice", mediaPage(db, uploads));
  uploads.down = true;
  let answer;
  uploads.gate = new Promise((resolve) => (answer = resolve));
  const file = new Blob(["some bytes"]);
  file.name = "notes.txt";
  const message = page.chat.createFileMessage({ to: "bob", conversationType: "C2C", payload: { file } });
  const sending = page.chat.sendMessage(message).catch((error) => error);
  await settle();
  assert.equal(uploads.log.length, 1, "the upload runs");
  assert.deepEqual(keptIDs(db), [], "nothing is written while it runs");
  answer();
  assert.equal((await sending).code, 2100);
  await settle();
  assert.deepEqual(keptIDs(db), [message.ID]);

  const reloaded = await login(storage, "alice", mediaPage(db, uploads));
  const [restored] = await historyOf(reloaded, {}, { messageList: [], nextReqMessageID: "", isCompleted: true });
  assert.deepEqual(plain([restored.ID, restored.status, restored.payload.fileName, restored.payload.fileSize]), [message.ID, "fail", "notes.txt", file.size]);
  await reloaded.chat.deleteMessage([restored]);
  await settle();
  assert.deepEqual(keptIDs(db), []);
  const again = await login(storage, "alice", mediaPage(db, uploads));
  assert.deepEqual(ids(await historyOf(again, {}, { messageList: [], nextReqMessageID: "", isCompleted: true })), []);
});

test("the media outbox keeps the newest 20 and at most 100 MB, dropping the oldest first", async () => {
  const [db, uploads] = [fakeIndexedDB(), fakeUploads()];
  const page = await login(fakeStorage(), "alice", mediaPage(db, uploads));
  await dropSocket(page);
  const sendImage = (size) => {
    const message = imageOf(page.chat, { name: "p.png", size });
    page.chat.sendMessage(message).catch(() => {});
    return message.ID;
  };
  const sent = Array.from({ length: 22 }, () => sendImage(1));
  await settle();
  assert.deepEqual(keptIDs(db), sent.slice(2));
  const big = [sendImage(60 * 1024 * 1024), sendImage(50 * 1024 * 1024)];
  const huge = sendImage(101 * 1024 * 1024);
  await settle();
  assert.deepEqual(keptIDs(db), [big[1]], "the 60 MB one and the small ones went; over 100 MB is never kept");
  assert.ok(!keptIDs(db).includes(huge));
});

test("without IndexedDB a failed media message stays in its page only, where a resend still uploads it", async () => {
  const [db, uploads, storage] = [fakeIndexedDB({ broken: true }), fakeUploads(), fakeStorage()];
  const page = await login(storage, "alice", mediaPage(db, uploads));
  uploads.down = true;
  const image = imageOf(page.chat, new Blob(["pixels"]));
  assert.equal((await page.chat.sendMessage(image).catch((error) => error)).code, 2100);
  const [listed] = await historyOf(page, {}, { messageList: [], nextReqMessageID: "", isCompleted: true });
  assert.equal(listed, image, "this page's failed message, the same object");
  uploads.down = false;
  const resending = page.chat.resendMessage(image);
  for (let i = 0; i < 10 && !sentOps(page.sockets[0], "sendMessage").length; i++) await settle();
  const [frame] = sentOps(page.sockets[0], "sendMessage");
  reply(page.sockets[0], frame, { message: storedFrom(frame, 1, image.time) });
  assert.equal((await resending).data.message.status, "success");

  const reloaded = await login(storage, "alice", mediaPage(db, uploads));
  assert.deepEqual(ids(await historyOf(reloaded, {}, { messageList: [], nextReqMessageID: "", isCompleted: true })), []);
});
