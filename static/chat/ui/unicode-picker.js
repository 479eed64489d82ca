/*
 * The picker's Unicode tab: every standard emoji by category, a search by English name
 * and keyword, the recently used first. Its data (static/chat/emoji/unicode.json, from
 * the emojibase-data package through scripts/unicode_emoji.mjs) is fetched the first
 * time the tab opens. A chosen emoji goes into the composer as its character.
 */

import { flattenEmoji, pushRecent, searchEmoji } from "../emoji-search.js";
import { assets } from "./assets.js";
import { $, el } from "./dom.js";
import { t, tlater } from "../i18n.js";

// The tab's words, in one place.
const TEXT = {
  recent: tlater("Recently used"),
  loading: tlater("Loading emoji…"),
  failed: tlater("The emoji couldn't be loaded. Reload the page to try again."),
  noMatch: (q) => t("No emoji match “%(query)s”.", { query: q }),
  noRecent: tlater("Emoji you use show here."),
};
// The data's category names (scripts/unicode_emoji.mjs), marked here for translation.
const CATEGORY_NAME = {
  g0: tlater("Smileys & emotion"),
  g1: tlater("People & body"),
  g3: tlater("Animals & nature"),
  g4: tlater("Food & drink"),
  g5: tlater("Travel & places"),
  g6: tlater("Activities"),
  g7: tlater("Objects"),
  g8: tlater("Symbols"),
  g9: tlater("Flags"),
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
  return [{ key: "recent", name: t(TEXT.recent) }, ...unicode.data.groups.map((g) => ({ key: g.key, name: t(CATEGORY_NAME[g.key] || g.name) }))];
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
    empty = t(TEXT.noRecent);
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
    grid.replaceChildren(note(t(TEXT.loading)));
    try {
      await load();
    } catch {
      grid.replaceChildren(note(t(TEXT.failed)));
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
