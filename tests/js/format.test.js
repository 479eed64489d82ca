// static/chat/format.js: times, sizes, durations, file names and kinds.
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  badgeText,
  chunks,
  clockFormat,
  customDataText,
  dayLabel,
  fileKind,
  fileNameParts,
  formatBytes,
  formatCoordinate,
  formatDuration,
  formatLimit,
  hueFor,
  initials,
  listTime,
  parseCoordinate,
  receiptText,
  splitIDs,
} from "../../static/chat/format.js";

const NOW = new Date(2025, 5, 11, 15, 30); // Wednesday 11 June 2025, 15:30 local time
const at = (...parts) => new Date(...parts).getTime() / 1000;
const weekday = (d, style) => new Intl.DateTimeFormat(undefined, { weekday: style }).format(d);

test("dayLabel: Today, Yesterday, the weekday within a week, then the date (with the year when not this one)", () => {
  assert.equal(dayLabel(at(2025, 5, 11, 0, 1), NOW), "Today");
  assert.equal(dayLabel(at(2025, 5, 11, 23, 59), NOW), "Today");
  assert.equal(dayLabel(at(2025, 5, 10, 23, 59), NOW), "Yesterday");
  assert.equal(dayLabel(at(2025, 5, 8, 12, 0), NOW), weekday(new Date(2025, 5, 8), "long"));
  const older = dayLabel(at(2025, 4, 2, 12, 0), NOW);
  assert.ok(!older.includes("2025") && older !== weekday(new Date(2025, 4, 2), "long"), older);
  assert.ok(dayLabel(at(2023, 4, 2, 12, 0), NOW).includes("2023"));
});

test("listTime: the clock today, Yesterday, a short weekday, then a short date", () => {
  const clock = clockFormat();
  assert.equal(listTime(at(2025, 5, 11, 9, 5), NOW), clock.format(new Date(2025, 5, 11, 9, 5)));
  assert.equal(listTime(at(2025, 5, 10, 9, 5), NOW), "Yesterday");
  assert.equal(listTime(at(2025, 5, 6, 9, 5), NOW), weekday(new Date(2025, 5, 6), "short"));
  assert.ok(!listTime(at(2025, 0, 6, 9, 5), NOW).includes("25"));
  assert.ok(listTime(at(2022, 0, 6, 9, 5), NOW).includes("22"));
  assert.equal(listTime(0, NOW), "");
});

test("clockFormat: no leading zero on a 12-hour clock, the locale's own 24-hour clock otherwise", () => {
  const twelveTwelve = new Date(2025, 5, 11, 2, 12);
  const plain = (locale) => clockFormat(locale).format(twelveTwelve).replace(/\s/gu, " ");
  assert.equal(plain("en-US"), "2:12 AM");
  assert.equal(plain("en-US-u-hc-h23"), "02:12");
  assert.equal(plain("de-DE"), "02:12");
  assert.equal(clockFormat("en-US").format(new Date(2025, 5, 11, 14, 5)).replace(/\s/gu, " "), "2:05 PM");
});

test("formatBytes", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1023), "1023 B");
  assert.equal(formatBytes(2048), "2.0 KB");
  assert.equal(formatBytes(12 * 1024), "12 KB");
  assert.equal(formatBytes(5.5 * 1024 * 1024), "5.5 MB");
  assert.equal(formatBytes(3 * 1024 ** 3), "3.0 GB");
  assert.equal(formatBytes("x"), "0 B");
});

test("formatLimit words a limit as the error texts say it", () => {
  assert.equal(formatLimit(12288), "12 KB");
  assert.equal(formatLimit(20 * 1024 * 1024), "20 MB");
  assert.equal(formatLimit(100 * 1024 * 1024), "100 MB");
  assert.equal(formatLimit(1536), "1.5 KB");
  assert.equal(formatLimit(2 * 1024 ** 3), "2 GB");
  assert.equal(formatLimit(500), "500 bytes");
});

test("formatDuration", () => {
  assert.equal(formatDuration(0), "0:00");
  assert.equal(formatDuration(7.4), "0:07");
  assert.equal(formatDuration(125), "2:05");
  assert.equal(formatDuration(-3), "0:00");
  assert.equal(formatDuration(undefined), "0:00");
});

test("fileKind and fileNameParts", () => {
  assert.deepEqual(fileKind("report.PDF"), { ext: "PDF", label: "PDF document", color: "#e5484d" });
  assert.equal(fileKind("notes.txt").label, "Text");
  assert.equal(fileKind("data.xyz").label, "XYZ file");
  assert.equal(fileKind("README").ext, "FILE");
  assert.deepEqual(fileNameParts("short.pdf"), ["short.pdf", ""]);
  const [head, tail] = fileNameParts("Quarterly planning board, v3.pdf");
  assert.equal(head + tail, "Quarterly planning board, v3.pdf");
  assert.equal(tail, "board, v3.pdf"); // "…board, v3.pdf": the tail starts at a word
  const [h2, t2] = fileNameParts("abcdefghijklmnopqrstuvwxyz0123456789.docx");
  assert.equal(h2 + t2, "abcdefghijklmnopqrstuvwxyz0123456789.docx");
  assert.equal(t2, "3456789.docx"); // the extension and 8 characters before it
});

test("coordinates", () => {
  assert.equal(formatCoordinate(22.546103, "N", "S"), "22.54610° N");
  assert.equal(formatCoordinate(-113.941079, "E", "W"), "113.94108° W");
  assert.equal(parseCoordinate(" 22,5° "), 22.5);
  assert.equal(parseCoordinate("-113.9"), -113.9);
  assert.ok(Number.isNaN(parseCoordinate("north")));
  assert.ok(Number.isNaN(parseCoordinate("")));
});

test("names, IDs and small texts", () => {
  assert.equal(initials("Alice Smith"), "AS");
  assert.equal(initials("bob"), "B");
  assert.equal(initials("mary-jane o.neil"), "MN");
  assert.equal(initials(""), "?");
  assert.equal(hueFor("alice"), hueFor("alice"));
  assert.notEqual(hueFor("alice"), hueFor("bob"));
  assert.deepEqual(splitIDs(" @bob, carol;dave  bob "), ["bob", "carol", "dave"]);
  assert.equal(badgeText(7), "7");
  assert.equal(badgeText(120), "99+");
  assert.equal(customDataText('{"a":1}'), '{\n  "a": 1\n}');
  assert.equal(customDataText("x".repeat(301)), "x".repeat(300) + "…");
  assert.equal(customDataText(JSON.stringify({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 })).split("\n").length, 9);
});

test("receiptText: nothing until counts are known, then 'N read', then 'All read'", () => {
  assert.equal(receiptText(undefined), "");
  assert.equal(receiptText({ readCount: 0, unreadCount: 0 }), "", "nobody else can read it");
  assert.equal(receiptText({ readCount: 0, unreadCount: 3 }), "0 read");
  assert.equal(receiptText({ readCount: 2, unreadCount: 1 }), "2 read");
  assert.equal(receiptText({ readCount: 3, unreadCount: 0 }), "All read");
});

test("chunks: lists of at most n, in order", () => {
  assert.deepEqual(chunks([1, 2, 3, 4, 5], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(chunks([], 30), []);
});
