// static/chat/friends.js: names, order, requests and the badge of the Contacts panel.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SENT_BY_ME, SENT_TO_ME, addFriendResult, friendName, requestBadge, sortedFriends, splitRequests } from "../../static/chat/friends.js";

test("a friend is called by their remark, else their nick, else their userID", () => {
  assert.equal(friendName({ userID: "bob", remark: "Bob from work", profile: { nick: "Bob" } }), "Bob from work");
  assert.equal(friendName({ userID: "bob", remark: "", profile: { nick: "Bob" } }), "Bob");
  assert.equal(friendName({ userID: "bob", remark: "", profile: { nick: "" } }), "bob");
  assert.equal(friendName(null), "");
});

test("friends sort by the name shown, ignoring case", () => {
  const list = [{ userID: "z", remark: "alpha" }, { userID: "b", profile: { nick: "Zed" } }, { userID: "c", profile: { nick: "beta" } }];
  assert.deepEqual(sortedFriends(list).map((f) => f.userID), ["z", "c", "b"]);
  assert.deepEqual(list.map((f) => f.userID), ["z", "b", "c"], "the list given is not reordered");
});

test("requests split into received and sent; the badge counts unread ones", () => {
  const list = [{ userID: "a", type: SENT_TO_ME }, { userID: "b", type: SENT_BY_ME }, { userID: "c", type: SENT_TO_ME }];
  const { received, sent } = splitRequests(list);
  assert.deepEqual(received.map((r) => r.userID), ["a", "c"]);
  assert.deepEqual(sent.map((r) => r.userID), ["b"]);
  assert.equal(requestBadge(0), "");
  assert.equal(requestBadge(3), "3");
  assert.equal(requestBadge(120), "99+");
});

test("addFriend's result in words", () => {
  assert.equal(addFriendResult({ userID: "bob", code: 0 }, "Bob"), "Bob is now your friend.");
  assert.equal(addFriendResult({ userID: "bob", code: 30539 }, "Bob"), "Friend request sent to Bob.");
});
