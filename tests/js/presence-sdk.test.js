// tim.js's user status (docs/PROTOCOL.md §5.35–5.39, §6.14): the ops' frames, the event,
// the TYPES, and subscriptions made again after a reconnect.
import assert from "node:assert/strict";
import { test } from "node:test";
import { lastRequest, loggedIn, plain, push, reconnect, reply, settle } from "./sdk-harness.js";

test("the status TYPES and event have the SDK's names", async () => {
  const { TIM } = await loggedIn();
  assert.deepEqual(
    [TIM.TYPES.USER_STATUS_UNKNOWN, TIM.TYPES.USER_STATUS_ONLINE, TIM.TYPES.USER_STATUS_OFFLINE, TIM.TYPES.USER_STATUS_UNLOGINED],
    [0, 1, 2, 3],
  );
  assert.equal(TIM.EVENT.USER_STATUS_UPDATED, "onUserStatusUpdated");
});

test("the ops send their frames and resolve the SDK's {code, data}", async () => {
  const { chat, socket, events } = await loggedIn();
  const got = chat.getUserStatus({ userIDList: ["bob"] });
  reply(socket, lastRequest(socket, "getUserStatus"), { successUserList: [{ userID: "bob", statusType: 1, customStatus: "" }], failureUserList: [] });
  assert.equal((await got).data.successUserList[0].statusType, 1);

  const set = chat.setSelfStatus({ customStatus: "Busy" });
  assert.deepEqual(plain(lastRequest(socket, "setSelfStatus").args), { customStatus: "Busy" });
  reply(socket, lastRequest(socket, "setSelfStatus"), { userID: "alice", statusType: 1, customStatus: "Busy" });
  assert.equal((await set).code, 0);

  const count = chat.getGroupOnlineMemberCount("g1");
  assert.deepEqual(plain(lastRequest(socket, "getGroupOnlineMemberCount").args), { groupID: "g1" });
  reply(socket, lastRequest(socket, "getGroupOnlineMemberCount"), { memberCount: 3 });
  assert.equal((await count).data.memberCount, 3);

  push(socket, { event: "USER_STATUS_UPDATED", data: [{ userID: "bob", statusType: 2, customStatus: "", lastSeen: 9 }] });
  assert.deepEqual(events.onUserStatusUpdated, [[{ userID: "bob", statusType: 2, customStatus: "", lastSeen: 9 }]]);
});

test("after a reconnect the SDK subscribes again and reports the status now", async () => {
  const { chat, socket, sockets, events } = await loggedIn();
  const sub = chat.subscribeUserStatus({ userIDList: ["bob", "carol", "nobody"] });
  reply(socket, lastRequest(socket, "subscribeUserStatus"), { failureUserList: [{ userID: "nobody", code: 70107, message: "" }] });
  await sub;
  const unsub = chat.unsubscribeUserStatus({ userIDList: ["carol"] });
  reply(socket, lastRequest(socket, "unsubscribeUserStatus"), { failureUserList: [] });
  await unsub;

  const next = await reconnect(sockets, socket);
  await settle();
  assert.deepEqual(plain(lastRequest(next, "subscribeUserStatus").args), { userIDList: ["bob"] });
  reply(next, lastRequest(next, "subscribeUserStatus"), { failureUserList: [] });
  await settle();
  assert.deepEqual(plain(lastRequest(next, "getUserStatus").args), { userIDList: ["bob"] });
  reply(next, lastRequest(next, "getUserStatus"), { successUserList: [{ userID: "bob", statusType: 2, customStatus: "", lastSeen: 5 }], failureUserList: [] });
  await settle();
  assert.deepEqual(events.onUserStatusUpdated, [[{ userID: "bob", statusType: 2, customStatus: "", lastSeen: 5 }]]);
});

test("unsubscribing from all leaves nothing to subscribe again", async () => {
  const { chat, socket, sockets } = await loggedIn();
  const sub = chat.subscribeUserStatus({ userIDList: ["bob"] });
  reply(socket, lastRequest(socket, "subscribeUserStatus"), { failureUserList: [] });
  await sub;
  const unsub = chat.unsubscribeUserStatus();
  assert.deepEqual(plain(lastRequest(socket, "unsubscribeUserStatus").args), { userIDList: [] });
  reply(socket, lastRequest(socket, "unsubscribeUserStatus"), { failureUserList: [] });
  await unsub;
  const next = await reconnect(sockets, socket);
  await settle();
  assert.equal(lastRequest(next, "subscribeUserStatus"), undefined);
});
