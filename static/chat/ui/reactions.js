/*
 * Emoji reactions (docs/PROTOCOL.md §5.54–5.57, §6.19): chips under a bubble with the
 * emoji and its count (mine highlighted; a click adds or takes back mine), who reacted on
 * hover, focus or a long press, a quick row of six in the message menu and a full picker
 * (the composer picker's emoji grid and keys). As in the vendor's SDK, getMessageList
 * brings no reactions: the messages drawn are asked for in one batch call (20 a request),
 * and MESSAGE_REACTIONS_UPDATED keeps them live.
 */

import { chunks } from "../format.js";
import { assets } from "./assets.js";
import { closeMenus, menuOpened } from "./dialogs.js";
import { $, el } from "./dom.js";
import { errorText } from "./errors.js";
import { emojiGridItems, onGridKey } from "./picker.js";
import { displayName, rememberName } from "./names.js";
import { TYPES, chat, onReconnected, serverRules, state } from "./state.js";
import { toast } from "./toast.js";
import { nt, t } from "../i18n.js";

export const QUICK_REACTIONS = ["👍", "❤️", "😂", "😮", "😢", "🎉"];
// The full picker: common Unicode emoji first, then the site's own set (assets.emojiList).
const MORE_REACTIONS = [
  "👍", "👎", "❤️", "🔥", "🎉", "😂", "🤣", "😊", "😍", "🥰", "😘", "😎", "🤔", "😮", "😱", "😢",
  "😭", "😡", "🙏", "👏", "🙌", "💪", "👌", "✌️", "🤝", "👀", "💯", "✅", "❌", "⭐", "🚀", "☕",
  "🍕", "🍻", "🎂", "🎁", "💡", "📌", "⏰", "🤷", "🙈", "😴", "🤯", "🥳", "😇", "🤗", "😅", "🙃",
];
const FLUSH_MS = 120;
const LONG_PRESS_MS = 500;

let rerender = () => {};
const asked = new Set(); // conversationID/ID whose reactions were requested
const waiting = new Map(); // conversationID -> messages to ask for
let flushTimer = null;
let whoChip = null; // the chip whose "who reacted" is shown

const key = (m) => `${m.conversationID}/${m.ID}`;
const maxMessages = () => (serverRules() && serverRules().reactions && serverRules().reactions.maxMessages) || 20;

/** Whether a message can carry reactions: a stored, shown message (not a tip, notice or recall). */
export const takesReactions = (m) =>
  m.status === "success" && !m.isRevoked && m.conversationType !== TYPES.CONV_SYSTEM && m.type !== TYPES.MSG_GRP_TIP && m.type !== TYPES.MSG_GRP_SYS_NOTICE;

/** A row signature part: the row is redrawn when its reactions change. */
export const reactionsSignature = (m) =>
  (m.reactionList || []).map((r) => `${r.reactionID}:${r.totalUserCount}:${r.reactedByMyself ? 1 : 0}:${(r.partialUserList || []).map((u) => u.userID).join(",")}`).join(";");

/** After a render: ask once for the reactions of drawn messages that have none yet. */
export function afterRenderReactions(messages) {
  if (whoChip && !whoChip.isConnected) hideWho(); // its row was redrawn under the pointer
  for (const m of messages) {
    if (!takesReactions(m) || asked.has(key(m)) || Array.isArray(m.reactionList)) continue;
    asked.add(key(m));
    if (!waiting.has(m.conversationID)) waiting.set(m.conversationID, []);
    waiting.get(m.conversationID).push(m);
  }
  if (waiting.size && !flushTimer) flushTimer = setTimeout(flush, FLUSH_MS);
}

function flush() {
  flushTimer = null;
  const batches = [...waiting];
  waiting.clear();
  for (const [conversationID, messages] of batches) {
    for (const part of chunks(messages, maxMessages())) {
      chat
        .getMessageReactions({ messageList: part, maxUserCountPerReaction: 10 })
        .then(() => rerender(conversationID))
        .catch(() => part.forEach((m) => asked.delete(key(m))));
    }
  }
}

/** MESSAGE_REACTIONS_UPDATED: the SDK set the list on its message; redraw. */
export function onReactionsUpdated(event) {
  if (event.data) rerender(event.data.conversationID);
}

/** NET_STATE_CHANGE: changes made while the socket was down were not pushed; ask again. */
export const onReactionsNetState = onReconnected(() => {
  asked.clear();
  if (state.current) rerender(state.current);
});

// --- drawing ----------------------------------------------------------------------------------

/** The emoji itself: the site's own as its image, a Unicode one as text. */
function reactionFace(reactionID, size = 18) {
  const file = assets.emojiMap[reactionID];
  if (!file) return el("span", { class: "reaction-emoji", text: reactionID });
  const img = el("img", { class: "reaction-emoji", alt: assets.emojiLabels[reactionID] || reactionID, draggable: "false", width: String(size), height: String(size) });
  img.src = assets.emojiUrl + file;
  return img;
}

/** "You, Alice and 3 others": who reacted, as far as the chip knows. */
export function whoReacted(reaction, myID, nameOf) {
  const users = reaction.partialUserList || [];
  const names = users.map((u) => (u.userID === myID ? t("You") : nameOf(u)));
  if (reaction.reactedByMyself && !users.some((u) => u.userID === myID)) names.unshift(t("You"));
  const others = Math.max(0, reaction.totalUserCount - names.length);
  if (others) names.push(nt("%(count)s other", "%(count)s others", others));
  if (names.length <= 1) return names.join("");
  return t("%(names)s and %(last)s", { names: names.slice(0, -1).join(t(", ")), last: names[names.length - 1] });
}

const nameOf = (u) => {
  if (u.nick) rememberName(u.userID, u.nick);
  return displayName(u.userID);
};

function showWho(chip, reaction) {
  hideWho();
  const label = assets.emojiLabels[reaction.reactionID] || reaction.reactionID;
  const tip = el("div", { class: "reaction-who", role: "tooltip", id: "reaction-who", "data-testid": "reaction-who" });
  tip.append(reactionFace(reaction.reactionID, 28), el("div", { class: "reaction-who-text" }, el("strong", { text: whoReacted(reaction, state.me.userID, nameOf) }), el("span", { text: t("reacted with %(emoji)s", { emoji: label }) })));
  document.body.append(tip);
  const rect = chip.getBoundingClientRect();
  const box = tip.getBoundingClientRect();
  tip.style.left = Math.max(8, Math.min(rect.left + rect.width / 2 - box.width / 2, window.innerWidth - box.width - 8)) + "px";
  tip.style.top = (rect.top - box.height - 8 < 8 ? rect.bottom + 8 : rect.top - box.height - 8) + "px";
  chip.setAttribute("aria-describedby", "reaction-who");
  whoChip = chip;
}

function hideWho() {
  whoChip = null;
  const tip = $("reaction-who");
  if (tip) tip.remove();
}

function reactionChip(m, reaction) {
  const label = assets.emojiLabels[reaction.reactionID] || reaction.reactionID;
  const chip = el(
    "button",
    {
      type: "button",
      class: "reaction-chip" + (reaction.reactedByMyself ? " is-mine" : ""),
      "data-testid": "reaction-chip",
      "data-reaction-id": reaction.reactionID,
      "aria-pressed": String(Boolean(reaction.reactedByMyself)),
      "aria-label": `${label}: ${reaction.totalUserCount}. ${reaction.reactedByMyself ? t("Take back your reaction") : t("React with it too")}`,
    },
    reactionFace(reaction.reactionID),
    el("span", { class: "reaction-count", "data-testid": "reaction-count", text: String(reaction.totalUserCount) }),
  );
  let pressTimer = null;
  let pressed = false;
  chip.addEventListener("click", (e) => {
    e.stopPropagation();
    if (pressed) {
      pressed = false; // the long press showed who; it is not a toggle
      return;
    }
    toggleReaction(m, reaction.reactionID);
  });
  chip.addEventListener("mouseenter", () => showWho(chip, reaction));
  chip.addEventListener("focus", () => showWho(chip, reaction));
  for (const type of ["mouseleave", "blur"]) chip.addEventListener(type, hideWho);
  chip.addEventListener("pointerdown", (e) => {
    if (e.pointerType !== "touch") return;
    e.stopPropagation();
    pressTimer = setTimeout(() => {
      pressed = true;
      showWho(chip, reaction);
    }, LONG_PRESS_MS);
  });
  for (const type of ["pointerup", "pointercancel", "pointerleave"]) chip.addEventListener(type, () => clearTimeout(pressTimer));
  return chip;
}

/** The chips under a bubble, and a "+" that opens the picker; null when there are none. */
export function reactionsNode(m) {
  const list = (takesReactions(m) && m.reactionList) || [];
  if (!list.length) return null;
  const add = el("button", { type: "button", class: "reaction-chip reaction-add", "aria-label": t("Add a reaction"), title: t("Add a reaction"), "data-testid": "reaction-add", text: "+" });
  add.addEventListener("click", (e) => {
    e.stopPropagation();
    const rect = add.getBoundingClientRect();
    openReactionPicker(m, rect.left, rect.bottom + 6, add);
  });
  return el("div", { class: "reactions", "data-testid": "reactions" }, ...list.map((r) => reactionChip(m, r)), add);
}

// --- reacting ---------------------------------------------------------------------------------

const mineOf = (m, reactionID) => (m.reactionList || []).some((r) => r.reactionID === reactionID && r.reactedByMyself);

/** Add my reaction, or take it back when I have it. */
export async function toggleReaction(m, reactionID) {
  hideWho();
  const remove = mineOf(m, reactionID);
  try {
    await (remove ? chat.removeMessageReaction({ message: m, reactionID }) : chat.addMessageReaction({ message: m, reactionID }));
  } catch (error) {
    toast(errorText(error, remove ? t("Your reaction couldn't be taken back.") : t("The reaction couldn't be added.")), { error: true });
  }
  rerender(m.conversationID);
}

/** The message menu's first line: six quick reactions and "more". */
export function quickReactionRow(m, x, y) {
  if (!takesReactions(m) || typeof chat.addMessageReaction !== "function") return null;
  const pick = (reactionID) => {
    closeMenus();
    toggleReaction(m, reactionID);
  };
  const buttons = QUICK_REACTIONS.map((reactionID) =>
    el("button", { type: "button", role: "menuitem", class: "quick-reaction" + (mineOf(m, reactionID) ? " is-mine" : ""), "data-testid": "quick-reaction", "data-reaction-id": reactionID, "aria-label": `React with ${reactionID}`, title: reactionID, onclick: () => pick(reactionID), text: reactionID }),
  );
  const more = el("button", { type: "button", role: "menuitem", class: "quick-reaction quick-more", "data-testid": "reaction-more", "aria-label": t("More reactions"), title: t("More reactions"), text: "+" });
  more.addEventListener("click", (e) => {
    e.stopPropagation();
    openReactionPicker(m, x, y);
  });
  return el("div", { class: "menu-reactions", role: "group", "aria-label": t("React") }, ...buttons, more);
}

/** The full picker, next to (x, y): common emoji and the site's own set. */
export function openReactionPicker(m, x, y, opener = document.activeElement) {
  closeMenus();
  const menu = $("reaction-picker");
  const pick = (reactionID) => {
    closeMenus();
    toggleReaction(m, reactionID);
  };
  const unicode = MORE_REACTIONS.map((reactionID) =>
    el("button", { type: "button", class: "picker-emoji picker-unicode", "data-testid": "reaction-picker-item", "data-code": reactionID, "aria-label": reactionID, title: reactionID, onclick: () => pick(reactionID), text: reactionID }),
  );
  const grid = el("div", { class: "picker-grid reaction-grid" }, ...unicode, ...emojiGridItems(pick));
  grid.addEventListener("keydown", onGridKey);
  menu.replaceChildren(el("div", { class: "menu-label", text: t("React with…") }), grid);
  menu.hidden = false;
  const rect = menu.getBoundingClientRect();
  menu.style.left = Math.max(8, Math.min(x, window.innerWidth - rect.width - 8)) + "px";
  menu.style.top = Math.max(8, Math.min(y, window.innerHeight - rect.height - 8)) + "px";
  menuOpened(menu, opener);
  const first = grid.querySelector("button");
  if (first) first.focus({ preventScroll: true });
}

/** rerenderConversation(conversationID) redraws a conversation's messages if it is open. */
export function wireReactions(rerenderConversation) {
  rerender = rerenderConversation;
  $("messages").addEventListener("scroll", hideWho, { passive: true });
}
