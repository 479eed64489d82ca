#!/usr/bin/env node
/*
 * Writes static/chat/emoji/unicode.json, the Unicode emoji picker's data, from the
 * emojibase-data npm package (pinned in package.json): the English labels and keywords
 * (tags) of every fully-qualified emoji up to Unicode Emoji 15.1 (what current systems'
 * colour-emoji fonts draw), by category in Unicode's order, without skin-tone variants
 * and the "component" category. The picker fetches the file the first time its
 * Unicode tab opens.
 *
 *   node scripts/unicode_emoji.mjs [path/to/emojibase-data]   (default node_modules/emojibase-data)
 *
 * Output: {"version", "groups": [{"key", "name", "emoji": [[char, label, "tag tag …"], …]}, …]}
 */

/* global process, URL, console */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const MAX_VERSION = 15.1;
const COMPONENT = 2; // emojibase's group of skin tones and hair styles: not emoji of their own
// The categories' names as the picker shows them, by emojibase's group number.
const NAMES = ["Smileys & emotion", "People & body", null, "Animals & nature", "Food & drink", "Travel & places", "Activities", "Objects", "Symbols", "Flags"];

const root = process.argv[2] || "node_modules/emojibase-data";
const data = JSON.parse(readFileSync(join(root, "en", "data.json"), "utf8"));
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const groups = NAMES.map((name, number) => ({ number, name, emoji: [] }));

for (const e of [...data].sort((a, b) => a.order - b.order)) {
  if (e.group === undefined || e.group === COMPONENT || !NAMES[e.group] || e.version > MAX_VERSION) continue;
  const tags = (e.tags || []).filter((t) => !e.label.toLowerCase().split(/\s+/).includes(t));
  groups[e.group].emoji.push([e.emoji, e.label, tags.join(" ")]);
}

const out = {
  version: `emojibase-data ${version}, Unicode Emoji ≤ ${MAX_VERSION}`,
  groups: groups.filter((g) => g.emoji.length).map((g) => ({ key: `g${g.number}`, name: g.name, emoji: g.emoji })),
};
const file = new URL("../static/chat/emoji/unicode.json", import.meta.url);
writeFileSync(file, JSON.stringify(out) + "\n");
console.log(`${out.groups.reduce((n, g) => n + g.emoji.length, 0)} emoji in ${out.groups.length} categories -> static/chat/emoji/unicode.json`);
