/*
 * The Unicode emoji picker's search and "recently used" list (static/chat/emoji/unicode.json,
 * written by scripts/unicode_emoji.mjs). Pure: no DOM, importable by Node.
 */

export const RECENT_MAX = 24;

/** The data's emoji as a flat list of {char, label, tags, group}. */
export function flattenEmoji(data) {
  const list = [];
  for (const group of (data && data.groups) || []) {
    for (const [char, label, tags] of group.emoji || []) list.push({ char, label, tags: tags || "", group: group.key });
  }
  return list;
}

/**
 * The emoji matching `query` (English words, any case): every word of the query must
 * start a word of the label or a keyword. Best first: the label starting with the
 * query, then a label word, then a keyword; ties keep Unicode's order. At most `limit`.
 */
export function searchEmoji(list, query, limit = 200) {
  const words = String(query || "").toLowerCase().trim().split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const scored = [];
  list.forEach((e, order) => {
    const label = e.label.toLowerCase();
    const labelWords = label.split(/[\s:,-]+/);
    const tagWords = e.tags.toLowerCase().split(/\s+/);
    let score = 0;
    for (const w of words) {
      if (labelWords.some((x) => x.startsWith(w))) score += 2;
      else if (tagWords.some((x) => x.startsWith(w))) score += 1;
      else return;
    }
    if (label.startsWith(words.join(" "))) score += 10;
    scored.push({ e, score, order });
  });
  scored.sort((a, b) => b.score - a.score || a.order - b.order);
  return scored.slice(0, limit).map((s) => s.e);
}

/** The recent list after using `char`: it first, no duplicates, at most RECENT_MAX. */
export function pushRecent(recent, char) {
  return [char, ...(Array.isArray(recent) ? recent : []).filter((c) => c !== char && typeof c === "string")].slice(0, RECENT_MAX);
}

const PICTOGRAPH = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;
const graphemes = (text) => (typeof Intl.Segmenter === "function" ? [...new Intl.Segmenter("en", { granularity: "grapheme" }).segment(text)].map((s) => s.segment) : [...text]);

/** A text of one to three Unicode emoji (spaces aside): the emoji, to be shown large; else null. */
export function unicodeEmojiOnly(text) {
  const parts = graphemes(String(text || "").replace(/\s+/g, ""));
  if (parts.length < 1 || parts.length > 3) return null;
  return parts.every((g) => PICTOGRAPH.test(g) && !/[0-9A-Za-z#*]/.test(g)) ? parts : null;
}
