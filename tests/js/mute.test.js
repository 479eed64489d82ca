// static/chat/mute.js: the composer's muted notice.
import assert from "node:assert/strict";
import { test } from "node:test";

import { muteEndText, mutedNotice } from "../../static/chat/mute.js";

const at = (y, mo, d, h, mi) => new Date(y, mo - 1, d, h, mi).getTime();
const seconds = (ms) => Math.floor(ms / 1000);

test("a mute ending today shows the time, another day the date too", () => {
  const now = at(2026, 12, 2, 9, 0);
  assert.equal(muteEndText(seconds(at(2026, 12, 2, 14, 5)), now), "14:05");
  assert.equal(muteEndText(seconds(at(2026, 12, 3, 8, 7)), now), "2026-12-03 08:07");
});

test("a member muted until later may not send; a past mute is over", () => {
  const now = at(2026, 12, 2, 9, 0);
  assert.equal(mutedNotice({ muteUntil: seconds(at(2026, 12, 2, 14, 5)) }, now), "You are muted until 14:05");
  assert.equal(mutedNotice({ muteUntil: seconds(now) - 1 }, now), "");
  assert.equal(mutedNotice({ muteUntil: 0 }, now), "");
});

test("mute-all stops ordinary members only", () => {
  const now = at(2026, 12, 2, 9, 0);
  assert.equal(mutedNotice({ muteAllMembers: true, role: "Member" }, now), "Only admins can send messages while everyone is muted");
  assert.equal(mutedNotice({ muteAllMembers: true, role: "Admin" }, now), "");
  assert.equal(mutedNotice({ muteAllMembers: true, role: "Owner" }, now), "");
  // The member's own mute says more than mute-all.
  assert.match(mutedNotice({ muteAllMembers: true, role: "Member", muteUntil: seconds(now) + 600 }, now), /^You are muted until /);
});
