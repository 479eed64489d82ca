// static/chat/presence.js: "online", "last seen 5 min ago", "yesterday at 14:05", "3 online".
import assert from "node:assert/strict";
import { test } from "node:test";

import { isOnline, lastSeenText, mergeStatuses, onlineCountText, presenceLine, presenceText, statusBytes } from "../../static/chat/presence.js";
import { clockFormat } from "../../static/chat/format.js";

const NOW = new Date(2025, 5, 11, 15, 30); // Wednesday 11 June 2025, 15:30 local time
const at = (...parts) => new Date(...parts).getTime() / 1000;
const clock = (d) => clockFormat().format(d);
const weekday = (d) => new Intl.DateTimeFormat(undefined, { weekday: "long" }).format(d);
const nowSeconds = NOW.getTime() / 1000;

test("lastSeenText: just now, minutes, hours, today, yesterday, this week, then the date", () => {
  assert.equal(lastSeenText(nowSeconds, NOW), "just now");
  assert.equal(lastSeenText(nowSeconds - 59, NOW), "just now");
  assert.equal(lastSeenText(nowSeconds + 5, NOW), "just now"); // another clock a little ahead
  assert.equal(lastSeenText(nowSeconds - 60, NOW), "1 min ago");
  assert.equal(lastSeenText(nowSeconds - 5 * 60, NOW), "5 min ago");
  assert.equal(lastSeenText(nowSeconds - 59 * 60, NOW), "59 min ago");
  assert.equal(lastSeenText(nowSeconds - 2 * 3600, NOW), "2 h ago");
  assert.equal(lastSeenText(at(2025, 5, 11, 8, 5), NOW), `today at ${clock(new Date(2025, 5, 11, 8, 5))}`);
  assert.equal(lastSeenText(at(2025, 5, 10, 14, 5), NOW), `yesterday at ${clock(new Date(2025, 5, 10, 14, 5))}`);
  const monday = new Date(2025, 5, 9, 9, 0);
  assert.equal(lastSeenText(monday.getTime() / 1000, NOW), `${weekday(monday)} at ${clock(monday)}`);
  assert.match(lastSeenText(at(2025, 4, 3, 9, 0), NOW), /^on .*3/);
  assert.match(lastSeenText(at(2023, 4, 3, 9, 0), NOW), /2023/);
});

test("lastSeenText: an hour ago, just after midnight, was yesterday", () => {
  const early = new Date(2025, 5, 11, 0, 30);
  assert.match(lastSeenText(early.getTime() / 1000 - 3600, early), /^yesterday at /);
});

test("presenceText and presenceLine", () => {
  assert.equal(presenceText({ statusType: 1, lastSeen: 0 }, NOW), "online");
  assert.equal(presenceText({ statusType: 2, lastSeen: nowSeconds - 600 }, NOW), "last seen 10 min ago");
  assert.equal(presenceText({ statusType: 2 }, NOW), "offline"); // not a contact: no lastSeen
  assert.equal(presenceText({ statusType: 3 }, NOW), "");
  assert.equal(presenceText(undefined, NOW), "");
  assert.equal(presenceLine({ statusType: 1, customStatus: " In a meeting " }, NOW), "online · In a meeting");
  assert.equal(presenceLine({ statusType: 3, customStatus: "Away" }, NOW), "Away");
  assert.equal(presenceLine({ statusType: 2, lastSeen: nowSeconds - 30, customStatus: "" }, NOW), "last seen just now");
});

test("onlineCountText", () => {
  assert.equal(onlineCountText(0), "");
  assert.equal(onlineCountText(1), "1 online");
  assert.equal(onlineCountText(12), "12 online");
});

test("mergeStatuses: keeps the newest, reports who went online or offline", () => {
  const map = new Map();
  assert.deepEqual(mergeStatuses(map, [{ userID: "bob", statusType: 1, customStatus: "" }]), ["bob"]);
  assert.deepEqual(mergeStatuses(map, [{ userID: "bob", statusType: 1, customStatus: "Busy" }]), []);
  assert.equal(map.get("bob").customStatus, "Busy");
  assert.ok(isOnline(map.get("bob")));
  assert.deepEqual(mergeStatuses(map, [{ userID: "bob", statusType: 2, customStatus: "Busy", lastSeen: 5 }, null, { nope: 1 }]), ["bob"]);
  assert.deepEqual(map.get("bob"), { statusType: 2, customStatus: "Busy", lastSeen: 5 });
});

test("statusBytes counts UTF-8 bytes as the server does", () => {
  assert.equal(statusBytes("abc"), 3);
  assert.equal(statusBytes("é"), 2);
  assert.equal(statusBytes("🙂"), 4);
  assert.equal(statusBytes(undefined), 0);
});
