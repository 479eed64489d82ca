// static/chat/reply.js: a reply's cloudCustomData in TUIKit's shape (docs/PROTOCOL.md §4.8).
import assert from "node:assert/strict";
import { test } from "node:test";

import { ABSTRACT_MAX, buildReplyData, parseReply, replyAbstract } from "../../static/chat/reply.js";

const original = {
  ID: "2-1795306735-179841064",
  type: "TIMTextElem",
  payload: { text: "see you\nat 5" },
  from: "bob",
  nick: "Bob",
  time: 1795306735,
  sequence: 12,
  messageForShow: "see you\nat 5",
};

test("a reply's cloudCustomData has TUIKit's field names and version 1", () => {
  const data = JSON.parse(buildReplyData(original, "Bob B."));
  assert.deepEqual(data, {
    messageReply: {
      messageID: original.ID,
      messageAbstract: "see you at 5",
      messageSender: "Bob B.",
      messageType: 1,
      messageTime: 1795306735,
      messageSequence: 12,
      version: 1,
    },
  });
});

test("the abstract of other types is the SDK's messageForShow, and long texts are cut", () => {
  assert.equal(replyAbstract({ type: "TIMImageElem", payload: {}, messageForShow: "[Image]" }), "[Image]");
  assert.equal(JSON.parse(buildReplyData({ ...original, type: "TIMImageElem", messageForShow: "[Image]" })).messageReply.messageType, 3);
  const long = replyAbstract({ type: "TIMTextElem", payload: { text: "x".repeat(500) } });
  assert.equal(long.length, ABSTRACT_MAX);
  assert.ok(long.endsWith("…"));
  assert.equal(JSON.parse(buildReplyData(original)).messageReply.messageSender, "Bob", "the nick when no name is given");
});

test("parsing round-trips and reads a TUIKit client's reply", () => {
  assert.equal(parseReply(buildReplyData(original, "Bob")).messageID, original.ID);
  const tuikit = '{"messageReply":{"messageID":"m1","messageAbstract":"hi","messageSender":"Ann","messageType":1,"version":1,"messageRootID":"m0"},"other":1}';
  assert.deepEqual(parseReply(tuikit), {
    messageID: "m1",
    messageAbstract: "hi",
    messageSender: "Ann",
    messageType: 1,
    messageTime: 0,
    messageSequence: 0,
  });
});

test("what is no reply parses as null, and odd fields become empty", () => {
  for (const data of ["", '{"quote":1}', "messageReply but not JSON", '{"messageReply":1}', '{"messageReply":{"messageID":7}}', '["messageReply"]', undefined]) {
    assert.equal(parseReply(data), null, String(data));
  }
  const odd = parseReply('{"messageReply":{"messageID":"m","messageAbstract":{"html":"<b>"},"messageSender":5}}');
  assert.deepEqual([odd.messageAbstract, odd.messageSender], ["", ""]);
});
