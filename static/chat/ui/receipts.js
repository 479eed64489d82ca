/*
 * Group read receipts (docs/PROTOCOL.md §5.22–5.24): messages this UI sends to a group ask
 * for receipts; a member who sees such a message on screen (the tab visible) confirms it,
 * batched per conversation; the sender sees "3 read" / "All read" under it, kept live by
 * MESSAGE_READ_RECEIPT_RECEIVED, and a click lists who read it and who has not.
 * C2C keeps its ✓/✓✓ from setMessageRead.
 */

import { chunks, receiptText } from "../format.js";
import { isGroupConversation } from "../ids.js";
import { openDialog, setDialogError, wireDialogClose } from "./dialogs.js";
import { $, avatar, el } from "./dom.js";
import { errorText } from "./errors.js";
import { displayName, rememberName } from "./names.js";
import { chat, onReconnected, serverRules, state } from "./state.js";
import { t } from "../i18n.js";

const FLUSH_MS = 300;
const maxMessages = () => (serverRules() && serverRules().readReceipt && serverRules().readReceipt.maxMessages) || 30;

let rerender = () => {};
const confirmed = new Set(); // conversationID/ID this tab sent a receipt for
const onScreen = new Map(); // message ID -> message, incoming ones asking for a receipt, in view
const pending = new Map(); // conversationID -> Map(ID -> message) to confirm
const asked = new Set(); // conversationID/ID whose counts were requested
let flushTimer = null;
let observer = null;

const key = (m) => `${m.conversationID}/${m.ID}`;

/** Whether the row shows the sender's "N read" button. */
export const showsReadCount = (m) => m.flow === "out" && m.needReadReceipt && m.status === "success" && !m.isRevoked && isGroupConversation(m.conversationID);

/** Whether this viewer owes a receipt for the message once it is on screen. */
const owesReceipt = (m) => m.flow === "in" && m.needReadReceipt && !m.isRevoked && !confirmed.has(key(m));

/** "3 read" under the sender's own group message; a button that opens the member lists. */
export function readCountNode(m) {
  const text = receiptText(m.readReceiptInfo);
  if (!text) return null;
  const all = m.readReceiptInfo.unreadCount === 0;
  const button = el("button", {
    type: "button",
    class: "read-receipt" + (all ? " is-read" : ""),
    "data-testid": "read-count",
    "aria-label": t("%(text)s. Show who read this message", { text }),
    text,
  });
  button.addEventListener("click", (e) => {
    e.stopPropagation();
    openReceiptsDialog(m);
  });
  return button;
}

/** After a render: fetch the counts of own messages that lack them, watch incoming rows. */
export function afterRender(box, messages) {
  const missing = messages.filter((m) => showsReadCount(m) && !asked.has(key(m)));
  if (missing.length) fetchCounts(missing);
  if (!observer) observer = new IntersectionObserver(onIntersect, { root: box, threshold: [0, 0.25, 0.6, 1] });
  observer.disconnect();
  onScreen.clear();
  const byID = new Map(messages.map((m) => [m.ID, m]));
  for (const row of box.querySelectorAll("[data-receipt-wanted]")) {
    const m = byID.get(row.dataset.rowId);
    if (m && owesReceipt(m)) {
      row.receiptMessage = m;
      observer.observe(row);
    }
  }
}

function fetchCounts(messages) {
  for (const m of messages) asked.add(key(m));
  for (const list of chunks(messages, maxMessages())) {
    chat
      .getMessageReadReceiptList(list)
      .then(() => rerender(list[0].conversationID))
      .catch(() => list.forEach((m) => asked.delete(key(m))));
  }
}

function onIntersect(entries) {
  for (const entry of entries) {
    const m = entry.target.receiptMessage;
    // Mostly in view, or filling half the pane (a message taller than the pane).
    const seen = entry.isIntersecting && (entry.intersectionRatio >= 0.6 || entry.intersectionRect.height >= 0.5 * entry.rootBounds.height);
    if (seen) onScreen.set(m.ID, m);
    else onScreen.delete(m.ID);
  }
  queueVisible();
}

/** The tab became visible (or a row came into view): confirm what is on screen. */
export function queueVisible() {
  if (document.visibilityState !== "visible") return;
  for (const m of onScreen.values()) {
    if (!owesReceipt(m) || m.conversationID !== state.current) continue;
    if (!pending.has(m.conversationID)) pending.set(m.conversationID, new Map());
    pending.get(m.conversationID).set(m.ID, m);
  }
  if (pending.size && !flushTimer) flushTimer = setTimeout(flush, FLUSH_MS);
}

function flush() {
  flushTimer = null;
  for (const [conversationID, messages] of pending) {
    pending.delete(conversationID);
    const list = [...messages.values()].filter(owesReceipt);
    for (const m of list) confirmed.add(key(m));
    for (const part of chunks(list, maxMessages())) {
      chat.sendMessageReadReceipt(part).catch(() => part.forEach((m) => confirmed.delete(key(m))));
    }
  }
}

/** MESSAGE_READ_RECEIPT_RECEIVED: the SDK set the counts on its messages; redraw. */
export function onReadReceiptReceived(event) {
  const conversations = new Set((event.data || []).map((item) => item.conversationID));
  for (const conversationID of conversations) rerender(conversationID);
}

/** NET_STATE_CHANGE: receipts that came while the socket was down were not pushed (sync
 * carries messages, not counts), so after a reconnect the counts are fetched again. */
export const onReceiptsNetState = onReconnected(() => {
  asked.clear();
  if (state.current) rerender(state.current);
});

// --- who read it ------------------------------------------------------------------------

const lists = {
  0: { list: "receipts-read", more: "receipts-read-more", key: "readUserIDList" },
  1: { list: "receipts-unread", more: "receipts-unread-more", key: "unreadUserIDList" },
};
let shown = null; // {message, cursors: {0, 1}}

function openReceiptsDialog(message) {
  shown = { message, cursors: { 0: "", 1: "" } };
  openDialog("dlg-receipts", () => {
    for (const filter of [0, 1]) {
      $(lists[filter].list).replaceChildren();
      $(lists[filter].more).hidden = true;
    }
  });
  $("dlg-receipts").querySelector("[data-close]").focus();
  loadPage(0);
  loadPage(1);
}

async function loadPage(filter) {
  const current = shown;
  const { list, more, key: field } = lists[filter];
  try {
    const res = await chat.getGroupMessageReadMemberList({ message: current.message, filter, cursor: current.cursors[filter], count: 100 });
    if (current !== shown) return;
    const ids = res.data[field] || [];
    const profiles = ids.length ? ((await chat.getUserProfile({ userIDList: ids })).data || []) : [];
    if (current !== shown) return;
    for (const p of profiles) rememberName(p.userID, p.nick);
    const avatars = new Map(profiles.map((p) => [p.userID, p.avatar]));
    const node = $(list);
    node.append(
      ...ids.map((userID) =>
        el("li", { "data-user-id": userID }, avatar("sm", { id: userID, name: displayName(userID), url: avatars.get(userID) }), el("span", { text: displayName(userID) })),
      ),
    );
    if (!node.children.length) node.append(el("li", { class: "receipts-empty", text: filter === 0 ? t("Nobody yet") : t("Everyone has read it") }));
    current.cursors[filter] = res.data.cursor;
    $(more).hidden = res.data.isCompleted;
  } catch (error) {
    setDialogError($("dlg-receipts"), errorText(error, t("Who read this message couldn't be loaded.")));
  }
}

/** rerenderConversation(conversationID) redraws a conversation's messages if it is open. */
export function wireReceipts(rerenderConversation) {
  rerender = rerenderConversation;
  wireDialogClose($("dlg-receipts"));
  $("dlg-receipts").querySelector("form").addEventListener("submit", (e) => e.preventDefault());
  for (const filter of [0, 1]) $(lists[filter].more).addEventListener("click", () => loadPage(filter));
  document.addEventListener("visibilitychange", queueVisible);
}
