/**
 * Message search (docs/PROTOCOL.md §5.50): what the conversation filter finds in the
 * messages themselves, under the conversation list. chat.searchCloudMessages across every
 * conversation gives one row per conversation: the match itself when it is the only one
 * there, else "N related messages", which lists that conversation's matches. The keyword
 * is highlighted with <mark> around text nodes (never HTML from a message). A click opens
 * the conversation at the message: jumpToMessage loads older pages until the message is
 * in the history (a later getMessageListHopping can replace that loop), scrolls to it and
 * flashes it.
 *
 * While the box holds a keyword the list reads as two sections: "Chats" (the conversations
 * the filter matches, or conversations.js's "No conversations match") above "Messages"
 * (the hits, "Searching…" while the answer is awaited, or "No messages match.").
 */
import { conversationTitle, findConversation, targetName } from "./conversations.js";
import { $, el } from "./dom.js";
import { errorText } from "./errors.js";
import { historyOf, loadOlder, renderMessages } from "./messages.js";
import { openConversation } from "./navigation.js";
import { chat, state } from "./state.js";
import { t } from "../i18n.js";

const DEBOUNCE_MS = 300;
const MAX_JUMP_PAGES = 60;
let timer = null;
let asked = 0; // the latest search: an older reply is dropped

/** `text` as nodes with every case-insensitive occurrence of `keyword` in a <mark>. */
export function highlighted(text, keyword) {
  const nodes = [];
  const lower = text.toLowerCase();
  const key = keyword.toLowerCase();
  let at = 0;
  for (let i = key ? lower.indexOf(key) : -1; i >= 0; i = lower.indexOf(key, at)) {
    if (i > at) nodes.push(document.createTextNode(text.slice(at, i)));
    nodes.push(el("mark", { class: "search-hit" }, text.slice(i, i + key.length)));
    at = i + key.length;
  }
  if (at < text.length) nodes.push(document.createTextNode(text.slice(at)));
  return nodes;
}

/** The searchable text of a message, as the server matches it (chat_search_text). */
function searchableText(m) {
  const p = m.payload || {};
  return p.text || p.fileName || p.description || p.title || "";
}

/** Around the first hit: a long message shows the part with the keyword. */
function snippet(text, keyword) {
  const i = text.toLowerCase().indexOf(keyword.toLowerCase());
  if (i <= 30) return text;
  return "…" + text.slice(i - 20);
}

function conversationName(conversationID) {
  const conv = findConversation(conversationID);
  return conv ? conversationTitle(conv) : targetName(conversationID);
}

function messageButton(m, keyword) {
  const who = m.flow === "out" ? t("You") : m.nameCard || m.nick || m.from;
  const time = new Date((m.time || 0) * 1000).toLocaleDateString([], { month: "short", day: "numeric" });
  return el(
    "button",
    {
      type: "button",
      class: "search-result",
      "data-testid": "message-search-result",
      "data-message-id": m.ID,
      onclick: () => jumpToMessage(m.conversationID, m.ID),
    },
    el("span", { class: "search-result-head" }, el("span", { class: "search-result-name" }, conversationName(m.conversationID)), el("span", { class: "search-result-time" }, time)),
    el("span", { class: "search-result-text" }, `${who}: `, ...highlighted(snippet(searchableText(m), keyword), keyword)),
  );
}

function section(title, ...children) {
  return [el("h2", { class: "search-title" }, title), ...children.flat()];
}

function show(nodes, { busy = false } = {}) {
  const box = $("message-search");
  box.replaceChildren(...nodes);
  box.hidden = nodes.length === 0;
  box.setAttribute("aria-busy", String(busy));
}

/** The message section's one-line state: "Searching…", "No messages match.", an error. */
function note(text, testid) {
  return el("p", { class: "empty-filter", role: "status", "data-testid": testid }, text);
}

function showSearching(...before) {
  show([...before, ...section(t("Messages"), note(t("Searching…"), "message-search-busy"))], { busy: true });
}

/** The "Chats" heading above the filtered conversation list, shown while searching. */
function showChatsTitle(visible) {
  let title = $("chat-search-title");
  if (!title && visible) {
    title = el("h2", { class: "search-title", id: "chat-search-title", "data-testid": "chat-search-title" }, t("Chats"));
    $("conv-list").before(title);
  }
  if (title) title.hidden = !visible;
}

async function searchAll(keyword) {
  const mine = ++asked;
  showSearching();
  try {
    const res = await chat.searchCloudMessages({ keywordList: [keyword] });
    if (mine !== asked) return;
    const rows = res.data.searchResultList.map((r) =>
      r.messageList.length === 1
        ? messageButton(r.messageList[0], keyword)
        : el(
            "button",
            {
              type: "button",
              class: "search-result",
              "data-testid": "message-search-conversation",
              onclick: () => searchWithin(keyword, r.conversationID),
            },
            el("span", { class: "search-result-head" }, el("span", { class: "search-result-name" }, conversationName(r.conversationID))),
            el("span", { class: "search-result-text muted" }, `${r.messageCount} related messages`),
          ),
    );
    show(section(t("Messages"), rows.length ? rows : note(t("No messages match."), "message-search-empty")));
  } catch (error) {
    if (mine === asked) show(section(t("Messages"), note(errorText(error, t("Messages couldn't be searched.")), "message-search-error")));
  }
}

async function searchWithin(keyword, conversationID) {
  const mine = ++asked;
  const back = el("button", { type: "button", class: "search-back", "data-testid": "message-search-back", onclick: () => searchAll(keyword) }, "‹ All results");
  showSearching(back);
  try {
    const res = await chat.searchCloudMessages({ keywordList: [keyword], conversationID });
    if (mine !== asked) return;
    const found = res.data.searchResultList[0];
    const list = found ? found.messageList.map((m) => messageButton(m, keyword)) : [];
    show([back, ...section(`${found ? found.messageCount : 0} in ${conversationName(conversationID)}`, list)]);
  } catch (error) {
    if (mine === asked) show([back, el("p", { class: "empty-filter" }, errorText(error, t("Messages couldn't be searched.")))]);
  }
}

/** Open ``conversationID`` at ``messageID``: older pages until it is there, then scroll and flash. */
export async function jumpToMessage(conversationID, messageID) {
  await openConversation(conversationID, { fromList: true });
  const h = historyOf(conversationID);
  for (let pages = 0; pages < MAX_JUMP_PAGES && !h.byID.has(messageID) && !h.isCompleted && !h.loadError; pages++) {
    await loadOlder(conversationID, { initial: true });
    if (state.current !== conversationID) return;
  }
  renderMessages({ scroll: "keep-bottom-offset" });
  const row = $("messages").querySelector(`[data-row-id="${CSS.escape(messageID)}"]`);
  if (!row) return;
  row.scrollIntoView({ block: "center" });
  row.classList.add("search-flash");
  setTimeout(() => row.classList.remove("search-flash"), 2500);
}

export function wireMessageSearch() {
  $("conv-filter").addEventListener("input", (e) => {
    clearTimeout(timer);
    const keyword = e.target.value.trim();
    showChatsTitle(Boolean(keyword));
    if (!keyword) {
      asked++;
      show([]);
      return;
    }
    asked++; // an answer for the previous keyword is not shown under this one
    showSearching();
    timer = setTimeout(() => searchAll(keyword.slice(0, 64)), DEBOUNCE_MS);
  });
}
