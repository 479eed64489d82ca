// static/chat/ids.js: the conversation IDs, as messaging/rules.py spells them.
import assert from "node:assert/strict";
import { test } from "node:test";

import { c2cConversationID, conversationTypeOf, groupConversationID, isGroupConversation, parseConversationID, peerOf } from "../../static/chat/ids.js";

test("conversation IDs are C2C<userID>, GROUP<groupID> and @TIM#SYSTEM", () => {
  assert.equal(c2cConversationID("bob"), "C2Cbob");
  assert.equal(groupConversationID("demo"), "GROUPdemo");
  assert.deepEqual(parseConversationID("C2Cbob"), { kind: "C2C", target: "bob" });
  assert.deepEqual(parseConversationID("GROUPC2Cx"), { kind: "GROUP", target: "C2Cx" });
  assert.deepEqual(parseConversationID("@TIM#SYSTEM"), { kind: "@TIM#SYSTEM", target: "" });
  for (const bad of ["", "C2C", "GROUP", "bob", null, 7]) assert.equal(parseConversationID(bad), null, String(bad));
});

test("peers, kinds and the SDK's conversationType", () => {
  assert.equal(peerOf("C2CGROUPie"), "GROUPie");
  assert.equal(peerOf("GROUPdemo"), "demo");
  assert.equal(peerOf("@TIM#SYSTEM"), "@TIM#SYSTEM");
  assert.equal(isGroupConversation("GROUPdemo"), true);
  assert.equal(isGroupConversation("C2CGROUPie"), false);
  assert.equal(conversationTypeOf("GROUPdemo"), "GROUP");
  assert.equal(conversationTypeOf("C2Cbob"), "C2C");
});
