/*
 * Opening and leaving a conversation, the chat header, and the URL.
 *
 * - A conversation is marked read when it is opened.
 * - The "new messages" divider sits before the first unread message seen when the
 *   conversation was opened, and stays until you leave the conversation or send.
 * - The open conversation is kept in the URL hash (#C2Cbob), so a reload reopens it;
 *   on a narrow screen "back" returns from the chat screen to the list.
 */

import { countIncoming, placeUnreadDivider } from "../history.js";
import { C2C, GROUP, peerOf } from "../ids.js";
import { closeComposerPops, restoreDraft, saveDraft } from "./composer.js";
import {
  conversationAvatarInfo,
  conversationSubtitle,
  conversationTitle,
  currentConversation,
  findConversation,
  renderConversationList,
  updateBackBadge,
} from "./conversations.js";
import { closeMenus, focusAfterDialog } from "./dialogs.js";
import { $, el, fillAvatar, loadingEdge } from "./dom.js";
import { errorText } from "./errors.js";
import { markRead } from "./live.js";
import { closeMembersPanel, openMembersPanel } from "./members.js";
import { learnSelfMute, muteNoticeFor, onMuteChange } from "./mute.js";
import { fillViewport, historyOf, loadOlder, renderMessages } from "./messages.js";
import { MARK, hasMark, isMuted } from "./conversation-lists.js";
import { showPresence } from "./presence.js";
import { exitSelect, updateSelectBar } from "./select.js";
import { NARROW, chat, state } from "./state.js";
import { isPeerTyping } from "./typing.js";
import { toast } from "./toast.js";
import { cancelRecording } from "./voice.js";
import { t } from "../i18n.js";

/** At most this many pages are loaded on opening to reach the first unread message. */
const MAX_UNREAD_PAGES = 6;

export async function openConversation(conversationID, { fromList = false, focus = false, replaceHistory = false } = {}) {
  if (!conversationID) return;
  closeMenus();
  if (state.current === conversationID) {
    showChatScreen(fromList);
    if (focus) focusAfterDialog($("composer-input")); // Enter on the open conversation's item: to its composer
    return;
  }
  saveDraft();
  leaveConversation();
  state.current = conversationID;
  setHash(conversationID, { push: NARROW.matches && !replaceHistory });
  showChatScreen(false);

  let conv = findConversation(conversationID);
  $("messages").replaceChildren(el("div", { class: "msg-spacer" }), loadingEdge(t("Loading messages…")));
  $("chat-name").textContent = conv ? conversationTitle(conv) : peerOf(conversationID);
  $("chat-sub").textContent = "";
  renderConversationList();
  if (!conv) {
    conv = await fetchConversation(conversationID);
    if (!conv) return;
  }
  renderConversationList();
  renderChatHeader(conv);
  restoreDraft(conversationID);
  if (focus || !NARROW.matches) focusAfterDialog($("composer-input")); // after "Start chat" closes its dialog
  await showHistory(conversationID, conv.unreadCount || 0);
}

/** A conversation the list does not hold (a new chat): asked of the server; null when it can't be opened. */
async function fetchConversation(conversationID) {
  try {
    const res = await chat.getConversationProfile(conversationID);
    if (state.current !== conversationID) return null;
    const conv = res.data.conversation;
    if (!findConversation(conversationID)) state.extraConversations.set(conversationID, conv);
    return conv;
  } catch (error) {
    if (state.current !== conversationID) return null;
    toast(errorText(error, t("That conversation can't be opened.")), { error: true });
    closeConversation();
    return null;
  }
}

/** Load the history back to the first unread message (a few pages at most) so the divider lands right. */
async function showHistory(conversationID, unreadAtOpen) {
  const h = historyOf(conversationID);
  if (!h.loaded) {
    await loadOlder(conversationID, { initial: true });
    if (state.current !== conversationID) return;
  }
  for (let pages = 0; pages < MAX_UNREAD_PAGES && !h.isCompleted && !h.loadError && countIncoming(h) < unreadAtOpen; pages++) {
    await loadOlder(conversationID, { initial: true });
    if (state.current !== conversationID) return;
  }
  const divider = placeUnreadDivider(h, unreadAtOpen);
  h.dividerBeforeID = unreadAtOpen > 0 ? divider.beforeID : null;
  h.unreadAbove = unreadAtOpen > 0 ? divider.above : 0;
  renderMessages({ scroll: h.dividerBeforeID ? "divider" : "bottom" });
  fillViewport(conversationID);
  markRead(conversationID);
}

function leaveConversation() {
  if (!state.current) return;
  exitSelect();
  closeComposerPops();
  cancelRecording();
  const h = state.histories.get(state.current);
  if (h) {
    h.dividerBeforeID = null;
    h.unreadAbove = 0;
  }
  state.jumpCount = 0;
  closeMembersPanel();
}

/** Back to the list (on a narrow screen) without touching the URL. */
function showList() {
  saveDraft();
  leaveConversation();
  state.current = null;
  $("app").dataset.view = "list";
}

export function closeConversation() {
  showList();
  $("chat").hidden = true;
  $("pane-placeholder").hidden = false;
  setHash(null, { push: false });
  renderConversationList();
  updateBackBadge();
}

export function goBack() {
  if (window.history.state && window.history.state.pushed && NARROW.matches) {
    window.history.back();
    return;
  }
  showList();
  setHash(null, { push: false });
  renderConversationList();
}

function showChatScreen(fromList) {
  $("pane-placeholder").hidden = true;
  $("chat").hidden = false;
  const wasList = $("app").dataset.view !== "chat";
  $("app").dataset.view = "chat";
  if (fromList && wasList && state.current) markRead(state.current);
}

function setHash(conversationID, { push }) {
  const hash = conversationID ? "#" + encodeURIComponent(conversationID) : "";
  if (window.location.hash === hash || (!hash && !window.location.hash)) return;
  const url = window.location.pathname + window.location.search + hash;
  // `pushed` marks an entry whose "back" is the conversation list of this page.
  if (push) window.history.pushState({ conversationID, pushed: true }, "", url);
  else window.history.replaceState({ conversationID, pushed: Boolean(window.history.state && window.history.state.pushed) }, "", url);
}

function conversationFromHash() {
  const raw = window.location.hash.slice(1);
  if (!raw) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** Follow the URL: open the conversation it names, or go back to the list. */
export function routeFromHash() {
  const wanted = conversationFromHash();
  if (wanted && wanted !== state.current) openConversation(wanted, { replaceHistory: true });
  else if (!wanted && state.current) {
    if (NARROW.matches) {
      showList();
      renderConversationList();
    } else closeConversation();
  }
}

export function renderChatHeader(conv) {
  if (!conv) return;
  const group = conv.type === GROUP;
  fillAvatar($("chat-avatar"), conversationAvatarInfo(conv));
  $("chat-name").textContent = conversationTitle(conv);
  const typing = isPeerTyping(conv.conversationID);
  $("chat-sub").textContent = typing ? "typing…" : conversationSubtitle(conv);
  $("chat-sub").classList.toggle("is-typing", typing);
  $("members-btn").hidden = !group;
  $("chat-title").disabled = conv.type !== GROUP && conv.type !== C2C;
  $("chat-title").title = group ? t("Group info") : conv.type === C2C ? t("Profile") : "";
  const menu = (action) => document.querySelector(`#more-menu [data-action="${action}"]`);
  menu("pin").textContent = conv.isPinned ? t("Unpin") : t("Pin to top");
  // The user's own settings of a conversation they have (a new chat has no row yet: 2500).
  const held = state.conversations.some((c) => c.conversationID === conv.conversationID);
  for (const action of ["mark-unread", "star", "fold", "conversation-lists"]) menu(action).hidden = !held;
  menu("mute-notifications").hidden = !held || (conv.type !== GROUP && conv.type !== C2C);
  menu("star").textContent = hasMark(conv, MARK.STAR) ? t("Unstar") : t("Star");
  menu("fold").textContent = hasMark(conv, MARK.FOLD) ? t("Unfold") : t("Fold");
  menu("mute-notifications").textContent = isMuted(conv) ? t("Unmute notifications") : t("Mute notifications");
  menu("members").hidden = !group;
  menu("delete").hidden = !state.conversations.some((c) => c.conversationID === conv.conversationID);
  // System notices cannot be deleted (2116).
  menu("clear-history").hidden = conv.type !== GROUP && conv.type !== C2C;
  updateComposerAvailability(conv);
  showPresence(conv);
}

export function rerenderChatHeader() {
  const conv = currentConversation();
  if (conv) renderChatHeader(conv);
}

function updateComposerAvailability(conv) {
  let notice = "";
  const groupID = conv.type === GROUP ? peerOf(conv.conversationID) : null;
  if (groupID && state.groupsLoaded && !state.groups.has(groupID)) {
    notice = t("You're no longer a member of this group.");
    confirmMembership(groupID);
  } else if (conv.type !== GROUP && conv.type !== C2C) {
    notice = t("This conversation is read-only.");
  } else if (groupID) {
    notice = muteNoticeFor(groupID);
    learnSelfMute(groupID);
  }
  $("composer-notice").textContent = notice;
  $("composer-notice").hidden = !notice;
  $("composer-input").disabled = Boolean(notice);
  if (notice) exitSelect();
  updateSelectBar();
}

const membershipChecks = new Set();

/** The group list may lag behind a conversation we were just added to: ask the group itself once. */
function confirmMembership(groupID) {
  if (membershipChecks.has(groupID)) return;
  membershipChecks.add(groupID);
  chat
    .getGroupProfile({ groupID })
    .then((res) => {
      const group = res.data && res.data.group;
      if (group && group.selfInfo && group.selfInfo.role && !state.groups.has(groupID)) {
        state.groups.set(groupID, group);
        rerenderChatHeader();
      }
    })
    .catch(() => {})
    .finally(() => membershipChecks.delete(groupID));
}

export function wireChatHeader() {
  onMuteChange(rerenderChatHeader);
  $("back-btn").addEventListener("click", goBack);
  $("chat-title").addEventListener("click", () => {
    const conv = currentConversation();
    if (conv && conv.type === GROUP) openMembersPanel();
  });
}
