// static/chat/notify.js: which arriving message makes a desktop notification, and what it says.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  REMIND,
  STALE_SECONDS,
  faviconSVG,
  faviconURL,
  mentionsMe,
  notificationBody,
  notificationTitle,
  notifyReason,
  pickNotifications,
  remindType,
  shouldNotify,
  titleWithCount,
} from "../../static/chat/notify.js";

const AT_ALL = "__kImSDK_MesssageAtALL__";
const NOW = 1_800_000_000;

const text = (fields = {}) => ({
  ID: "m1",
  conversationID: "C2Cbob",
  type: "TIMTextElem",
  payload: { text: "hi there" },
  from: "bob",
  flow: "in",
  time: NOW - 2,
  atUserList: [],
  ...fields,
});
const ctx = (fields = {}) => ({ myID: "alice", atAllID: AT_ALL, conversation: null, showing: false, nowSeconds: NOW, ...fields });
const conv = (remind) => (remind === undefined ? { conversationID: "GROUPteam" } : { conversationID: "GROUPteam", messageRemindType: remind });

test("a message from someone else notifies when the chat is not showing", () => {
  assert.equal(notifyReason(text(), ctx()), "notify");
  assert.equal(shouldNotify(text(), ctx()), true);
});

test("never for my own message, a tip, a recalled message, or the system conversation", () => {
  assert.equal(notifyReason(text({ flow: "out" }), ctx()), "own");
  assert.equal(notifyReason(text({ from: "alice", flow: "in" }), ctx()), "own"); // from my other device
  assert.equal(notifyReason(text({ type: "TIMGroupTipElem", conversationID: "GROUPteam" }), ctx()), "silent");
  assert.equal(notifyReason(text({ isRevoked: true }), ctx()), "silent");
  assert.equal(notifyReason(text({ conversationID: "@TIM#SYSTEM" }), ctx()), "system");
  assert.equal(notifyReason({ type: "TIMTextElem" }, ctx()), "invalid");
  assert.equal(notifyReason(null, ctx()), "invalid");
});

test("not while the user is looking at that chat", () => {
  assert.equal(notifyReason(text(), ctx({ showing: true })), "showing");
  // A mention in the open, visible chat needs no notification either.
  assert.equal(notifyReason(text({ atUserList: ["alice"] }), ctx({ showing: true })), "showing");
});

test("a stale message handed over after a reconnect is counted, not announced", () => {
  assert.equal(notifyReason(text({ time: NOW - STALE_SECONDS - 1 }), ctx()), "stale");
  assert.equal(notifyReason(text({ time: NOW - STALE_SECONDS + 5 }), ctx()), "notify");
});

test("the remind type: absent or unknown means notify", () => {
  assert.equal(remindType(null), REMIND.NOTIFY);
  assert.equal(remindType({}), REMIND.NOTIFY);
  assert.equal(remindType({ messageRemindType: "" }), REMIND.NOTIFY);
  assert.equal(remindType({ messageRemindType: "Whatever" }), REMIND.NOTIFY);
  assert.equal(remindType({ messageRemindType: "AcceptNotNotify" }), REMIND.QUIET);
  assert.equal(remindType({ messageRemindType: "Discard" }), REMIND.DISCARD);
  const m = text({ conversationID: "GROUPteam" });
  assert.equal(notifyReason(m, ctx({ conversation: conv() })), "notify");
  assert.equal(notifyReason(m, ctx({ conversation: conv(REMIND.NOTIFY) })), "notify");
});

test("a muted chat stays quiet, but an @-mention of me or @all in it notifies", () => {
  const quiet = ctx({ conversation: conv(REMIND.QUIET) });
  assert.equal(notifyReason(text({ conversationID: "GROUPteam" }), quiet), "muted");
  assert.equal(shouldNotify(text({ conversationID: "GROUPteam" }), quiet), false);
  assert.equal(notifyReason(text({ conversationID: "GROUPteam", atUserList: ["alice"] }), quiet), "mention");
  assert.equal(notifyReason(text({ conversationID: "GROUPteam", atUserList: [AT_ALL] }), quiet), "mention");
  assert.equal(shouldNotify(text({ conversationID: "GROUPteam", atUserList: [AT_ALL] }), quiet), true);
  // Someone else mentioned: still muted.
  assert.equal(notifyReason(text({ conversationID: "GROUPteam", atUserList: ["carol"] }), quiet), "muted");
  // Discard: nothing, not even a mention.
  assert.equal(notifyReason(text({ conversationID: "GROUPteam", atUserList: ["alice"] }), ctx({ conversation: conv(REMIND.DISCARD) })), "muted");
  // In an unmuted chat a mention is a plain notification that says so.
  assert.equal(notifyReason(text({ atUserList: ["alice"] }), ctx()), "mention");
});

test("mentionsMe reads the message's atUserList", () => {
  assert.equal(mentionsMe(text({ atUserList: ["alice", "bob"] }), "alice", AT_ALL), true);
  assert.equal(mentionsMe(text({ atUserList: [AT_ALL] }), "alice", AT_ALL), true);
  assert.equal(mentionsMe(text({ atUserList: ["bob"] }), "alice", AT_ALL), false);
  assert.equal(mentionsMe(text({ atUserList: undefined }), "alice", AT_ALL), false);
  assert.equal(mentionsMe(text({ atUserList: [""] }), "", ""), false);
});

test("one notification per conversation and batch: the newest that qualifies", () => {
  const batch = [
    text({ ID: "a1", time: NOW - 30 }),
    text({ ID: "a2", time: NOW - 10 }),
    text({ ID: "a3", time: NOW - 5, flow: "out", from: "alice" }),
    text({ ID: "g1", conversationID: "GROUPteam", time: NOW - 3 }),
    text({ ID: "q1", conversationID: "GROUPquiet", time: NOW - 3 }),
  ];
  const quiet = { conversationID: "GROUPquiet", messageRemindType: REMIND.QUIET };
  const picked = pickNotifications(batch, (m) => ctx({ conversation: m.conversationID === "GROUPquiet" ? quiet : null }));
  assert.deepEqual(picked.map((m) => m.ID).sort(), ["a2", "g1"]);
  assert.deepEqual(pickNotifications(undefined, () => ctx()), []);
});

test("the title names the sender, and the group after it", () => {
  assert.equal(notificationTitle("Bob", ""), "Bob");
  assert.equal(notificationTitle("Bob", "Design team"), "Bob · Design team");
  assert.equal(notificationTitle("  ", ""), "New message");
  assert.equal(notificationTitle("Bob\nSmith", null), "Bob Smith");
});

test("the body: the text on one line, cut; a label for media; never markup", () => {
  const label = (m) => (m.type === "TIMImageElem" ? "[Image]" : "[File] report.pdf");
  assert.equal(notificationBody(text({ payload: { text: "hello\n\n  world" } }), label), "hello world");
  const long = "x".repeat(300);
  const body = notificationBody(text({ payload: { text: long } }), label);
  assert.equal(Array.from(body).length, 120);
  assert.ok(body.endsWith("…"));
  assert.equal(notificationBody({ type: "TIMImageElem", payload: {} }, label), "[Image]");
  assert.equal(notificationBody({ type: "TIMFileElem", payload: {} }, label), "[File] report.pdf");
  // The text as it is: the Notification API draws no HTML, so nothing is escaped or parsed.
  assert.equal(notificationBody(text({ payload: { text: "<b>hi</b> & <img src=x>" } }), label), "<b>hi</b> & <img src=x>");
  assert.equal(notificationBody(text({ payload: { text: "look" } }), label, { mentioned: true }), "Mentioned you: look");
  assert.equal(notificationBody(text({ payload: { text: "" }, messageForShow: "" }), label), "New message");
  // Astral characters are not split in half by the cut.
  const emoji = notificationBody(text({ payload: { text: "😀".repeat(200) } }), label);
  assert.equal(Array.from(emoji).length, 120);
  assert.ok(emoji.isWellFormed());
});

test("the page title and the favicon carry the unread count", () => {
  assert.equal(titleWithCount(0), "Chat");
  assert.equal(titleWithCount(3), "(3) Chat");
  assert.equal(titleWithCount(-1), "Chat");
  assert.doesNotMatch(faviconSVG(0), /<text/);
  assert.match(faviconSVG(3), />3<\/text>/);
  assert.match(faviconSVG(12), />9\+<\/text>/);
  assert.ok(faviconURL(3).startsWith("data:image/svg+xml,"));
  assert.match(decodeURIComponent(faviconURL(3).slice("data:image/svg+xml,".length)), /^<svg /);
});
