// static/chat/errors.js: error codes in words, with the server's limits in them.
import assert from "node:assert/strict";
import { test } from "node:test";

import { errorText, knownErrorText } from "../../static/chat/errors.js";
import { serverRules } from "./server-rules.js";

test("the sizes in error texts are the server's limits", () => {
  const limits = serverRules().limits;
  assert.equal(knownErrorText(80002, limits), "That message is too long: the limit is 12 KB.");
  assert.equal(knownErrorText(2253, limits), "Images can be up to 20 MB. Send it as a file instead.");
  assert.equal(knownErrorText(2402, limits), "Files can be up to 100 MB.");
  const smaller = { maxBodyBytes: 8192, upload: { file: 50 * 1024 * 1024 } };
  assert.equal(knownErrorText(80002, smaller), "That message is too long: the limit is 8 KB.");
  assert.equal(knownErrorText(2402, smaller), "Files can be up to 50 MB.");
  assert.equal(knownErrorText(2402, {}), "");
});

test("errorText: ours for a known code, else the server's message as a sentence, else the fallback", () => {
  assert.equal(errorText({ code: 10017, message: "muted" }), "You're muted in this group.");
  assert.equal(errorText({ code: 10023, message: "too many messages in this group" }), "Too many messages in this group, try again.");
  assert.equal(errorText({ code: 10006, message: "you are sending messages too fast" }), "You're doing that too fast. Wait a moment, then try again.");
  assert.equal(errorText({ code: 99999, message: "something odd happened" }), "Something odd happened.");
  assert.equal(errorText({ code: 99999, message: "Done!" }), "Done!");
  assert.equal(errorText({ code: 99999 }, "It failed."), "It failed. (error 99999)");
  assert.equal(errorText(null, "It failed."), "It failed.");
  assert.equal(errorText(undefined), "Something went wrong.");
});

test("a lost connection (2100, whatever the op) says what failed, not always 'couldn't send'", () => {
  const offline = { code: 2100, message: "not connected" };
  assert.equal(errorText(offline, "Messages couldn't be loaded."), "Messages couldn't be loaded. Check your connection, then retry.");
  assert.equal(errorText(offline, "The message couldn't be sent."), "The message couldn't be sent. Check your connection, then retry.");
  assert.equal(errorText(offline, "The group couldn't be created."), "The group couldn't be created. Check your connection, then retry.");
  assert.equal(errorText(offline), "The server couldn't be reached. Check your connection, then retry.");
  assert.ok(!errorText(offline, "The member list couldn't be loaded.").includes("sent"));
});
