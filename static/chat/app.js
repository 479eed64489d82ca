/*
 * The chat UI. It talks only to the SDK object (static/chat/tim.js, global TIM),
 * never to the WebSocket. DOM is built with createElement/textContent: user data
 * never goes through innerHTML.
 *
 * Decisions written down here:
 * - The conversation list is whatever CONVERSATION_LIST_UPDATED last said (the
 *   SDK sends the full sorted list). A chat opened with "New chat" that has no
 *   messages yet lives in `state.extraConversations` until the server lists it.
 * - Message history is cached per conversation once opened; live messages are
 *   merged only into cached histories (others are fetched when opened). After a
 *   reconnect the caches are dropped and the open conversation is refetched, so
 *   nothing the SDK replayed while we were away can be missing.
 * - A conversation is marked read when it is opened, and when a message arrives
 *   in it while the tab is visible and the chat screen is showing.
 * - The "new messages" divider sits before the first unread message seen when
 *   the conversation was opened (or the first that arrived while the tab was
 *   hidden) and stays until you leave the conversation or send.
 * - The open conversation is kept in the URL hash (#C2Cbob), so a reload
 *   reopens it.
 */
(function () {
  "use strict";

  const MAX_TEXT_BYTES = 12 * 1024;
  const PAGE_SIZE = 15;
  const MAX_UNREAD_PAGES = 6;
  const GROUP_RUN_SECONDS = 5 * 60;
  const NARROW = window.matchMedia("(max-width: 720px)");

  const ERROR_TEXT = {
    2024: "You're not signed in any more. Reload the page to sign in again.",
    2100: "The message couldn't be sent. Check your connection, then retry.",
    2106: "You can't send messages to this conversation.",
    2500: "That conversation doesn't exist.",
    2503: "That conversation doesn't exist.",
    2251: "Choose an image to send.",
    2252: "That image format isn't supported. Send JPG, PNG, GIF, BMP or WebP.",
    2253: "Images can be up to 20 MB. Send it as a file instead.",
    2300: "The voice message couldn't be uploaded.",
    2301: "Voice messages can be up to 20 MB.",
    2350: "The video couldn't be uploaded.",
    2351: "Videos can be up to 100 MB.",
    2352: "Only MP4 videos can be played here. Send it as a file instead.",
    2400: "The file couldn't be uploaded.",
    2401: "Choose a file to send.",
    2402: "Files can be up to 100 MB.",
    2600: "Choose a group type.",
    2601: "Work groups are invite-only: ask a member to add you.",
    2602: "That isn't a valid group ID.",
    2603: "There's no group with that ID.",
    2623: "You're not a member of this group.",
    10004: "Something in the request wasn't valid.",
    10030: "That message no longer exists.",
    10031: "The time to recall this message has passed.",
    20016: "The time to recall this message has passed.",
    10007: "You don't have permission to do that here (or you're not a member of this group).",
    10009: "The owner can't leave this group.",
    10010: "There's no group with that ID, or it was dismissed.",
    10013: "You're already a member of this group.",
    10014: "This group is full.",
    10015: "There's no group with that ID.",
    10017: "You're muted in this group.",
    10019: "There's no user with that ID.",
    10021: "That group ID is already taken. Choose another one.",
    20003: "There's no user with that ID.",
    20009: "You can only message your friends.",
    20012: "You're muted and can't send messages right now.",
    80001: "The message contains words that aren't allowed.",
    80002: "That message is too long: the limit is 12 KB.",
  };

  const GROUP_TYPE_LABEL = { Private: "Work group", Public: "Public group", ChatRoom: "Meeting group", AVChatRoom: "Live group", Community: "Community" };

  // ---------------------------------------------------------------------------------
  // Small DOM helpers
  // ---------------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);

  /** el("div", {class: "x", text: "y", dataset: {...}, onclick}, ...children). Strings become text nodes. */
  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value == null || value === false) continue;
        if (key === "class") node.className = value;
        else if (key === "text") node.textContent = value;
        else if (key === "dataset") Object.assign(node.dataset, value);
        else if (key === "style") node.setAttribute("style", value);
        else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
        else node.setAttribute(key, value === true ? "" : String(value));
      }
    }
    for (const child of children.flat()) {
      if (child == null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const SVG_NS = "http://www.w3.org/2000/svg";
  const ICONS = {
    check: [["path", { d: "M5 12.5l4.2 4L19 7", fill: "none", stroke: "currentColor", "stroke-width": "1.9", "stroke-linecap": "round", "stroke-linejoin": "round" }]],
    checks: [
      ["path", { d: "M2.5 12.5l4.2 4L16.5 7", fill: "none", stroke: "currentColor", "stroke-width": "1.8", "stroke-linecap": "round", "stroke-linejoin": "round" }],
      ["path", { d: "M11.5 15.8l.9.7L22 7", fill: "none", stroke: "currentColor", "stroke-width": "1.8", "stroke-linecap": "round", "stroke-linejoin": "round" }],
    ],
    clock: [
      ["circle", { cx: "12", cy: "12", r: "7.5", fill: "none", stroke: "currentColor", "stroke-width": "1.7" }],
      ["path", { d: "M12 8v4.3l2.6 1.6", fill: "none", stroke: "currentColor", "stroke-width": "1.7", "stroke-linecap": "round" }],
    ],
    alert: [
      ["circle", { cx: "12", cy: "12", r: "9", fill: "currentColor" }],
      ["path", { d: "M12 7.5v5.5M12 16.2v.3", stroke: "#fff", "stroke-width": "2.2", "stroke-linecap": "round" }],
    ],
    retry: [["path", { d: "M4.5 12a7.5 7.5 0 1 0 2.3-5.4M4.5 4.5v4h4", fill: "none", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round" }]],
    close: [["path", { d: "M6 6l12 12M18 6L6 18", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round" }]],
    pin: [["path", { d: "M9 4h6l-1 5 3 3v2H7v-2l3-3-1-5zM12 14v6", fill: "none", stroke: "currentColor", "stroke-width": "1.7", "stroke-linejoin": "round", "stroke-linecap": "round" }]],
    people: [["path", { d: "M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zM2.5 20a6.5 6.5 0 0 1 13 0M16 4.3a3.5 3.5 0 0 1 0 6.4M18 14.2a6.5 6.5 0 0 1 3.5 5.8", fill: "none", stroke: "currentColor", "stroke-width": "1.9", "stroke-linecap": "round" }]],
  };

  function icon(name, className) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    if (className) svg.setAttribute("class", className);
    for (const [tag, attrs] of ICONS[name]) {
      const shape = document.createElementNS(SVG_NS, tag);
      for (const [k, v] of Object.entries(attrs)) shape.setAttribute(k, v);
      svg.append(shape);
    }
    return svg;
  }

  function hueFor(id) {
    let h = 0;
    for (const ch of String(id || "")) h = (h * 31 + ch.codePointAt(0)) >>> 0;
    return [211, 262, 338, 14, 32, 152, 188, 232, 290, 96][h % 10];
  }

  function initials(name) {
    const words = String(name || "?").trim().split(/[\s._-]+/).filter(Boolean);
    if (!words.length) return "?";
    const first = Array.from(words[0])[0] || "?";
    const second = words.length > 1 ? Array.from(words[words.length - 1])[0] : "";
    return (first + second).toUpperCase();
  }

  /** An http(s) URL (or a local blob: preview), never javascript: or data:. */
  function safeUrl(url) {
    if (typeof url !== "string" || !url) return null;
    try {
      const parsed = new URL(url, window.location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" || parsed.protocol === "blob:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }
  const safeImageUrl = safeUrl;

  /** Fill (or create) an avatar: the picture if there is one, otherwise initials on a colour from the ID. */
  function fillAvatar(node, { id, name, url, group }) {
    node.replaceChildren();
    node.classList.toggle("is-group", Boolean(group));
    node.style.setProperty("--avatar-hue", hueFor(id));
    node.append(el("span", { text: initials(name || id) }));
    const src = safeImageUrl(url);
    if (src) {
      const img = el("img", { alt: "", loading: "lazy", decoding: "async" });
      img.addEventListener("error", () => img.remove());
      img.src = src;
      node.append(img);
    }
    return node;
  }

  function avatar(size, info) {
    return fillAvatar(el("span", { class: "avatar avatar-" + size, "aria-hidden": "true" }), info);
  }

  // ---------------------------------------------------------------------------------
  // Time and text
  // ---------------------------------------------------------------------------------

  const fmtTime = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
  const fmtWeekday = new Intl.DateTimeFormat(undefined, { weekday: "long" });
  const fmtWeekdayShort = new Intl.DateTimeFormat(undefined, { weekday: "short" });
  const fmtDayMonth = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long" });
  const fmtDayMonthShort = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
  const fmtFull = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "long", year: "numeric" });
  const fmtFullShort = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", year: "2-digit" });
  const fmtTooltip = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "short" });

  const toDate = (seconds) => new Date((seconds || 0) * 1000);
  const startOfDay = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  const daysAgo = (d) => Math.round((startOfDay(new Date()) - startOfDay(d)) / 86400000);

  function dayLabel(seconds) {
    const d = toDate(seconds);
    const ago = daysAgo(d);
    if (ago === 0) return "Today";
    if (ago === 1) return "Yesterday";
    if (ago > 1 && ago < 7) return fmtWeekday.format(d);
    return d.getFullYear() === new Date().getFullYear() ? fmtDayMonth.format(d) : fmtFull.format(d);
  }

  function listTime(seconds) {
    if (!seconds) return "";
    const d = toDate(seconds);
    const ago = daysAgo(d);
    if (ago <= 0) return fmtTime.format(d);
    if (ago === 1) return "Yesterday";
    if (ago < 7) return fmtWeekdayShort.format(d);
    return d.getFullYear() === new Date().getFullYear() ? fmtDayMonthShort.format(d) : fmtFullShort.format(d);
  }

  const byteLength = (text) => new TextEncoder().encode(text).length;

  function errorText(error, fallback) {
    if (!error) return fallback || "Something went wrong.";
    const known = ERROR_TEXT[error.code];
    if (known) return known;
    if (error.message && typeof error.message === "string") {
      const text = error.message.charAt(0).toUpperCase() + error.message.slice(1);
      return /[.!?]$/.test(text) ? text : text + ".";
    }
    return (fallback || "Something went wrong.") + (error.code ? ` (error ${error.code})` : "");
  }

  // ---------------------------------------------------------------------------------
  // State
  // ---------------------------------------------------------------------------------

  const state = {
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
    drafts: new Map(),
    filter: "",
    totalUnread: 0,
    members: { groupID: null, list: [], offset: 0, profile: null, loading: false },
    jumpCount: 0,
  };

  let chat = null;
  let TYPES = {};
  let EVENT = {};

  // ---------------------------------------------------------------------------------
  // Conversations
  // ---------------------------------------------------------------------------------

  function peerOf(conversationID) {
    if (conversationID.startsWith("C2C")) return conversationID.slice(3);
    if (conversationID.startsWith("GROUP")) return conversationID.slice(5);
    return conversationID;
  }

  const isGroupID = (conversationID) => conversationID.startsWith("GROUP");

  function findConversation(conversationID) {
    return state.conversations.find((c) => c.conversationID === conversationID) || state.extraConversations.get(conversationID) || null;
  }

  function conversationTitle(conv) {
    if (!conv) return "";
    if (conv.type === "GROUP") return (conv.groupProfile && (conv.groupProfile.name || conv.groupProfile.groupID)) || peerOf(conv.conversationID);
    if (conv.type === "C2C") return (conv.userProfile && (conv.userProfile.nick || conv.userProfile.userID)) || peerOf(conv.conversationID);
    return "System notifications";
  }

  function conversationAvatarInfo(conv) {
    const group = conv.type === "GROUP";
    const profile = group ? conv.groupProfile || {} : conv.userProfile || {};
    return { id: peerOf(conv.conversationID), name: conversationTitle(conv), url: profile.avatar || profile.faceURL, group };
  }

  function groupOf(conv) {
    if (!conv || conv.type !== "GROUP") return null;
    return state.groups.get(peerOf(conv.conversationID)) || conv.groupProfile || null;
  }

  function conversationSubtitle(conv) {
    if (conv.type === "GROUP") {
      const group = groupOf(conv) || {};
      const parts = [GROUP_TYPE_LABEL[group.type || conv.subType] || "Group"];
      if (group.memberCount) parts.push(group.memberCount === 1 ? "1 member" : `${group.memberCount} members`);
      return parts.join(" · ");
    }
    if (conv.type === "C2C") return "@" + peerOf(conv.conversationID);
    return "";
  }

  function chatIsShowing(conversationID) {
    return state.current === conversationID && document.visibilityState === "visible" && !(NARROW.matches && $("app").dataset.view !== "chat");
  }

  function previewNodes(conv) {
    const nodes = [];
    const draft = state.current !== conv.conversationID && state.drafts.get(conv.conversationID);
    if (draft) {
      nodes.push(el("span", { class: "draft", text: "Draft: " }), draft.replace(/\s+/g, " "));
      return nodes;
    }
    const last = conv.lastMessage || {};
    if (!last.messageForShow && !last.lastTime) {
      nodes.push("No messages yet");
      return nodes;
    }
    if (last.isRevoked) {
      nodes.push(last.fromAccount === state.me.userID ? "You recalled a message" : "A message was recalled");
      return nodes;
    }
    const mine = last.fromAccount === state.me.userID;
    const isTip = last.type === "TIMGroupTipElem";
    if (conv.type === "C2C" && mine) {
      const read = Boolean(last.isPeerRead);
      nodes.push(icon(read ? "checks" : "check", "tick" + (read ? " is-read" : "")));
    } else if (conv.type === "GROUP" && !isTip && last.fromAccount) {
      nodes.push(el("span", { class: "who", text: (mine ? "You" : last.nick || last.fromAccount) + ": " }));
    }
    nodes.push(String(last.messageForShow || "").replace(/\s+/g, " "));
    return nodes;
  }

  function renderConversationList() {
    const list = $("conv-list");
    const filter = state.filter.trim().toLowerCase();
    const all = state.conversations.slice();
    // A chat just started from "New chat" shows at the top while it is open.
    for (const [id, conv] of state.extraConversations) if (id === state.current && !all.some((c) => c.conversationID === id)) all.unshift(conv);
    const shown = filter
      ? all.filter((c) => conversationTitle(c).toLowerCase().includes(filter) || peerOf(c.conversationID).toLowerCase().includes(filter))
      : all;

    const items = shown.map((conv) => {
      const id = conv.conversationID;
      const selected = id === state.current;
      const unread = selected && chatIsShowing(id) ? 0 : conv.unreadCount || 0;
      const last = conv.lastMessage || {};
      const trailing = [];
      if (unread > 0) trailing.push(el("span", { class: "badge", "data-testid": "unread-badge", "aria-label": `${unread} unread`, text: unread > 99 ? "99+" : String(unread) }));
      else if (conv.isPinned) trailing.push(icon("pin", "pin-mark"));
      return el(
        "li",
        {
          class: "conv" + (unread > 0 ? " has-unread" : ""),
          role: "option",
          tabindex: "0",
          "aria-selected": selected ? "true" : "false",
          "data-testid": "conversation-item",
          "data-conversation-id": id,
          onclick: () => openConversation(id, { fromList: true }),
          onkeydown: (e) => {
            if (e.key === "Enter" || e.key === " ") {
              e.preventDefault();
              openConversation(id, { fromList: true, focus: true });
            }
          },
        },
        avatar("lg", conversationAvatarInfo(conv)),
        el(
          "div",
          { class: "conv-main" },
          el(
            "div",
            { class: "conv-row" },
            conv.type === "GROUP" ? icon("people", "conv-kind") : null,
            el("span", { class: "conv-name", "data-testid": "conversation-name", text: conversationTitle(conv) }),
            el("span", { class: "conv-time", text: listTime(last.lastTime) }),
          ),
          el("div", { class: "conv-row" }, el("span", { class: "conv-preview", "data-testid": "conversation-preview" }, previewNodes(conv)), trailing),
        ),
      );
    });
    list.replaceChildren(...items);

    const booting = !state.conversationsLoaded;
    $("app").classList.toggle("is-booting", booting);
    $("conv-empty").hidden = booting || all.length > 0;
    const none = !booting && all.length === 0;
    $("placeholder-title").textContent = none ? "Welcome to Chat" : "Select a conversation";
    $("placeholder-text").textContent = none ? "Message a colleague by their user ID, create a group, or join one by its ID." : "Pick one on the left, or start something new.";
    $("conv-nomatch").hidden = !(filter && all.length > 0 && shown.length === 0);
  }

  function setConversations(list) {
    state.conversations = Array.isArray(list) ? list : [];
    state.conversationsLoaded = true;
    for (const conv of state.conversations) state.extraConversations.delete(conv.conversationID);
    renderConversationList();
    const current = state.current && findConversation(state.current);
    if (current) {
      renderChatHeader(current);
      if ((current.unreadCount || 0) > 0) markRead(state.current);
    }
    updateBackBadge();
  }

  function updateBackBadge() {
    const others = state.conversations.reduce((sum, c) => sum + (c.conversationID === state.current ? 0 : c.unreadCount || 0), 0);
    const badge = $("back-badge");
    badge.hidden = others === 0;
    badge.textContent = others > 99 ? "99+" : String(others);
  }

  function updateTitle() {
    document.title = state.totalUnread > 0 ? `(${state.totalUnread}) Chat` : "Chat";
  }

  // ---------------------------------------------------------------------------------
  // Opening a conversation
  // ---------------------------------------------------------------------------------

  function newHistory() {
    return {
      messages: [],
      byID: new Map(),
      rows: new Map(), // message ID -> {sig, message, row}: drawn rows are reused, so a playing video keeps playing
      nextReqMessageID: "",
      isCompleted: false,
      loading: false,
      loaded: false,
      dividerBeforeID: null,
      errors: new Map(),
      order: 0,
    };
  }

  function historyOf(conversationID) {
    let h = state.histories.get(conversationID);
    if (!h) {
      h = newHistory();
      state.histories.set(conversationID, h);
    }
    return h;
  }

  async function openConversation(conversationID, { fromList = false, focus = false, replaceHistory = false } = {}) {
    if (!conversationID) return;
    closeMenus();
    if (state.current === conversationID) {
      showChatScreen(fromList);
      return;
    }
    saveDraft();
    leaveConversation();
    state.current = conversationID;
    setHash(conversationID, { push: NARROW.matches && !replaceHistory });
    showChatScreen(false);

    let conv = findConversation(conversationID);
    $("messages").replaceChildren(el("div", { class: "msg-spacer" }), el("div", { class: "history-edge" }, el("span", { class: "spinner" }), "Loading messages…"));
    $("chat-name").textContent = conv ? conversationTitle(conv) : peerOf(conversationID);
    $("chat-sub").textContent = "";
    renderConversationList();
    if (!conv) {
      try {
        const res = await chat.getConversationProfile(conversationID);
        conv = res.data.conversation;
        if (state.current !== conversationID) return;
        if (!findConversation(conversationID)) state.extraConversations.set(conversationID, conv);
      } catch (error) {
        if (state.current !== conversationID) return;
        toast(errorText(error, "That conversation can't be opened."), { error: true });
        closeConversation();
        return;
      }
    }
    renderConversationList();
    renderChatHeader(conv);
    restoreDraft(conversationID);
    if (focus || !NARROW.matches) $("composer-input").focus({ preventScroll: true });

    const h = historyOf(conversationID);
    const unreadAtOpen = conv.unreadCount || 0;
    if (!h.loaded) {
      await loadOlder(conversationID, { initial: true });
      if (state.current !== conversationID) return;
    }
    // Load back to the first unread message (a few pages at most) so the divider lands right.
    for (let pages = 0; pages < MAX_UNREAD_PAGES && !h.isCompleted && countIncoming(h) < unreadAtOpen; pages++) {
      await loadOlder(conversationID, { initial: true });
      if (state.current !== conversationID) return;
    }
    h.dividerBeforeID = unreadAtOpen > 0 ? firstUnreadID(h, unreadAtOpen) : null;
    renderMessages({ scroll: h.dividerBeforeID ? "divider" : "bottom" });
    fillViewport(conversationID);
    markRead(conversationID);
  }

  const countIncoming = (h) => h.messages.reduce((n, m) => n + (m.flow === "out" ? 0 : 1), 0);

  function firstUnreadID(h, unreadCount) {
    let seen = 0;
    for (let i = h.messages.length - 1; i >= 0; i--) {
      const m = h.messages[i];
      if (m.flow === "out") continue;
      seen += 1;
      if (seen >= unreadCount) return m.ID;
    }
    const firstIn = h.messages.find((m) => m.flow !== "out");
    return firstIn ? firstIn.ID : null;
  }

  function leaveConversation() {
    if (!state.current) return;
    const h = state.histories.get(state.current);
    if (h) h.dividerBeforeID = null;
    state.jumpCount = 0;
    closeMembersPanel();
  }

  function closeConversation() {
    saveDraft();
    leaveConversation();
    state.current = null;
    $("chat").hidden = true;
    $("pane-placeholder").hidden = false;
    $("app").dataset.view = "list";
    setHash(null, { push: false });
    renderConversationList();
    updateBackBadge();
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
    } catch (_) {
      return null;
    }
  }

  function renderChatHeader(conv) {
    if (!conv) return;
    const group = conv.type === "GROUP";
    fillAvatar($("chat-avatar"), conversationAvatarInfo(conv));
    $("chat-name").textContent = conversationTitle(conv);
    $("chat-sub").textContent = conversationSubtitle(conv);
    $("members-btn").hidden = !group;
    $("chat-title").disabled = !group;
    $("chat-title").title = group ? "Group info" : "";
    const pinItem = document.querySelector('#more-menu [data-action="pin"]');
    pinItem.textContent = conv.isPinned ? "Unpin" : "Pin to top";
    document.querySelector('#more-menu [data-action="members"]').hidden = !group;
    const del = document.querySelector('#more-menu [data-action="delete"]');
    del.hidden = !state.conversations.some((c) => c.conversationID === conv.conversationID);
    updateComposerAvailability(conv);
  }

  const membershipChecks = new Set();

  function updateComposerAvailability(conv) {
    let notice = "";
    const groupID = conv.type === "GROUP" ? peerOf(conv.conversationID) : null;
    if (groupID && state.groupsLoaded && !state.groups.has(groupID)) {
      notice = "You're no longer a member of this group.";
      confirmMembership(groupID);
    } else if (conv.type !== "GROUP" && conv.type !== "C2C") {
      notice = "This conversation is read-only.";
    }
    $("composer-notice").textContent = notice;
    $("composer-notice").hidden = !notice;
    $("composer").hidden = Boolean(notice);
    document.querySelector(".composer-hint").hidden = Boolean(notice);
  }

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
          const conv = state.current && findConversation(state.current);
          if (conv) renderChatHeader(conv);
        }
      })
      .catch(() => {})
      .finally(() => membershipChecks.delete(groupID));
  }

  // ---------------------------------------------------------------------------------
  // Message history
  // ---------------------------------------------------------------------------------

  /** Stored messages in sequence order; messages still being sent (no sequence yet) after them. */
  function sortHistory(h) {
    const key = (m) => (m.status === "success" && m.sequence ? m.sequence : Number.MAX_SAFE_INTEGER);
    h.messages.sort((a, b) => key(a) - key(b) || (a.time || 0) - (b.time || 0) || (a._order || 0) - (b._order || 0));
  }

  function upsertMessage(h, message) {
    const existing = h.byID.get(message.ID);
    if (existing && existing !== message) {
      const index = h.messages.indexOf(existing);
      message._order = existing._order;
      if (index >= 0) h.messages[index] = message;
    } else if (!existing) {
      message._order = ++h.order;
      h.messages.push(message);
    }
    h.byID.set(message.ID, message);
  }

  function mergeMessages(h, messages) {
    for (const m of messages) upsertMessage(h, m);
    sortHistory(h);
  }

  async function loadOlder(conversationID, { initial = false } = {}) {
    const h = historyOf(conversationID);
    if (h.loading || (h.loaded && h.isCompleted)) return;
    h.loading = true;
    if (!initial && state.current === conversationID) renderMessages({ scroll: "keep-bottom-offset" });
    try {
      const args = { conversationID, count: PAGE_SIZE };
      if (h.loaded && h.nextReqMessageID) args.nextReqMessageID = h.nextReqMessageID;
      const res = await chat.getMessageList(args);
      const data = res.data || {};
      mergeMessages(h, data.messageList || []);
      h.nextReqMessageID = data.nextReqMessageID || "";
      h.isCompleted = Boolean(data.isCompleted) || !h.nextReqMessageID;
      h.loaded = true;
    } catch (error) {
      h.loaded = true;
      h.isCompleted = true;
      if (state.current === conversationID) toast(errorText(error, "Messages couldn't be loaded."), { error: true });
    } finally {
      h.loading = false;
    }
    if (!initial && state.current === conversationID) {
      renderMessages({ scroll: "keep-bottom-offset" });
      fillViewport(conversationID);
    }
  }

  /** Keep loading older pages until the pane can scroll (so scrolling up can load more). */
  function fillViewport(conversationID) {
    const box = $("messages");
    const h = state.histories.get(conversationID);
    if (!h || h.isCompleted || h.loading || state.current !== conversationID) return;
    if (box.scrollHeight <= box.clientHeight + 40) loadOlder(conversationID);
  }

  function onMessagesScroll() {
    const box = $("messages");
    if (state.current && box.scrollTop < 120) loadOlder(state.current);
    if (isNearBottom()) hideJump();
  }

  function isNearBottom() {
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

  function showJump(newCount) {
    state.jumpCount += newCount;
    $("jump-btn").hidden = false;
    $("jump-count").hidden = state.jumpCount === 0;
    $("jump-count").textContent = state.jumpCount > 99 ? "99+" : String(state.jumpCount);
  }

  /**
   * Rebuild the open conversation's messages. scroll: "bottom" | "divider" |
   * "keep-bottom-offset" (older messages were added on top) | "auto" (stick to the
   * bottom if we were there).
   */
  function renderMessages({ scroll = "auto" } = {}) {
    const conversationID = state.current;
    if (!conversationID) return;
    const box = $("messages");
    const h = historyOf(conversationID);
    const conv = findConversation(conversationID);
    const wasNearBottom = isNearBottom();
    const fromBottom = box.scrollHeight - box.scrollTop;

    const nodes = [el("div", { class: "msg-spacer" })];
    if (h.loading) nodes.push(el("div", { class: "history-edge", "data-testid": "history-loading" }, el("span", { class: "spinner" }), "Loading earlier messages…"));
    else if (h.loaded && h.isCompleted && conv) nodes.push(chatIntro(conv, h.messages.length === 0));

    const group = conversationID.startsWith("GROUP");
    const lastOutID = lastOwnStoredID(h);
    let prev = null;
    let prevDay = null;
    let prevRow = null;
    const endRun = () => {
      if (prevRow) prevRow.classList.add("is-last");
      prevRow = null;
    };
    for (const m of h.messages) {
      const day = startOfDay(toDate(m.time || Date.now() / 1000));
      let breakRun = false;
      if (day !== prevDay) {
        endRun();
        nodes.push(el("div", { class: "day-sep", "data-testid": "day-separator", text: dayLabel(m.time || Date.now() / 1000) }));
        prevDay = day;
        breakRun = true;
      }
      if (m.ID === h.dividerBeforeID) {
        endRun();
        nodes.push(el("div", { class: "unread-divider", "data-testid": "new-messages-divider", role: "separator", text: "New messages" }));
        breakRun = true;
      }
      if (m.type === "TIMGroupTipElem" || m.type === "TIMGroupSystemNoticeElem") {
        endRun();
        nodes.push(el("div", { class: "group-tip", "data-testid": "group-tip", "data-message-id": m.ID, text: m.messageForShow || "Group updated" }));
        prev = null;
        continue;
      }
      const first = breakRun || !prev || prev.from !== m.from || prev.flow !== m.flow || (m.time || 0) - (prev.time || 0) > GROUP_RUN_SECONDS;
      if (first) endRun();
      prevRow = cachedRow(h, m, { group, first, showReceipt: !group && m.ID === lastOutID, error: h.errors.get(m.ID) });
      nodes.push(prevRow);
      prev = m;
    }
    endRun();
    box.replaceChildren(...nodes);

    if (scroll === "bottom" || (scroll === "auto" && wasNearBottom)) box.scrollTop = box.scrollHeight;
    else if (scroll === "keep-bottom-offset") box.scrollTop = box.scrollHeight - fromBottom;
    else if (scroll === "divider") {
      const divider = box.querySelector(".unread-divider");
      if (divider) box.scrollTop = Math.max(0, divider.offsetTop - 60);
      else box.scrollTop = box.scrollHeight;
    }
  }

  /** The row for a message, rebuilt only when something it shows has changed. */
  function cachedRow(h, m, options) {
    const sig = [m.status, m.isPeerRead ? 1 : 0, m.isRevoked ? 1 : 0, m.sequence || 0, m.time || 0, m.nick || "", m.avatar || "", options.group ? 1 : 0, options.first ? 1 : 0, options.showReceipt ? 1 : 0, options.error || ""].join("|");
    let cached = h.rows.get(m.ID);
    if (!cached || cached.sig !== sig || cached.message !== m) {
      cached = { sig, message: m, row: messageRow(m, options) };
      h.rows.set(m.ID, cached);
    }
    cached.row.classList.remove("is-last");
    return cached.row;
  }

  function chatIntro(conv, empty) {
    const title = conversationTitle(conv);
    const text =
      conv.type === "GROUP"
        ? empty
          ? "No messages yet. Say hello to the group."
          : "This is the beginning of the group's history."
        : empty
          ? `This is the beginning of your chat with ${title}. Say hello!`
          : `This is the beginning of your chat with ${title}.`;
    return el("div", { class: "chat-intro", "data-testid": "history-start" }, avatar("xl", conversationAvatarInfo(conv)), el("strong", { text: title }), el("span", { text }));
  }

  /** The "Sent"/"Read" label goes under my message only while it is the latest one (a reply says enough). */
  function lastOwnStoredID(h) {
    for (let i = h.messages.length - 1; i >= 0; i--) {
      const m = h.messages[i];
      if (m.type === "TIMGroupTipElem") continue;
      return m.flow === "out" && m.status === "success" ? m.ID : null;
    }
    return null;
  }

  function messageRow(m, { group, first, showReceipt, error }) {
    const out = m.flow === "out";
    const pending = m.status === "unSend";
    const failed = m.status === "fail";
    const name = m.nick || m.from;
    const hue = hueFor(m.from);

    const meta = el("span", { class: "msg-meta" }, el("time", { datetime: new Date((m.time || 0) * 1000).toISOString(), text: fmtTime.format(toDate(m.time || Date.now() / 1000)) }));
    if (out && failed) {
      meta.append(icon("alert"));
    } else if (out && pending) {
      meta.append(icon("clock"));
    } else if (out && !group) {
      const read = Boolean(m.isPeerRead);
      const tick = icon(read ? "checks" : "check", read ? "is-read" : "");
      const wrap = el("span", { class: read ? "is-read" : "", title: read ? "Read" : "Sent", "aria-label": read ? "Read" : "Sent", "data-testid": "message-status", "data-status": read ? "read" : "sent" }, tick);
      meta.append(wrap);
    }

    const body = m.isRevoked
      ? { node: el("span", { class: "msg-text msg-revoked", text: out ? "You recalled this message" : `${name} recalled a message` }), kind: "text" }
      : messageBody(m);

    const bubble = el(
      "div",
      {
        class: "bubble" + (body.kind === "media" ? " is-media" : body.kind === "card" ? " is-card" : ""),
        "data-testid": "message-bubble",
        "data-message-id": m.ID,
        "data-status": m.status,
        "data-flow": m.flow,
        title: fmtTooltip.format(toDate(m.time || Date.now() / 1000)),
      },
      body.node,
      meta,
    );

    const col = el("div", { class: "msg-col" });
    if (group && !out && first) {
      const label = el("div", { class: "msg-name", text: name });
      label.style.setProperty("--avatar-hue", hue);
      col.append(label);
    }
    col.append(bubble);
    if (failed) {
      col.append(
        el(
          "div",
          { class: "msg-failed", "data-testid": "send-failed" },
          el("span", { text: error ? `Not sent. ${error}` : "Not sent." }),
          el("button", { type: "button", class: "resend-btn", "data-testid": "resend-button", onclick: () => resend(m) }, icon("retry"), "Retry"),
        ),
      );
    }
    if (showReceipt) {
      const read = Boolean(m.isPeerRead);
      col.append(el("div", { class: "read-receipt" + (read ? " is-read" : ""), "data-testid": "read-receipt", text: read ? "Read" : "Sent" }));
    }

    const row = el("div", { class: `msg-row ${out ? "out" : "in"}` + (first ? " is-first" : "") + (pending ? " is-pending" : "") + (failed ? " is-failed" : "") });
    if (group && !out) row.append(first ? avatar("sm", { id: m.from, name, url: m.avatar }) : el("span", { class: "msg-avatar-gap" }));
    row.append(col);
    return row;
  }

  // ---------------------------------------------------------------------------------
  // Message bodies: text, images, video, voice, files, locations, forwarded history
  // ---------------------------------------------------------------------------------

  const MEDIA_MAX_W = 300;
  const MEDIA_MAX_H = 320;
  /** Image sizes read from local files before upload, so the preview keeps its shape. */
  const localSizes = new Map();

  function formatBytes(bytes) {
    const n = Number(bytes) || 0;
    if (n < 1024) return `${n} B`;
    if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
    if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
    return `${(n / 1024 / 1024 / 1024).toFixed(1)} GB`;
  }

  function formatDuration(seconds) {
    const s = Math.max(0, Math.round(Number(seconds) || 0));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  /** A box of the media's real aspect ratio, reserved before it loads. */
  function mediaBox(node, width, height) {
    const w = Number(width) || 0;
    const h = Number(height) || 0;
    if (w > 0 && h > 0) {
      const scale = Math.min(1, MEDIA_MAX_W / w, MEDIA_MAX_H / h);
      node.style.width = Math.max(96, Math.round(w * scale)) + "px";
      node.style.aspectRatio = `${w} / ${h}`;
    } else {
      node.style.width = "240px";
      node.style.aspectRatio = "4 / 3";
    }
    return node;
  }

  function uploadProgress(m) {
    if (m.status !== "unSend" || m.flow !== "out") return null;
    const pct = Math.round(Math.max(0, Math.min(1, Number(m.progress) || 0)) * 100);
    return el(
      "div",
      { class: "upload-progress", role: "progressbar", "aria-label": "Uploading", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(pct), "data-testid": "upload-progress" },
      el("span", { class: "upload-bar", style: `width: ${pct}%` }),
    );
  }

  /** Move a bubble's progress bar without redrawing the conversation. */
  function showUploadProgress(messageID, fraction) {
    const bubble = document.querySelector(`[data-message-id="${CSS.escape(messageID)}"]`);
    const bar = bubble && bubble.querySelector(".upload-progress");
    if (!bar) return;
    const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
    bar.setAttribute("aria-valuenow", String(pct));
    bar.firstChild.style.width = pct + "%";
  }

  function fileExtension(name) {
    const match = /\.([A-Za-z0-9]{1,5})$/.exec(String(name || ""));
    return match ? match[1].toUpperCase() : "FILE";
  }

  function imageBody(m) {
    const infos = (m.payload && m.payload.imageInfoArray) || [];
    const byType = (t) => infos.find((i) => i.type === t);
    const original = byType(0) || infos[0] || {};
    const shown = byType(2) || original || byType(1) || {};
    const size = localSizes.get(m.ID) || { width: original.width || shown.width, height: original.height || shown.height };
    const src = safeUrl(shown.url) || safeUrl(original.url);
    const href = safeUrl(original.url) || src;
    const frame = mediaBox(el(href && m.status === "success" ? "a" : "div", { class: "media-frame" }), size.width, size.height);
    if (frame.tagName === "A") {
      frame.href = href;
      frame.target = "_blank";
      frame.rel = "noopener noreferrer";
      frame.setAttribute("aria-label", "Open the image");
    }
    if (src) {
      const img = el("img", { alt: "Image", loading: "lazy", decoding: "async" });
      img.src = src;
      frame.append(img);
    }
    const progress = uploadProgress(m);
    if (progress) frame.append(progress);
    return { node: frame, kind: "media" };
  }

  function videoBody(m) {
    const p = m.payload || {};
    const frame = mediaBox(el("div", { class: "media-frame" }), p.snapshotWidth, p.snapshotHeight);
    const src = safeUrl(p.videoUrl);
    if (src) {
      const video = el("video", { controls: true, preload: "metadata", playsinline: true });
      const poster = safeUrl(p.snapshotUrl);
      if (poster) video.poster = poster;
      video.src = src;
      frame.append(video);
    }
    const progress = uploadProgress(m);
    if (progress) frame.append(progress);
    return { node: frame, kind: "media" };
  }

  function fileBody(m) {
    const p = m.payload || {};
    const href = m.status === "success" ? safeUrl(p.fileUrl) : null;
    const card = el(
      href ? "a" : "div",
      { class: "file-card" },
      el("span", { class: "file-icon", "aria-hidden": "true", text: fileExtension(p.fileName) }),
      el("span", { class: "file-info" }, el("span", { class: "file-name", text: p.fileName || "File" }), el("span", { class: "file-size", text: formatBytes(p.fileSize) })),
    );
    if (href) {
      card.href = href;
      card.setAttribute("download", p.fileName || "");
      card.title = `Download ${p.fileName || "the file"}`;
    }
    const progress = uploadProgress(m);
    return { node: el("div", { class: "card-body" }, card, progress), kind: "card" };
  }

  function audioBody(m) {
    const p = m.payload || {};
    const src = safeUrl(p.url);
    const wrap = el("div", { class: "card-body audio-body" });
    if (src) {
      const audio = el("audio", { controls: true, preload: "none" });
      audio.src = src;
      wrap.append(audio);
    }
    wrap.append(el("span", { class: "file-size", text: `Voice message · ${formatDuration(p.second)}` }));
    const progress = uploadProgress(m);
    if (progress) wrap.append(progress);
    return { node: wrap, kind: "card" };
  }

  function locationBody(m) {
    const p = m.payload || {};
    const lat = Number(p.latitude);
    const lon = Number(p.longitude);
    const wrap = el("div", { class: "card-body" }, el("span", { class: "card-title", text: p.description || "Location" }));
    if (Number.isFinite(lat) && Number.isFinite(lon)) {
      const link = el("a", { class: "card-link", target: "_blank", rel: "noopener noreferrer", text: `${lat.toFixed(5)}, ${lon.toFixed(5)} · Open map` });
      link.href = `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`;
      wrap.append(link);
    }
    return { node: wrap, kind: "card" };
  }

  function mergerBody(m) {
    const p = m.payload || {};
    const lines = (p.abstractList || []).slice(0, 4).map((line) => el("span", { class: "card-line", text: String(line) }));
    return { node: el("div", { class: "card-body" }, el("span", { class: "card-title", text: p.title || "Chat history" }), lines), kind: "card" };
  }

  function messageBody(m) {
    const p = m.payload || {};
    switch (m.type) {
      case "TIMTextElem":
        return { node: el("span", { class: "msg-text", text: p.text || "" }), kind: "text" };
      case "TIMImageElem":
        return imageBody(m);
      case "TIMVideoFileElem":
        return videoBody(m);
      case "TIMFileElem":
        return fileBody(m);
      case "TIMSoundElem":
        return audioBody(m);
      case "TIMLocationElem":
        return locationBody(m);
      case "TIMRelayElem":
        return mergerBody(m);
      case "TIMCustomElem":
        return { node: el("span", { class: "msg-text", text: p.description || p.data || m.messageForShow || "[Custom message]" }), kind: "text" };
      default:
        return { node: el("span", { class: "msg-text", text: m.messageForShow || "[Message]" }), kind: "text" };
    }
  }

  // ---------------------------------------------------------------------------------
  // Live events
  // ---------------------------------------------------------------------------------

  function onMessageReceived(event) {
    const messages = Array.isArray(event.data) ? event.data : [];
    let addedToCurrent = 0;
    let hiddenArrival = null;
    for (const m of messages) {
      if (!m || !m.conversationID) continue;
      // Only histories that were opened are kept live; the others are fetched when opened.
      const h = state.histories.get(m.conversationID);
      if (!h) continue;
      const isNew = !h.byID.has(m.ID);
      upsertMessage(h, m);
      if (m.conversationID === state.current && isNew) {
        addedToCurrent += m.flow === "out" ? 0 : 1;
        if (!chatIsShowing(m.conversationID) && m.flow !== "out" && !hiddenArrival) hiddenArrival = m;
      }
      if (m.conversationID === state.members.groupID && m.type === "TIMGroupTipElem") refreshMembersSoon();
    }
    for (const h of state.histories.values()) sortHistory(h);
    const current = state.current && state.histories.get(state.current);
    if (!current) return;
    const touchesCurrent = messages.some((m) => m && m.conversationID === state.current);
    if (!touchesCurrent) return;
    if (hiddenArrival && !current.dividerBeforeID) current.dividerBeforeID = hiddenArrival.ID;
    const atBottom = isNearBottom();
    renderMessages({ scroll: "auto" });
    if (!atBottom && addedToCurrent) showJump(addedToCurrent);
    if (addedToCurrent) markRead(state.current, { force: true });
  }

  function onMessageReadByPeer(event) {
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
      if (!h) continue;
      for (const m of h.messages) if (m.flow === "out" && m.status === "success" && m.sequence && m.sequence <= sequence) m.isPeerRead = true;
    }
    if (state.current && upTo.has(state.current)) renderMessages({ scroll: "auto" });
  }

  const readCalls = new Map(); // conversationID -> "busy" | "again"

  /**
   * setMessageRead for a conversation the user is looking at. force: call even if the
   * list still says 0 unread (a message just arrived). One call at a time per
   * conversation; a request made meanwhile runs once more afterwards, so a message that
   * lands during a call is not left unread.
   */
  function markRead(conversationID, { force = false } = {}) {
    if (!conversationID || !state.ready || !chatIsShowing(conversationID)) return;
    const conv = findConversation(conversationID);
    if (!force && !(conv && conv.unreadCount > 0)) return;
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

  function onVisibilityChange() {
    if (document.visibilityState !== "visible" || !state.current) return;
    renderConversationList();
    markRead(state.current);
  }

  function onNetStateChange(event) {
    const s = (event.data && event.data.state) || event.data;
    const connected = s === TYPES.NET_STATE_CONNECTED;
    const bar = $("netbar");
    if (connected) {
      bar.hidden = true;
      if (state.everConnected && state.netState !== TYPES.NET_STATE_CONNECTED) resyncAfterReconnect();
      state.everConnected = true;
    } else {
      bar.hidden = false;
      bar.dataset.state = s === TYPES.NET_STATE_DISCONNECTED ? "disconnected" : "connecting";
      $("netbar-text").textContent = s === TYPES.NET_STATE_DISCONNECTED ? "You're offline. Trying to reconnect…" : state.everConnected ? "Reconnecting…" : "Connecting…";
    }
    state.netState = s;
  }

  /**
   * After a reconnect the SDK replays what arrived meanwhile as MESSAGE_RECEIVED. Here
   * the open conversation's latest page is merged too (it also brings read states
   * and recalls that changed), and if more was missed than the replay covers, the
   * history starts over from the latest page. Other cached histories are dropped
   * and fetched again when opened.
   */
  async function resyncAfterReconnect() {
    for (const id of Array.from(state.histories.keys())) if (id !== state.current) state.histories.delete(id);
    const id = state.current;
    const h = id && state.histories.get(id);
    if (!h || !h.loaded) return;
    let data;
    try {
      data = (await chat.getMessageList({ conversationID: id, count: PAGE_SIZE })).data || {};
    } catch (_) {
      return; // still offline: the next reconnect tries again
    }
    if (state.current !== id || state.histories.get(id) !== h) return;
    const page = data.messageList || [];
    const newestKnown = h.messages.reduce((max, m) => (m.status === "success" ? Math.max(max, m.sequence || 0) : max), 0);
    const gap = page.length && newestKnown && page[0].sequence > newestKnown + 1;
    if (gap) {
      const fresh = newHistory();
      fresh.errors = h.errors;
      fresh.nextReqMessageID = data.nextReqMessageID || "";
      fresh.isCompleted = Boolean(data.isCompleted) || !fresh.nextReqMessageID;
      fresh.loaded = true;
      mergeMessages(fresh, page.concat(h.messages.filter((m) => m.status !== "success")));
      state.histories.set(id, fresh);
      renderMessages({ scroll: "bottom" });
    } else {
      mergeMessages(h, page);
      renderMessages({ scroll: "auto" });
    }
    markRead(id, { force: true });
  }

  function onKickedOut(event) {
    const type = event.data && event.data.type;
    const text =
      type === TYPES.KICKED_OUT_MULT_ACCOUNT || type === TYPES.KICKED_OUT_MULT_DEVICE
        ? "Your account signed in somewhere else, so this window was signed out."
        : type === TYPES.KICKED_OUT_USERSIG_EXPIRED
          ? "Your session expired."
          : type === "banned"
            ? "This account has been deactivated. Contact your administrator."
            : "Your session ended. Sign in again to keep chatting.";
    showBlocker("You've been signed out", text);
  }

  function showBlocker(title, text) {
    $("blocker-title").textContent = title;
    $("blocker-text").textContent = text;
    $("blocker").hidden = false;
  }

  function onGroupListUpdated(event) {
    setGroups(event.data);
  }

  function setGroups(list) {
    state.groups = new Map((Array.isArray(list) ? list : []).map((g) => [g.groupID, g]));
    state.groupsLoaded = true;
    const conv = state.current && findConversation(state.current);
    if (conv) renderChatHeader(conv);
    if (state.members.groupID && !state.groups.has(state.members.groupID)) closeMembersPanel();
  }

  // ---------------------------------------------------------------------------------
  // Composer and sending
  // ---------------------------------------------------------------------------------

  function saveDraft() {
    if (!state.current) return;
    const text = $("composer-input").value;
    if (text.trim()) state.drafts.set(state.current, text);
    else state.drafts.delete(state.current);
  }

  function restoreDraft(conversationID) {
    const input = $("composer-input");
    input.value = state.drafts.get(conversationID) || "";
    onComposerInput();
  }

  function onComposerInput() {
    const input = $("composer-input");
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight + 2, 180) + "px";
    const text = input.value;
    const bytes = text.length > 3000 ? byteLength(text) : text.length;
    const over = bytes > MAX_TEXT_BYTES;
    const count = $("composer-count");
    count.hidden = bytes < MAX_TEXT_BYTES * 0.8;
    count.classList.toggle("is-over", over);
    count.textContent = over ? `Too long: ${(bytes / 1024).toFixed(1)} KB of 12 KB` : `${(bytes / 1024).toFixed(1)} / 12 KB`;
    $("send-btn").disabled = !text.trim() || over;
  }

  function onComposerKeydown(e) {
    if (e.key !== "Enter" || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.isComposing || e.keyCode === 229) return; // an IME is composing: Enter picks a candidate
    e.preventDefault();
    submitComposer();
  }

  function submitComposer() {
    const input = $("composer-input");
    const text = input.value;
    if (!text.trim() || !state.current) return;
    if (byteLength(text) > MAX_TEXT_BYTES) {
      toast(ERROR_TEXT[80002], { error: true });
      return;
    }
    input.value = "";
    state.drafts.delete(state.current);
    onComposerInput();
    sendText(state.current, text);
  }

  async function sendText(conversationID, text) {
    const group = isGroupID(conversationID);
    const h = historyOf(conversationID);
    let message;
    try {
      message = chat.createTextMessage({
        to: peerOf(conversationID),
        conversationType: group ? TYPES.CONV_GROUP : TYPES.CONV_C2C,
        payload: { text },
      });
    } catch (error) {
      toast(errorText(error, "The message couldn't be created."), { error: true });
      return;
    }
    if (!message.time) message.time = Math.floor(Date.now() / 1000);
    h.dividerBeforeID = null;
    mergeMessages(h, [message]);
    if (state.current === conversationID && h.loaded) renderMessages({ scroll: "bottom" });
    await deliver(conversationID, message, () => chat.sendMessage(message));
  }

  async function deliver(conversationID, message, call, { retry = false } = {}) {
    const h = historyOf(conversationID);
    h.errors.delete(message.ID);
    try {
      const res = await call();
      mergeMessages(h, [(res && res.data && res.data.message) || message]);
      if (retry) for (const node of document.querySelectorAll(".toast.is-error")) node.remove(); // the failure is resolved
    } catch (error) {
      if (message.status !== "fail") message.status = "fail";
      const text = errorText(error, "The message couldn't be sent.");
      // Only reasons that say more than "not sent" go into the bubble; the toast has them all.
      if (ERROR_TEXT[error && error.code] && error.code !== 2100) h.errors.set(message.ID, text);
      mergeMessages(h, [message]);
      toast(text, { error: true });
    }
    if (state.current === conversationID && h.loaded) renderMessages({ scroll: "auto" });
  }

  function resend(message) {
    const conversationID = message.conversationID || state.current;
    message.status = "unSend";
    if (state.current === conversationID) renderMessages({ scroll: "auto" });
    deliver(conversationID, message, () => chat.resendMessage(message), { retry: true });
  }

  // ---------------------------------------------------------------------------------
  // Attachments: the clip button, paste and drag-and-drop
  // ---------------------------------------------------------------------------------

  const MAX_FILE_BYTES = 100 * 1024 * 1024;
  const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

  function uploadKindOf(file) {
    const type = String(file.type || "").toLowerCase();
    if (/^image\/(jpeg|png|gif|webp|bmp)$/.test(type) && file.size <= MAX_IMAGE_BYTES) return "image";
    if (type === "video/mp4") return "video";
    return "file";
  }

  function readImageSize(file) {
    return new Promise((resolve) => {
      const url = URL.createObjectURL(file);
      const img = new Image();
      const done = (size) => {
        URL.revokeObjectURL(url);
        resolve(size);
      };
      img.onload = () => done({ width: img.naturalWidth, height: img.naturalHeight });
      img.onerror = () => done(null);
      img.src = url;
    });
  }

  async function sendFiles(conversationID, files) {
    const list = Array.from(files || []).filter((f) => f && typeof f.size === "number");
    if (!conversationID || !list.length) return;
    for (const file of list) {
      if (file.size === 0) {
        toast(`"${file.name}" is empty.`, { error: true });
        continue;
      }
      if (file.size > MAX_FILE_BYTES) {
        toast(`"${file.name}" is too big: files can be up to 100 MB.`, { error: true });
        continue;
      }
      await sendFile(conversationID, file);
    }
  }

  async function sendFile(conversationID, file) {
    const kind = uploadKindOf(file);
    const size = kind === "image" ? await readImageSize(file) : null;
    let messageID = null;
    const options = {
      to: peerOf(conversationID),
      conversationType: isGroupID(conversationID) ? TYPES.CONV_GROUP : TYPES.CONV_C2C,
      payload: { file },
      onProgress: (fraction) => messageID && showUploadProgress(messageID, fraction),
    };
    let message;
    try {
      message = kind === "image" ? chat.createImageMessage(options) : kind === "video" ? chat.createVideoMessage(options) : chat.createFileMessage(options);
    } catch (error) {
      toast(errorText(error, "The file couldn't be prepared."), { error: true });
      return;
    }
    messageID = message.ID;
    if (size) localSizes.set(message.ID, size);
    if (!message.time) message.time = Math.floor(Date.now() / 1000);
    const h = historyOf(conversationID);
    h.dividerBeforeID = null;
    mergeMessages(h, [message]);
    if (state.current === conversationID && h.loaded) renderMessages({ scroll: "bottom" });
    // The upload runs in the background with its progress in the bubble; the composer stays free.
    deliver(conversationID, message, () => chat.sendMessage(message));
  }

  function onComposerPaste(e) {
    const files = e.clipboardData && e.clipboardData.files;
    if (!files || !files.length || !state.current) return;
    e.preventDefault();
    sendFiles(state.current, files);
  }

  function wireDropZone() {
    const pane = $("pane");
    const overlay = $("drop-overlay");
    let depth = 0;
    const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files");
    const canDrop = () => state.current && !$("chat").hidden && !$("composer").hidden;
    pane.addEventListener("dragenter", (e) => {
      if (!hasFiles(e) || !canDrop()) return;
      e.preventDefault();
      depth += 1;
      const conv = findConversation(state.current);
      $("drop-text").textContent = `Drop to send to ${conv ? conversationTitle(conv) : "this chat"}`;
      overlay.hidden = false;
    });
    pane.addEventListener("dragover", (e) => {
      if (!hasFiles(e) || !canDrop()) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    });
    pane.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) overlay.hidden = true;
    });
    pane.addEventListener("drop", (e) => {
      depth = 0;
      overlay.hidden = true;
      if (!hasFiles(e) || !canDrop()) return;
      e.preventDefault();
      sendFiles(state.current, e.dataTransfer.files);
    });
  }

  // ---------------------------------------------------------------------------------
  // Message actions (right-click, or a long press on touch screens)
  // ---------------------------------------------------------------------------------

  function messageFromNode(node) {
    const bubble = node && node.closest && node.closest(".bubble[data-message-id]");
    const h = bubble && state.current && state.histories.get(state.current);
    return h ? h.byID.get(bubble.dataset.messageId) || null : null;
  }

  function openMessageMenu(m, x, y) {
    closeMenus();
    const items = [];
    const item = (label, testid, action, danger) =>
      el("button", { type: "button", role: "menuitem", class: "menu-item" + (danger ? " danger" : ""), "data-testid": testid, onclick: () => { closeMenus(); action(); } }, label);
    if (m.type === "TIMTextElem" && !m.isRevoked) {
      items.push(
        item("Copy text", "copy-message", () =>
          navigator.clipboard.writeText((m.payload && m.payload.text) || "").then(
            () => toast("Copied."),
            () => toast("Couldn't copy. Select the text and copy it by hand.", { error: true }),
          ),
        ),
      );
    }
    if (m.status === "fail") items.push(item("Retry sending", "retry-message", () => resend(m)));
    if (m.flow === "out" && m.status === "success" && !m.isRevoked && typeof chat.revokeMessage === "function") {
      items.push(item("Recall", "recall-message", () => recall(m), true));
    }
    if (!items.length) return;
    const menu = $("msg-menu");
    menu.replaceChildren(...items);
    menu.hidden = false;
    const { innerWidth: vw, innerHeight: vh } = window;
    const rect = menu.getBoundingClientRect();
    menu.style.left = Math.max(8, Math.min(x, vw - rect.width - 8)) + "px";
    menu.style.top = Math.max(8, Math.min(y, vh - rect.height - 8)) + "px";
    menu.querySelector(".menu-item").focus();
  }

  async function recall(m) {
    try {
      await chat.revokeMessage(m);
      m.isRevoked = true;
      if (state.current === m.conversationID) renderMessages({ scroll: "auto" });
    } catch (error) {
      toast(errorText(error, "The message couldn't be recalled."), { error: true });
    }
  }

  function wireMessageMenu() {
    const box = $("messages");
    box.addEventListener("contextmenu", (e) => {
      if (window.getSelection && String(window.getSelection()).trim()) return; // let the browser copy a selection
      const m = messageFromNode(e.target);
      if (!m || (e.target.closest && e.target.closest("a, video, audio"))) return;
      e.preventDefault();
      openMessageMenu(m, e.clientX, e.clientY);
    });
    let pressTimer = null;
    box.addEventListener("pointerdown", (e) => {
      if (e.pointerType !== "touch") return;
      const m = messageFromNode(e.target);
      if (!m) return;
      pressTimer = setTimeout(() => openMessageMenu(m, e.clientX, e.clientY), 550);
    });
    for (const type of ["pointerup", "pointercancel", "pointermove"]) box.addEventListener(type, () => clearTimeout(pressTimer));
    box.addEventListener("scroll", () => {
      if (!$("msg-menu").hidden) closeMenus();
    }, { passive: true });
  }

  // ---------------------------------------------------------------------------------
  // Toasts, menus, dialogs
  // ---------------------------------------------------------------------------------

  function toast(text, { error = false, timeout = 5000 } = {}) {
    const box = $("toasts");
    for (const existing of box.children) if (existing.dataset.text === text) existing.remove();
    const node = el("div", { class: "toast" + (error ? " is-error" : ""), role: error ? "alert" : "status", "data-testid": error ? "error-toast" : "toast", dataset: { text } }, el("span", { text }));
    const dismiss = () => {
      node.classList.add("is-leaving");
      setTimeout(() => node.remove(), 200);
    };
    node.append(el("button", { type: "button", "aria-label": "Dismiss", onclick: dismiss }, icon("close")));
    box.append(node);
    while (box.children.length > 3) box.firstChild.remove();
    setTimeout(dismiss, timeout);
  }

  function toggleMenu(button, menu) {
    const open = menu.hidden;
    closeMenus();
    if (!open) return;
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    const first = menu.querySelector(".menu-item:not([hidden])");
    if (first) first.focus();
  }

  function closeMenus() {
    for (const menu of document.querySelectorAll(".menu")) menu.hidden = true;
    for (const button of document.querySelectorAll('[aria-haspopup="menu"]')) button.setAttribute("aria-expanded", "false");
  }

  function openDialog(id) {
    closeMenus();
    const dialog = $(id);
    const form = dialog.querySelector("form");
    form.reset();
    setDialogError(dialog, "");
    setBusy(dialog, false);
    if (id === "dlg-new-group") resetChips();
    dialog.showModal();
    const first = dialog.querySelector("input[type=text]");
    if (first) first.focus();
    return dialog;
  }

  function setDialogError(dialog, text) {
    const node = dialog.querySelector("[data-error]");
    node.textContent = text;
    node.hidden = !text;
  }

  function setBusy(dialog, busy) {
    const submit = dialog.querySelector('button[type="submit"]');
    if (submit) {
      submit.classList.toggle("is-busy", busy);
      submit.disabled = busy;
    }
  }

  function wireDialog(id, onSubmit) {
    const dialog = $(id);
    const form = dialog.querySelector("form");
    for (const button of dialog.querySelectorAll("[data-close]")) button.addEventListener("click", () => dialog.close());
    dialog.addEventListener("click", (e) => {
      if (e.target === dialog) dialog.close(); // a click on the backdrop
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      setDialogError(dialog, "");
      setBusy(dialog, true);
      try {
        const ok = await onSubmit(form, dialog);
        if (ok !== false) dialog.close();
      } catch (error) {
        setDialogError(dialog, typeof error === "string" ? error : errorText(error));
      } finally {
        setBusy(dialog, false);
      }
    });
  }

  /** A small confirm dialog; resolves true when confirmed. */
  function confirmAction({ title, text, ok }) {
    const dialog = $("dlg-confirm");
    $("dlg-confirm-title").textContent = title;
    $("dlg-confirm-text").textContent = text;
    $("dlg-confirm-ok").textContent = ok;
    closeMenus();
    return new Promise((resolve) => {
      const form = dialog.querySelector("form");
      const done = (value) => {
        form.removeEventListener("submit", onSubmit);
        dialog.removeEventListener("close", onClose);
        resolve(value);
      };
      const onSubmit = (e) => {
        e.preventDefault();
        dialog.close("ok");
      };
      const onClose = () => done(dialog.returnValue === "ok");
      dialog.returnValue = "";
      form.addEventListener("submit", onSubmit);
      dialog.addEventListener("close", onClose);
      dialog.showModal();
      $("dlg-confirm-ok").focus();
    });
  }

  async function lookUpUsers(userIDs) {
    const res = await chat.getUserProfile({ userIDList: userIDs });
    const found = new Map();
    for (const p of res.data || []) found.set(p.userID, p);
    return found;
  }

  function splitIDs(text) {
    return Array.from(new Set(String(text || "").split(/[\s,;]+/).map((s) => s.trim().replace(/^@/, "")).filter(Boolean)));
  }

  async function submitNewChat(form) {
    const userID = String(form.elements.userID.value || "").trim().replace(/^@/, "");
    if (!userID) throw "Enter the user ID of the person you want to chat with.";
    if (userID === state.me.userID) throw "That's you. Enter someone else's user ID.";
    const found = await lookUpUsers([userID]);
    if (!found.has(userID)) throw `There's no user "${userID}". Check the spelling.`;
    await openConversation("C2C" + userID, { focus: true });
    return true;
  }

  // -- group members chips in the "New group" dialog --
  const chipUsers = new Map();

  function resetChips() {
    chipUsers.clear();
    renderChips();
  }

  function renderChips() {
    const box = $("new-group-chips");
    const input = $("new-group-members");
    const chips = Array.from(chipUsers.values()).map((p) =>
      el(
        "span",
        { class: "chip", "data-testid": "member-chip", "data-user-id": p.userID },
        avatar("xs", { id: p.userID, name: p.nick || p.userID, url: p.avatar }),
        p.nick && p.nick !== p.userID ? `${p.nick} (${p.userID})` : p.userID,
        el("button", { type: "button", "aria-label": `Remove ${p.userID}`, onclick: () => { chipUsers.delete(p.userID); renderChips(); input.focus(); } }, icon("close")),
      ),
    );
    box.replaceChildren(...chips, input);
  }

  /** Turn what is typed into chips; returns the IDs that are not users. */
  async function addChipsFromInput() {
    const input = $("new-group-members");
    const ids = splitIDs(input.value).filter((id) => id !== state.me.userID && !chipUsers.has(id));
    input.value = "";
    if (!ids.length) return [];
    const found = await lookUpUsers(ids);
    for (const id of ids) if (found.has(id)) chipUsers.set(id, found.get(id));
    renderChips();
    input.focus();
    return ids.filter((id) => !found.has(id));
  }

  async function onChipsKeydown(e) {
    const input = e.target;
    if ((e.key === "Enter" || e.key === "," || e.key === " ") && input.value.trim()) {
      e.preventDefault();
      const dialog = $("dlg-new-group");
      try {
        const missing = await addChipsFromInput();
        setDialogError(dialog, missing.length ? `No such user: ${missing.join(", ")}` : "");
      } catch (error) {
        setDialogError(dialog, errorText(error));
      }
    } else if (e.key === "Enter") {
      e.preventDefault();
      $("dlg-new-group").querySelector("form").requestSubmit();
    } else if (e.key === "Backspace" && !input.value && chipUsers.size) {
      chipUsers.delete(Array.from(chipUsers.keys()).pop());
      renderChips();
      input.focus();
    }
  }

  async function submitNewGroup(form) {
    const name = String(form.elements.name.value || "").trim();
    if (!name) throw "Give the group a name.";
    if (byteLength(name) > 30) throw "The group name is too long (30 bytes at most).";
    const missing = await addChipsFromInput();
    if (missing.length) throw `No such user: ${missing.join(", ")}`;
    const options = { type: form.elements.type.value, name, memberList: Array.from(chipUsers.keys()).map((userID) => ({ userID })) };
    const groupID = String(form.elements.groupID.value || "").trim();
    if (groupID) options.groupID = groupID;
    const res = await chat.createGroup(options);
    const group = res.data && res.data.group;
    if (group) state.groups.set(group.groupID, group);
    toast(`Group "${name}" created.`);
    if (group) await openConversation("GROUP" + group.groupID, { focus: true });
    return true;
  }

  async function submitJoinGroup(form) {
    const groupID = String(form.elements.groupID.value || "").trim();
    if (!groupID) throw "Enter the ID of the group you want to join.";
    if (state.groups.has(groupID)) {
      await openConversation("GROUP" + groupID, { focus: true });
      return true;
    }
    let res;
    try {
      res = await chat.joinGroup({ groupID });
    } catch (error) {
      if (error && error.code === 10013) {
        await openConversation("GROUP" + groupID, { focus: true });
        return true;
      }
      throw error;
    }
    const status = res.data && res.data.status;
    if (status === (TYPES.JOIN_STATUS_WAIT_APPROVAL || "WaitAdminApproval")) {
      toast("Request sent. You'll be in once an admin approves it.");
      return true;
    }
    const group = res.data && res.data.group;
    if (group) state.groups.set(group.groupID, group);
    toast(status === "AlreadyInGroup" ? "You're already in this group." : `You joined ${(group && group.name) || groupID}.`);
    await openConversation("GROUP" + groupID, { focus: true });
    return true;
  }

  // ---------------------------------------------------------------------------------
  // Group member panel
  // ---------------------------------------------------------------------------------

  async function openMembersPanel() {
    const conv = state.current && findConversation(state.current);
    if (!conv || conv.type !== "GROUP") return;
    closeMenus();
    const groupID = peerOf(conv.conversationID);
    state.members = { groupID, list: [], offset: 0, profile: groupOf(conv), loading: true };
    $("members-panel").hidden = false;
    $("app").classList.add("panel-open");
    renderMembersPanel();
    await reloadMembers();
    $("members-close").focus();
  }

  function closeMembersPanel() {
    state.members = { groupID: null, list: [], offset: 0, profile: null, loading: false };
    $("members-panel").hidden = true;
    $("app").classList.remove("panel-open");
  }

  async function reloadMembers() {
    const groupID = state.members.groupID;
    if (!groupID) return;
    try {
      const [profileRes, listRes] = await Promise.all([chat.getGroupProfile({ groupID }), chat.getGroupMemberList({ groupID, count: 100, offset: 0 })]);
      if (state.members.groupID !== groupID) return;
      state.members.profile = profileRes.data.group;
      state.members.list = listRes.data.memberList || [];
      state.members.offset = listRes.data.offset || 0;
    } catch (error) {
      if (state.members.groupID !== groupID) return;
      toast(errorText(error, "The member list couldn't be loaded."), { error: true });
    } finally {
      if (state.members.groupID === groupID) {
        state.members.loading = false;
        renderMembersPanel();
      }
    }
  }

  let refreshTimer = null;
  function refreshMembersSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(reloadMembers, 250);
  }

  async function loadMoreMembers() {
    const { groupID, offset } = state.members;
    if (!groupID || !offset) return;
    try {
      const res = await chat.getGroupMemberList({ groupID, count: 100, offset });
      if (state.members.groupID !== groupID) return;
      state.members.list = state.members.list.concat(res.data.memberList || []);
      state.members.offset = res.data.offset || 0;
      renderMembersPanel();
    } catch (error) {
      toast(errorText(error), { error: true });
    }
  }

  function myRole() {
    const profile = state.members.profile || {};
    if (profile.selfInfo && profile.selfInfo.role) return profile.selfInfo.role;
    const me = state.members.list.find((m) => m.userID === state.me.userID);
    return me ? me.role : "Member";
  }

  /** Mirrors the server's rule (messaging/actions/groups.py `_may_remove`); the server decides anyway. */
  function mayRemove(groupType, operatorRole, target) {
    if (target.userID === state.me.userID) return false;
    if (groupType === "Private") return operatorRole === "Owner";
    if (operatorRole === "Owner") return target.role !== "Owner";
    if (operatorRole === "Admin") return target.role === "Member";
    return false;
  }

  function renderMembersPanel() {
    const { groupID, list, offset, loading } = state.members;
    if (!groupID) return;
    const profile = state.members.profile || {};
    const name = profile.name || groupID;
    const type = profile.type || "";
    const role = myRole();
    fillAvatar($("group-avatar"), { id: groupID, name, url: profile.avatar, group: true });
    $("group-name").textContent = name;
    const count = profile.memberCount || list.length;
    $("group-meta").textContent = [GROUP_TYPE_LABEL[type] || "Group", count ? (count === 1 ? "1 member" : `${count} members`) : ""].filter(Boolean).join(" · ");
    $("group-id").textContent = groupID;
    $("member-count").textContent = count ? `(${count})` : "";

    const canAdd = type === "Private" || role === "Owner" || role === "Admin";
    $("add-member-form").hidden = !canAdd;
    const note = $("add-member-note");
    note.hidden = canAdd;
    note.textContent = canAdd ? "" : "Only the owner and admins can add people to this group.";

    if (loading && !list.length) {
      $("member-list").replaceChildren(el("li", { class: "history-edge" }, el("span", { class: "spinner" }), "Loading members…"));
    } else {
      $("member-list").replaceChildren(
        ...list.map((m) => {
          const display = m.nameCard || m.nick || m.userID;
          const isMe = m.userID === state.me.userID;
          const tag = m.role === "Owner" ? el("span", { class: "role-tag", text: "Owner" }) : m.role === "Admin" ? el("span", { class: "role-tag is-admin", text: "Admin" }) : null;
          const remove = mayRemove(type, role, m)
            ? el("button", { type: "button", class: "icon-btn remove-btn", "aria-label": `Remove ${display}`, title: `Remove ${display}`, "data-testid": "remove-member-button", onclick: () => removeMember(m) }, icon("close"))
            : null;
          return el(
            "li",
            { class: "member", "data-testid": "member-item", "data-user-id": m.userID, "data-role": m.role },
            avatar("md", { id: m.userID, name: display, url: m.avatar }),
            el("div", { class: "member-main" }, el("span", { class: "member-name", text: isMe ? `${display} (you)` : display }), el("span", { class: "member-id", text: "@" + m.userID })),
            tag,
            remove,
          );
        }),
      );
    }
    $("members-more").hidden = !offset;
    const ownerStuck = role === "Owner" && type && type !== "Private";
    $("leave-btn").hidden = Boolean(ownerStuck);
  }

  async function addMembers(e) {
    e.preventDefault();
    const groupID = state.members.groupID;
    const input = $("add-member-input");
    const ids = splitIDs(input.value);
    if (!groupID || !ids.length) {
      input.focus();
      return;
    }
    const button = e.target.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const res = await chat.addGroupMember({ groupID, userIDList: ids });
      const data = res.data || {};
      const added = data.successUserIDList || [];
      const failed = data.failureUserIDList || [];
      const existed = data.existedUserIDList || [];
      const parts = [];
      if (added.length) parts.push(`Added ${added.join(", ")}.`);
      if (existed.length) parts.push(`${existed.join(", ")} ${existed.length === 1 ? "is" : "are"} already in the group.`);
      if (failed.length) parts.push(`No such user: ${failed.join(", ")}.`);
      toast(parts.join(" ") || "Nobody was added.", { error: Boolean(failed.length && !added.length) });
      if (!failed.length) input.value = "";
      else input.value = failed.join(", ");
      await reloadMembers();
    } catch (error) {
      toast(errorText(error), { error: true });
    } finally {
      button.disabled = false;
    }
  }

  async function removeMember(member) {
    const groupID = state.members.groupID;
    const groupName = (state.members.profile && state.members.profile.name) || groupID;
    const display = member.nick || member.userID;
    const ok = await confirmAction({ title: `Remove ${display}?`, text: `${display} will be removed from ${groupName} and stop getting its messages.`, ok: "Remove" });
    if (!ok) return;
    try {
      await chat.deleteGroupMember({ groupID, userIDList: [member.userID] });
      toast(`${display} was removed.`);
      await reloadMembers();
    } catch (error) {
      toast(errorText(error), { error: true });
    }
  }

  async function leaveGroup() {
    const groupID = state.members.groupID;
    if (!groupID) return;
    const groupName = (state.members.profile && state.members.profile.name) || groupID;
    const ok = await confirmAction({ title: `Leave ${groupName}?`, text: "You'll stop getting its messages. To come back, someone has to add you (or you join again if it's public).", ok: "Leave group" });
    if (!ok) return;
    try {
      await chat.quitGroup(groupID);
      state.groups.delete(groupID);
      toast(`You left ${groupName}.`);
      const conversationID = "GROUP" + groupID;
      closeMembersPanel();
      if (state.current === conversationID) closeConversation();
      state.histories.delete(conversationID);
    } catch (error) {
      toast(errorText(error), { error: true });
    }
  }

  // ---------------------------------------------------------------------------------
  // Conversation menu actions
  // ---------------------------------------------------------------------------------

  async function togglePin() {
    const conv = state.current && findConversation(state.current);
    if (!conv) return;
    closeMenus();
    try {
      await chat.pinConversation({ conversationID: conv.conversationID, isPinned: !conv.isPinned });
    } catch (error) {
      toast(errorText(error), { error: true });
    }
  }

  async function deleteCurrentConversation() {
    const conv = state.current && findConversation(state.current);
    if (!conv) return;
    const ok = await confirmAction({
      title: "Delete this conversation?",
      text: `It disappears from your list. The messages are kept, and it comes back when ${conv.type === "GROUP" ? "someone writes in the group" : conversationTitle(conv) + " writes to you"}.`,
      ok: "Delete",
    });
    if (!ok) return;
    try {
      await chat.deleteConversation(conv.conversationID);
      state.histories.delete(conv.conversationID);
      closeConversation();
    } catch (error) {
      toast(errorText(error), { error: true });
    }
  }

  // ---------------------------------------------------------------------------------
  // Start-up
  // ---------------------------------------------------------------------------------

  function renderMe() {
    const me = state.me;
    fillAvatar($("me-avatar"), { id: me.userID, name: me.nick || me.userID, url: me.avatar });
    $("me-name").textContent = me.nick || me.userID;
    $("me-menu-label").textContent = `Signed in as @${me.userID}`;
  }

  function routeFromHash() {
    const wanted = conversationFromHash();
    if (wanted && wanted !== state.current) openConversation(wanted, { replaceHistory: true });
    else if (!wanted && state.current) {
      if (NARROW.matches) {
        saveDraft();
        leaveConversation();
        state.current = null;
        $("app").dataset.view = "list";
        renderConversationList();
      } else closeConversation();
    }
  }

  async function onReady() {
    state.ready = true;
    try {
      const [convRes, groupRes] = await Promise.all([chat.getConversationList(), chat.getGroupList()]);
      setGroups(groupRes.data.groupList);
      setConversations(convRes.data.conversationList);
    } catch (error) {
      state.conversationsLoaded = true;
      renderConversationList();
      toast(errorText(error, "Your conversations couldn't be loaded."), { error: true });
    }
    chat
      .getMyProfile()
      .then((res) => {
        if (res && res.data) Object.assign(state.me, res.data);
        renderMe();
      })
      .catch(() => {});
    if (typeof chat.getTotalUnreadMessageCount === "function") {
      const total = Number(chat.getTotalUnreadMessageCount());
      if (!Number.isNaN(total)) {
        state.totalUnread = total;
        updateTitle();
      }
    }
    if (!state.current) routeFromHash();
    else {
      const conv = findConversation(state.current);
      if (conv) renderChatHeader(conv);
      markRead(state.current, { force: true });
    }
  }

  function wireUI() {
    $("me-btn").addEventListener("click", (e) => {
      e.stopPropagation();
      toggleMenu($("me-btn"), $("me-menu"));
    });
    $("new-btn").addEventListener("click", (e) => {
      e.stopPropagation();
      toggleMenu($("new-btn"), $("new-menu"));
    });
    $("more-btn").addEventListener("click", (e) => {
      e.stopPropagation();
      toggleMenu($("more-btn"), $("more-menu"));
    });
    document.addEventListener("click", (e) => {
      if (!e.target.closest(".menu")) closeMenus();
      const action = e.target.closest("[data-action]");
      if (!action) return;
      const name = action.dataset.action;
      if (name === "new-chat") openDialog("dlg-new-chat");
      else if (name === "new-group") openDialog("dlg-new-group");
      else if (name === "join-group") openDialog("dlg-join-group");
      else if (name === "pin") togglePin();
      else if (name === "delete") deleteCurrentConversation();
      else if (name === "members") openMembersPanel();
    });
    document.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      if (document.querySelector("dialog[open]")) return; // the dialog closes itself
      if (document.querySelector(".menu:not([hidden])")) {
        closeMenus();
        return;
      }
      if (!$("members-panel").hidden) {
        closeMembersPanel();
        return;
      }
      if (NARROW.matches && $("app").dataset.view === "chat") goBack();
    });

    $("conv-filter").addEventListener("input", (e) => {
      state.filter = e.target.value;
      renderConversationList();
    });
    $("conv-filter").addEventListener("keydown", (e) => {
      if (e.key === "Enter") {
        const first = $("conv-list").querySelector(".conv");
        if (first) openConversation(first.dataset.conversationId, { fromList: true, focus: true });
      }
    });

    $("back-btn").addEventListener("click", goBack);
    $("members-btn").addEventListener("click", () => ($("members-panel").hidden ? openMembersPanel() : closeMembersPanel()));
    $("chat-title").addEventListener("click", () => {
      const conv = state.current && findConversation(state.current);
      if (conv && conv.type === "GROUP") openMembersPanel();
    });
    $("members-close").addEventListener("click", closeMembersPanel);
    $("members-more").addEventListener("click", loadMoreMembers);
    $("add-member-form").addEventListener("submit", addMembers);
    $("leave-btn").addEventListener("click", leaveGroup);
    $("group-id-copy").addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(state.members.groupID || "");
        toast("Group ID copied.");
      } catch (_) {
        toast("Couldn't copy. Select the ID and copy it by hand.", { error: true });
      }
    });

    $("messages").addEventListener("scroll", onMessagesScroll, { passive: true });
    $("jump-btn").addEventListener("click", () => scrollToBottom(true));
    const input = $("composer-input");
    input.addEventListener("input", onComposerInput);
    input.addEventListener("keydown", onComposerKeydown);
    input.addEventListener("paste", onComposerPaste);
    $("attach-btn").addEventListener("click", () => $("file-input").click());
    $("file-input").addEventListener("change", (e) => {
      const files = Array.from(e.target.files || []);
      e.target.value = "";
      sendFiles(state.current, files);
    });
    wireDropZone();
    wireMessageMenu();
    $("composer").addEventListener("submit", (e) => {
      e.preventDefault();
      submitComposer();
      input.focus();
    });

    wireDialog("dlg-new-chat", submitNewChat);
    wireDialog("dlg-new-group", submitNewGroup);
    wireDialog("dlg-join-group", submitJoinGroup);
    for (const button of $("dlg-confirm").querySelectorAll("[data-close]")) button.addEventListener("click", () => $("dlg-confirm").close());
    $("new-group-members").addEventListener("keydown", onChipsKeydown);
    $("new-group-chips").addEventListener("click", (e) => {
      if (e.target === $("new-group-chips")) $("new-group-members").focus();
    });

    document.addEventListener("visibilitychange", onVisibilityChange);
    window.addEventListener("focus", onVisibilityChange);
    window.addEventListener("popstate", routeFromHash);
    NARROW.addEventListener("change", () => {
      if (!NARROW.matches && state.current) $("app").dataset.view = "chat";
    });
  }

  function goBack() {
    if (window.history.state && window.history.state.pushed && NARROW.matches) {
      window.history.back();
      return;
    }
    saveDraft();
    leaveConversation();
    state.current = null;
    $("app").dataset.view = "list";
    setHash(null, { push: false });
    renderConversationList();
  }

  function start() {
    wireUI();
    state.me.userID = window.CHAT_USER_ID || "";
    renderMe();
    renderConversationList();
    const SDK = window.TIM || window.TencentCloudChat;
    if (!SDK) {
      showBlocker("Chat couldn't start", "The chat library didn't load. Check your connection and reload the page.");
      $("blocker-action").textContent = "Reload";
      $("blocker-action").setAttribute("href", window.location.pathname);
      return;
    }
    TYPES = SDK.TYPES || {};
    EVENT = SDK.EVENT || {};
    chat = SDK.create({ SDKAppID: 0 });
    // The SDK docs' examples use `chat` (v3) or `tim` (v2): both work in the console.
    window.chat = window.tim = chat;

    chat.on(EVENT.SDK_READY, onReady);
    chat.on(EVENT.SDK_NOT_READY, () => {
      state.ready = false;
    });
    chat.on(EVENT.MESSAGE_RECEIVED, onMessageReceived);
    chat.on(EVENT.MESSAGE_READ_BY_PEER, onMessageReadByPeer);
    chat.on(EVENT.CONVERSATION_LIST_UPDATED, (event) => setConversations(event.data));
    chat.on(EVENT.TOTAL_UNREAD_MESSAGE_COUNT_UPDATED, (event) => {
      state.totalUnread = Number(event.data) || 0;
      updateTitle();
    });
    chat.on(EVENT.GROUP_LIST_UPDATED, onGroupListUpdated);
    chat.on(EVENT.NET_STATE_CHANGE, onNetStateChange);
    chat.on(EVENT.KICKED_OUT, onKickedOut);
    chat.on(EVENT.ERROR, (event) => {
      const data = event.data || {};
      toast(errorText(data, "Something went wrong with the connection."), { error: true });
    });
    if (EVENT.MESSAGE_REVOKED) {
      chat.on(EVENT.MESSAGE_REVOKED, (event) => {
        for (const m of event.data || []) {
          const h = state.histories.get(m.conversationID);
          const known = h && h.byID.get(m.ID);
          if (known) known.isRevoked = true;
        }
        if (state.current) renderMessages({ scroll: "auto" });
      });
    }

    // Show "Connecting…" only if it takes a moment, so a fast start doesn't flash the bar.
    setTimeout(() => {
      if (!state.ready && !state.netState) onNetStateChange({ data: { state: TYPES.NET_STATE_CONNECTING } });
    }, 800);

    chat.login({ userID: window.CHAT_USER_ID }).catch((error) => {
      showBlocker("Couldn't sign in to chat", errorText(error, "The chat server refused the connection.") + " Reload the page to try again.");
      $("blocker-action").textContent = "Reload";
      $("blocker-action").setAttribute("href", window.location.pathname + window.location.hash);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
