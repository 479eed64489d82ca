import assert from "node:assert/strict";
import test from "node:test";

import { buildForwardData, forwardedLabel, parseForwarded } from "../../static/chat/forwarded.js";

const original = { ID: "m1", from: "alice", nick: "Alice", cloudCustomData: "" };

test("a forward names the original's sender", () => {
  const data = buildForwardData(original, "Alice L.");
  assert.deepEqual(JSON.parse(data), { forwardedFrom: { userID: "alice", name: "Alice L.", messageID: "m1" } });
  assert.equal(forwardedLabel(data), "Forwarded from Alice L.");
});

test("a forward of a forward keeps the first origin", () => {
  const again = { ID: "m2", from: "bob", cloudCustomData: buildForwardData(original, "Alice") };
  assert.equal(parseForwarded(buildForwardData(again, "Bob")).userID, "alice");
});

test("anything else is no forward, whatever a client sent", () => {
  for (const bad of [undefined, "", "nope", "{", '{"forwardedFrom":1}', '{"forwardedFrom":{"name":5}}', '{"messageReply":{"messageID":"x"}}']) {
    assert.equal(parseForwarded(bad), null);
    assert.equal(forwardedLabel(bad), "");
  }
  assert.equal(parseForwarded('{"forwardedFrom":{"name":"' + "x".repeat(100) + '"}}').name.length, 64);
  assert.equal(forwardedLabel('{"forwardedFrom":{"userID":"carol"}}'), "Forwarded from carol");
});
