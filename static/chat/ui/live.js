/*
 * Live events from the SDK: messages, read receipts, recalls, the group list, the
 * connection state, being signed out.
 *
 * - A conversation is marked read when a message arrives in it while the tab is
 *   visible and the chat screen is showing; a message that arrives while the tab is
 *   hidden puts the "new messages" divider before it.
 * - After a reconnect the SDK syncs (docs/PROTOCOL.md §8) and hands over what was
 *   missed as the events above, so the histories held here stay whole; a history that
 *   failed to load while offline is loaded again.
 */

import { MARK, hasMark } from "./conversation-lists.js";
import { markReadUpTo, sortHistory, upsertMessage } from "../history.js";
import { peerOf } from "../ids.js";
import { chatIsShowing, findConversation, renderConversationList } from "./conversations.js";
import { $ } from "./dom.js";
import { closeMembersPanel, refreshMembersSoon } from "./members.js";
import { noteMuteTip } from "./mute.js";
import { dropDeleted, isNearBottom, loadOlder, renderMessages, showJump } from "./messages.js";
import { rerenderChatHeader } from "./navigation.js";
import { noteRecalled } from "./reply.js";
import { notifyArrivals } from "./notifications.js";
import { TYPES, chat, state } from "./state.js";
import { takeTypingSignals } from "./typing.js";
import { t } from "../i18n.js";

const isTip = (m) => m.type === "TIMGroupTipElem";

export function onMessageReceived(event) {
  const messages = takeTypingSignals(Array.isArray(event.data) ? event.data : []);
  let addedToCurrent = 0;
  let hiddenArrival = null;
  for (const m of messages) {
    if (!m || !m.conversationID) continue;
    if (isTip(m)) noteMuteTip(m);
    // Only histories that were opened are kept live; the others are fetched when opened.
    const h = state.histories.get(m.conversationID);
    if (!h) continue;
    const isNew = !h.byID.has(m.ID);
    upsertMessage(h, m);
    if (m.conversationID === state.current && isNew && m.flow !== "out") {
      addedToCurrent += 1;
      if (!chatIsShowing(m.conversationID) && !hiddenArrival) hiddenArrival = m;
    }
    if (isTip(m) && peerOf(m.conversationID) === state.members.groupID) refreshMembersSoon();
    if (isTip(m)) state.memberCache.delete(peerOf(m.conversationID));
  }
  for (const h of state.histories.values()) sortHistory(h);
  notifyArrivals(messages);
  const current = state.current && state.histories.get(state.current);
  if (!current || !messages.some((m) => m && m.conversationID === state.current)) return;
  if (hiddenArrival && !current.dividerBeforeID) current.dividerBeforeID = hiddenArrival.ID;
  const atBottom = isNearBottom();
  renderMessages({ scroll: "auto" });
  if (!atBottom && addedToCurrent) showJump(addedToCurrent);
  if (addedToCurrent) markRead(state.current, { force: true });
}

export function onMessageReadByPeer(event) {
  const messages = Array.isArray(event.data) ? event.data : [];
  const upTo = new Map();
  for (const m of messages) {
    if (!m || !m.conversationID) continue;
    upTo.set(m.conversationID, Math.max(upTo.get(m.conversationID) || 0, m.sequence || 0));
    const h = state.histories.get(m.conversationID);
    const known = h && h.byID.get(m.ID);
    if (known) known.isPeerRead = true;
  }
  for (const [conversationID, sequence] of upTo) {
    const h = state.histories.get(conversationID);
    if (h) markReadUpTo(h, sequence);
  }
  if (state.current && upTo.has(state.current)) renderMessages({ scroll: "auto" });
}

export function onMessageRevoked(event) {
  for (const m of event.data || []) {
    const h = state.histories.get(m.conversationID);
    const known = h && h.byID.get(m.ID);
    // tim.js marks the Message objects it handed out; a copy the UI made is marked here.
    if (known && known !== m) Object.assign(known, m);
    if (!known) noteRecalled(m.ID);
  }
  if (state.current) renderMessages({ scroll: "auto" });
}

/** An edit (MESSAGE_MODIFIED): tim.js updates the messages it handed out, as for a recall. */
export const onMessageModified = onMessageRevoked;

/** My own deleteMessage/clearHistoryMessage from another tab or device (tim.js MESSAGE_DELETED). */
export function onMessageDeleted(event) {
  const data = event.data || {};
  dropDeleted(data.conversationID, data);
}

const readCalls = new Map(); // conversationID -> "busy" | "again"

/**
 * setMessageRead for a conversation the user is looking at. force: call even if the
 * list still says 0 unread (a message just arrived). One call at a time per
 * conversation; a request made meanwhile runs once more afterwards, so a message that
 * lands during a call is not left unread.
 */
export function markRead(conversationID, { force = false } = {}) {
  if (!conversationID || !state.ready || !chatIsShowing(conversationID)) return;
  const conv = findConversation(conversationID);
  // Opening a chat also clears its "mark as unread" (the server does it with the read).
  if (!force && !(conv && (conv.unreadCount > 0 || hasMark(conv, MARK.UNREAD)))) return;
  if (readCalls.has(conversationID)) {
    readCalls.set(conversationID, "again");
    return;
  }
  readCalls.set(conversationID, "busy");
  Promise.resolve()
    .then(() => chat.setMessageRead({ conversationID }))
    .catch(() => {})
    .finally(() => {
      const again = readCalls.get(conversationID) === "again";
      readCalls.delete(conversationID);
      if (again) markRead(conversationID, { force: true });
    });
}

export function onVisibilityChange() {
  if (document.visibilityState !== "visible" || !state.current) return;
  renderConversationList();
  markRead(state.current);
}

export function onNetStateChange(event) {
  const s = (event.data && event.data.state) || event.data;
  const bar = $("netbar");
  if (s === TYPES.NET_STATE_CONNECTED) {
    bar.hidden = true;
    if (state.everConnected && state.netState !== TYPES.NET_STATE_CONNECTED) retryFailedHistory();
    state.everConnected = true;
  } else {
    const offline = s === TYPES.NET_STATE_DISCONNECTED;
    bar.hidden = false;
    bar.dataset.state = offline ? "disconnected" : "connecting";
    $("netbar-text").textContent = offline ? t("You're offline. Trying to reconnect…") : state.everConnected ? t("Reconnecting…") : t("Connecting…");
  }
  state.netState = s;
}

/** The open conversation's history failed to load while offline: load it now. */
function retryFailedHistory() {
  const h = state.current && state.histories.get(state.current);
  if (h && h.loadError && !h.loading) loadOlder(state.current);
}

function kickedOutText(type, data) {
  if (type === TYPES.KICKED_OUT_MULT_ACCOUNT && data && data.limit) {
    return t("This account is open in too many tabs or windows (at most %(limit)s). Close some of them, then reload this page.", { limit: data.limit });
  }
  if (type === TYPES.KICKED_OUT_MULT_ACCOUNT || type === TYPES.KICKED_OUT_MULT_DEVICE) return t("Your account signed in somewhere else, so this window was signed out.");
  if (type === TYPES.KICKED_OUT_USERSIG_EXPIRED) return t("You signed out in another window, or your session expired. Sign in again to keep chatting.");
  if (type === "banned") return t("This account has been deactivated. Contact your administrator.");
  if (type === "accountDeleted") return t("This account was deleted.");
  if (type === "passwordChanged") return t("Your password was changed, so every open chat was signed out. Sign in again with the new password.");
  return t("Your session ended. Sign in again to keep chatting.");
}

let kickedOut = false;

/** Whether the server has ended this page's session (the page shows why: KICKED_OUT). */
export function wasKickedOut() {
  return kickedOut;
}

export function onKickedOut(event) {
  kickedOut = true;
  const data = event.data || {};
  if (data.limit) {
    showBlocker(t("Too many open tabs"), kickedOutText(data.type, data), window.location.pathname);
    return;
  }
  showBlocker(t("You've been signed out"), kickedOutText(data.type, data));
}

/** A card over the whole page: the chat can't go on (signed out, the SDK didn't load). */
export function showBlocker(title, text, reload) {
  $("blocker-title").textContent = title;
  $("blocker-text").textContent = text;
  $("blocker").hidden = false;
  if (reload) {
    $("blocker-action").textContent = t("Reload");
    $("blocker-action").setAttribute("href", reload);
  }
}

export function setGroups(list) {
  state.groups = new Map((Array.isArray(list) ? list : []).map((g) => [g.groupID, g]));
  state.groupsLoaded = true;
  rerenderChatHeader();
  if (state.members.groupID && !state.groups.has(state.members.groupID)) closeMembersPanel();
}

export function onGroupListUpdated(event) {
  setGroups(event.data);
}
