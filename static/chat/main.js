/*
 * The chat UI's entry point (<script type="module">, after the classic script
 * static/chat/tim.js). It logs in with the page's SDK instance, which it also puts on
 * window as `chat` and `tim` so the SDK docs' examples run unchanged in the console,
 * wires the page, and routes the SDK's events to the UI modules (static/chat/ui/).
 *
 * The UI talks only to the SDK, never to the WebSocket. The modules at the top of
 * static/chat/ (ids, rules, text, format, history, errors) are pure and tested with
 * node --test (tests/js/); the ones in ui/ draw and wire the page.
 */

import { loadAssets } from "./ui/assets.js";
import { closeComposerPops, wireComposer } from "./ui/composer.js";
import { endEdit, wireEditing } from "./ui/editing.js";
import { listenToContacts, loadContacts, wireContacts } from "./ui/contacts.js";
import {
  clearCurrentHistory,
  deleteCurrentConversation,
  markCurrentUnread,
  openCurrentLists,
  toggleCurrentFold,
  toggleCurrentMuted,
  toggleCurrentStar,
  togglePin,
} from "./ui/conversation-menu.js";
import { setConversationGroups, wireListsDialog } from "./ui/conversation-lists.js";
import { findConversation, renderConversationList, setConversations, updateTitle, wireConversationList } from "./ui/conversations.js";
import { closeMenus, isMenuOpen, toggleMenu, wireConfirmDialog, wireMenuKeys } from "./ui/dialogs.js";
import { $, fillAvatar } from "./ui/dom.js";
import { errorText } from "./ui/errors.js";
import { wireForwardDialog } from "./ui/forward.js";
import { wireLightbox } from "./ui/lightbox.js";
import {
  markRead,
  onGroupListUpdated,
  onKickedOut,
  onMessageDeleted,
  onMessageReadByPeer,
  onMessageReceived,
  onMessageModified,
  onMessageRevoked,
  onNetStateChange,
  onVisibilityChange,
  setGroups,
  showBlocker,
  wasKickedOut,
} from "./ui/live.js";
import { wireLocation } from "./ui/location.js";
import { isMentionListOpen } from "./ui/mention-list.js";
import { wireMessageMenu } from "./ui/message-menu.js";
import { closeMembersPanel, isMembersPanelOpen, openMembersPanel, wireMembersPanel } from "./ui/members.js";
import { wireMerger } from "./ui/merger.js";
import { wireMessageSearch } from "./ui/message-search.js";
import { renderMessages, wireMessagesPane } from "./ui/messages.js";
import { goBack, openConversation, renderChatHeader, routeFromHash, wireChatHeader } from "./ui/navigation.js";
import { openJoinGroupDialog, openNewChatDialog, openNewGroupDialog, wireNewConversationDialogs } from "./ui/new-conversation.js";
import { wireNotifications } from "./ui/notifications.js";
import { isPickerOpen, renderPicker, wirePicker } from "./ui/picker.js";
import { listenToPresence, wirePresence } from "./ui/presence.js";
import { onProfileUpdated, openBrowseGroups, openSettings, wireProfiles } from "./ui/profiles.js";
import { onReactionsNetState, onReactionsUpdated, wireReactions } from "./ui/reactions.js";
import { onReadReceiptReceived, onReceiptsNetState, wireReceipts } from "./ui/receipts.js";
import { wireReportDialog } from "./ui/report.js";
import { wireRequests } from "./ui/requests.js";
import { exitSelect, wireSelect } from "./ui/select.js";
import { EVENT, NARROW, TYPES, chat, state, useSDK } from "./ui/state.js";
import { toast } from "./ui/toast.js";
import { wireAttachments } from "./ui/uploads.js";
import { isRecording, stopRecording, wireVoice } from "./ui/voice.js";
import { t } from "./i18n.js";

/** Menu items and buttons with data-action="…". */
const ACTIONS = {
  "new-chat": openNewChatDialog,
  "new-group": openNewGroupDialog,
  "join-group": openJoinGroupDialog,
  pin: togglePin,
  "mark-unread": markCurrentUnread,
  star: toggleCurrentStar,
  fold: toggleCurrentFold,
  "mute-notifications": toggleCurrentMuted,
  "conversation-lists": openCurrentLists,
  delete: deleteCurrentConversation,
  "clear-history": clearCurrentHistory,
  members: openMembersPanel,
  settings: openSettings,
  "browse-groups": openBrowseGroups,
};

function renderMe() {
  const me = state.me;
  fillAvatar($("me-avatar"), { id: me.userID, name: me.nick || me.userID, url: me.avatar });
  $("me-name").textContent = me.nick || me.userID;
  $("me-menu-label").textContent = `Signed in as @${me.userID}`;
}

async function onReady() {
  state.ready = true;
  // Ready again after the SDK started over (it could not sync: docs/PROTOCOL.md §8): the
  // histories held may miss anything, so they go, and the open chat loads again.
  const reopen = state.readyBefore && state.current;
  if (state.readyBefore) state.histories.clear();
  state.readyBefore = true;
  try {
    const [convRes, groupRes] = await Promise.all([chat.getConversationList(), chat.getGroupList()]);
    setGroups(groupRes.data.groupList);
    setConversations(convRes.data.conversationList);
  } catch (error) {
    state.conversationsLoaded = true;
    renderConversationList();
    toast(errorText(error, t("Your conversations couldn't be loaded.")), { error: true });
  }
  chat
    .getConversationGroupList()
    .then((res) => setConversationGroups(res.data, renderConversationList))
    .catch(() => {});
  chat
    .getMyProfile()
    .then((res) => {
      if (res && res.data) Object.assign(state.me, res.data);
      renderMe();
    })
    .catch(() => {});
  loadContacts().catch(() => {});
  const total = Number(chat.getTotalUnreadMessageCount());
  if (!Number.isNaN(total)) {
    state.totalUnread = total;
    updateTitle();
  }
  if (reopen) {
    state.current = null;
    openConversation(reopen, { replaceHistory: true });
  } else if (!state.current) routeFromHash();
  else {
    const conv = findConversation(state.current);
    if (conv) renderChatHeader(conv);
    markRead(state.current, { force: true });
  }
}

/** Esc closes the innermost thing that is open (a <dialog> closes itself). */
function onEscape() {
  if (document.querySelector("dialog[open]")) return;
  if (isMenuOpen()) closeMenus();
  else if (isPickerOpen() || isMentionListOpen()) {
    closeComposerPops();
    $("composer-input").focus();
  } else if (isRecording()) stopRecording(false);
  else if (state.editing) {
    endEdit();
    $("composer-input").focus();
  } else if (state.select.active) exitSelect();
  else if (isMembersPanelOpen()) closeMembersPanel();
  else if (NARROW.matches && $("app").dataset.view === "chat") goBack();
}

function wireMenus() {
  for (const [buttonID, menuID] of [
    ["me-btn", "me-menu"],
    ["new-btn", "new-menu"],
    ["more-btn", "more-menu"],
  ]) {
    $(buttonID).addEventListener("click", (e) => {
      e.stopPropagation();
      toggleMenu($(buttonID), $(menuID));
    });
  }
  document.addEventListener("click", (e) => {
    if (!e.target.closest(".menu")) closeMenus();
    const action = e.target.closest("[data-action]");
    if (action && Object.hasOwn(ACTIONS, action.dataset.action)) ACTIONS[action.dataset.action]();
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") onEscape();
  });
  wireMenuKeys();
}

function wirePage() {
  document.addEventListener("visibilitychange", onVisibilityChange);
  window.addEventListener("focus", onVisibilityChange);
  window.addEventListener("popstate", routeFromHash);
  NARROW.addEventListener("change", () => {
    if (!NARROW.matches && state.current) $("app").dataset.view = "chat";
  });
}

function wireUI() {
  wireMenus();
  wireConversationList();
  wireMessageSearch();
  wireChatHeader();
  wireMembersPanel();
  wireMessagesPane();
  wireComposer();
  wireListsDialog();
  wireEditing();
  wireAttachments();
  wirePicker();
  wireVoice();
  wireMessageMenu();
  wireSelect();
  wireLightbox();
  wireMerger();
  wireForwardDialog();
  wireLocation();
  wireReportDialog();
  wireNewConversationDialogs();
  wireConfirmDialog();
  wireProfiles({ onMe: renderMe });
  wireContacts();
  wireReceipts((conversationID) => {
    if (conversationID === state.current) renderMessages({ scroll: "auto" });
  });
  wireReactions((conversationID) => {
    if (conversationID === state.current) renderMessages({ scroll: "auto" });
  });
  wirePage();
  wirePresence();
  wireNotifications();
}

async function showAssets() {
  await loadAssets();
  renderPicker();
  if (state.current) renderMessages({ scroll: "auto" });
  if (state.conversationsLoaded) renderConversationList();
}

function listenToSDK() {
  chat.on(EVENT.SDK_READY, onReady);
  chat.on(EVENT.SDK_NOT_READY, () => {
    state.ready = false;
  });
  chat.on(EVENT.MESSAGE_RECEIVED, onMessageReceived);
  chat.on(EVENT.MESSAGE_READ_BY_PEER, onMessageReadByPeer);
  chat.on(EVENT.MESSAGE_REVOKED, onMessageRevoked);
  chat.on(EVENT.MESSAGE_MODIFIED, onMessageModified);
  chat.on(EVENT.MESSAGE_DELETED, onMessageDeleted);
  chat.on(EVENT.MESSAGE_READ_RECEIPT_RECEIVED, onReadReceiptReceived);
  chat.on(EVENT.NET_STATE_CHANGE, onReceiptsNetState);
  chat.on(EVENT.MESSAGE_REACTIONS_UPDATED, onReactionsUpdated);
  chat.on(EVENT.NET_STATE_CHANGE, onReactionsNetState);
  chat.on(EVENT.CONVERSATION_LIST_UPDATED, (event) => setConversations(event.data));
  chat.on(EVENT.CONVERSATION_GROUP_LIST_UPDATED, (event) => setConversationGroups(event.data, renderConversationList));
  chat.on(EVENT.TOTAL_UNREAD_MESSAGE_COUNT_UPDATED, (event) => {
    state.totalUnread = Number(event.data) || 0;
    updateTitle();
  });
  chat.on(EVENT.GROUP_LIST_UPDATED, onGroupListUpdated);
  chat.on(EVENT.PROFILE_UPDATED, onProfileUpdated);
  chat.on(EVENT.NET_STATE_CHANGE, onNetStateChange);
  chat.on(EVENT.KICKED_OUT, onKickedOut);
  listenToContacts();
  chat.on(EVENT.ERROR, (event) => toast(errorText(event.data || {}, t("Something went wrong with the connection.")), { error: true }));
  listenToPresence();
  wireRequests(); // join requests: its button, dialog and the SDK events it follows
}

function start() {
  wireUI();
  showAssets().catch(() => {});
  state.me.userID = window.CHAT_USER_ID || "";
  renderMe();
  renderConversationList();
  const SDK = window.TIM || window.TencentCloudChat;
  if (!SDK) {
    showBlocker(t("Chat couldn't start"), t("The chat library didn't load. Check your connection and reload the page."), window.location.pathname);
    return;
  }
  useSDK(SDK, SDK.create({ SDKAppID: 0 }));
  // The SDK docs' examples use `chat` (v3) or `tim` (v2): both work in the console.
  window.chat = window.tim = chat;
  listenToSDK();

  // Show "Connecting…" only if it takes a moment, so a fast start doesn't flash the bar.
  setTimeout(() => {
    if (!state.ready && !state.netState) onNetStateChange({ data: { state: TYPES.NET_STATE_CONNECTING } });
  }, 800);

  chat.login({ userID: window.CHAT_USER_ID }).catch((error) => {
    if (wasKickedOut()) return; // the KICKED_OUT screen already says why (e.g. too many tabs)
    const text = errorText(error, t("The chat server refused the connection.")) + " " + t("Reload the page to try again.");
    showBlocker(t("Couldn't sign in to chat"), text, window.location.pathname + window.location.hash);
  });
}

start();
