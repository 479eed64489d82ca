// static/chat/rules.js against the server: the same tip keys and sentences as
// messaging/rules.py for every case of tests/fixtures/group_tips.json (which
// tests/test_rules.py checks on the Python side), and the body size the server counts.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { bodyBytes, durationText, listNames, mayRevoke, noticeText, receiversNote, revokedText, roundHalfEven, textPayload, tipKey, tipText, utf8Length } from "../../static/chat/rules.js";
import { serverBodyBytes, serverNoticeText, serverRules } from "./server-rules.js";

const fixture = JSON.parse(readFileSync(new URL("../fixtures/group_tips.json", import.meta.url), "utf8"));

/** Names as the server gives them: the members' and the operator's nicknames, else the IDs. */
function serverNames(payload) {
  const names = new Map((payload.memberList || []).map((m) => [m.userID, m.nick || m.userID]));
  const operatorID = payload.operatorID || "";
  if (!names.has(operatorID)) names.set(operatorID, (payload.operatorInfo || {}).nick || operatorID);
  return (userID) => names.get(userID) || userID;
}

test("the fixture has a case for every template the server has", () => {
  const keys = new Set(fixture.cases.map((c) => c.key));
  for (const key of Object.keys(serverRules().groupTips.templates)) assert.ok(keys.has(key), `no case for ${key}`);
});

test("tipKey gives the server's key for every fixture case", () => {
  const groupTips = serverRules().groupTips;
  for (const { payload, key } of fixture.cases) assert.equal(tipKey(payload, groupTips), key, JSON.stringify(payload));
});

test("tipText gives the server's sentence with the server's names", () => {
  const groupTips = serverRules().groupTips;
  for (const { payload, key, text } of fixture.cases) {
    const rendered = tipText(payload, groupTips, serverNames(payload));
    // No template fits: the server says "[Group Tip]" (messageForShow), the UI shows that.
    assert.equal(rendered || "[Group Tip]", text, `case ${key || "(none)"}`);
  }
});

test("tipText names the viewer You (subject) and you (object)", () => {
  const groupTips = serverRules().groupTips;
  const names = { alice: "Alice", bob: "Bob", carol: "Carol" };
  const asBob = (id, subject) => (id === "bob" ? (subject ? "You" : "you") : names[id] || id);
  const invited = { operationType: 1, groupJoinType: 2, operatorID: "alice", userIDList: ["bob", "carol"] };
  assert.equal(tipText(invited, groupTips, asBob), "Alice invited you and Carol to the group");
  const joined = { operationType: 1, groupJoinType: 1, operatorID: "bob", userIDList: ["bob", "carol"] };
  assert.equal(tipText(joined, groupTips, asBob), "You and Carol joined the group");
  const owner = { operationType: 6, operatorID: "alice", newGroupProfile: { ownerID: "bob" } };
  assert.equal(tipText(owner, groupTips, asBob), "Alice made you the group owner");
  const muted = { operationType: 7, operatorID: "bob", memberList: [{ userID: "carol", muteTime: 150 }] };
  assert.equal(tipText(muted, groupTips, asBob), "You muted Carol for 2 minutes");
});

test("a profile tip is named by the first field in the server's order, userIDList falls back to memberList", () => {
  const groupTips = serverRules().groupTips;
  assert.equal(tipKey({ operationType: 6, newGroupProfile: { avatar: "/a.png", name: "New" } }, groupTips), "6.name");
  assert.equal(tipKey({ operationType: 6, newGroupProfile: { introduction: "x", notification: "n" } }, groupTips), "6.notification");
  assert.equal(tipKey({ operationType: 7, memberList: [{ userID: "bob" }] }, groupTips), "");
  const payload = { operationType: 2, userIDList: [], memberList: [{ userID: "dave", nick: "Dave" }] };
  assert.equal(tipText(payload, groupTips, serverNames(payload)), "Dave left the group");
  assert.equal(tipText(payload, null, serverNames(payload)), "");
});

test("durations are rounded as Python rounds (halves to even)", () => {
  assert.equal(roundHalfEven(2.5), 2);
  assert.equal(roundHalfEven(3.5), 4);
  assert.equal(roundHalfEven(-1.5), -2);
  assert.equal(roundHalfEven(2.4), 2);
  assert.equal(durationText(45), "45 seconds");
  assert.equal(durationText(150), "2 minutes"); // 2.5 minutes
  assert.equal(durationText(210), "4 minutes"); // 3.5 minutes
  assert.equal(durationText(600), "10 minutes");
  assert.equal(durationText(9000), "2 hours"); // 2.5 hours
  assert.equal(durationText(3 * 86400), "3 days");
  assert.equal(durationText(0), "0 seconds");
});

test("listNames joins as the server does", () => {
  assert.equal(listNames([]), "");
  assert.equal(listNames(["Alice"]), "Alice");
  assert.equal(listNames(["Alice", "Bob"]), "Alice and Bob");
  assert.equal(listNames(["A", "B", "C", "D"]), "A, B, C and D");
  assert.equal(listNames(["A", "B", "C", "D", "E"]), "A, B, C and 2 others");
  assert.equal(listNames(["A", "B", "C", "D", "E", "F"]), "A, B, C and 3 others");
});

test("bodyBytes counts the payload's compact JSON in UTF-8, plus cloudCustomData", () => {
  assert.equal(bodyBytes({ text: "hi" }), '{"text":"hi"}'.length);
  assert.equal(bodyBytes({ text: "a\nb" }), '{"text":"a\\nb"}'.length); // a newline is two bytes of JSON
  assert.equal(bodyBytes({ text: 'say "x"\\' }), '{"text":"say \\"x\\"\\\\"}'.length);
  assert.equal(bodyBytes({ text: "你好" }), 11 + 6);
  assert.equal(bodyBytes({ text: "😀" }), 11 + 4);
  assert.equal(bodyBytes({ text: "\u0001" }), 11 + 6); // control characters are \u0001
  assert.equal(bodyBytes({ text: "x" }, "é"), 12 + 2);
  assert.equal(bodyBytes({ text: "x" }, ""), 12);
  assert.equal(utf8Length("é😀"), 6);
});

test("bodyBytes is the server's body_bytes for texts with newlines, quotes, controls, CJK, emoji and mentions", () => {
  const bodies = [
    [{ text: "plain" }, ""],
    [{ text: "line\nline\r\n\ttab" }, ""],
    [{ text: 'quote " backslash \\ slash /' }, ""],
    [{ text: "\u0000\u0001\u001f\u007f\u2028\u2029" }, ""],
    [{ text: "中文 [微笑] 😀👍🏽 é" }, "{\"k\":\"数据\"}"],
    [textPayload("@Bob @所有人 hi\n", ["bob", "__kImSDK_MesssageAtALL__"]), ""],
    [{ text: "\n".repeat(7000) }, ""],
  ];
  assert.deepEqual(
    bodies.map(([payload, custom]) => bodyBytes(payload, custom)),
    serverBodyBytes(bodies),
  );
});

test("a text of newlines under the limit as raw text is over it as the server counts it", () => {
  const max = serverRules().limits.maxBodyBytes;
  const text = "a" + "\n".repeat(7000);
  assert.ok(utf8Length(text) < max);
  assert.ok(bodyBytes(textPayload(text)) > max);
});

test("a text's payload carries atUserList after the text only when it mentions people", () => {
  assert.equal(JSON.stringify(textPayload("hi")), '{"text":"hi"}');
  assert.equal(JSON.stringify(textPayload("hi", [])), '{"text":"hi"}');
  assert.equal(JSON.stringify(textPayload("@Bob hi", ["bob"])), '{"text":"@Bob hi","atUserList":["bob"]}');
  assert.equal(bodyBytes(textPayload("@Bob hi", ["bob"])), '{"text":"@Bob hi","atUserList":["bob"]}'.length);
});

test("a recalled message reads as the server words it, with You for the viewer", () => {
  const revoke = serverRules().revoke;
  assert.equal(revokedText(revoke, "Alice"), "Alice recalled a message");
  assert.equal(revokedText(revoke, "You"), "You recalled a message");
  assert.equal(revokedText(undefined, "You"), "");
});

test("mayRevoke: own messages within the server's window; owner and admins others' in groups", () => {
  const revoke = serverRules().revoke;
  const now = 1_000_000_000;
  const own = { from: "alice", time: now / 1000 - 10, status: "success", type: "TIMTextElem", conversationType: "C2C" };
  assert.equal(mayRevoke(own, { viewerID: "alice", revoke, nowMs: now }), true);
  assert.equal(mayRevoke({ ...own, time: now / 1000 - revoke.window - 1 }, { viewerID: "alice", revoke, nowMs: now }), false);
  assert.equal(mayRevoke({ ...own, isRevoked: true }, { viewerID: "alice", revoke, nowMs: now }), false);
  assert.equal(mayRevoke(own, { viewerID: "bob", revoke, nowMs: now }), false, "someone else's C2C message");
  const old = { ...own, from: "carol", time: 1, conversationType: "GROUP" };
  assert.equal(mayRevoke(old, { viewerID: "alice", role: "Owner", revoke, nowMs: now }), true);
  assert.equal(mayRevoke(old, { viewerID: "alice", role: "Admin", revoke, nowMs: now }), true);
  assert.equal(mayRevoke(old, { viewerID: "alice", role: "Admin", senderRole: "Admin", revoke, nowMs: now }), false);
  assert.equal(mayRevoke(old, { viewerID: "alice", role: "Member", revoke, nowMs: now }), false);
  assert.equal(mayRevoke({ ...old, type: "TIMGroupTipElem" }, { viewerID: "alice", role: "Owner", revoke, nowMs: now }), false);
});

test("receiversNote names who besides the sender sees a targeted message, you first", () => {
  const nameOf = (id) => ({ bob: "Bob", carol: "Carol", dave: "Dave" })[id] || id;
  assert.equal(receiversNote(["carol", "bob"], "bob", nameOf), "Only visible to you and Carol");
  assert.equal(receiversNote(["bob"], "alice", nameOf), "Only visible to Bob");
  assert.equal(receiversNote(["bob", "carol", "dave"], "alice", nameOf), "Only visible to Bob, Carol and Dave");
  assert.equal(receiversNote(["bob"], "bob", nameOf), "Only visible to you");
});

test("noticeText says each group system notice as the server's messageForShow does", () => {
  const groupNotices = serverRules().groupNotices;
  for (const type of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255]) {
    const payload = { operationType: type, operatorID: "bob", groupProfile: { groupID: "g1", name: "Team $& {text}" }, userDefinedField: "Back at 9 $1" };
    assert.equal(noticeText(payload, groupNotices), serverNoticeText(payload), `operationType ${type}`);
  }
  assert.equal(noticeText({ operationType: 1, operatorID: "bob", groupProfile: { name: "Team" } }, groupNotices, () => "Bob"), "Bob asked to join Team");
  assert.equal(noticeText({ operationType: 2, groupProfile: { name: "Team" } }, groupNotices), "Your request to join Team was accepted");
  assert.equal(noticeText({ operationType: 255, groupProfile: { name: "Team" }, userDefinedField: "Maintenance at 9" }, groupNotices), "Team: Maintenance at 9");
  assert.equal(noticeText({ operationType: 99 }, groupNotices), "");
});
