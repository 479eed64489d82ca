import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import test from "node:test";

import { RECENT_MAX, flattenEmoji, pushRecent, searchEmoji } from "../../static/chat/emoji-search.js";

const data = JSON.parse(readFileSync(new URL("../../static/chat/emoji/unicode.json", import.meta.url), "utf8"));
const all = flattenEmoji(data);

test("the data has the categories and over a thousand emoji, without skin tones", () => {
  assert.ok(all.length > 1500);
  assert.deepEqual(
    data.groups.map((g) => g.name),
    ["Smileys & emotion", "People & body", "Animals & nature", "Food & drink", "Travel & places", "Activities", "Objects", "Symbols", "Flags"],
  );
  assert.ok(!all.some((e) => e.label.includes("skin tone")));
});

test("search by a label word, best match first", () => {
  const found = searchEmoji(all, "pizza");
  assert.equal(found[0].char, "🍕");
  assert.equal(searchEmoji(all, "grinning")[0].label, "grinning face");
});

test("search by keyword, any case, every word must match", () => {
  assert.ok(searchEmoji(all, "LOL").some((e) => e.char === "😄"));
  assert.ok(searchEmoji(all, "red heart").some((e) => e.char === "❤️"));
  assert.deepEqual(searchEmoji(all, "heart zzzqqq"), []);
  assert.deepEqual(searchEmoji(all, "   "), []);
});

test("search stops at the limit", () => {
  assert.equal(searchEmoji(all, "face", 10).length, 10);
});

test("recently used: last first, no duplicates, capped", () => {
  let recent = [];
  for (const c of ["a", "b", "a"]) recent = pushRecent(recent, c);
  assert.deepEqual(recent, ["a", "b"]);
  for (let i = 0; i < 40; i += 1) recent = pushRecent(recent, String(i));
  assert.equal(recent.length, RECENT_MAX);
  assert.equal(recent[0], "39");
  assert.deepEqual(pushRecent(null, "x"), ["x"]);
});

test("one to three Unicode emoji are an emoji-only text", async () => {
  const { unicodeEmojiOnly } = await import("../../static/chat/emoji-search.js");
  assert.deepEqual(unicodeEmojiOnly("🍕"), ["🍕"]);
  assert.deepEqual(unicodeEmojiOnly(" 👍🏽 ❤️ "), ["👍🏽", "❤️"]);
  assert.deepEqual(unicodeEmojiOnly("👨‍👩‍👧"), ["👨‍👩‍👧"]);
  assert.deepEqual(unicodeEmojiOnly("🇫🇷"), ["🇫🇷"]);
  assert.equal(unicodeEmojiOnly("🍕🍕🍕🍕"), null);
  assert.equal(unicodeEmojiOnly("pizza 🍕"), null);
  assert.equal(unicodeEmojiOnly("1"), null);
  assert.equal(unicodeEmojiOnly(""), null);
});
