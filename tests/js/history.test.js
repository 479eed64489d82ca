// static/chat/history.js: message order (the server's sequence, unsent ones last) and dedup.
import assert from "node:assert/strict";
import { test } from "node:test";

import { countIncoming, firstUnreadID, isForwardable, placeUnreadDivider, lastOwnStoredID, markReadUpTo, mergeMessages, mergePage, newHistory, removeDeleted, removeMessage, upsertMessage } from "../../static/chat/history.js";

const stored = (ID, sequence, extra = {}) => ({ ID, sequence, time: 1000 + sequence, status: "success", flow: "in", ...extra });
const ids = (h) => h.messages.map((m) => m.ID);

test("messages are kept in sequence order whatever order they arrive in", () => {
  const h = newHistory();
  mergeMessages(h, [stored("c", 3), stored("a", 1)]);
  mergeMessages(h, [stored("b", 2), stored("e", 5), stored("d", 4)]);
  assert.deepEqual(ids(h), ["a", "b", "c", "d", "e"]);
});

test("the sequence decides, not the time (clocks differ)", () => {
  const h = newHistory();
  mergeMessages(h, [stored("late-clock", 1, { time: 9999 }), stored("early-clock", 2, { time: 1 })]);
  assert.deepEqual(ids(h), ["late-clock", "early-clock"]);
});

test("a message that comes twice is kept once, the newer copy in its place", () => {
  const h = newHistory();
  mergeMessages(h, [stored("a", 1), stored("b", 2)]);
  const again = stored("a", 1, { isRevoked: true });
  mergeMessages(h, [again, stored("b", 2)]);
  assert.deepEqual(ids(h), ["a", "b"]);
  assert.equal(h.byID.get("a"), again);
  assert.equal(h.messages[0], again);
});

test("messages being sent stay after the stored ones, in the order they were written, until stored", () => {
  const h = newHistory();
  mergeMessages(h, [stored("a", 1)]);
  const first = { ID: "mine-1", status: "unSend", flow: "out", time: 5000 };
  const second = { ID: "mine-2", status: "unSend", flow: "out", time: 5000 };
  mergeMessages(h, [first, second]);
  mergeMessages(h, [stored("b", 2, { time: 6000 })]);
  assert.deepEqual(ids(h), ["a", "b", "mine-1", "mine-2"]);
  // A new copy of an unsent message (its send failed) keeps its place.
  mergeMessages(h, [{ ID: "mine-2", status: "fail", flow: "out", time: 5000 }]);
  assert.deepEqual(ids(h), ["a", "b", "mine-1", "mine-2"]);
  // The server stores the second one first: it takes its place by sequence.
  mergeMessages(h, [{ ...second, status: "success", sequence: 3 }]);
  assert.deepEqual(ids(h), ["a", "b", "mine-2", "mine-1"]);
  mergeMessages(h, [{ ...first, status: "success", sequence: 4 }]);
  assert.deepEqual(ids(h), ["a", "b", "mine-2", "mine-1"]);
  assert.equal(h.messages.length, 4);
});

test("an unsent message a history page places (kept from an earlier page load) keeps its place there", () => {
  const h = newHistory();
  const typing = { ID: "typing-now", status: "unSend", flow: "out", time: 9000 };
  mergeMessages(h, [typing]);
  const kept = { ID: "kept", status: "fail", flow: "out", time: 1003 };
  const keptFirst = { ID: "kept-first", status: "fail", flow: "out", time: 900 };
  mergePage(h, [stored("m2", 2), stored("m3", 3), kept, stored("m4", 4)]);
  mergePage(h, [keptFirst, stored("m1", 1)]);
  assert.deepEqual(ids(h), ["kept-first", "m1", "m2", "m3", "kept", "m4", "typing-now"]);
  // Resent: it stays put while it is being sent, then takes its new sequence's place.
  mergeMessages(h, [{ ...kept, status: "unSend" }]);
  assert.deepEqual(ids(h), ["kept-first", "m1", "m2", "m3", "kept", "m4", "typing-now"]);
  mergeMessages(h, [{ ...kept, status: "success", sequence: 5 }]);
  assert.deepEqual(ids(h), ["kept-first", "m1", "m2", "m3", "m4", "kept", "typing-now"]);
  const empty = newHistory();
  mergePage(empty, [{ ID: "alone", status: "fail", flow: "out", time: 1 }]);
  assert.deepEqual(ids(empty), ["alone"]);
  removeMessage(h, "kept-first"); // deleted by the user
  removeMessage(h, "no-such-message");
  assert.deepEqual(ids(h), ["m1", "m2", "m3", "m4", "kept", "typing-now"]);
  assert.equal(h.byID.has("kept-first"), false);
});

test("upsertMessage with the same object changes nothing", () => {
  const h = newHistory();
  const m = stored("a", 1);
  upsertMessage(h, m);
  upsertMessage(h, m);
  assert.equal(h.messages.length, 1);
});

test("the unread divider goes before the first of the last n incoming messages", () => {
  const h = newHistory();
  mergeMessages(h, [stored("a", 1), stored("b", 2), stored("mine", 3, { flow: "out" }), stored("c", 4), stored("d", 5)]);
  assert.equal(countIncoming(h), 4);
  assert.equal(firstUnreadID(h, 2), "c");
  assert.equal(firstUnreadID(h, 3), "b");
  assert.equal(firstUnreadID(h, 10), "a");
});

test("200 unread, 105 loaded: the divider says how many more are above, and moves up as older pages load", () => {
  const h = newHistory();
  const note = (i) => stored(`n${i}`, i);
  mergePage(h, Array.from({ length: 105 }, (_, k) => note(96 + k)));
  h.isCompleted = false;
  assert.deepEqual(placeUnreadDivider(h, 200), { beforeID: "n96", above: 95 });

  // An older page: counted back from where the divider was, not from the end (newer
  // messages that came in since the chat was opened were read there and then).
  mergePage(h, Array.from({ length: 50 }, (_, k) => note(46 + k)));
  mergeMessages(h, [stored("later", 500)]);
  assert.deepEqual(placeUnreadDivider(h, 95, "n96"), { beforeID: "n46", above: 45 });
  mergePage(h, Array.from({ length: 45 }, (_, k) => note(1 + k)));
  assert.deepEqual(placeUnreadDivider(h, 45, "n46"), { beforeID: "n1", above: 0 });

  // The whole history loaded and fewer incoming than the count: the first incoming, nothing above.
  h.isCompleted = true;
  assert.deepEqual(placeUnreadDivider(h, 999), { beforeID: "n1", above: 0 });
  assert.deepEqual(placeUnreadDivider({ ...newHistory(), isCompleted: true }, 3), { beforeID: null, above: 0 });
});

test("Sent/Read goes under my last message only while it is the latest (tips aside)", () => {
  const h = newHistory();
  mergeMessages(h, [stored("in", 1), stored("mine", 2, { flow: "out" }), stored("tip", 3, { type: "TIMGroupTipElem" })]);
  assert.equal(lastOwnStoredID(h), "mine");
  mergeMessages(h, [stored("reply", 4)]);
  assert.equal(lastOwnStoredID(h), null);
});

test("a recalled message of mine carries no Sent/Read", () => {
  const h = newHistory();
  mergeMessages(h, [stored("in", 1), stored("mine", 2, { flow: "out", isRevoked: true })]);
  assert.equal(lastOwnStoredID(h), null);
});

test("read receipts mark my stored messages up to the sequence", () => {
  const h = newHistory();
  mergeMessages(h, [stored("m1", 1, { flow: "out" }), stored("m2", 2, { flow: "out" }), stored("m3", 3, { flow: "out" }), { ID: "x", status: "unSend", flow: "out" }]);
  markReadUpTo(h, 2);
  assert.deepEqual(h.messages.map((m) => Boolean(m.isPeerRead)), [true, true, false, false]);
});

test("only stored, unrecalled messages other than tips can be forwarded", () => {
  assert.equal(isForwardable(stored("a", 1, { type: "TIMTextElem" })), true);
  assert.equal(isForwardable(stored("a", 1, { type: "TIMGroupTipElem" })), false);
  assert.equal(isForwardable(stored("a", 1, { type: "TIMTextElem", isRevoked: true })), false);
  assert.equal(isForwardable({ ID: "a", type: "TIMTextElem", status: "unSend" }), false);
  assert.equal(isForwardable(null), false);
});

test("removeDeleted drops the named messages and the stored ones up to a cleared sequence, never an unsent one", () => {
  const h = newHistory();
  mergeMessages(h, [stored("a", 1), stored("b", 2), stored("c", 3), { ID: "unsent", status: "fail", time: 5 }]);
  assert.equal(removeDeleted(h, { messageIDList: ["b"] }), 1);
  assert.deepEqual(ids(h), ["a", "c", "unsent"]);
  assert.equal(removeDeleted(h, { messageIDList: [], clearedSequence: 1 }), 1);
  assert.deepEqual(ids(h), ["c", "unsent"]);
  assert.equal(removeDeleted(h, { clearedSequence: Infinity }), 1);
  assert.deepEqual(ids(h), ["unsent"]);
  assert.equal(h.isCompleted, true, "nothing older to load after a clear");
  assert.equal(h.byID.has("c"), false);
});
