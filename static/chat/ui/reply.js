/*
 * Reply with a quote (docs/PROTOCOL.md §4.8): "Reply" in a message's menu (or a swipe to
 * the left on a touch screen) puts the message above the composer; the text sent then
 * carries it in cloudCustomData as TUIKit does. A reply shows its quote above its text;
 * a click on the quote jumps to the original, loading the history down to it when it is
 * not loaded (findMessage for its sequence, then getMessageListHopping from there), and
 * a recalled original is shown as such.
 */

import { mergePage } from "../history.js";
import { buildReplyData, parseReply, replyAbstract } from "../reply.js";
import { $, el, icon } from "./dom.js";
import { errorText } from "./errors.js";
import { historyOf, renderMessages } from "./messages.js";
import { displayName } from "./names.js";
import { chat, state } from "./state.js";
import { toast } from "./toast.js";
import { t } from "../i18n.js";

/** How far back a jump loads (pages of the server's size): beyond, it says so instead. */
const MAX_JUMP_PAGES = 40;
const HIGHLIGHT_MS = 2000;

const replyTo = new Map(); // conversationID -> the message being replied to
const originals = new Map(); // message ID -> "recalled" | "missing": what a jump or a recall told of an original not loaded

const senderName = (m) => m.nameCard || m.nick || displayName(m.from);

/** Reply to `m`: it shows above the composer until sent or cancelled. */
export function startReply(m) {
  replyTo.set(m.conversationID, m);
  renderReplyBar();
  $("composer-input").focus();
}

export function cancelReply() {
  if (!state.current || !replyTo.delete(state.current)) return false;
  renderReplyBar();
  return true;
}

/** The quote bar above the composer, for the open conversation. */
export function renderReplyBar() {
  const bar = $("reply-bar");
  const m = state.current && replyTo.get(state.current);
  bar.hidden = !m;
  if (!m) {
    bar.replaceChildren();
    return;
  }
  const close = el("button", { type: "button", class: "icon-btn reply-cancel", "aria-label": t("Cancel reply"), title: t("Cancel reply (Esc)"), "data-testid": "reply-cancel", onclick: cancelReply }, icon("close"));
  bar.replaceChildren(
    icon("reply", "reply-bar-icon"),
    el("div", { class: "reply-bar-text" }, el("strong", { text: t("Replying to %(name)s", { name: senderName(m) }) }), el("span", { text: replyAbstract(m) })),
    close,
  );
}

/** The cloudCustomData of the reply being written in `conversationID` ("" when none). */
export function replyData(conversationID) {
  const m = replyTo.get(conversationID);
  return m ? buildReplyData(m, senderName(m)) : "";
}

/** replyData, and the reply ends (its text is being sent). */
export function takeReplyData(conversationID) {
  const data = replyData(conversationID);
  if (replyTo.delete(conversationID) && conversationID === state.current) renderReplyBar();
  return data;
}

/** "recalled", "missing" or "" for a reply's original, as far as this tab knows. */
function originalState(h, messageID) {
  const loaded = h.byID.get(messageID);
  if (loaded) return loaded.isRevoked ? "recalled" : "";
  return originals.get(messageID) || "";
}

/** Part of a row's signature: the row is drawn again when its original is recalled. */
export function quoteSignature(h, m) {
  const reply = parseReply(m.cloudCustomData);
  return reply ? `${reply.messageID}:${originalState(h, reply.messageID)}` : "";
}

/** A recall of a message no history holds: a reply quoting it says so. */
export function noteRecalled(messageID) {
  originals.set(messageID, "recalled");
}

/** The quote above a reply's text (null for a message that is no reply). */
export function quoteNode(h, m) {
  const reply = parseReply(m.cloudCustomData);
  if (!reply) return null;
  const status = originalState(h, reply.messageID);
  const text = status === "recalled" ? t("Original message recalled") : status === "missing" ? t("Original message unavailable") : reply.messageAbstract || t("Message");
  const quote = el(
    "button",
    { type: "button", class: "msg-quote" + (status ? " is-gone" : ""), "data-testid": "message-quote", "data-original-id": reply.messageID, title: t("Show the original message") },
    el("strong", { class: "msg-quote-sender", text: reply.messageSender || t("Message") }),
    el("span", { class: "msg-quote-text", "data-testid": "quote-text", text }),
  );
  quote.addEventListener("click", (e) => {
    e.stopPropagation();
    jumpToMessage(m.conversationID, reply.messageID);
  });
  return quote;
}

function highlight(messageID) {
  const row = $("messages").querySelector(`[data-row-id="${CSS.escape(messageID)}"]`);
  if (!row) return false;
  row.scrollIntoView({ block: "center" });
  row.classList.remove("is-highlighted");
  void row.offsetWidth; // restart the animation when the same message is jumped to twice
  row.classList.add("is-highlighted");
  setTimeout(() => row.classList.remove("is-highlighted"), HIGHLIGHT_MS);
  return true;
}

/** The oldest stored sequence the history holds (Infinity when none). */
function oldestSequence(h) {
  const stored = h.messages.filter((m) => m.status === "success" && m.sequence);
  return stored.length ? stored[0].sequence : Infinity;
}

/**
 * Show the message `messageID` of the open conversation: scrolled to and highlighted.
 * When it is not loaded: its sequence from the server (findMessage; a recalled or
 * unreadable original is said so), then the pages from it down to what is loaded
 * (getMessageListHopping, newer direction), merged so the history has no gap.
 */
export async function jumpToMessage(conversationID, messageID) {
  const h = historyOf(conversationID);
  if (h.byID.has(messageID)) {
    highlight(messageID);
    return;
  }
  let original;
  try {
    original = (await chat.findCloudMessage({ conversationID, messageID })).data.message;
  } catch (error) {
    if (error && error.code === 10030) {
      originals.set(messageID, "missing");
      if (state.current === conversationID) renderMessages({ scroll: "none" });
      toast(t("The original message is no longer available."));
    } else toast(errorText(error, t("The original message couldn't be loaded.")), { error: true });
    return;
  }
  if (original.isRevoked) originals.set(messageID, "recalled");
  const until = oldestSequence(h);
  const pages = [];
  let cursor = original.sequence;
  try {
    for (let n = 0; cursor < until; n++) {
      if (n === MAX_JUMP_PAGES) {
        toast(t("That message is too far back to show here. Scroll up to reach it."));
        return;
      }
      const data = (await chat.getMessageListHopping({ conversationID, sequence: cursor, direction: 1 })).data;
      pages.push(data.messageList);
      if (data.isCompleted || !data.nextMessageSeq) break;
      cursor = data.nextMessageSeq;
    }
  } catch (error) {
    toast(errorText(error, t("The original message couldn't be loaded.")), { error: true });
    return;
  }
  for (const page of pages) mergePage(h, page);
  const first = h.messages.find((m) => m.status === "success" && m.sequence);
  if (first) h.nextReqMessageID = first.ID;
  h.loaded = true;
  if (state.current !== conversationID) return;
  renderMessages({ scroll: "none" });
  highlight(messageID);
}

/** A swipe to the left on a touch screen replies to the message (Telegram's, WhatsApp's). */
export function wireReplySwipe(box, messageFromNode) {
  const SWIPE_PX = 64;
  let start = null;
  box.addEventListener("pointerdown", (e) => {
    start = e.pointerType === "touch" && !state.select.active ? { x: e.clientX, y: e.clientY, m: messageFromNode(e.target) } : null;
  });
  box.addEventListener("pointerup", (e) => {
    if (!start || !start.m) return;
    const dx = start.x - e.clientX;
    const dy = Math.abs(e.clientY - start.y);
    const m = start.m;
    start = null;
    if (dx > SWIPE_PX && dy < SWIPE_PX / 2 && m.status === "success" && !m.isRevoked) startReply(m);
  });
  box.addEventListener("pointercancel", () => (start = null));
}
