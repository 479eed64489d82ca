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
 * - Emoji are text codes ("[微笑]", the seed docs' emojiMap names) drawn as
 *   images with the docs' parseText; the set is static/chat/emoji/emoji.json.
 *   Stickers are face messages {index, data: sticker name}
 *   (static/chat/stickers/stickers.json); a face is drawn by its name, else by
 *   its index, so the docs' example (index 1, data "tt00") shows sticker 1.
 * - An image bubble is the thumbnail (type 1) at its own size; a click opens the
 *   720 px one (type 2) with a link to the original (type 0).
 * - @mentions are picked from the member list; a message carries atUserList only
 *   for picks whose "@Name" is still in the text when it is sent.
 * - Forwarding and merging take stored messages only (no group tips, nothing
 *   recalled or unsent). Messages this tab sends go straight into the target's
 *   history, since the SDK does not echo them back.
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
    more: [
      ["circle", { cx: "5.5", cy: "12", r: "1.7", fill: "currentColor" }],
      ["circle", { cx: "12", cy: "12", r: "1.7", fill: "currentColor" }],
      ["circle", { cx: "18.5", cy: "12", r: "1.7", fill: "currentColor" }],
    ],
    play: [["path", { d: "M8 5.5v13l10.5-6.5z", fill: "currentColor", stroke: "currentColor", "stroke-width": "1.5", "stroke-linejoin": "round" }]],
    pause: [["path", { d: "M8 5.5v13M16 5.5v13", stroke: "currentColor", "stroke-width": "3.4", "stroke-linecap": "round" }]],
    download: [["path", { d: "M12 4v11M7 10l5 5 5-5M5 20h14", fill: "none", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round", "stroke-linejoin": "round" }]],
    forward: [["path", { d: "M13 5l7 7-7 7M20 12H9a5 5 0 0 0-5 5v2", fill: "none", stroke: "currentColor", "stroke-width": "1.8", "stroke-linecap": "round", "stroke-linejoin": "round" }]],
    select: [
      ["circle", { cx: "12", cy: "12", r: "8.5", fill: "none", stroke: "currentColor", "stroke-width": "1.7" }],
      ["path", { d: "M8.3 12.3l2.6 2.5 4.9-5.3", fill: "none", stroke: "currentColor", "stroke-width": "1.8", "stroke-linecap": "round", "stroke-linejoin": "round" }],
    ],
    copy: [
      ["rect", { x: "8.5", y: "8.5", width: "11", height: "11", rx: "2", fill: "none", stroke: "currentColor", "stroke-width": "1.7" }],
      ["path", { d: "M15.5 5.5v-.5a1.5 1.5 0 0 0-1.5-1.5H6A1.5 1.5 0 0 0 4.5 5v8A1.5 1.5 0 0 0 6 14.5h.5", fill: "none", stroke: "currentColor", "stroke-width": "1.7" }],
    ],
    recall: [["path", { d: "M9 14L4.5 9.5 9 5M4.5 9.5H15a4.5 4.5 0 0 1 0 9h-3", fill: "none", stroke: "currentColor", "stroke-width": "1.8", "stroke-linecap": "round", "stroke-linejoin": "round" }]],
    mappin: [
      ["path", { d: "M12 22s-7-6.6-7-12a7 7 0 0 1 14 0c0 5.4-7 12-7 12z", fill: "currentColor" }],
      ["circle", { cx: "12", cy: "10", r: "2.8", fill: "#fff" }],
    ],
    history: [
      ["path", { d: "M5 5h14v10H9l-4 4z", fill: "none", stroke: "currentColor", "stroke-width": "1.8", "stroke-linejoin": "round" }],
      ["path", { d: "M9 9h6M9 12h4", stroke: "currentColor", "stroke-width": "1.8", "stroke-linecap": "round" }],
    ],
    puzzle: [["path", { d: "M10 4.5a2 2 0 0 1 4 0V6h4v4h-1.5a2 2 0 0 0 0 4H18v4h-4v-1.5a2 2 0 0 0-4 0V18H6v-4h1.5a2 2 0 0 0 0-4H6V6h4z", fill: "none", stroke: "currentColor", "stroke-width": "1.7", "stroke-linejoin": "round" }]],
    image: [
      ["rect", { x: "3.5", y: "5", width: "17", height: "14", rx: "2.5", fill: "none", stroke: "currentColor", "stroke-width": "1.7" }],
      ["path", { d: "M4 17l5-4.5 3.5 3 3-2.5 4.5 4", fill: "none", stroke: "currentColor", "stroke-width": "1.7", "stroke-linejoin": "round" }],
    ],
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
    names: new Map(), // userID -> the name the UI last saw for them (nick, or a group name card)
    memberCache: new Map(), // groupID -> {list, at}: members for @-mentions
    mentions: new Map(), // conversationID -> [{userID, label}] picked in the composer
    select: { active: false, ids: new Set() },
    assetsVersion: 0,
  };

  let chat = null;
  let TYPES = {};
  let EVENT = {};

  // ---------------------------------------------------------------------------------
  // Names: what to call a user ID, from everything the UI has seen
  // ---------------------------------------------------------------------------------

  function rememberName(userID, name) {
    if (userID && name && name !== userID) state.names.set(userID, name);
  }

  function rememberMembers(list) {
    for (const m of list || []) rememberName(m.userID, m.nameCard || m.nick);
  }

  function displayName(userID) {
    if (!userID) return "";
    if (userID === state.me.userID && state.me.nick) return state.me.nick;
    return state.names.get(userID) || userID;
  }

  /** "Alice", "You"/"you" for me. */
  function personName(userID, { subject = true } = {}) {
    if (userID && userID === state.me.userID) return subject ? "You" : "you";
    return displayName(userID);
  }

  function listNames(names) {
    if (names.length <= 1) return names.join("");
    if (names.length === 2) return `${names[0]} and ${names[1]}`;
    if (names.length <= 4) return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
    return `${names.slice(0, 3).join(", ")} and ${names.length - 3} others`;
  }

  function senderName(m) {
    if (m.from === state.me.userID) return state.me.nick || m.nick || m.from;
    return m.nameCard || m.nick || displayName(m.from);
  }

  /**
   * A group tip in words, with the nicknames the tip and the member lists give
   * (never a bare user ID when a name is known); the server's messageForShow otherwise.
   */
  function tipText(m) {
    const p = m.payload || {};
    for (const member of p.memberList || []) rememberName(member.userID, member.nick);
    if (p.operatorInfo) rememberName(p.operatorInfo.userID || p.operatorID, p.operatorInfo.nick);
    const ids = Array.isArray(p.userIDList) ? p.userIDList : [];
    const op = p.operatorID || "";
    const first = (id, i) => personName(id, { subject: i === 0 });
    const users = listNames(ids.map((id, i) => first(id, i)));
    const objects = listNames(ids.map((id) => personName(id, { subject: false })));
    const operator = personName(op);
    const plural = ids.length > 1 || (ids.length === 1 && ids[0] === state.me.userID);
    switch (p.operationType) {
      case 1:
        if (!ids.length) break;
        if (p.groupJoinType === 2 && op && !ids.includes(op)) return `${operator} added ${objects}`;
        return `${users} joined the group`;
      case 2:
        if (ids.length) return `${users} left the group`;
        break;
      case 3:
        if (ids.length) return op ? `${operator} removed ${objects}` : `${users} ${plural ? "were" : "was"} removed`;
        break;
      case 4:
        if (ids.length) return `${operator} made ${objects} ${ids.length > 1 ? "admins" : "an admin"}`;
        break;
      case 5:
        if (ids.length) return `${users} ${plural ? "are" : "is"} no longer ${ids.length > 1 ? "admins" : "an admin"}`;
        break;
      case 6: {
        const profile = p.newGroupProfile || {};
        if (typeof profile.name === "string" && profile.name) return `${operator} renamed the group to “${profile.name}”`;
        if (typeof profile.notification === "string") return `${operator} updated the group notice`;
        if (typeof profile.ownerID === "string" && profile.ownerID) return `${personName(profile.ownerID)} ${profile.ownerID === state.me.userID ? "are" : "is"} now the owner`;
        if (op) return `${operator} updated the group info`;
        break;
      }
      case 7: {
        const muted = (p.memberList || []).filter((x) => typeof x.muteTime === "number");
        if (muted.length === 1) {
          const who = personName(muted[0].userID, { subject: false });
          return muted[0].muteTime > 0 ? `${operator} muted ${who} for ${formatSpan(muted[0].muteTime)}` : `${operator} unmuted ${who}`;
        }
        break;
      }
      default:
        break;
    }
    return m.messageForShow || "Group updated";
  }

  function formatSpan(seconds) {
    const s = Math.round(Number(seconds) || 0);
    if (s < 90) return `${s} seconds`;
    if (s < 5400) return `${Math.round(s / 60)} minutes`;
    if (s < 129600) return `${Math.round(s / 3600)} hours`;
    return `${Math.round(s / 86400)} days`;
  }

  // ---------------------------------------------------------------------------------
  // Emoji ([微笑] codes in text) and stickers (face messages)
  // ---------------------------------------------------------------------------------

  const assets = {
    base: "/static/chat/",
    emojiUrl: "/static/chat/emoji/",
    emojiMap: Object.create(null), // "[微笑]" -> "emoji_0.svg": the seed's emojiMap
    emojiLabels: Object.create(null),
    emojiList: [],
    stickerUrl: "/static/chat/stickers/",
    stickers: [],
    stickerByName: new Map(),
    stickerByIndex: new Map(),
  };

  /** static/chat/emoji/emoji.json and static/chat/stickers/stickers.json; the UI works (with codes as text) without them. */
  async function loadAssets() {
    assets.base = $("app").dataset.static || "/static/chat/";
    assets.emojiUrl = assets.base + "emoji/";
    assets.stickerUrl = assets.base + "stickers/";
    const get = (url) => fetch(url, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))));
    const [emojiRes, stickerRes] = await Promise.allSettled([get(assets.emojiUrl + "emoji.json"), get(assets.stickerUrl + "stickers.json")]);
    if (emojiRes.status === "fulfilled" && Array.isArray(emojiRes.value)) {
      for (const e of emojiRes.value) {
        if (typeof e.code !== "string" || typeof e.file !== "string") continue;
        assets.emojiMap[e.code] = e.file;
        assets.emojiLabels[e.code] = e.label || e.code;
        assets.emojiList.push(e);
      }
    }
    if (stickerRes.status === "fulfilled" && stickerRes.value && Array.isArray(stickerRes.value.stickers)) {
      for (const st of stickerRes.value.stickers) {
        if (typeof st.name !== "string" || typeof st.file !== "string") continue;
        assets.stickers.push(st);
        assets.stickerByName.set(st.name, st);
        if (Number.isInteger(st.index)) assets.stickerByIndex.set(st.index, st);
      }
    }
    state.assetsVersion += 1;
    renderPicker();
    if (state.current) renderMessages({ scroll: "auto" });
    if (state.conversationsLoaded) renderConversationList();
  }

  /**
   * The seed's parseText (shared/spec S0, "解析文本消息"), unchanged in its logic:
   * [{name: "text", text}, {name: "img", src}] for a text payload. The caller turns
   * it into text nodes and <img> elements, never HTML.
   */
  function parseText(payload) {
    const emojiMap = assets.emojiMap;
    const emojiUrl = assets.emojiUrl;
    const renderDom = [];
    let temp = String((payload && payload.text) || "");
    let left = -1;
    let right = -1;
    while (temp !== "") {
      left = temp.indexOf("[");
      right = temp.indexOf("]");
      switch (left) {
        case 0:
          if (right === -1) {
            renderDom.push({ name: "text", text: temp });
            temp = "";
          } else {
            const _emoji = temp.slice(0, right + 1);
            if (emojiMap[_emoji]) {
              renderDom.push({ name: "img", src: emojiUrl + emojiMap[_emoji], code: _emoji });
              temp = temp.substring(right + 1);
            } else {
              renderDom.push({ name: "text", text: "[" });
              temp = temp.slice(1);
            }
          }
          break;
        case -1:
          renderDom.push({ name: "text", text: temp });
          temp = "";
          break;
        default:
          renderDom.push({ name: "text", text: temp.slice(0, left) });
          temp = temp.substring(left);
          break;
      }
    }
    return renderDom;
  }

  function emojiImage(part, className = "emoji") {
    const img = el("img", { class: className, alt: part.code || "", title: assets.emojiLabels[part.code] || part.code || "", draggable: "false", decoding: "async" });
    img.src = part.src;
    return img;
  }

  /** Text with emoji codes as images and @mentions marked: text nodes and elements only. */
  function richText(text, rules) {
    const nodes = [];
    let buffer = "";
    const flush = () => {
      if (buffer) nodes.push(...mentionNodes(buffer, rules));
      buffer = "";
    };
    for (const part of parseText({ text })) {
      if (part.name === "img") {
        flush();
        nodes.push(emojiImage(part));
      } else buffer += part.text;
    }
    flush();
    return nodes;
  }

  /** A text of one to three emoji and nothing else: shown big, without a bubble. */
  function jumboEmoji(text) {
    const parts = parseText({ text });
    const images = parts.filter((p) => p.name === "img");
    const rest = parts.every((p) => p.name === "img" || !p.text.trim());
    return images.length >= 1 && images.length <= 3 && rest ? images : null;
  }

  function stickerFor(payload) {
    const p = payload || {};
    return assets.stickerByName.get(String(p.data || "")) || assets.stickerByIndex.get(Number(p.index)) || null;
  }

  // ---------------------------------------------------------------------------------
  // @mentions: rules to mark them in text, and whether a message mentions me
  // ---------------------------------------------------------------------------------

  const AT_ALL_WORDS = ["Everyone", "everyone", "all", "All", "所有人"];

  function atList(m) {
    const list = (m && (m.atUserList && m.atUserList.length ? m.atUserList : m.payload && m.payload.atUserList)) || [];
    return Array.isArray(list) ? list : [];
  }

  function mentionsMe(m) {
    if (!m || m.from === state.me.userID) return false;
    const list = atList(m);
    return list.includes(state.me.userID) || list.includes(TYPES.MSG_AT_ALL);
  }

  /** [{token: "@Bob", me}] for the users a message @-mentions, longest first. */
  function mentionRules(m) {
    const rules = [];
    const mine = m.from === state.me.userID; // my own mentions are marked, not highlighted as "me"
    for (const id of atList(m)) {
      if (id === TYPES.MSG_AT_ALL) {
        for (const word of AT_ALL_WORDS) rules.push({ token: "@" + word, me: !mine });
        continue;
      }
      const me = id === state.me.userID && !mine;
      const names = new Set([id, displayName(id)]);
      if (me && state.me.nick) names.add(state.me.nick);
      for (const name of names) if (name) rules.push({ token: "@" + name, me });
    }
    return rules.sort((a, b) => b.token.length - a.token.length);
  }

  function mentionNodes(text, rules) {
    if (!rules || !rules.length) return [text];
    const escaped = rules.map((r) => r.token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    const pattern = new RegExp(`(${escaped.join("|")})`, "g");
    const nodes = [];
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      const rule = rules.find((r) => r.token === match[0]);
      if (match.index > last) nodes.push(text.slice(last, match.index));
      nodes.push(el("span", { class: "mention" + (rule && rule.me ? " is-me" : ""), "data-testid": "mention", text: match[0] }));
      last = match.index + match[0].length;
    }
    if (last < text.length) nodes.push(text.slice(last));
    return nodes;
  }

  /** A group's members for the @ list; fetched again after a minute. */
  async function groupMembers(groupID) {
    const cached = state.memberCache.get(groupID);
    if (cached && Date.now() - cached.at < 60000) return cached.list;
    let list = [];
    let offset = 0;
    for (let page = 0; page < 5; page++) {
      const res = await chat.getGroupMemberList({ groupID, count: 100, offset });
      list = list.concat((res.data && res.data.memberList) || []);
      offset = (res.data && res.data.offset) || 0;
      if (!offset) break;
    }
    rememberMembers(list);
    state.memberCache.set(groupID, { list, at: Date.now() });
    return list;
  }

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

  /** "[@me]" / "[@all]" while the group has unread mentions (groupAtInfoList), as WeChat shows it. */
  function atFlag(conv) {
    const infos = conv.type === "GROUP" && Array.isArray(conv.groupAtInfoList) ? conv.groupAtInfoList : [];
    if (!infos.length) return null;
    if (conv.conversationID === state.current && chatIsShowing(conv.conversationID)) return null;
    const me = infos.some((i) => i.atType === TYPES.CONV_AT_ME || i.atType === TYPES.CONV_AT_ALL_AT_ME || i.atType === 1 || i.atType === 3);
    return el("span", { class: "at-flag", "data-testid": "at-flag", text: me ? "[@me] " : "[@all] " });
  }

  function previewNodes(conv) {
    const nodes = [];
    const flag = atFlag(conv);
    if (flag) nodes.push(flag);
    const draft = state.current !== conv.conversationID && state.drafts.get(conv.conversationID);
    if (draft) {
      nodes.push(el("span", { class: "draft", text: "Draft: " }), ...richText(draft.replace(/\s+/g, " ")));
      return nodes;
    }
    const last = conv.lastMessage || {};
    if (!last.messageForShow && !last.lastTime) {
      nodes.push("No messages yet");
      return nodes;
    }
    if (last.isRevoked) {
      nodes.push(last.fromAccount === state.me.userID ? "You recalled a message" : `${last.nick || displayName(last.fromAccount) || "Someone"} recalled a message`);
      return nodes;
    }
    const mine = last.fromAccount === state.me.userID;
    const isTip = last.type === "TIMGroupTipElem";
    if (conv.type === "C2C" && mine) {
      const read = Boolean(last.isPeerRead);
      nodes.push(icon(read ? "checks" : "check", "tick" + (read ? " is-read" : "")));
    } else if (conv.type === "GROUP" && !isTip && last.fromAccount) {
      nodes.push(el("span", { class: "who", text: (mine ? "You" : last.nick || displayName(last.fromAccount)) + ": " }));
    }
    if (isTip) nodes.push(tipText({ payload: last.payload, messageForShow: last.messageForShow }));
    else if (last.type === "TIMTextElem") nodes.push(...richText(String(last.messageForShow || "").replace(/\s+/g, " ")));
    else nodes.push(previewLabel(last));
    return nodes;
  }

  /** "[Image]", "[File] report.pdf" and the like (WeChat's style, with the detail that helps). */
  function previewLabel(m) {
    const p = m.payload || {};
    const withDetail = (label, detail) => (detail ? `${label} ${detail}` : label);
    switch (m.type) {
      case "TIMImageElem":
        return "[Image]";
      case "TIMVideoFileElem":
        return withDetail("[Video]", p.videoSecond ? formatDuration(p.videoSecond) : "");
      case "TIMSoundElem":
        return withDetail("[Voice]", p.second ? formatDuration(p.second) : "");
      case "TIMFileElem":
        return withDetail("[File]", p.fileName);
      case "TIMLocationElem":
        return withDetail("[Location]", p.description);
      case "TIMFaceElem": {
        const sticker = stickerFor(p);
        return withDetail("[Sticker]", sticker && sticker.label);
      }
      case "TIMRelayElem":
        return withDetail("[Chat history]", p.title);
      case "TIMCustomElem":
        if (isDice(p)) return `[Dice] ${p.description}`;
        return p.description ? String(p.description) : "[Custom message]";
      default:
        return String(m.messageForShow || "").replace(/\s+/g, " ");
    }
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
    for (const conv of state.conversations) {
      if (conv.userProfile) rememberName(conv.userProfile.userID, conv.userProfile.nick);
      if (conv.lastMessage) rememberName(conv.lastMessage.fromAccount, conv.lastMessage.nick);
    }
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
    exitSelect();
    closeComposerPops();
    if (recording.media) stopRecording(false);
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
    if (notice) exitSelect();
    updateSelectBar();
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
        nodes.push(el("div", { class: "group-tip", "data-testid": "group-tip", "data-message-id": m.ID, text: tipText(m) }));
        prev = null;
        continue;
      }
      const first = breakRun || !prev || prev.from !== m.from || prev.flow !== m.flow || (m.time || 0) - (prev.time || 0) > GROUP_RUN_SECONDS;
      if (first) endRun();
      prevRow = cachedRow(h, m, { group, first, showReceipt: !group && m.ID === lastOutID, error: h.errors.get(m.ID), selecting: state.select.active });
      markSelected(prevRow, m);
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
    const sig = [
      m.status, m.isPeerRead ? 1 : 0, m.isRevoked ? 1 : 0, m.sequence || 0, m.time || 0, m.nick || "", m.avatar || "",
      options.group ? 1 : 0, options.first ? 1 : 0, options.showReceipt ? 1 : 0, options.error || "", options.selecting ? 1 : 0, state.assetsVersion,
    ].join("|");
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

  function markSelected(row, m) {
    if (!state.select.active) return;
    const on = state.select.ids.has(m.ID);
    row.classList.toggle("is-selected", on);
    const box = row.querySelector(".msg-check");
    if (box) box.checked = on;
  }

  function messageRow(m, { group, first, showReceipt, error, selecting }) {
    rememberName(m.from, m.nameCard || m.nick);
    const out = m.flow === "out";
    const pending = m.status === "unSend";
    const failed = m.status === "fail";
    const name = m.nameCard || m.nick || displayName(m.from);
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
        class: "bubble" + (body.kind === "media" ? " is-media" : body.kind === "card" ? " is-card" : body.kind === "sticker" ? " is-sticker" : "") + (!out && mentionsMe(m) ? " mentions-me" : ""),
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

    const row = el("div", {
      class: `msg-row ${out ? "out" : "in"}` + (first ? " is-first" : "") + (pending ? " is-pending" : "") + (failed ? " is-failed" : "") + (selecting ? " is-selecting" : ""),
      "data-row-id": m.ID,
    });
    if (selecting) {
      row.append(
        isSelectable(m)
          ? el("input", { type: "checkbox", class: "msg-check", "aria-label": "Select this message", "data-testid": "message-checkbox" })
          : el("span", { class: "msg-check-gap" }),
      );
    }
    if (group && !out) row.append(first ? avatar("sm", { id: m.from, name, url: m.avatar }) : el("span", { class: "msg-avatar-gap" }));
    row.append(col);
    if (!selecting && !m.isRevoked) {
      const more = el("button", { type: "button", class: "msg-more", "aria-label": "Message actions", title: "More", "data-testid": "message-actions" }, icon("more"));
      more.addEventListener("click", (e) => {
        e.stopPropagation();
        const rect = more.getBoundingClientRect();
        openMessageMenu(m, rect.left, rect.bottom + 4);
      });
      row.append(more);
    }
    return row;
  }

  // ---------------------------------------------------------------------------------
  // Message bodies: text, images, video, voice, files, locations, stickers, custom, history
  // ---------------------------------------------------------------------------------

  // An image bubble shows the thumbnail (type 1, 198 px on its longest side) at its own
  // size, so at 1x the browser uses the thumbnail; srcset lets a 2x screen take the 720 one.
  const IMAGE_BOX = 198;
  const VIDEO_MAX_W = 280;
  const VIDEO_MAX_H = 300;
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

  /**
   * A box of the media's real aspect ratio, reserved before it loads. Pictures are
   * never blown up past their size; panoramas beyond 3:1 are cropped to 3:1.
   */
  function mediaBox(node, width, height, maxW, maxH) {
    const w = Number(width) || 0;
    const h = Number(height) || 0;
    if (!(w > 0 && h > 0)) {
      node.style.width = Math.min(maxW, 240) + "px";
      node.style.aspectRatio = "4 / 3";
      return node;
    }
    const ratio = Math.min(3, Math.max(1 / 3, w / h));
    const exact = Math.abs(ratio - w / h) < 1e-9;
    const boxW = Math.min(w, maxW, maxH * ratio);
    node.style.width = Math.max(64, Math.round(boxW)) + "px";
    node.style.aspectRatio = exact ? `${w} / ${h}` : String(ratio);
    return node;
  }

  function progressFraction(m) {
    return Math.max(0, Math.min(1, Number(m.progress) || 0));
  }

  function isUploading(m) {
    return m.status === "unSend" && m.flow === "out";
  }

  function uploadProgress(m) {
    if (!isUploading(m)) return null;
    const pct = Math.round(progressFraction(m) * 100);
    return el(
      "div",
      { class: "upload-progress", role: "progressbar", "aria-label": "Uploading", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(pct), "data-testid": "upload-progress" },
      el("span", { class: "upload-bar", style: `width: ${pct}%` }),
    );
  }

  /** Move a bubble's progress bar (and its label) without redrawing the conversation. */
  function showUploadProgress(messageID, fraction) {
    const bubble = document.querySelector(`.bubble[data-message-id="${CSS.escape(messageID)}"]`);
    if (!bubble) return;
    const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
    const bar = bubble.querySelector(".upload-progress");
    if (bar) {
      bar.setAttribute("aria-valuenow", String(pct));
      bar.firstChild.style.width = pct + "%";
    }
    const label = bubble.querySelector("[data-upload-label]");
    if (label) label.textContent = uploadLabel(pct, Number(label.dataset.uploadLabel) || 0);
  }

  function uploadLabel(pct, size) {
    return size ? `Uploading… ${pct}% of ${formatBytes(size)}` : `Uploading… ${pct}%`;
  }

  function fileExtension(name) {
    const match = /\.([A-Za-z0-9]{1,5})$/.exec(String(name || ""));
    return match ? match[1].toLowerCase() : "";
  }

  const FILE_KINDS = [
    [/^pdf$/, "PDF document", "#e5484d"],
    [/^(docx?|odt|rtf|pages)$/, "Document", "#3a66db"],
    [/^(xlsx?|ods|csv|tsv|numbers)$/, "Spreadsheet", "#2f9e5b"],
    [/^(pptx?|odp|key)$/, "Presentation", "#e8762c"],
    [/^(zip|rar|7z|gz|tgz|bz2|xz|tar)$/, "Archive", "#8e6cf0"],
    [/^(png|jpe?g|gif|webp|bmp|svg|heic|tiff?)$/, "Image", "#12a1a1"],
    [/^(mp3|wav|m4a|ogg|oga|flac|aac|opus|amr)$/, "Audio", "#d6409f"],
    [/^(mp4|mov|mkv|avi|webm|m4v)$/, "Video", "#c2410c"],
    [/^(txt|md|log|json|xml|ya?ml|ini|toml)$/, "Text", "#5f6b7d"],
    [/^(py|js|ts|go|rs|java|c|h|cpp|rb|php|sh|html|css|sql)$/, "Code", "#0f766e"],
  ];

  function fileKind(name) {
    const ext = fileExtension(name);
    const found = FILE_KINDS.find(([re]) => re.test(ext));
    return { ext: ext ? ext.toUpperCase() : "FILE", label: found ? found[1] : ext ? `${ext.toUpperCase()} file` : "File", color: found ? found[2] : "#6f7787" };
  }

  /**
   * A file name as two spans: the head (cut with an ellipsis by CSS when space runs
   * out) and the tail (the last characters and the extension, always shown).
   */
  function fileNameNodes(name) {
    const chars = Array.from(String(name || "File"));
    const ext = fileExtension(name);
    let cut = chars.length > 20 ? chars.length - Math.max(ext.length + 8, 12) : chars.length;
    // Start the tail at a word if one starts just before the cut: "…board, v3.pdf", not "…oard, v3.pdf".
    for (let i = cut; i > Math.max(0, cut - 8) && cut < chars.length; i--) {
      if (/[\s_\-—–]/.test(chars[i - 1])) {
        cut = i;
        break;
      }
    }
    return [el("span", { class: "file-name-head", text: chars.slice(0, cut).join("") }), cut < chars.length ? el("span", { class: "file-name-tail", text: chars.slice(cut).join("") }) : null];
  }

  function textBody(m) {
    const text = (m.payload && m.payload.text) || "";
    const jumbo = jumboEmoji(text);
    if (jumbo) return { node: el("span", { class: "msg-text jumbo", "data-testid": "jumbo-emoji" }, jumbo.map((part) => emojiImage(part, "emoji emoji-jumbo"))), kind: "sticker" };
    return { node: el("span", { class: "msg-text" }, richText(text, mentionRules(m))), kind: "text" };
  }

  function imageInfos(m) {
    const infos = (m.payload && m.payload.imageInfoArray) || [];
    const byType = (t) => infos.find((i) => i && i.type === t) || null;
    const original = byType(0) || infos[0] || {};
    return { original, thumb: byType(1) || original, large: byType(2) || original };
  }

  function imageBody(m) {
    const { original, thumb, large } = imageInfos(m);
    const local = localSizes.get(m.ID) || {};
    const width = original.width || large.width || thumb.width || local.width;
    const height = original.height || large.height || thumb.height || local.height;
    const frame = mediaBox(el("button", { type: "button", class: "media-frame", "aria-label": "Open the image", "data-testid": "image-thumb" }), width, height, IMAGE_BOX, IMAGE_BOX);
    const src = safeUrl(thumb.url) || safeUrl(large.url) || safeUrl(original.url);
    if (src) {
      const img = el("img", { alt: "", decoding: "async", "data-testid": "image-thumb-img" });
      const bigger = safeUrl(large.url);
      if (bigger && bigger !== src && thumb.width && large.width > thumb.width) {
        img.srcset = `${src} ${thumb.width}w, ${bigger} ${large.width}w`;
        img.sizes = frame.style.width;
      }
      img.addEventListener("error", () => frame.classList.add("is-broken"), { once: true });
      img.src = src;
      frame.append(img);
    }
    frame.append(el("span", { class: "media-broken", "aria-hidden": "true" }, icon("image"), "Image unavailable"));
    frame.addEventListener("click", () => openLightbox(m));
    const progress = uploadProgress(m);
    if (progress) frame.append(progress);
    return { node: frame, kind: "media" };
  }

  function videoBody(m) {
    const p = m.payload || {};
    const frame = mediaBox(el("div", { class: "media-frame video-frame", "data-testid": "video-player" }), p.snapshotWidth, p.snapshotHeight, VIDEO_MAX_W, VIDEO_MAX_H);
    const src = safeUrl(p.videoUrl);
    const poster = safeUrl(p.snapshotUrl);
    const duration = el("span", { class: "video-duration", "data-testid": "video-duration", text: p.videoSecond ? formatDuration(p.videoSecond) : "Video" });
    if (src) {
      // No poster (a local preview): let the browser show the first frame.
      const video = el("video", { preload: poster && p.videoSecond ? "none" : "metadata", playsinline: true });
      if (poster) video.poster = poster;
      video.src = src;
      video.addEventListener("loadedmetadata", () => {
        if (!p.videoSecond && Number.isFinite(video.duration)) duration.textContent = formatDuration(video.duration);
      });
      const play = el("button", { type: "button", class: "video-play", "aria-label": "Play the video", "data-testid": "video-play" }, el("span", { class: "play-disc" }, icon("play")), duration);
      play.addEventListener("click", () => {
        if (state.select.active) return;
        frame.classList.add("is-playing");
        video.controls = true;
        video.play().catch(() => {});
      });
      frame.append(video, play);
    } else frame.append(duration);
    const progress = uploadProgress(m);
    if (progress) frame.append(progress);
    return { node: frame, kind: "media" };
  }

  let playingVoice = null;

  /** Bars of a voice message's "waveform": drawn from its ID, so they stay the same. */
  function voiceBars(seed, count) {
    let h = hueFor(seed) + 7;
    const bars = [];
    for (let i = 0; i < count; i++) {
      h = (h * 1103515245 + 12345) >>> 0;
      const wave = 0.55 + 0.45 * Math.sin((i / count) * Math.PI);
      bars.push(Math.max(0.18, Math.min(1, wave * (0.35 + ((h >>> 8) % 1000) / 1540))));
    }
    return bars;
  }

  function audioBody(m) {
    const p = m.payload || {};
    const src = safeUrl(p.url);
    const seconds = Number(p.second) || 0;
    const count = Math.round(Math.min(36, Math.max(16, 14 + seconds * 1.2)));
    const wave = el("span", { class: "voice-wave", "aria-hidden": "true" }, voiceBars(m.ID || p.uuid || "", count).map((v) => el("span", { class: "voice-bar", style: `height: ${Math.round(v * 100)}%` })));
    const time = el("span", { class: "voice-time", "data-testid": "voice-duration", text: formatDuration(seconds) });
    const button = el("button", { type: "button", class: "voice-play", "aria-label": `Play voice message, ${formatDuration(seconds)}`, "data-testid": "voice-play", disabled: !src }, icon("play"));
    const player = el("div", { class: "voice", "data-testid": "voice-player" }, button, el("span", { class: "voice-main" }, wave, time));
    if (src) {
      const audio = el("audio", { preload: "none" });
      audio.src = src;
      const bars = Array.from(wave.children);
      const paint = () => {
        const total = Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : seconds;
        const played = total ? audio.currentTime / total : 0;
        bars.forEach((bar, i) => bar.classList.toggle("is-played", i / bars.length < played));
        time.textContent = audio.paused && !audio.currentTime ? formatDuration(seconds || total) : formatDuration(audio.currentTime);
      };
      const setIcon = (playing) => {
        button.replaceChildren(icon(playing ? "pause" : "play"));
        button.setAttribute("aria-label", `${playing ? "Pause" : "Play"} voice message, ${formatDuration(seconds)}`);
        player.classList.toggle("is-playing", playing);
      };
      audio.addEventListener("play", () => setIcon(true));
      audio.addEventListener("pause", () => setIcon(false));
      audio.addEventListener("timeupdate", paint);
      audio.addEventListener("ended", () => {
        audio.currentTime = 0;
        paint();
      });
      audio.addEventListener("loadedmetadata", () => {
        if (!seconds && Number.isFinite(audio.duration)) time.textContent = formatDuration(audio.duration);
      });
      button.addEventListener("click", () => {
        if (state.select.active) return;
        if (!audio.paused) {
          audio.pause();
          return;
        }
        if (playingVoice && playingVoice !== audio) playingVoice.pause();
        playingVoice = audio;
        audio.play().catch(() => toast("The voice message couldn't be played.", { error: true }));
      });
      // Click on the wave to jump.
      wave.addEventListener("click", (e) => {
        const total = Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : seconds;
        if (!total || state.select.active) return;
        const rect = wave.getBoundingClientRect();
        audio.currentTime = Math.max(0, Math.min(total, ((e.clientX - rect.left) / rect.width) * total));
        paint();
      });
      player.append(audio);
    }
    const progress = uploadProgress(m);
    return { node: el("div", { class: "card-body" }, player, progress), kind: "card" };
  }

  function fileBody(m) {
    const p = m.payload || {};
    const kind = fileKind(p.fileName);
    const uploading = isUploading(m);
    const href = !uploading && m.status !== "fail" ? safeUrl(p.fileUrl) : null;
    const size = uploading
      ? el("span", { class: "file-size", "data-upload-label": String(p.fileSize || 0), text: uploadLabel(Math.round(progressFraction(m) * 100), p.fileSize) })
      : el("span", { class: "file-size", text: `${formatBytes(p.fileSize)} · ${kind.label}` });
    const tile = el("span", { class: "file-icon", "aria-hidden": "true", style: `--file-color: ${kind.color}` }, el("span", { class: "file-ext", text: kind.ext.slice(0, 4) }));
    const info = el("span", { class: "file-info" }, el("span", { class: "file-name", title: p.fileName || "", "data-testid": "file-name" }, fileNameNodes(p.fileName)), size);
    const card = el("div", { class: "file-card", "data-testid": "file-card" }, tile, info);
    if (href) {
      const download = el("a", { class: "file-download", href, download: p.fileName || "", "aria-label": `Download ${p.fileName || "the file"}`, title: "Download", "data-testid": "file-download" }, icon("download"));
      card.append(download);
    }
    return { node: el("div", { class: "card-body file-body" }, card, uploadProgress(m)), kind: "card" };
  }

  function formatCoordinate(value, positive, negative) {
    return `${Math.abs(value).toFixed(5)}° ${value >= 0 ? positive : negative}`;
  }

  function osmUrl(lat, lon) {
    return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`;
  }

  function locationBody(m) {
    const p = m.payload || {};
    const lat = Number(p.latitude);
    const lon = Number(p.longitude);
    const valid = Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
    const art = el("span", { class: "map-art", "aria-hidden": "true" }, el("span", { class: "map-pin" }, icon("mappin")));
    const info = el(
      "span",
      { class: "location-info" },
      el("span", { class: "card-title", text: p.description || "Shared location" }),
      el("span", { class: "location-coords", "data-testid": "location-coords", text: valid ? `${formatCoordinate(lat, "N", "S")}, ${formatCoordinate(lon, "E", "W")}` : "No coordinates" }),
    );
    const card = el(valid ? "a" : "div", { class: "location-card", "data-testid": "location-card" }, art, info);
    if (valid) {
      card.href = osmUrl(lat, lon);
      card.target = "_blank";
      card.rel = "noopener noreferrer";
      card.title = "Open in OpenStreetMap";
      info.append(el("span", { class: "card-link", "data-testid": "map-link", text: "Open in OpenStreetMap" }));
    }
    return { node: el("div", { class: "card-body" }, card), kind: "card" };
  }

  function faceBody(m) {
    const p = m.payload || {};
    const sticker = stickerFor(p);
    if (sticker) {
      const img = el("img", { class: "sticker-img", alt: `Sticker: ${sticker.label}`, title: sticker.label, width: "144", height: "144", draggable: "false", "data-testid": "sticker", "data-name": sticker.name });
      img.src = assets.stickerUrl + sticker.file;
      return { node: img, kind: "sticker" };
    }
    if (assets.emojiMap[p.data]) return { node: el("span", { class: "msg-text jumbo" }, emojiImage({ code: p.data, src: assets.emojiUrl + assets.emojiMap[p.data] }, "emoji emoji-jumbo")), kind: "sticker" };
    return { node: el("span", { class: "msg-text msg-muted", "data-testid": "sticker-missing", text: "[Sticker]" }), kind: "text" };
  }

  function isDice(p) {
    return p && p.data === "dice" && /^[1-6]$/.test(String(p.description));
  }

  const DICE_PIPS = { 1: [[2, 2]], 2: [[1, 1], [3, 3]], 3: [[1, 1], [2, 2], [3, 3]], 4: [[1, 1], [1, 3], [3, 1], [3, 3]], 5: [[1, 1], [1, 3], [2, 2], [3, 1], [3, 3]], 6: [[1, 1], [1, 2], [1, 3], [3, 1], [3, 2], [3, 3]] };

  function diceFace(value) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 64 64");
    svg.setAttribute("class", "dice-face");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `Rolled a ${value}`);
    const face = document.createElementNS(SVG_NS, "rect");
    for (const [k, v] of Object.entries({ x: "4", y: "4", width: "56", height: "56", rx: "13", fill: "#fff", stroke: "#d5dae3", "stroke-width": "2" })) face.setAttribute(k, v);
    svg.append(face);
    for (const [row, col] of DICE_PIPS[value]) {
      const pip = document.createElementNS(SVG_NS, "circle");
      for (const [k, v] of Object.entries({ cx: String(4 + col * 14), cy: String(4 + row * 14), r: "5.4", fill: value === 1 ? "#e5484d" : "#1f2430" })) pip.setAttribute(k, v);
      svg.append(pip);
    }
    return svg;
  }

  /** Pretty JSON when the data is JSON (a few lines of it), else the text. */
  function customDataText(data) {
    const text = String(data || "");
    try {
      const parsed = JSON.parse(text);
      if (parsed && typeof parsed === "object") {
        const lines = JSON.stringify(parsed, null, 2).split("\n");
        return lines.length > 8 ? lines.slice(0, 8).join("\n") + "\n…" : lines.join("\n");
      }
    } catch (_) {
      /* not JSON */
    }
    return text.length > 300 ? text.slice(0, 300) + "…" : text;
  }

  function customBody(m) {
    const p = m.payload || {};
    if (isDice(p)) return { node: el("span", { class: "dice", "data-testid": "dice", title: `Rolled a ${p.description}` }, diceFace(Number(p.description))), kind: "sticker" };
    const card = el(
      "div",
      { class: "custom-card", "data-testid": "custom-card" },
      el("span", { class: "custom-head" }, icon("puzzle"), el("span", { class: "card-title", "data-testid": "custom-description", text: p.description || "Custom message" })),
    );
    if (p.data) card.append(el("pre", { class: "custom-data", "data-testid": "custom-data", text: customDataText(p.data) }));
    if (p.extension) card.append(el("span", { class: "custom-ext", "data-testid": "custom-extension", text: `Extension: ${String(p.extension).slice(0, 200)}` }));
    return { node: el("div", { class: "card-body" }, card), kind: "card" };
  }

  function mergerBody(m, open = () => openMerger(m)) {
    const p = m.payload || {};
    const lines = (Array.isArray(p.abstractList) ? p.abstractList : []).slice(0, 3).map((line) => el("span", { class: "card-line" }, richText(String(line))));
    const card = el(
      "button",
      { type: "button", class: "merger-card", "data-testid": "merger-card", "aria-label": `Open ${p.title || "the chat history"}` },
      el("span", { class: "card-title", text: p.title || "Chat history" }),
      el("span", { class: "merger-lines" }, lines),
      el("span", { class: "merger-foot" }, icon("history"), "Chat history"),
    );
    card.addEventListener("click", () => {
      if (!state.select.active) open();
    });
    return { node: card, kind: "card" };
  }

  function messageBody(m) {
    const p = m.payload || {};
    switch (m.type) {
      case "TIMTextElem":
        return textBody(m);
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
      case "TIMFaceElem":
        return faceBody(m);
      case "TIMRelayElem":
        return mergerBody(m);
      case "TIMCustomElem":
        return customBody(m);
      case "TIMGroupTipElem":
        return { node: el("span", { class: "msg-text msg-muted", text: tipText(m) }), kind: "text" };
      default:
        return { node: el("span", { class: "msg-text", text: m.messageForShow || p.text || "[Message]" }), kind: "text" };
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
      if (m.type === "TIMGroupTipElem") state.memberCache.delete(peerOf(m.conversationID));
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
    $("composer").classList.toggle("has-text", Boolean(text.trim()));
    $("send-btn").disabled = !recording.media && (!text.trim() || over);
  }

  function onComposerKeydown(e) {
    if (onMentionKeydown(e)) return;
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
    const atUserList = pickedMentions(state.current, text);
    input.value = "";
    state.drafts.delete(state.current);
    state.mentions.delete(state.current);
    closeComposerPops();
    onComposerInput();
    sendText(state.current, text, atUserList);
  }

  /** The user IDs picked from the @ list whose "@Name" is still in the text. */
  function pickedMentions(conversationID, text) {
    if (!isGroupID(conversationID)) return [];
    const ids = [];
    for (const { userID, label } of state.mentions.get(conversationID) || []) {
      if (text.includes("@" + label) && !ids.includes(userID)) ids.push(userID);
    }
    return ids;
  }

  async function sendText(conversationID, text, atUserList = []) {
    const group = isGroupID(conversationID);
    const options = { to: peerOf(conversationID), conversationType: group ? TYPES.CONV_GROUP : TYPES.CONV_C2C, payload: { text } };
    let message;
    try {
      if (group && atUserList.length) {
        options.payload.atUserList = atUserList;
        message = chat.createTextAtMessage(options);
      } else message = chat.createTextMessage(options);
    } catch (error) {
      toast(errorText(error, "The message couldn't be created."), { error: true });
      return;
    }
    insertOutgoing(conversationID, message);
    await deliver(conversationID, message, () => chat.sendMessage(message));
  }

  /** Show a message this tab created in its conversation's history (own sends never come back as MESSAGE_RECEIVED). */
  function insertOutgoing(conversationID, message) {
    if (!message.time) message.time = Math.floor(Date.now() / 1000);
    const h = historyOf(conversationID);
    h.dividerBeforeID = null;
    mergeMessages(h, [message]);
    if (state.current === conversationID && h.loaded) renderMessages({ scroll: "bottom" });
  }

  /** Send (or resend) and redraw; resolves true when the message was stored. */
  async function deliver(conversationID, message, call, { retry = false } = {}) {
    const h = historyOf(conversationID);
    h.errors.delete(message.ID);
    let sent = false;
    try {
      const res = await call();
      mergeMessages(h, [(res && res.data && res.data.message) || message]);
      if (retry) for (const node of document.querySelectorAll(".toast.is-error")) node.remove(); // the failure is resolved
      sent = true;
    } catch (error) {
      if (message.status !== "fail") message.status = "fail";
      // tim.js reports a failed image upload as 2251 ("no image selected"); here the image was there.
      const text =
        message.type === "TIMImageElem" && error && error.code === 2251
          ? "The image couldn't be uploaded. Check your connection, then retry."
          : errorText(error, "The message couldn't be sent.");
      // Only reasons that say more than "not sent" go into the bubble; the toast has them all.
      if (ERROR_TEXT[error && error.code] && error.code !== 2100 && error.code !== 2251) h.errors.set(message.ID, text);
      mergeMessages(h, [message]);
      toast(text, { error: true });
    }
    if (state.current === conversationID && h.loaded) renderMessages({ scroll: "auto" });
    return sent;
  }

  function resend(message) {
    const conversationID = message.conversationID || state.current;
    message.status = "unSend";
    if (state.current === conversationID) renderMessages({ scroll: "auto" });
    deliver(conversationID, message, () => chat.resendMessage(message), { retry: true });
  }

  // ---------------------------------------------------------------------------------
  // Emoji and sticker picker
  // ---------------------------------------------------------------------------------

  function renderPicker() {
    const emojiGrid = $("picker-emoji");
    const stickerGrid = $("picker-stickers");
    if (!emojiGrid) return;
    emojiGrid.replaceChildren(
      ...assets.emojiList.map((e) => {
        const img = el("img", { alt: "", draggable: "false", loading: "lazy", width: "28", height: "28" });
        img.src = assets.emojiUrl + e.file;
        return el("button", { type: "button", class: "picker-emoji", title: `${e.label} ${e.code}`, "aria-label": e.label, "data-testid": "emoji-item", "data-code": e.code, onclick: () => insertEmoji(e.code) }, img);
      }),
    );
    if (!assets.emojiList.length) emojiGrid.replaceChildren(el("p", { class: "picker-empty", text: "Emoji couldn't be loaded. Reload the page to try again." }));
    stickerGrid.replaceChildren(
      ...assets.stickers.map((st) => {
        const img = el("img", { alt: "", draggable: "false", loading: "lazy", width: "72", height: "72" });
        img.src = assets.stickerUrl + st.file;
        return el("button", { type: "button", class: "picker-sticker", title: st.label, "aria-label": `Send the “${st.label}” sticker`, "data-testid": "sticker-item", "data-name": st.name, onclick: () => sendSticker(st) }, img);
      }),
    );
    if (!assets.stickers.length) stickerGrid.replaceChildren(el("p", { class: "picker-empty", text: "Stickers couldn't be loaded. Reload the page to try again." }));
  }

  function openPicker() {
    closeMentionList();
    closeMenus();
    $("picker").hidden = false;
    $("emoji-btn").setAttribute("aria-expanded", "true");
  }

  function closePicker() {
    if ($("picker").hidden) return;
    $("picker").hidden = true;
    $("emoji-btn").setAttribute("aria-expanded", "false");
  }

  function showPickerTab(tab) {
    for (const button of document.querySelectorAll(".picker-tab")) button.setAttribute("aria-selected", String(button.dataset.tab === tab));
    $("picker-emoji").hidden = tab !== "emoji";
    $("picker-stickers").hidden = tab !== "stickers";
  }

  function insertEmoji(code) {
    const input = $("composer-input");
    const start = input.selectionStart ?? input.value.length;
    const end = input.selectionEnd ?? input.value.length;
    input.setRangeText(code, start, end, "end");
    onComposerInput();
    if (!NARROW.matches) input.focus({ preventScroll: true });
  }

  async function sendSticker(sticker) {
    closePicker();
    const conversationID = state.current;
    if (!conversationID) return;
    let message;
    try {
      message = chat.createFaceMessage({ to: peerOf(conversationID), conversationType: conversationTypeOf(conversationID), payload: { index: sticker.index, data: sticker.name } });
    } catch (error) {
      toast(errorText(error, "The sticker couldn't be sent."), { error: true });
      return;
    }
    insertOutgoing(conversationID, message);
    await deliver(conversationID, message, () => chat.sendMessage(message));
  }

  function closeComposerPops() {
    closePicker();
    closeMentionList();
  }

  // ---------------------------------------------------------------------------------
  // @-mentions in the composer: "@" opens the group's members (and Everyone)
  // ---------------------------------------------------------------------------------

  const mentionUI = { open: false, items: [], active: 0, start: 0, token: 0 };

  /** The "@query" just before the caret, in a group: {start, query}, else null. */
  function mentionQuery() {
    const input = $("composer-input");
    if (!state.current || !isGroupID(state.current) || input.selectionStart !== input.selectionEnd) return null;
    const before = input.value.slice(0, input.selectionStart);
    const match = /(^|[\s(（])@([^\s@]{0,32})$/.exec(before);
    return match ? { start: before.length - match[2].length - 1, query: match[2] } : null;
  }

  async function updateMentionList() {
    let q = mentionQuery();
    if (!q) {
      closeMentionList();
      return;
    }
    const conversationID = state.current;
    const groupID = peerOf(conversationID);
    const token = ++mentionUI.token;
    const cached = state.memberCache.get(groupID);
    let members = cached ? cached.list : null;
    if (!members || Date.now() - cached.at > 60000) {
      try {
        const fresh = groupMembers(groupID);
        if (!members) members = await fresh;
      } catch (_) {
        members = members || [];
      }
      if (token !== mentionUI.token || state.current !== conversationID) return;
      q = mentionQuery();
      if (!q) return;
    }
    const query = q.query.toLowerCase();
    const options = [];
    if (!query || "everyone".startsWith(query) || "all".startsWith(query)) options.push({ userID: TYPES.MSG_AT_ALL, label: "Everyone", sub: "Notify everyone in the group" });
    const matches = [];
    for (const m of members) {
      if (m.userID === state.me.userID) continue;
      const label = m.nameCard || m.nick || m.userID;
      const names = [label.toLowerCase(), m.userID.toLowerCase()];
      const rank = !query ? 1 : names.some((n) => n.startsWith(query)) ? 0 : names.some((n) => n.includes(query)) ? 1 : -1;
      if (rank >= 0) matches.push({ rank, option: { userID: m.userID, label, sub: "@" + m.userID, avatar: m.avatar } });
    }
    matches.sort((a, b) => a.rank - b.rank || a.option.label.localeCompare(b.option.label));
    options.push(...matches.slice(0, 50).map((x) => x.option));
    if (!options.length) {
      closeMentionList();
      return;
    }
    const previous = mentionUI.open && mentionUI.items[mentionUI.active];
    mentionUI.items = options;
    mentionUI.start = q.start;
    const keep = previous ? options.findIndex((o) => o.userID === previous.userID) : -1;
    mentionUI.active = keep >= 0 ? keep : 0;
    mentionUI.open = true;
    closePicker();
    drawMentionList();
  }

  function drawMentionList() {
    const list = $("mention-list");
    const input = $("composer-input");
    list.replaceChildren(
      ...mentionUI.items.map((o, i) => {
        const face = o.userID === TYPES.MSG_AT_ALL ? el("span", { class: "avatar avatar-sm at-all", "aria-hidden": "true" }, el("span", { text: "@" })) : avatar("sm", { id: o.userID, name: o.label, url: o.avatar });
        return el(
          "li",
          {
            id: `mention-opt-${i}`,
            role: "option",
            class: "mention-option" + (i === mentionUI.active ? " is-active" : ""),
            "aria-selected": i === mentionUI.active ? "true" : "false",
            "data-testid": "mention-option",
            "data-user-id": o.userID,
            onmousedown: (e) => {
              e.preventDefault(); // keep the caret in the composer
              chooseMention(i);
            },
            onmousemove: () => {
              if (mentionUI.active !== i) {
                mentionUI.active = i;
                drawMentionList();
              }
            },
          },
          face,
          el("span", { class: "mention-main" }, el("span", { class: "mention-name", text: o.label }), el("span", { class: "mention-sub", text: o.sub })),
        );
      }),
    );
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.setAttribute("aria-activedescendant", `mention-opt-${mentionUI.active}`);
    const active = list.children[mentionUI.active];
    if (active) active.scrollIntoView({ block: "nearest" });
  }

  function chooseMention(index) {
    const option = mentionUI.items[index];
    const input = $("composer-input");
    if (!option || !state.current) return;
    input.setRangeText(`@${option.label} `, mentionUI.start, input.selectionStart, "end");
    const picked = state.mentions.get(state.current) || [];
    picked.push({ userID: option.userID, label: option.label });
    state.mentions.set(state.current, picked);
    closeMentionList();
    onComposerInput();
    input.focus();
  }

  function closeMentionList() {
    mentionUI.token += 1;
    if (!mentionUI.open && $("mention-list").hidden) return;
    mentionUI.open = false;
    $("mention-list").hidden = true;
    $("composer-input").setAttribute("aria-expanded", "false");
    $("composer-input").removeAttribute("aria-activedescendant");
  }

  /** Arrow keys, Enter/Tab and Esc while the @ list is open; true when the key was used. */
  function onMentionKeydown(e) {
    if (!mentionUI.open) return false;
    const n = mentionUI.items.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      mentionUI.active = (mentionUI.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      drawMentionList();
    } else if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
      chooseMention(mentionUI.active);
    } else if (e.key === "Escape") {
      closeMentionList();
    } else return false;
    e.preventDefault();
    e.stopPropagation();
    return true;
  }

  // ---------------------------------------------------------------------------------
  // Voice messages: record with the microphone (MediaRecorder), send on stop
  // ---------------------------------------------------------------------------------

  const MAX_RECORDING_SECONDS = 120;
  const recording = { media: null, stream: null, chunks: [], startedAt: 0, timer: null, conversationID: null, send: false };

  function canRecord() {
    return Boolean(navigator.mediaDevices && typeof navigator.mediaDevices.getUserMedia === "function" && window.MediaRecorder);
  }

  function recordingSeconds() {
    return recording.startedAt ? (performance.now() - recording.startedAt) / 1000 : 0;
  }

  async function startRecording() {
    if (recording.media || recording.stream || !state.current) return;
    closeComposerPops();
    const conversationID = state.current;
    recording.conversationID = conversationID;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (error) {
      recording.conversationID = null;
      const name = error && error.name;
      toast(
        name === "NotAllowedError" || name === "SecurityError"
          ? "Allow microphone access in your browser to record voice messages."
          : name === "NotFoundError"
            ? "No microphone was found."
            : "The microphone couldn't be started.",
        { error: true },
      );
      return;
    }
    if (state.current !== conversationID) {
      stream.getTracks().forEach((t) => t.stop());
      return;
    }
    const type = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"].find((t) => MediaRecorder.isTypeSupported(t)) || "";
    let media;
    try {
      media = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    } catch (_) {
      stream.getTracks().forEach((t) => t.stop());
      toast("This browser can't record voice messages.", { error: true });
      return;
    }
    Object.assign(recording, { media, stream, chunks: [], startedAt: performance.now(), send: false });
    media.addEventListener("dataavailable", (e) => {
      if (e.data && e.data.size) recording.chunks.push(e.data);
    });
    media.addEventListener("stop", onRecordingStopped);
    media.start(250);
    showRecorder(true);
    recording.timer = setInterval(() => {
      const seconds = recordingSeconds();
      $("recorder-time").textContent = formatDuration(Math.floor(seconds));
      if (seconds >= MAX_RECORDING_SECONDS) stopRecording(true);
    }, 200);
  }

  /** Stop: send = true sends what was recorded, false throws it away. */
  function stopRecording(send) {
    if (!recording.media) return;
    recording.send = send;
    recording.seconds = recordingSeconds();
    clearInterval(recording.timer);
    if (recording.media.state !== "inactive") recording.media.stop();
    else onRecordingStopped();
  }

  function onRecordingStopped() {
    const { media, stream, chunks, conversationID, send } = recording;
    const seconds = recording.seconds || recordingSeconds();
    if (stream) stream.getTracks().forEach((t) => t.stop());
    Object.assign(recording, { media: null, stream: null, chunks: [], startedAt: 0, timer: null, conversationID: null, send: false, seconds: 0 });
    showRecorder(false);
    if (!send || !conversationID) return;
    if (seconds < 1 || !chunks.length) {
      toast("That was too short to send. Record for at least a second.");
      return;
    }
    const type = (media && media.mimeType) || (chunks[0] && chunks[0].type) || "audio/webm";
    const ext = /ogg/.test(type) ? "ogg" : /mp4|aac/.test(type) ? "m4a" : "webm";
    const blob = new Blob(chunks, { type });
    const file = new File([blob], `voice.${ext}`, { type });
    sendUpload(conversationID, "audio", file, { second: Math.max(1, Math.round(seconds)) });
  }

  function showRecorder(on) {
    $("composer").classList.toggle("is-recording", on);
    $("recorder").hidden = !on;
    $("recorder-time").textContent = "0:00";
    $("send-btn").disabled = !on && !$("composer-input").value.trim();
    $("send-btn").setAttribute("aria-label", on ? "Send voice message" : "Send");
    $("send-btn").title = on ? "Stop and send" : "Send (Enter)";
    if (on) $("send-btn").focus();
  }

  // ---------------------------------------------------------------------------------
  // Sharing a location: the browser's position, or coordinates typed in
  // ---------------------------------------------------------------------------------

  let locateToken = 0;

  function openLocationDialog() {
    if (!state.current) return;
    openDialog("dlg-location");
    locate();
  }

  function setLocateStatus(text, stateName, action) {
    $("locate-text").textContent = text;
    $("locate-status").dataset.state = stateName;
    $("locate-again").hidden = !action;
    if (action) $("locate-again").textContent = action;
  }

  function locate() {
    const token = ++locateToken;
    const form = $("dlg-location").querySelector("form");
    if (!navigator.geolocation) {
      setLocateStatus("This browser can't share its position. Enter the coordinates instead.", "error", "");
      form.elements.latitude.focus();
      return;
    }
    setLocateStatus("Finding your location…", "busy", "");
    navigator.geolocation.getCurrentPosition(
      (position) => {
        if (token !== locateToken || !$("dlg-location").open) return;
        form.elements.latitude.value = position.coords.latitude.toFixed(6);
        form.elements.longitude.value = position.coords.longitude.toFixed(6);
        const accuracy = Math.round(position.coords.accuracy || 0);
        setLocateStatus(accuracy ? `Found you, to within about ${accuracy} m.` : "Found you.", "ok", "Locate again");
      },
      (error) => {
        if (token !== locateToken || !$("dlg-location").open) return;
        const text =
          error && error.code === 1
            ? "Location access is blocked for this site. Enter the coordinates instead, e.g. from a map app."
            : "Your location couldn't be found. Enter the coordinates instead.";
        setLocateStatus(text, "error", "Try again");
        form.elements.latitude.focus();
      },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
    );
  }

  function parseCoordinate(text) {
    const cleaned = String(text || "").trim().replace(/°/g, "").replace(",", ".");
    return cleaned && /^[-+]?\d+(\.\d+)?$/.test(cleaned) ? Number(cleaned) : NaN;
  }

  async function submitLocation(form) {
    let latText = form.elements.latitude.value.trim();
    let lonText = form.elements.longitude.value.trim();
    const pair = /^([-+]?\d+(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d+(?:\.\d+)?)$/.exec(latText);
    if (pair && !lonText) [latText, lonText] = [pair[1], pair[2]];
    const latitude = parseCoordinate(latText);
    const longitude = parseCoordinate(lonText);
    if (!Number.isFinite(latitude) || Math.abs(latitude) > 90) throw "Enter a latitude between -90 and 90 (e.g. 22.546103).";
    if (!Number.isFinite(longitude) || Math.abs(longitude) > 180) throw "Enter a longitude between -180 and 180 (e.g. 113.941079).";
    const conversationID = state.current;
    if (!conversationID) return true;
    const description = form.elements.description.value.trim() || "Shared location";
    const message = chat.createLocationMessage({ to: peerOf(conversationID), conversationType: conversationTypeOf(conversationID), payload: { description, longitude, latitude } });
    locateToken += 1;
    insertOutgoing(conversationID, message);
    deliver(conversationID, message, () => chat.sendMessage(message));
    return true;
  }

  // ---------------------------------------------------------------------------------
  // Attachments: the clip button, paste and drag-and-drop
  // ---------------------------------------------------------------------------------

  const MAX_FILE_BYTES = 100 * 1024 * 1024;
  const MAX_MERGED = 100; // the server's limit on a merged history
  const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

  function uploadKindOf(file) {
    const type = String(file.type || "").toLowerCase();
    if (/^image\/(jpeg|png|gif|webp|bmp)$/.test(type) && file.size <= MAX_IMAGE_BYTES) return "image";
    if (type === "video/mp4" || type === "video/webm") return "video"; // what browsers play (the server takes both)
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
    await sendUpload(conversationID, kind, file, { size });
  }

  /**
   * Create an upload message (image, video, audio or file), show it at once with its
   * progress bar, and send it in the background: the composer stays free.
   */
  async function sendUpload(conversationID, kind, file, { size = null, second = 0 } = {}) {
    let messageID = null;
    const options = {
      to: peerOf(conversationID),
      conversationType: isGroupID(conversationID) ? TYPES.CONV_GROUP : TYPES.CONV_C2C,
      payload: { file },
      onProgress: (fraction) => messageID && showUploadProgress(messageID, fraction),
    };
    if (kind === "audio" && second) options.payload.second = second;
    const create = { image: "createImageMessage", video: "createVideoMessage", audio: "createAudioMessage", file: "createFileMessage" }[kind];
    let message;
    try {
      message = chat[create](options);
    } catch (error) {
      toast(errorText(error, "The file couldn't be prepared."), { error: true });
      return;
    }
    messageID = message.ID;
    if (size) localSizes.set(message.ID, size);
    if (kind === "audio" && second && message.payload && !message.payload.second) message.payload.second = second;
    insertOutgoing(conversationID, message);
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

  const UNFORWARDABLE = new Set(["TIMGroupTipElem", "TIMGroupSystemNoticeElem"]);

  /** Stored, not recalled, not a group tip: what may be forwarded or merged. */
  function isSelectable(m) {
    return Boolean(m) && !UNFORWARDABLE.has(m.type) && m.status === "success" && !m.isRevoked;
  }

  function openMessageMenu(m, x, y) {
    closeMenus();
    const items = [];
    const item = (label, iconName, testid, action, danger) =>
      el("button", { type: "button", role: "menuitem", class: "menu-item" + (danger ? " danger" : ""), "data-testid": testid, onclick: () => { closeMenus(); action(); } }, icon(iconName), label);
    if (m.type === "TIMTextElem" && !m.isRevoked) {
      items.push(
        item("Copy text", "copy", "copy-message", () =>
          navigator.clipboard.writeText((m.payload && m.payload.text) || "").then(
            () => toast("Copied."),
            () => toast("Couldn't copy. Select the text and copy it by hand.", { error: true }),
          ),
        ),
      );
    }
    if (isSelectable(m)) {
      items.push(item("Forward", "forward", "forward-message", () => forwardOne(m)));
      items.push(item("Select", "select", "select-message", () => enterSelect(m)));
    }
    if (m.status === "fail") items.push(item("Retry sending", "retry", "retry-message", () => resend(m)));
    if (m.flow === "out" && m.status === "success" && !m.isRevoked && typeof chat.revokeMessage === "function") {
      items.push(item("Recall", "recall", "recall-message", () => recall(m), true));
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

  // ---------------------------------------------------------------------------------
  // Forwarding: one message, several one by one, or merged into a chat history
  // ---------------------------------------------------------------------------------

  /** The conversations one can send to, for the "Forward to…" list. */
  function forwardTargets() {
    const list = state.conversations.filter((c) => c.type === "C2C" || (c.type === "GROUP" && (!state.groupsLoaded || state.groups.has(peerOf(c.conversationID)))));
    const current = state.current && findConversation(state.current);
    if (current && !list.includes(current) && (current.type === "C2C" || current.type === "GROUP")) list.unshift(current);
    return list;
  }

  /** "Forward to…": resolves the chosen conversationID, or null when closed. */
  function pickConversation({ title, what }) {
    const dialog = $("dlg-forward");
    const input = $("forward-filter");
    $("dlg-forward-title").textContent = title;
    $("forward-what").textContent = what || "";
    $("forward-what").hidden = !what;
    input.value = "";
    closeMenus();
    return new Promise((resolve) => {
      let chosen = null;
      const draw = () => {
        const filter = input.value.trim().toLowerCase();
        const all = forwardTargets();
        const shown = filter ? all.filter((c) => conversationTitle(c).toLowerCase().includes(filter) || peerOf(c.conversationID).toLowerCase().includes(filter)) : all;
        const items = shown.map((conv) =>
          el(
            "li",
            {},
            el(
              "button",
              {
                type: "button",
                class: "pick-item",
                role: "option",
                "data-testid": "forward-target",
                "data-conversation-id": conv.conversationID,
                onclick: () => {
                  chosen = conv.conversationID;
                  dialog.close();
                },
              },
              avatar("md", conversationAvatarInfo(conv)),
              el("span", { class: "pick-main" }, el("span", { class: "pick-name", text: conversationTitle(conv) }), el("span", { class: "pick-sub", text: conversationSubtitle(conv) })),
              conv.conversationID === state.current ? el("span", { class: "pick-tag", text: "This chat" }) : null,
            ),
          ),
        );
        if (!items.length) items.push(el("li", { class: "pick-empty", text: filter ? "No conversations match." : "No conversations yet." }));
        $("forward-list").replaceChildren(...items);
      };
      const onKey = (e) => {
        if (e.key === "Enter") {
          e.preventDefault();
          const first = $("forward-list").querySelector(".pick-item");
          if (first) first.click();
        } else if (e.key === "ArrowDown") {
          e.preventDefault();
          const first = $("forward-list").querySelector(".pick-item");
          if (first) first.focus();
        }
      };
      const onClose = () => {
        input.removeEventListener("input", draw);
        input.removeEventListener("keydown", onKey);
        dialog.removeEventListener("close", onClose);
        resolve(chosen);
      };
      input.addEventListener("input", draw);
      input.addEventListener("keydown", onKey);
      dialog.addEventListener("close", onClose);
      draw();
      dialog.showModal();
      input.focus();
    });
  }

  function conversationTypeOf(conversationID) {
    return isGroupID(conversationID) ? TYPES.CONV_GROUP : TYPES.CONV_C2C;
  }

  async function forwardMessages(messages, targetID) {
    let sent = 0;
    for (const m of messages) {
      let message;
      try {
        message = chat.createForwardMessage({ to: peerOf(targetID), conversationType: conversationTypeOf(targetID), payload: m });
      } catch (error) {
        toast(errorText(error, "That message can't be forwarded."), { error: true });
        continue;
      }
      insertOutgoing(targetID, message);
      if (await deliver(targetID, message, () => chat.sendMessage(message))) sent += 1;
    }
    return sent;
  }

  function targetName(conversationID) {
    const conv = findConversation(conversationID);
    return conv ? conversationTitle(conv) : peerOf(conversationID);
  }

  async function forwardOne(m) {
    const target = await pickConversation({ title: "Forward to…", what: `${senderName(m)}: ${summaryOf(m)}` });
    if (!target) return;
    if (await forwardMessages([m], target)) toast(`Forwarded to ${targetName(target)}.`);
  }

  /** One line about a message, for abstracts and the forward dialog: "Hi there", "[Image]". */
  function summaryOf(m) {
    if (m.type === "TIMTextElem") {
      const text = String((m.payload && m.payload.text) || "").replace(/\s+/g, " ").trim();
      return text.length > 60 ? text.slice(0, 60) + "…" : text;
    }
    return previewLabel(m);
  }

  function enterSelect(m) {
    state.select.active = true;
    state.select.ids = new Set(m && isSelectable(m) ? [m.ID] : []);
    closeComposerPops();
    $("app").classList.add("is-selecting");
    updateSelectBar();
    renderMessages({ scroll: "auto" });
  }

  function exitSelect() {
    if (!state.select.active) return;
    state.select.active = false;
    state.select.ids = new Set();
    $("app").classList.remove("is-selecting");
    updateSelectBar();
    if (state.current) renderMessages({ scroll: "auto" });
  }

  function toggleSelected(messageID) {
    const h = state.current && state.histories.get(state.current);
    const m = h && h.byID.get(messageID);
    if (!m || !isSelectable(m)) return;
    if (state.select.ids.has(messageID)) state.select.ids.delete(messageID);
    else if (state.select.ids.size >= MAX_MERGED) {
      toast(`You can select up to ${MAX_MERGED} messages.`);
      return;
    } else state.select.ids.add(messageID);
    const row = document.querySelector(`.msg-row[data-row-id="${CSS.escape(messageID)}"]`);
    if (row) markSelected(row, m);
    updateSelectBar();
  }

  function updateSelectBar() {
    const active = state.select.active && Boolean(state.current);
    const n = state.select.ids.size;
    $("select-bar").hidden = !active;
    $("composer").hidden = active || Boolean($("composer-notice").textContent);
    document.querySelector(".composer-hint").hidden = active || Boolean($("composer-notice").textContent);
    $("select-count").textContent = n === 0 ? "Select messages" : n === 1 ? "1 selected" : `${n} selected`;
    $("select-forward").disabled = n === 0;
    $("select-merge").disabled = n === 0;
  }

  function selectedMessages() {
    const h = state.current && state.histories.get(state.current);
    return h ? h.messages.filter((m) => state.select.ids.has(m.ID) && isSelectable(m)) : [];
  }

  async function forwardSelected() {
    const list = selectedMessages();
    if (!list.length) return;
    const target = await pickConversation({ title: "Forward to…", what: list.length === 1 ? "1 message, as it is" : `${list.length} messages, one by one` });
    if (!target) return;
    exitSelect();
    const sent = await forwardMessages(list, target);
    if (sent) toast(`Forwarded ${sent === 1 ? "1 message" : `${sent} messages`} to ${targetName(target)}.`);
  }

  /** The merged history's title: "Chat history of Alice and Bob", or of the group. */
  function mergeTitle(conversationID) {
    const conv = findConversation(conversationID);
    const name = conv ? conversationTitle(conv) : peerOf(conversationID);
    if (isGroupID(conversationID)) return `Chat history of ${name}`;
    return `Chat history of ${state.me.nick || state.me.userID} and ${name}`;
  }

  async function mergeSelected() {
    const list = selectedMessages();
    if (!list.length || !state.current) return;
    const sourceID = state.current;
    const title = mergeTitle(sourceID);
    const target = await pickConversation({ title: "Send chat history to…", what: `${title} (${list.length === 1 ? "1 message" : `${list.length} messages`})` });
    if (!target) return;
    let message;
    try {
      message = chat.createMergerMessage({
        to: peerOf(target),
        conversationType: conversationTypeOf(target),
        payload: {
          messageList: list,
          title,
          abstractList: list.slice(0, 3).map((m) => `${senderName(m)}: ${summaryOf(m)}`),
          compatibleText: "[Chat history] Update your chat app to read these messages.",
        },
      });
    } catch (error) {
      toast(errorText(error, "These messages can't be merged."), { error: true });
      return;
    }
    exitSelect();
    insertOutgoing(target, message);
    if (await deliver(target, message, () => chat.sendMessage(message))) toast(`Chat history sent to ${targetName(target)}.`);
  }

  // ---------------------------------------------------------------------------------
  // A merged chat history, opened in a dialog (nested histories open inside it)
  // ---------------------------------------------------------------------------------

  const mergerStack = [];

  async function openMerger(m, { nested = false } = {}) {
    const dialog = $("dlg-merger");
    if (!nested) mergerStack.length = 0;
    mergerStack.push(m);
    if (!dialog.open) dialog.showModal();
    await drawMerger();
  }

  async function drawMerger() {
    const m = mergerStack[mergerStack.length - 1];
    if (!m) return;
    const p = m.payload || {};
    const body = $("merger-body");
    $("dlg-merger-title").textContent = p.title || "Chat history";
    $("merger-back").hidden = mergerStack.length < 2;
    $("merger-sub").textContent = "";
    let list = Array.isArray(p.messageList) ? p.messageList : [];
    if (p.downloadKey && !list.length) {
      body.replaceChildren(el("div", { class: "history-edge" }, el("span", { class: "spinner" }), "Loading the messages…"));
      try {
        if (!m.conversationID) throw { code: 2451, message: "This part of the history can only be opened where it was first sent." };
        await chat.downloadMergerMessage(m);
        list = Array.isArray(m.payload.messageList) ? m.payload.messageList : [];
      } catch (error) {
        if (mergerStack[mergerStack.length - 1] !== m) return;
        body.replaceChildren(el("div", { class: "merger-error", role: "alert", text: errorText(error, "The messages couldn't be loaded.") }));
        return;
      }
      if (mergerStack[mergerStack.length - 1] !== m) return;
    }
    const times = list.map((x) => x.time || 0).filter(Boolean);
    if (times.length) {
      const first = dayLabel(Math.min(...times));
      const last = dayLabel(Math.max(...times));
      $("merger-sub").textContent = `${list.length === 1 ? "1 message" : `${list.length} messages`} · ${first === last ? first : `${first} – ${last}`}`;
    }
    if (!list.length) {
      body.replaceChildren(el("p", { class: "merger-error", text: p.compatibleText || "There are no messages in this history." }));
      return;
    }
    let prevDay = null;
    const rows = [];
    for (const item of list) {
      const day = startOfDay(toDate(item.time));
      if (day !== prevDay) {
        rows.push(el("div", { class: "merger-day", text: dayLabel(item.time) }));
        prevDay = day;
      }
      rows.push(mergerItem(item));
    }
    body.replaceChildren(...rows);
    body.scrollTop = 0;
  }

  function mergerItem(item) {
    const name = item.nick || displayName(item.from) || "Someone";
    const content = item.type === "TIMRelayElem" ? nestedMergerCard(item) : messageBody(item);
    return el(
      "div",
      { class: "merger-item", "data-testid": "merger-item", "data-type": item.type || "" },
      avatar("sm", { id: item.from, name, url: item.avatar }),
      el(
        "div",
        { class: "merger-main" },
        el("div", { class: "merger-meta" }, el("span", { class: "merger-name", text: name }), el("time", { text: fmtTime.format(toDate(item.time)) })),
        el("div", { class: "merger-content is-" + content.kind }, content.node),
      ),
    );
  }

  function nestedMergerCard(item) {
    return mergerBody(item, () => openMerger(item, { nested: true }));
  }

  // ---------------------------------------------------------------------------------
  // The image viewer
  // ---------------------------------------------------------------------------------

  function openLightbox(m) {
    if (state.select.active) return;
    const { original, large } = imageInfos(m);
    const src = safeUrl(large.url) || safeUrl(original.url);
    if (!src) return;
    const box = $("lightbox");
    const img = $("lightbox-img");
    const local = localSizes.get(m.ID) || {};
    const w = large.width || original.width || local.width;
    const h = large.height || original.height || local.height;
    img.removeAttribute("src");
    if (w && h) {
      img.width = w;
      img.height = h;
    } else {
      img.removeAttribute("width");
      img.removeAttribute("height");
    }
    img.alt = `Image from ${senderName(m)}`;
    img.src = src;
    const originalUrl = safeUrl(original.url) || src;
    const stored = !originalUrl.startsWith("blob:");
    $("lightbox-original").href = originalUrl;
    $("lightbox-original").hidden = !stored;
    const download = $("lightbox-download");
    download.hidden = !stored;
    if (stored) {
      const url = new URL(originalUrl, window.location.href);
      url.searchParams.set("download", "1");
      download.href = url.pathname + url.search;
    }
    const size = original.width && original.height ? ` · ${original.width} × ${original.height}` : "";
    $("lightbox-caption").textContent = `${senderName(m)}${m.time ? " · " + fmtTooltip.format(toDate(m.time)) : ""}${size}`;
    box.showModal();
    $("lightbox").querySelector(".lightbox-close").focus();
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
      if (!m || state.select.active || (e.target.closest && e.target.closest("video[controls], audio"))) return;
      e.preventDefault();
      openMessageMenu(m, e.clientX, e.clientY);
    });
    let pressTimer = null;
    box.addEventListener("pointerdown", (e) => {
      if (e.pointerType !== "touch" || state.select.active) return;
      const m = messageFromNode(e.target);
      if (!m) return;
      pressTimer = setTimeout(() => openMessageMenu(m, e.clientX, e.clientY), 550);
    });
    for (const type of ["pointerup", "pointercancel", "pointermove"]) box.addEventListener(type, () => clearTimeout(pressTimer));
    // The user scrolling closes the menu; a redraw that moves the list (a message arriving) does not.
    for (const type of ["wheel", "touchmove"]) {
      box.addEventListener(type, () => {
        if (!$("msg-menu").hidden) closeMenus();
      }, { passive: true });
    }
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
      rememberMembers(state.members.list);
      if (!state.members.offset) state.memberCache.set(groupID, { list: state.members.list, at: Date.now() });
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
      if (!$("picker").hidden || mentionUI.open) {
        closeComposerPops();
        $("composer-input").focus();
        return;
      }
      if (recording.media) {
        stopRecording(false);
        return;
      }
      if (state.select.active) {
        exitSelect();
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
    input.addEventListener("input", () => {
      onComposerInput();
      updateMentionList();
    });
    input.addEventListener("click", updateMentionList);
    input.addEventListener("blur", () => setTimeout(() => {
      if (document.activeElement !== input) closeMentionList();
    }, 150));
    input.addEventListener("keydown", onComposerKeydown);
    input.addEventListener("paste", onComposerPaste);
    $("attach-btn").addEventListener("click", (e) => {
      e.stopPropagation();
      closeComposerPops();
      toggleMenu($("attach-btn"), $("attach-menu"));
    });
    $("attach-media").addEventListener("click", () => {
      closeMenus();
      $("media-input").click();
    });
    $("attach-file").addEventListener("click", () => {
      closeMenus();
      $("file-input").click();
    });
    $("attach-location").addEventListener("click", () => {
      closeMenus();
      openLocationDialog();
    });
    for (const id of ["file-input", "media-input"]) {
      $(id).addEventListener("change", (e) => {
        const files = Array.from(e.target.files || []);
        e.target.value = "";
        sendFiles(state.current, files);
      });
    }
    $("emoji-btn").addEventListener("click", (e) => {
      e.stopPropagation();
      if ($("picker").hidden) openPicker();
      else closePicker();
    });
    for (const tab of document.querySelectorAll(".picker-tab")) tab.addEventListener("click", () => showPickerTab(tab.dataset.tab));
    document.addEventListener("pointerdown", (e) => {
      if (!$("picker").hidden && !e.target.closest("#picker, #emoji-btn")) closePicker();
    });
    $("mic-btn").addEventListener("click", startRecording);
    $("recorder-cancel").addEventListener("click", () => stopRecording(false));
    wireDropZone();
    wireMessageMenu();
    $("composer").addEventListener("submit", (e) => {
      e.preventDefault();
      if (recording.media) {
        stopRecording(true);
        return;
      }
      submitComposer();
      input.focus();
    });

    // Selecting messages: a click on a row ticks it (and opens nothing).
    $("messages").addEventListener("click", (e) => {
      if (!state.select.active) return;
      const row = e.target.closest(".msg-row[data-row-id]");
      if (!row) return;
      // A click on the box itself (Space on a focused box) toggles it natively; we only follow.
      if (!e.target.matches(".msg-check")) e.preventDefault();
      e.stopPropagation();
      toggleSelected(row.dataset.rowId);
    }, { capture: true });
    $("select-cancel").addEventListener("click", exitSelect);
    $("select-forward").addEventListener("click", forwardSelected);
    $("select-merge").addEventListener("click", mergeSelected);

    // The image viewer, the chat-history viewer and the forward list.
    const lightbox = $("lightbox");
    lightbox.querySelector("[data-close]").addEventListener("click", () => lightbox.close());
    lightbox.addEventListener("click", (e) => {
      if (e.target === lightbox || e.target === $("lightbox-stage")) lightbox.close();
    });
    lightbox.addEventListener("close", () => $("lightbox-img").removeAttribute("src"));
    const merger = $("dlg-merger");
    merger.querySelector("[data-close]").addEventListener("click", () => merger.close());
    merger.addEventListener("click", (e) => {
      if (e.target === merger) merger.close();
    });
    merger.addEventListener("close", () => {
      mergerStack.length = 0;
      if (playingVoice) playingVoice.pause();
    });
    $("merger-back").addEventListener("click", () => {
      if (mergerStack.length > 1) {
        mergerStack.pop();
        drawMerger();
      }
    });
    const forward = $("dlg-forward");
    forward.querySelector("[data-close]").addEventListener("click", () => forward.close());
    forward.addEventListener("click", (e) => {
      if (e.target === forward) forward.close();
    });
    wireDialog("dlg-location", submitLocation);
    $("locate-again").addEventListener("click", locate);
    $("dlg-location").addEventListener("close", () => {
      locateToken += 1;
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
    loadAssets().catch(() => {});
    $("composer").classList.toggle("can-record", canRecord());
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
