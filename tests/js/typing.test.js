// static/chat/typing.js: the typing indicator's signal (TUIKit's user_typing_status) and
// the composer's throttle.
import assert from "node:assert/strict";
import { test } from "node:test";

import { TYPING_SEND_INTERVAL_MS, nextTypingSignal, typingData, typingStatusOf } from "../../static/chat/typing.js";

const custom = (data) => ({ type: "TIMCustomElem", payload: { data } });

test("the signal's data is TUIKit's, for typing and for stopped", () => {
  assert.deepEqual(JSON.parse(typingData(true)), {
    businessID: "user_typing_status",
    typingStatus: 1,
    version: 1,
    userAction: 14,
    actionParam: "EIMAMSG_InputStatus_Ing",
  });
  assert.deepEqual(JSON.parse(typingData(false)), {
    businessID: "user_typing_status",
    typingStatus: 0,
    version: 1,
    userAction: 14,
    actionParam: "EIMAMSG_InputStatus_End",
  });
});

test("typingStatusOf reads a signal back and is null for every other message", () => {
  assert.equal(typingStatusOf(custom(typingData(true))), true);
  assert.equal(typingStatusOf(custom(typingData(false))), false);
  assert.equal(typingStatusOf(custom('{"businessID":"order"}')), null);
  assert.equal(typingStatusOf(custom("not json")), null);
  assert.equal(typingStatusOf(custom("null")), null);
  assert.equal(typingStatusOf({ type: "TIMTextElem", payload: { text: typingData(true) } }), null);
  assert.equal(typingStatusOf(null), null);
});

test("the composer signals typing at most once per interval, and the end once", () => {
  const t = 1_000_000;
  assert.equal(nextTypingSignal(null, true, t), "typing");
  assert.equal(nextTypingSignal({ typing: true, at: t }, true, t + 1000), null);
  assert.equal(nextTypingSignal({ typing: true, at: t }, true, t + TYPING_SEND_INTERVAL_MS), "typing");
  assert.equal(nextTypingSignal({ typing: true, at: t }, false, t + 10), "end");
  assert.equal(nextTypingSignal({ typing: false, at: t }, false, t + 10), null);
  assert.equal(nextTypingSignal(null, false, t), null);
  assert.equal(nextTypingSignal({ typing: false, at: t }, true, t + 10), "typing", "typing again right after an end");
});
