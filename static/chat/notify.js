/*
 * Desktop notifications, decided: which arriving message deserves one, what it says,
 * and the unread badge on the favicon. Pure: no DOM, importable by Node
 * (tests/js/notify.test.js); static/chat/ui/notifications.js shows what this decides.
 *
 * The rules (WeChat's, Slack's and Telegram Web's, in the SDK's words):
 * - Never for my own messages (another tab or device of mine sent it), group tips,
 *   recalled messages, or messages that are only signals (typing).
 * - Only when the user is not already looking at the chat: the tab is hidden, or
 *   another conversation is open.
 * - A conversation's `messageRemindType` (setMessageRemindType; absent means
 *   MSG_REMIND_ACPT_AND_NOTE) may mute it: AcceptNotNotify keeps the messages and the
 *   conversation's unread count (the server leaves it out of the total, so the title and
 *   favicon do not count it) but stays quiet, except for a message that @-mentions me or @all;
 *   Discard is quiet whatever the message.
 * - One notification per conversation at a time (the notification's `tag` is the
 *   conversation ID, so a newer one replaces the older), for the newest message of a
 *   batch; messages older than STALE_SECONDS (a catch-up after the laptop slept) are
 *   counted, not announced.
 */

import { t } from "./i18n.js";

export const REMIND = Object.freeze({ NOTIFY: "AcceptAndNotify", QUIET: "AcceptNotNotify", DISCARD: "Discard" });

/** An old message that a reconnect hands over is not news any more. */
export const STALE_SECONDS = 10 * 60;

const PREVIEW_CHARS = 120;
const SILENT_TYPES = new Set(["TIMGroupTipElem", "TIMGroupSystemNoticeElem"]);

/** The conversation's remind type; absent or unknown means "notify". */
export function remindType(conversation) {
  const value = conversation && conversation.messageRemindType;
  return value === REMIND.QUIET || value === REMIND.DISCARD ? value : REMIND.NOTIFY;
}

/** The message @-mentions me, or everyone (atAllID: the SDK's TIM.TYPES.MSG_AT_ALL). */
export function mentionsMe(message, myID, atAllID) {
  const list = Array.isArray(message && message.atUserList) ? message.atUserList : [];
  return list.some((id) => (myID && id === myID) || (atAllID && id === atAllID));
}

/**
 * Whether `message` should make a notification (and a sound).
 *  context.myID         my userID
 *  context.atAllID      the "@all" user ID
 *  context.conversation the conversation object it belongs to (may be null: unknown yet)
 *  context.showing      the user is looking at this chat (tab visible, chat open)
 *  context.nowSeconds   the current time, to leave out stale catch-up
 * Returns a reason string: "notify", "mention" (notify: a mention beat a mute), or why not.
 */
export function notifyReason(message, { myID, atAllID, conversation = null, showing = false, nowSeconds = Date.now() / 1000 }) {
  if (!message || !message.conversationID) return "invalid";
  if (message.flow === "out" || (myID && message.from === myID)) return "own";
  if (!/^(C2C|GROUP)/.test(message.conversationID)) return "system";
  if (SILENT_TYPES.has(message.type) || message.isRevoked || message.isDeleted) return "silent";
  if (showing) return "showing";
  if (message.time && nowSeconds - message.time > STALE_SECONDS) return "stale";
  const remind = remindType(conversation);
  if (remind === REMIND.DISCARD) return "muted";
  const mentioned = mentionsMe(message, myID, atAllID);
  if (remind === REMIND.QUIET) return mentioned ? "mention" : "muted";
  return mentioned ? "mention" : "notify";
}

export const shouldNotify = (message, context) => {
  const reason = notifyReason(message, context);
  return reason === "notify" || reason === "mention";
};

/**
 * From one MESSAGE_RECEIVED batch, the messages to announce: the newest that qualifies
 * per conversation (a catch-up of 40 messages makes one notification per chat).
 * `contextFor(message)` gives notifyReason's context.
 */
export function pickNotifications(messages, contextFor) {
  const newest = new Map();
  for (const m of Array.isArray(messages) ? messages : []) {
    if (!shouldNotify(m, contextFor(m))) continue;
    const held = newest.get(m.conversationID);
    if (!held || (m.time || 0) >= (held.time || 0)) newest.set(m.conversationID, m);
  }
  return Array.from(newest.values());
}

const oneLine = (text) => String(text == null ? "" : text).replace(/\s+/g, " ").trim();

function cut(text, max = PREVIEW_CHARS) {
  const chars = Array.from(text);
  return chars.length > max ? chars.slice(0, max - 1).join("") + "…" : text;
}

/**
 * The notification's title: the sender's name, and the group's after it in a group
 * ("Alice · Design team"). Plain text: the Notification API shows no markup.
 */
export function notificationTitle(senderName, groupName) {
  const sender = oneLine(senderName) || t("New message");
  const group = oneLine(groupName);
  return group ? `${sender} · ${group}` : sender;
}

/**
 * The notification's body: the text (one line, cut at 120 characters) for a text
 * message, `label(message)` ("[Image]", "[File] report.pdf") for any other;
 * "Mentioned you: " before it when the message @-mentions me in a chat that is muted.
 */
export function notificationBody(message, label, { mentioned = false } = {}) {
  const text = message.type === "TIMTextElem" ? oneLine(message.payload && message.payload.text) : oneLine(label(message));
  const body = cut(text || oneLine(message.messageForShow) || t("New message"));
  return mentioned ? t("Mentioned you: %(text)s", { text: body }) : body;
}

/** "(3) Chat": the page title with the total unread count. */
export function titleWithCount(count, base = "Chat") {
  return count > 0 ? `(${count}) ${base}` : base;
}

/** The app's favicon (templates/base.html) with a red unread badge ("9+" past 9), as SVG text. */
export function faviconSVG(count) {
  const base =
    "<rect width='32' height='32' rx='8' fill='#3a66db'/>" +
    "<path d='M9 11h14M9 16h10M9 21h6' stroke='white' stroke-width='2.6' stroke-linecap='round'/>";
  let badge = "";
  if (count > 0) {
    const text = count > 9 ? "9+" : String(count);
    const size = text.length > 1 ? 12 : 14;
    badge =
      "<circle cx='23' cy='9' r='9' fill='#e5484d' stroke='white' stroke-width='1.5'/>" +
      `<text x='23' y='9' dy='.36em' text-anchor='middle' font-family='Arial,Helvetica,sans-serif' font-weight='700' font-size='${size}' fill='white'>${text}</text>`;
  }
  return `<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'>${base}${badge}</svg>`;
}

/** faviconSVG as a data: URL for <link rel="icon">. */
export const faviconURL = (count) => "data:image/svg+xml," + encodeURIComponent(faviconSVG(count));
