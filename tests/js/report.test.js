// static/chat/rules.js mayReport: which messages the UI offers "Report" on, as the server
// accepts them (reportMessage, docs/PROTOCOL.md §5.45).
import assert from "node:assert/strict";
import { test } from "node:test";

import { mayReport } from "../../static/chat/rules.js";

const peer = { ID: "bob-1", from: "bob", conversationType: "C2C", type: "TIMTextElem", status: "success", isRevoked: false };

test("mayReport: someone else's stored message, not mine, not a tip, notice or recalled one", () => {
  assert.equal(mayReport(peer, "alice"), true);
  assert.equal(mayReport({ ...peer, conversationType: "GROUP", type: "TIMImageElem" }, "alice"), true);
  assert.equal(mayReport(peer, "bob"), false, "my own");
  assert.equal(mayReport({ ...peer, isRevoked: true }, "alice"), false);
  assert.equal(mayReport({ ...peer, status: "fail" }, "alice"), false);
  assert.equal(mayReport({ ...peer, status: "unSend" }, "alice"), false);
  assert.equal(mayReport({ ...peer, type: "TIMGroupTipElem" }, "alice"), false);
  assert.equal(mayReport({ ...peer, type: "TIMGroupSystemNoticeElem", from: "@TIM#SYSTEM", conversationType: "@TIM#SYSTEM" }, "alice"), false);
  assert.equal(mayReport({ ...peer, from: "" }, "alice"), false);
  assert.equal(mayReport(null, "alice"), false);
});
