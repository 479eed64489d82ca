/*
 * The open conversation's messages: the history pane with day separators, runs of
 * messages from one sender, the "new messages" divider, older pages on scroll, and
 * the "jump to the latest" button.
 *
 * Message history is cached per conversation once opened; live messages are merged
 * only into cached histories (others are fetched when opened).
 */

import { badgeText, clockTime, dayLabel, fullTime, hueFor, receiptText, startOfDay, toDate } from "../format.js";
import { isForwardable, lastOwnStoredID, mergePage, newHistory, placeUnreadDivider, removeDeleted } from "../history.js";
import { GROUP, isGroupConversation } from "../ids.js";
import { receiversNote, withinRevokeWindow } from "../rules.js";
import { mentionsViewer } from "../text.js";
import { messageBody } from "./bodies.js";
import { conversationAvatarInfo, conversationTitle, findConversation } from "./conversations.js";
import { $, avatar, currentControl, el, icon, loadingEdge } from "./dom.js";
import { errorText } from "./errors.js";
import { openMessageMenu } from "./message-menu.js";
import { displayName, rememberName, revokedSentence, tipSentence } from "./names.js";
import { discard, resend } from "./sending.js";
import { afterRenderReactions, reactionsNode, reactionsSignature } from "./reactions.js";
import { afterRender, readCountNode, showsReadCount } from "./receipts.js";
import { quoteNode, quoteSignature } from "./reply.js";
import { forwardedLabel } from "../forwarded.js";
import { openRequests } from "./requests.js";
import { markSelected } from "./select.js";
import { atAllID, chat, limits, revokeRules, state } from "./state.js";
import { toast } from "./toast.js";
import { nt, t } from "../i18n.js";

/** Messages of one sender less than this far apart are drawn as one run (one name, one avatar). */
const GROUP_RUN_SECONDS = 5 * 60;

/** Take what the user deleted for themselves out of a held history, and redraw it if open. */
export function dropDeleted(conversationID, deletion) {
  const h = state.histories.get(conversationID);
  if (h && removeDeleted(h, deletion) && conversationID === state.current) renderMessages({ scroll: "auto" });
}

export function historyOf(conversationID) {
  let h = state.histories.get(conversationID);
  if (!h) {
    h = newHistory();
    state.histories.set(conversationID, h);
  }
  return h;
}

/** getMessageList arguments for a conversation's latest page, or the page before nextReqMessageID. */
export function pageRequest(conversationID, nextReqMessageID = "") {
  const args = { conversationID };
  const count = limits().messagePageSize;
  if (count) args.count = count;
  if (nextReqMessageID) args.nextReqMessageID = nextReqMessageID;
  return args;
}

export async function loadOlder(conversationID, { initial = false } = {}) {
  const h = historyOf(conversationID);
  if (h.loading || (h.loaded && h.isCompleted)) return;
  h.loading = true;
  if (!initial && state.current === conversationID) renderMessages({ scroll: "keep-bottom-offset" });
  try {
    const res = await chat.getMessageList(pageRequest(conversationID, h.loaded ? h.nextReqMessageID : ""));
    const data = res.data || {};
    mergePage(h, data.messageList || []);
    h.nextReqMessageID = data.nextReqMessageID || "";
    h.isCompleted = Boolean(data.isCompleted) || !h.nextReqMessageID;
    h.loaded = true;
    h.loadError = "";
  } catch (error) {
    // Not "the beginning of the history": what failed, and a retry (live.js retries on reconnect).
    h.loadError = errorText(error, t("Messages couldn't be loaded."));
  } finally {
    h.loading = false;
  }
  // The divider in sight moves up over the unread messages of the page, and the view with it.
  const follow = Boolean(h.unreadAbove && h.dividerBeforeID) && !initial && state.current === conversationID && dividerInView();
  if (h.unreadAbove && h.dividerBeforeID) moveDividerUp(h);
  if (!initial && state.current === conversationID) {
    renderMessages({ scroll: follow ? "divider" : "keep-bottom-offset" });
    fillViewport(conversationID);
  }
}

function dividerInView() {
  const divider = $("messages").querySelector('[data-testid="new-messages-divider"]');
  if (!divider) return false;
  const box = $("messages").getBoundingClientRect();
  const at = divider.getBoundingClientRect();
  return at.bottom > box.top && at.top < box.bottom;
}

/** An older page came: the "New messages" divider moves up over the unread messages in it. */
function moveDividerUp(h) {
  const { beforeID, above } = placeUnreadDivider(h, h.unreadAbove, h.dividerBeforeID);
  h.dividerBeforeID = beforeID;
  h.unreadAbove = above;
}

/** "N more new messages above": older pages load until the divider is above the first unread one. */
const MAX_JUMP_PAGES = 40;
async function loadUnreadAbove(conversationID) {
  const h = historyOf(conversationID);
  for (let pages = 0; pages < MAX_JUMP_PAGES && h.unreadAbove && !h.isCompleted && !h.loadError; pages++) {
    await loadOlder(conversationID, { initial: true });
    if (state.current !== conversationID) return;
  }
  renderMessages({ scroll: "divider" });
}

function unreadDivider(h) {
  const divider = el("div", { class: "unread-divider", "data-testid": "new-messages-divider", role: "separator" }, t("New messages"));
  if (h.unreadAbove > 0) {
    const n = h.unreadAbove;
    const conversationID = state.current;
    const more = el("button", {
      type: "button",
      class: "unread-above",
      "data-testid": "unread-above",
      text: t("%(n)s more above", { n }),
      "aria-label": nt("%(count)s more new message above: show them", "%(count)s more new messages above: show them", n),
      onclick: () => loadUnreadAbove(conversationID),
    });
    divider.append(more);
  }
  return divider;
}

/** Keep loading older pages until the pane can scroll (so scrolling up can load more). */
export function fillViewport(conversationID) {
  const box = $("messages");
  const h = state.histories.get(conversationID);
  if (!h || h.isCompleted || h.loading || h.loadError || state.current !== conversationID) return;
  if (box.scrollHeight <= box.clientHeight + 40) loadOlder(conversationID);
}

/** The day label stuck at the top shows while the user scrolls (Telegram's), then fades: at rest it would cover a message. */
const DAY_LABEL_REST_MS = 1200;
let scrollRest = null;

function onMessagesScroll() {
  const box = $("messages");
  if (state.current && box.scrollTop < 120) loadOlder(state.current);
  if (isNearBottom()) hideJump();
  box.classList.add("is-scrolling");
  clearTimeout(scrollRest);
  scrollRest = setTimeout(() => box.classList.remove("is-scrolling"), DAY_LABEL_REST_MS);
  markStuckDayLabels(box);
}

/** A day label is stuck when it is drawn over what follows it (sticky moves it down only). */
function markStuckDayLabels(box) {
  for (const label of box.querySelectorAll(".day-sep")) {
    const next = label.nextElementSibling;
    label.classList.toggle("is-stuck", Boolean(next) && next.getBoundingClientRect().top < label.getBoundingClientRect().bottom);
  }
}

export function isNearBottom() {
  const box = $("messages");
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function scrollToBottom(smooth) {
  const box = $("messages");
  box.scrollTo({ top: box.scrollHeight, behavior: smooth ? "smooth" : "auto" });
  hideJump();
}

function hideJump() {
  state.jumpCount = 0;
  $("jump-btn").hidden = true;
}

/** "n new messages below" while the user reads further up. */
export function showJump(newCount) {
  state.jumpCount += newCount;
  $("jump-btn").hidden = false;
  $("jump-count").hidden = state.jumpCount === 0;
  $("jump-count").textContent = badgeText(state.jumpCount);
}

const isTipLike = (m) => m.type === "TIMGroupTipElem" || m.type === "TIMGroupSystemNoticeElem";
const messageTime = (m) => m.time || Date.now() / 1000;

/** A join request in the system notices: a button to the Requests list, where it is answered. */
function reviewButton(m) {
  if (m.type !== "TIMGroupSystemNoticeElem" || !m.payload || m.payload.operationType !== 1) return null;
  return el("button", { type: "button", class: "link-btn tip-action", "data-testid": "notice-review", onclick: openRequests, text: t("Review requests") });
}

/** The nodes of a history: intro or loading edge, day separators, divider, tips and message rows. */
function historyNodes(h, conv, group) {
  const nodes = [el("div", { class: "msg-spacer" })];
  if (h.loading) nodes.push(loadingEdge(t("Loading earlier messages…"), { "data-testid": "history-loading" }));
  else if (h.loadError) nodes.push(loadFailedEdge(h));
  else if (h.loaded && h.isCompleted && conv) nodes.push(chatIntro(conv, h.messages.length === 0));

  const lastOutID = lastOwnStoredID(h);
  let prev = null;
  let prevDay = null;
  let prevRow = null;
  const endRun = () => {
    if (prevRow) prevRow.classList.add("is-last");
    prevRow = null;
  };
  for (const m of h.messages) {
    const day = startOfDay(toDate(messageTime(m)));
    let breakRun = false;
    if (day !== prevDay) {
      endRun();
      nodes.push(el("div", { class: "day-sep", "data-testid": "day-separator", text: dayLabel(messageTime(m)) }));
      prevDay = day;
      breakRun = true;
    }
    if (m.ID === h.dividerBeforeID) {
      endRun();
      nodes.push(unreadDivider(h));
      breakRun = true;
    }
    if (isTipLike(m)) {
      endRun();
      nodes.push(el("div", { class: "group-tip", "data-testid": "group-tip", "data-message-id": m.ID }, tipSentence(m), reviewButton(m)));
      prev = null;
      continue;
    }
    const first = breakRun || !prev || prev.from !== m.from || prev.flow !== m.flow || (m.time || 0) - (prev.time || 0) > GROUP_RUN_SECONDS;
    if (first) endRun();
    prevRow = cachedRow(h, m, { group, first, showReceipt: !group && m.ID === lastOutID, error: h.errors.get(m.ID), selecting: state.select.active, history: h });
    markSelected(prevRow, m);
    nodes.push(prevRow);
    prev = m;
  }
  endRun();
  return nodes;
}

/**
 * Rebuild the open conversation's messages. scroll: "bottom" | "divider" |
 * "keep-bottom-offset" (older messages were added on top) | "auto" (stick to the
 * bottom if we were there).
 */
export function renderMessages({ scroll = "auto" } = {}) {
  const conversationID = state.current;
  if (!conversationID) return;
  const box = $("messages");
  const wasNearBottom = isNearBottom();
  const fromBottom = box.scrollHeight - box.scrollTop;
  const h = historyOf(conversationID);
  // The rows are put back (moving a node drops its focus) and some made again: a control
  // that had the keyboard's focus, or its counterpart in the new row, gets it back.
  const focused = box.contains(document.activeElement) ? document.activeElement : null;
  box.replaceChildren(...historyNodes(h, findConversation(conversationID), isGroupConversation(conversationID)));
  const again = currentControl(focused);
  if (again && again !== document.activeElement) again.focus({ preventScroll: true });
  afterRender(box, h.messages);
  afterRenderReactions(h.messages);
  requestAnimationFrame(() => markStuckDayLabels(box));

  if (scroll === "bottom" || (scroll === "auto" && wasNearBottom)) box.scrollTop = box.scrollHeight;
  else if (scroll === "keep-bottom-offset") box.scrollTop = box.scrollHeight - fromBottom;
  else if (scroll === "divider") {
    const divider = box.querySelector(".unread-divider");
    box.scrollTop = divider ? Math.max(0, divider.offsetTop - 60) : box.scrollHeight;
  }
}

/** The row for a message, rebuilt only when something it shows has changed. */
function cachedRow(h, m, options) {
  const sig = [
    m.status, m.isPeerRead ? 1 : 0, m.isRevoked ? 1 : 0, m.version || 0, m.sequence || 0, m.time || 0, m.nick || "", m.avatar || "",
    options.group ? 1 : 0, options.first ? 1 : 0, options.showReceipt ? 1 : 0, options.error || "", options.selecting ? 1 : 0, state.assetsVersion,
    m.needReadReceipt ? 1 : 0, receiptText(m.readReceiptInfo), quoteSignature(h, m), reactionsSignature(m),
  ].join("|");
  let cached = h.rows.get(m.ID);
  if (!cached || cached.sig !== sig || cached.message !== m) {
    cached = { sig, message: m, row: messageRow(m, options) };
    h.rows.set(m.ID, cached);
  }
  cached.row.classList.remove("is-last");
  return cached.row;
}

function loadFailedEdge(h) {
  const retry = el("button", { type: "button", class: "link-btn", text: t("Try again") });
  retry.addEventListener("click", () => loadOlder(state.current));
  return el("div", { class: "history-error", role: "alert", "data-testid": "history-error" }, el("span", { text: t("Messages couldn't be loaded: %(error)s", { error: h.loadError }) }), retry);
}

function chatIntro(conv, empty) {
  const title = conversationTitle(conv);
  let text;
  if (conv.type === GROUP) text = empty ? t("No messages yet. Say hello to the group.") : t("This is the beginning of the group's history.");
  else text = empty ? t("This is the beginning of your chat with %(title)s. Say hello!", { title }) : t("This is the beginning of your chat with %(title)s.", { title });
  return el("div", { class: "chat-intro", "data-testid": "history-start" }, avatar("xl", conversationAvatarInfo(conv)), el("strong", { text: title }), el("span", { text }));
}

/** The time, and for my messages a clock (sending), an alert (failed) or the ticks (sent, read). */
function messageMeta(m, { group }) {
  const out = m.flow === "out";
  const meta = el("span", { class: "msg-meta" });
  if (m.isModified && !m.isRevoked) meta.append(el("span", { class: "msg-edited", "data-testid": "message-edited", text: "edited" }));
  meta.append(el("time", { datetime: new Date((m.time || 0) * 1000).toISOString(), text: clockTime(messageTime(m)) }));
  if (out && m.status === "fail") meta.append(icon("alert"));
  else if (out && m.status === "unSend") meta.append(icon("clock"));
  else if (out && !group && !m.isRevoked) {
    // A recall notice carries no ticks: there is nothing left to have been read.
    const read = Boolean(m.isPeerRead);
    const label = read ? t("Read") : t("Sent");
    meta.append(el("span", { class: read ? "is-read" : "", role: "img", title: label, "aria-label": label, "data-testid": "message-status", "data-status": read ? "read" : "sent" }, icon(read ? "checks" : "check", read ? "is-read" : "")));
  }
  return meta;
}

const BUBBLE_KIND_CLASS = { media: " is-media", card: " is-card", sticker: " is-sticker" };

/** "Forwarded from Alice" above a forwarded message's body (text, never markup). */
function forwardedNode(m) {
  const label = forwardedLabel(m.cloudCustomData);
  return label ? el("div", { class: "msg-forwarded", "data-testid": "forwarded-from", text: label }) : null;
}

function messageBubble(m, name, options) {
  const out = m.flow === "out";
  const body = m.isRevoked ? { node: revokedNode(m), kind: "text" } : messageBody(m);
  return el(
    "div",
    {
      class: "bubble" + (BUBBLE_KIND_CLASS[body.kind] || "") + (!out && mentionsViewer(m, state.me.userID, atAllID()) ? " mentions-me" : ""),
      "data-testid": "message-bubble",
      "data-message-id": m.ID,
      "data-status": m.status,
      "data-flow": m.flow,
      title: fullTime(messageTime(m)),
    },
    m.isRevoked ? null : quoteNode(options.history, m),
    m.isRevoked ? null : forwardedNode(m),
    body.node,
    messageMeta(m, options),
  );
}

/** "You recalled a message" / "Alice recalled a message", and for the text this tab recalled
 * a "Re-edit" link while the revoke window lasts (WeChat's): it puts the text back into
 * the composer. The text is the tab's own copy; the server never sends it back. */
function revokedNode(m) {
  const node = el("span", { class: "msg-text msg-revoked", "data-testid": "revoked-message", text: revokedSentence(m) });
  const text = state.recalledTexts.get(m.ID);
  if (text !== undefined && withinRevokeWindow(m, state.me.userID, revokeRules(), Date.now())) {
    const reedit = el("button", { type: "button", class: "reedit-btn", "data-testid": "reedit-message", text: t("Re-edit") });
    reedit.addEventListener("click", (e) => {
      e.stopPropagation();
      if (!withinRevokeWindow(m, state.me.userID, revokeRules(), Date.now())) {
        state.recalledTexts.delete(m.ID);
        reedit.remove();
        toast(t("It's too late to re-edit this message."));
        return;
      }
      putBackInComposer(text);
    });
    node.append(" ", reedit);
  }
  return node;
}

function putBackInComposer(text) {
  const input = $("composer-input");
  input.value = input.value ? `${input.value}\n${text}` : text;
  input.dispatchEvent(new Event("input", { bubbles: true }));
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

function failedNote(m, error) {
  return el(
    "div",
    { class: "msg-failed", "data-testid": "send-failed" },
    el("span", { text: error ? t("Not sent. %(error)s", { error }) : t("Not sent.") }),
    el("button", { type: "button", class: "resend-btn", "data-testid": "resend-button", onclick: () => resend(m) }, icon("retry"), t("Resend")),
    el("button", { type: "button", class: "resend-btn", "data-testid": "discard-button", title: t("Delete this unsent message"), onclick: () => discard(m) }, t("Delete")),
  );
}

/** The bubble with the sender's name above it (first of a run in a group), and what is under it. */
function messageColumn(m, name, options) {
  const col = el("div", { class: "msg-col" });
  if (options.group && m.flow !== "out" && options.first) {
    const label = el("div", { class: "msg-name", text: name });
    label.style.setProperty("--avatar-hue", hueFor(m.from));
    col.append(label);
  }
  col.append(messageBubble(m, name, options));
  if (Array.isArray(m.receiverList) && m.receiverList.length) {
    col.append(el("div", { class: "msg-receivers", "data-testid": "message-receivers", text: receiversNote(m.receiverList, state.me.userID, displayName) }));
  }
  const reactions = reactionsNode(m);
  if (reactions) col.append(reactions);
  if (m.status === "fail") col.append(failedNote(m, options.error));
  if (options.showReceipt) {
    const read = Boolean(m.isPeerRead);
    col.append(el("div", { class: "read-receipt" + (read ? " is-read" : ""), "data-testid": "read-receipt", text: read ? t("Read") : t("Sent") }));
  }
  const count = options.group && showsReadCount(m) ? readCountNode(m) : null;
  if (count) col.append(count);
  return col;
}

function actionsButton(m) {
  const more = el("button", { type: "button", class: "msg-more", "aria-label": t("Message actions"), title: t("More"), "data-testid": "message-actions" }, icon("more"));
  more.addEventListener("click", (e) => {
    e.stopPropagation();
    const rect = more.getBoundingClientRect();
    openMessageMenu(m, rect.left, rect.bottom + 4);
  });
  return more;
}

/** The sender's avatar; a click (or Enter) opens their profile card (ui/profiles.js). */
function senderAvatar(m, name) {
  const face = avatar("sm", { id: m.from, name, url: m.avatar });
  face.removeAttribute("aria-hidden");
  Object.assign(face.dataset, { userId: m.from, testid: "message-avatar" });
  face.setAttribute("role", "button");
  face.setAttribute("tabindex", "0");
  face.setAttribute("aria-label", t("Profile of %(name)s", { name }));
  return face;
}

function messageRow(m, options) {
  rememberName(m.from, m.nameCard || m.nick);
  const { group, first, selecting } = options;
  const out = m.flow === "out";
  const name = m.nameCard || m.nick || displayName(m.from);
  const row = el("div", {
    class: `msg-row ${out ? "out" : "in"}` + (first ? " is-first" : "") + (m.status === "unSend" ? " is-pending" : "") + (m.status === "fail" ? " is-failed" : "") + (selecting ? " is-selecting" : ""),
    "data-row-id": m.ID,
  });
  if (group && !out && m.needReadReceipt) row.dataset.receiptWanted = "1";
  if (selecting) {
    row.append(
      isForwardable(m)
        ? el("input", { type: "checkbox", class: "msg-check", "aria-label": t("Select this message"), "data-testid": "message-checkbox" })
        : el("span", { class: "msg-check-gap" }),
    );
  }
  if (group && !out) row.append(first ? senderAvatar(m, name) : el("span", { class: "msg-avatar-gap" }));
  row.append(messageColumn(m, name, options));
  if (!selecting && !m.isRevoked) row.append(actionsButton(m));
  return row;
}

export function wireMessagesPane() {
  $("messages").addEventListener("scroll", onMessagesScroll, { passive: true });
  $("jump-btn").addEventListener("click", () => scrollToBottom(true));
}
