// The relationship chain in tim.js (docs/PROTOCOL.md §5.34): the SDK's methods send the
// vendor's arguments and resolve {code: 0, data}; the friend list is held and each
// FRIEND_LIST_UPDATED change ({upsert, remove}) fires the SDK's whole Friend[].
import assert from "node:assert/strict";
import { test } from "node:test";
import { lastRequest, loadSDK, loggedIn, plain, push, reconnect, reply, settle } from "./sdk-harness.js";

const friend = (userID, remark = "") => ({ userID, remark, groupList: [], profile: { userID, nick: userID } });
const ids = (list) => plain(list).map((f) => `${f.userID}:${f.remark}`);

test("a change keeps the list's order: upserts replace in place, new friends go last, removed ones leave", () => {
  const { TIM } = loadSDK();
  const apply = TIM._applyFriendListChange;
  const list = [friend("bob"), friend("carol"), friend("dave")];
  assert.deepEqual(ids(apply(list, { upsert: [friend("carol", "C"), friend("erin")], remove: ["bob"] })), ["carol:C", "dave:", "erin:"]);
  assert.deepEqual(ids(apply(list, { upsert: [], remove: [] })), ["bob:", "carol:", "dave:"]);
  assert.deepEqual(ids(apply([], { upsert: [friend("bob")], remove: ["bob"] })), ["bob:"], "an upsert wins over a removal in one change");
  assert.deepEqual(ids(list), ["bob:", "carol:", "dave:"], "the old list is not changed");
});

test("getFriendList resolves the Friend[] and FRIEND_LIST_UPDATED then fires the whole updated list", async () => {
  const { chat, socket, events } = await loggedIn();
  const listing = chat.getFriendList();
  reply(socket, lastRequest(socket, "getFriendList"), [friend("bob"), friend("carol")]);
  assert.deepEqual(ids(plain((await listing).data)), ["bob:", "carol:"]);

  push(socket, { event: "FRIEND_LIST_UPDATED", data: { upsert: [friend("bob", "Bobby")], remove: ["carol"] } });
  assert.deepEqual(ids(events.onFriendListUpdated.at(-1)), ["bob:Bobby"]);
});

test("a change before any getFriendList fetches the list and fires it", async () => {
  const { socket, events } = await loggedIn();
  push(socket, { event: "FRIEND_LIST_UPDATED", data: { upsert: [friend("bob")], remove: [] } });
  assert.equal(events.onFriendListUpdated, undefined);
  reply(socket, lastRequest(socket, "getFriendList"), [friend("bob")]);
  await settle();
  assert.deepEqual(ids(events.onFriendListUpdated.at(-1)), ["bob:"]);
});

test("the application and block list events pass the SDK's data through", async () => {
  const { socket, events } = await loggedIn();
  const applications = { friendApplicationList: [{ userID: "bob", type: "Pendency_Type_ComeIn" }], unreadCount: 1 };
  push(socket, { event: "FRIEND_APPLICATION_LIST_UPDATED", data: applications });
  push(socket, { event: "BLACKLIST_UPDATED", data: ["bob"] });
  assert.deepEqual(events.onFriendApplicationListUpdated.at(-1), applications);
  assert.deepEqual(events.blacklistUpdated.at(-1), ["bob"]);
});

test("the methods send the vendor's arguments and resolve {code: 0, data}", async () => {
  const { TIM, chat, socket } = await loggedIn();
  const calls = [
    [() => chat.addFriend({ to: "bob", source: "AddSource_Type_Web", wording: "hi", type: TIM.TYPES.SNS_ADD_TYPE_BOTH, remark: "B" }), "addFriend",
      { to: "bob", source: "AddSource_Type_Web", wording: "hi", type: "Add_Type_Both", remark: "B" }, { userID: "bob", code: 30539 }],
    [() => chat.deleteFriend({ userIDList: ["bob"], type: TIM.TYPES.SNS_DELETE_TYPE_SINGLE }), "deleteFriend", { userIDList: ["bob"], type: "Delete_Type_Single" },
      { successUserIDList: [{ userID: "bob", code: 0 }], failureUserIDList: [] }],
    [() => chat.updateFriend({ userID: "bob", remark: "B" }), "updateFriend", { userID: "bob", remark: "B" }, friend("bob", "B")],
    [() => chat.getFriendProfile({ userIDList: ["bob"] }), "getFriendProfile", { userIDList: ["bob"] }, { friendList: [], failureUserIDList: [] }],
    [() => chat.checkFriend({ userIDList: ["bob"], type: TIM.TYPES.SNS_CHECK_TYPE_BOTH }), "checkFriend", { userIDList: ["bob"], type: "CheckResult_Type_Both" },
      { successUserIDList: [{ userID: "bob", code: 0, relation: TIM.TYPES.SNS_TYPE_BOTH_WAY }], failureUserIDList: [] }],
    [() => chat.getFriendApplicationList(), "getFriendApplicationList", {}, { friendApplicationList: [], unreadCount: 0 }],
    [() => chat.acceptFriendApplication({ userID: "bob", remark: "B", type: TIM.TYPES.SNS_APPLICATION_AGREE_AND_ADD }), "acceptFriendApplication",
      { userID: "bob", remark: "B", type: "Response_Action_AgreeAndAdd" }, { userID: "bob" }],
    [() => chat.refuseFriendApplication({ userID: "bob" }), "refuseFriendApplication", { userID: "bob" }, { userID: "bob" }],
    [() => chat.deleteFriendApplication({ userID: "bob", type: TIM.TYPES.SNS_APPLICATION_SENT_BY_ME }), "deleteFriendApplication",
      { userID: "bob", type: "Pendency_Type_SendOut" }, { userID: "bob" }],
    [() => chat.setFriendApplicationRead(), "setFriendApplicationRead", {}, {}],
    [() => chat.addToBlacklist({ userIDList: ["bob"] }), "addToBlacklist", { userIDList: ["bob"] }, ["bob"]],
    [() => chat.removeFromBlacklist({ userIDList: ["bob"] }), "removeFromBlacklist", { userIDList: ["bob"] }, ["bob"]],
    [() => chat.getBlacklist(), "getBlacklist", {}, ["bob"]],
  ];
  for (const [call, op, args, data] of calls) {
    const pending = call();
    const request = lastRequest(socket, op);
    assert.deepEqual(plain(request.args), args, op);
    reply(socket, request, data);
    assert.deepEqual(plain(await pending), { code: 0, data }, op);
  }
});

test("a refusal rejects with the server's code (a blocked user's send, 20007)", async () => {
  const { chat, socket } = await loggedIn();
  const adding = chat.addFriend({ to: "carol" });
  push(socket, { id: lastRequest(socket, "addFriend").id, ok: false, code: 30525, message: "carol does not accept your friend requests" });
  await assert.rejects(adding, (error) => error.code === 30525);
});

test("after a reconnect the friend requests and the block list the page read are fetched again and emitted", async () => {
  const { chat, socket, sockets, events } = await loggedIn();
  const apps = chat.getFriendApplicationList();
  reply(socket, lastRequest(socket, "getFriendApplicationList"), { friendApplicationList: [], unreadCount: 0 });
  await apps;
  const blocked = chat.getBlacklist();
  reply(socket, lastRequest(socket, "getBlacklist"), []);
  await blocked;

  const next = await reconnect(sockets, socket);
  const request = { userID: "bob", type: "Pendency_Type_ComeIn" };
  reply(next, lastRequest(next, "getFriendApplicationList"), { friendApplicationList: [request], unreadCount: 1 });
  reply(next, lastRequest(next, "getBlacklist"), ["mallory"]);
  await settle();

  assert.deepEqual(events.onFriendApplicationListUpdated.at(-1), { friendApplicationList: [request], unreadCount: 1 });
  assert.deepEqual(events.blacklistUpdated.at(-1), ["mallory"]);
});

test("a page that never read those lists does not fetch them after a reconnect", async () => {
  const { socket, sockets } = await loggedIn();
  const next = await reconnect(sockets, socket);
  await settle();
  assert.equal(lastRequest(next, "getFriendApplicationList"), undefined);
  assert.equal(lastRequest(next, "getBlacklist"), undefined);
});
