/*
 * The picker's Unicode tab: every standard emoji by category, a search by English name
 * and keyword, the recently used first. Its data (static/chat/emoji/unicode.json, from
 * the emojibase-data package through scripts/unicode_emoji.mjs) is fetched the first
 * time the tab opens. A chosen emoji goes into the composer as its character.
 */

import { flattenEmoji, pushRecent, searchEmoji } from "../emoji-search.js";
import { assets } from "./assets.js";
import { $, el } from "./dom.js";

// The tab's words, in one place.
const TEXT = {
  recent: "Recently used",
  loading: "Loading emoji…",
  failed: "The emoji couldn't be loaded. Reload the page to try again.",
  noMatch: (q) => `No emoji match “${q}”.`,
  noRecent: "Emoji you use show here.",
};
const CATEGORY_ICON = { recent: "🕘", g0: "😀", g1: "👋", g3: "🐶", g4: "🍎", g5: "✈️", g6: "⚽", g7: "💡", g8: "❤️", g9: "🏁" };
const RECENT_KEY = "chat.emoji.recent";

const unicode = { data: null, list: [], byChar: new Map(), loading: null, category: "recent" };

function recentChars() {
  try {
    const list = JSON.parse(window.localStorage.getItem(RECENT_KEY) || "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function noteRecent(char) {
  try {
    window.localStorage.setItem(RECENT_KEY, JSON.stringify(pushRecent(recentChars(), char)));
  } catch {
    /* private mode: nothing remembered */
  }
}

function load() {
  if (!unicode.loading) {
    unicode.loading = fetch(assets.emojiUrl + "unicode.json", { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
      .then((data) => {
        unicode.data = data;
        unicode.list = flattenEmoji(data);
        for (const e of unicode.list) unicode.byChar.set(e.char, e);
      })
      .catch((error) => {
        unicode.loading = null;
        throw error;
      });
  }
  return unicode.loading;
}

let insert = () => {};

function emojiButton(e) {
  return el("button", {
    type: "button",
    class: "picker-emoji picker-unicode",
    title: e.label,
    "aria-label": e.label,
    "data-testid": "unicode-item",
    "data-char": e.char,
    text: e.char,
    onclick: (ev) => {
      noteRecent(e.char);
      insert(e.char, ev.detail === 0);
    },
  });
}

const note = (text) => el("p", { class: "picker-empty", text });

function categories() {
  return [{ key: "recent", name: TEXT.recent }, ...unicode.data.groups.map((g) => ({ key: g.key, name: g.name }))];
}

function drawCategories() {
  const bar = $("unicode-cats");
  bar.replaceChildren(
    ...categories().map((c) =>
      el("button", {
        type: "button",
        class: "picker-cat",
        title: c.name,
        "aria-label": c.name,
        "aria-pressed": String(c.key === unicode.category && !$("unicode-search").value.trim()),
        "data-testid": "unicode-category",
        "data-key": c.key,
        text: CATEGORY_ICON[c.key] || "•",
        onclick: () => {
          $("unicode-search").value = "";
          unicode.category = c.key;
          drawUnicode();
        },
      }),
    ),
  );
}

/** The grid: the search's results, else the chosen category (the recent list first of all). */
export function drawUnicode() {
  const grid = $("unicode-grid");
  if (!unicode.data) return;
  const query = $("unicode-search").value.trim();
  let items;
  let empty;
  if (query) {
    items = searchEmoji(unicode.list, query);
    empty = TEXT.noMatch(query);
  } else if (unicode.category === "recent") {
    items = recentChars().map((c) => unicode.byChar.get(c)).filter(Boolean);
    empty = TEXT.noRecent;
  } else {
    items = unicode.list.filter((e) => e.group === unicode.category);
  }
  drawCategories();
  grid.replaceChildren(...(items.length ? items.map(emojiButton) : [note(empty || "")]));
  grid.scrollTop = 0;
}

/** Open the tab: load the data once, start on the recent list (a category when it is empty). */
export async function showUnicode(onInsert) {
  insert = onInsert;
  const grid = $("unicode-grid");
  if (!unicode.data) {
    grid.replaceChildren(note(TEXT.loading));
    try {
      await load();
    } catch {
      grid.replaceChildren(note(TEXT.failed));
      return;
    }
    if (!recentChars().length) unicode.category = unicode.data.groups[0].key;
  }
  drawUnicode();
}

/** In the search box: Down moves into the results, Enter takes the first. */
function onSearchKey(e) {
  const first = $("unicode-grid").querySelector("button");
  if (e.key === "ArrowDown" && first) {
    e.preventDefault();
    first.focus();
  } else if (e.key === "Enter") {
    e.preventDefault();
    if (first) first.click();
  }
}

export function wireUnicode() {
  $("unicode-search").addEventListener("input", drawUnicode);
  $("unicode-search").addEventListener("keydown", onSearchKey);
}
