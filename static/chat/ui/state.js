/*
 * What the UI knows, in one object, and the SDK instance it talks to.
 *
 * - The conversation list is whatever CONVERSATION_LIST_UPDATED last said (the SDK
 *   sends the full sorted list). A chat opened with "New chat" that has no messages
 *   yet lives in `state.extraConversations` until the server lists it.
 * - Message histories (static/chat/history.js) are cached per conversation once opened.
 * - The server's rules (limits, tip wording) are read from the SDK, which keeps what
 *   the server said in its hello frame: the UI has no copies of its own.
 */

export const state = {
  me: { userID: window.CHAT_USER_ID || "", nick: "", avatar: "" },
  ready: false,
  netState: null,
  everConnected: false,
  conversations: [],
  conversationsLoaded: false,
  extraConversations: new Map(),
  groups: new Map(),
  groupsLoaded: false,
  current: null,
  histories: new Map(),
  drafts: new Map(), // conversationID -> the composer's text not yet saved on the server (setConversationDraft)
  filter: "",
  listTab: "all", // the conversation list's tab: all, unread, starred, folded, or "list:<name>" (a conversation group)
  conversationGroups: [], // the names of the user's conversation groups (getConversationGroupList)
  totalUnread: 0,
  members: { groupID: null, list: [], offset: 0, profile: null, loading: false },
  jumpCount: 0,
  names: new Map(), // userID -> the name the UI last saw for them (nick, or a group name card)
  memberCache: new Map(), // groupID -> {list, at}: members for @-mentions
  mentions: new Map(), // conversationID -> [{userID, label}] picked in the composer
  select: { active: false, ids: new Set() },
  editing: null, // the Message whose text is in the composer to be edited (ui/editing.js), or null
  recalledTexts: new Map(), // message ID -> the text this tab recalled (for "Re-edit"; never from the server)
  assetsVersion: 0,
};

/** Two screens (list | chat) instead of two panes. */
export const NARROW = window.matchMedia("(max-width: 720px)");

/** The logged-in SDK instance (static/chat/tim.js), and its TYPES and EVENT. */
export let chat = null;
export let TYPES = {};
export let EVENT = {};

export function useSDK(SDK, instance) {
  TYPES = SDK.TYPES || {};
  EVENT = SDK.EVENT || {};
  chat = instance;
}

/** hello.rules: {limits, groupTips, atAll}; null before the first hello. */
export function serverRules() {
  return chat && typeof chat.getServerRules === "function" ? chat.getServerRules() : null;
}

/** hello.rules.limits ({} before the first hello: no limit is checked in the browser then). */
export function limits() {
  const rules = serverRules();
  return (rules && rules.limits) || {};
}

/** The user ID that means "everyone" in an atUserList. */
export function atAllID() {
  const rules = serverRules();
  return (rules && rules.atAll) || TYPES.MSG_AT_ALL;
}

/** hello.rules.revoke: {template, window}; null before the first hello. */
export function modifyRules() {
  const rules = serverRules();
  return (rules && rules.modify) || null;
}

export function revokeRules() {
  const rules = serverRules();
  return (rules && rules.revoke) || null;
}

/** A NET_STATE_CHANGE handler that calls onBack() when the socket is up again after a drop:
 * what was pushed meanwhile is lost (sync carries messages, not counts), so it is asked again. */
export function onReconnected(onBack) {
  let connected = null;
  return (event) => {
    const now = ((event.data && event.data.state) || event.data) === TYPES.NET_STATE_CONNECTED;
    if (now && connected === false) onBack();
    connected = now;
  };
}

export const isMe = (userID) => Boolean(userID) && userID === state.me.userID;
