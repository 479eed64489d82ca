/*
 * The conversation list: titles, previews, unread badges, the [@me] flag, the
 * filter box, and the unread count in the page title.
 */

import { badgeText, formatDuration, listTime, memberCountText } from "../format.js";
import { C2C, GROUP, peerOf } from "../ids.js";
import { richText, stickerFor } from "./assets.js";
import { $, avatar, el, icon } from "./dom.js";
import { MARK, conversationsInTab, hasMark, isMuted, renderListTabs } from "./conversation-lists.js";
import { isDice } from "./bodies.js";
import { displayName, rememberName, revokedSentence, tipSentence } from "./names.js";
import { markRead } from "./live.js";
import { openConversation, renderChatHeader } from "./navigation.js";
import { showUnreadCount } from "./notifications.js";
import { NARROW, TYPES, isMe, state } from "./state.js";
import { t, tlater } from "../i18n.js";

const GROUP_TYPE_LABEL = {
  Private: tlater("Work group"),
  Public: tlater("Public group"),
  ChatRoom: tlater("Meeting group"),
  AVChatRoom: tlater("Live group"),
  Community: tlater("Community"),
};

export const groupTypeLabel = (type) => t(GROUP_TYPE_LABEL[type] || "Group");

export function findConversation(conversationID) {
  return state.conversations.find((c) => c.conversationID === conversationID) || state.extraConversations.get(conversationID) || null;
}

export const currentConversation = () => (state.current && findConversation(state.current)) || null;

export function conversationTitle(conv) {
  if (!conv) return "";
  if (conv.type === GROUP) return (conv.groupProfile && (conv.groupProfile.name || conv.groupProfile.groupID)) || peerOf(conv.conversationID);
  // A friend's remark first (the conversation's `remark`), then the nick, then the userID.
  if (conv.type === C2C) return conv.remark || (conv.userProfile && (conv.userProfile.nick || conv.userProfile.userID)) || peerOf(conv.conversationID);
  return t("System notices");
}

/** A conversation's name, or its peer's ID when the UI does not hold it. */
export function targetName(conversationID) {
  const conv = findConversation(conversationID);
  return conv ? conversationTitle(conv) : peerOf(conversationID);
}

export function conversationAvatarInfo(conv) {
  const group = conv.type === GROUP;
  const profile = group ? conv.groupProfile || {} : conv.userProfile || {};
  return { id: peerOf(conv.conversationID), name: conversationTitle(conv), url: profile.avatar || profile.faceURL, group };
}

export function groupOf(conv) {
  if (!conv || conv.type !== GROUP) return null;
  return state.groups.get(peerOf(conv.conversationID)) || conv.groupProfile || null;
}

export function conversationSubtitle(conv) {
  if (conv.type === GROUP) {
    const group = groupOf(conv) || {};
    const parts = [groupTypeLabel(group.type || conv.subType)];
    if (group.memberCount) parts.push(memberCountText(group.memberCount));
    return parts.join(" · ");
  }
  if (conv.type === C2C) return "@" + peerOf(conv.conversationID);
  return "";
}

/** Conversations whose name or ID contains the filter (lower case). */
export function matchingConversations(list, filter) {
  return filter ? list.filter((c) => conversationTitle(c).toLowerCase().includes(filter) || peerOf(c.conversationID).toLowerCase().includes(filter)) : list;
}

/** The conversation is open, the tab is visible, and (on a narrow screen) the chat screen is showing. */
export function chatIsShowing(conversationID) {
  return state.current === conversationID && document.visibilityState === "visible" && !(NARROW.matches && $("app").dataset.view !== "chat");
}

/** "[@me]" / "[@all]" while the group has unread mentions (groupAtInfoList), as WeChat shows it. */
function atFlag(conv) {
  const infos = conv.type === GROUP && Array.isArray(conv.groupAtInfoList) ? conv.groupAtInfoList : [];
  if (!infos.length) return null;
  if (conv.conversationID === state.current && chatIsShowing(conv.conversationID)) return null;
  const me = infos.some((i) => i.atType === TYPES.CONV_AT_ME || i.atType === TYPES.CONV_AT_ALL_AT_ME || i.atType === 1 || i.atType === 3);
  return el("span", { class: "at-flag", "data-testid": "at-flag", text: me ? "[@me] " : "[@all] " });
}

const oneLine = (text) => String(text || "").replace(/\s+/g, " ");

function lastMessageNodes(conv, last) {
  if (last.isRevoked) {
    return [revokedSentence(last)];
  }
  const nodes = [];
  const mine = isMe(last.fromAccount);
  const isTip = last.type === "TIMGroupTipElem" || last.type === "TIMGroupSystemNoticeElem";
  if (conv.type === C2C && mine) {
    const read = Boolean(last.isPeerRead);
    nodes.push(icon(read ? "checks" : "check", "tick" + (read ? " is-read" : "")));
  } else if (conv.type === GROUP && !isTip && last.fromAccount) {
    nodes.push(el("span", { class: "who", text: t("%(name)s: ", { name: mine ? t("You") : last.nick || displayName(last.fromAccount) }) }));
  }
  if (isTip) nodes.push(tipSentence({ type: last.type, payload: last.payload, messageForShow: last.messageForShow }));
  else if (last.type === "TIMTextElem") nodes.push(...richText(oneLine(last.messageForShow)));
  else nodes.push(previewLabel(last));
  return nodes;
}

function previewNodes(conv) {
  const nodes = [];
  const flag = atFlag(conv);
  if (flag) nodes.push(flag);
  const draft = state.current !== conv.conversationID && draftOf(conv);
  if (draft && draft.trim()) return [...nodes, el("span", { class: "draft", "data-testid": "draft-label", text: t("[Draft] ") }), ...richText(oneLine(draft))];
  const last = conv.lastMessage || {};
  if (!last.messageForShow && !last.lastTime) return [...nodes, t("No messages yet")];
  return [...nodes, ...lastMessageNodes(conv, last)];
}

/** The composer's text for the conversation: this tab's unsaved text, else the draft kept on the server. */
export function draftOf(conv) {
  const local = state.drafts.get(conv.conversationID);
  return local !== undefined ? local : conv.draftText || "";
}

/** One line about a message, for abstracts and the forward and report dialogs: "Hi there", "[Image]". */
export function messageSummary(m) {
  if (m.type === "TIMTextElem") {
    const text = String((m.payload && m.payload.text) || "").replace(/\s+/g, " ").trim();
    return text.length > 60 ? text.slice(0, 60) + "…" : text;
  }
  return previewLabel(m);
}

/** "[Image]", "[File] report.pdf" and the like (WeChat's style, with the detail that helps). */
export function previewLabel(m) {
  const p = m.payload || {};
  const withDetail = (label, detail) => (detail ? `${label} ${detail}` : label);
  switch (m.type) {
    case "TIMImageElem":
      return t("[Image]");
    case "TIMVideoFileElem":
      return withDetail(t("[Video]"), p.videoSecond ? formatDuration(p.videoSecond) : "");
    case "TIMSoundElem":
      return withDetail(t("[Voice]"), p.second ? formatDuration(p.second) : "");
    case "TIMFileElem":
      return withDetail(t("[File]"), p.fileName);
    case "TIMLocationElem":
      return withDetail(t("[Location]"), p.description);
    case "TIMFaceElem": {
      const sticker = stickerFor(p);
      return withDetail(t("[Sticker]"), sticker && sticker.label);
    }
    case "TIMRelayElem":
      return withDetail("[Chat history]", p.title);
    case "TIMCustomElem":
      if (isDice(p)) return `[Dice] ${p.description}`;
      return p.description ? String(p.description) : "[Custom message]";
    default:
      return oneLine(m.messageForShow);
  }
}

function conversationItem(conv) {
  const id = conv.conversationID;
  const selected = id === state.current;
  const unread = selected && chatIsShowing(id) ? 0 : conv.unreadCount || 0;
  const last = conv.lastMessage || {};
  const markedUnread = hasMark(conv, MARK.UNREAD) && !(selected && chatIsShowing(id));
  const muted = isMuted(conv);
  const trailing = [];
  if (muted) trailing.push(marker(icon("bellOff", "muted-mark"), "muted-mark", t("Notifications off")));
  if (unread > 0) trailing.push(el("span", { class: "badge", "data-testid": "unread-badge", role: "img", "aria-label": `${unread} unread`, text: badgeText(unread) }));
  else if (markedUnread) trailing.push(el("span", { class: "unread-dot", role: "img", "aria-label": t("Marked as unread"), "data-testid": "unread-mark" }));
  else if (conv.isPinned) trailing.push(icon("pin", "pin-mark"));
  return el(
    "li",
    {
      class: "conv" + (unread > 0 || markedUnread ? " has-unread" : "") + (muted ? " is-muted" : ""),
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
        conv.type === GROUP ? icon("people", "conv-kind") : null,
        el("span", { class: "conv-name", "data-testid": "conversation-name", text: conversationTitle(conv) }),
        hasMark(conv, MARK.STAR) ? marker(icon("star", "star-mark"), "star-mark", t("Starred")) : null,
        el("span", { class: "conv-time", text: listTime(last.lastTime) }),
      ),
      el("div", { class: "conv-row" }, el("span", { class: "conv-preview", "data-testid": "conversation-preview" }, previewNodes(conv)), trailing),
    ),
  );
}

/** An icon with words for screen readers, findable by tests. */
function marker(svg, testid, label) {
  return el("span", { class: "conv-marker", role: "img", "aria-label": label, title: label, "data-testid": testid }, svg);
}

/** The server's list, plus a chat just started from "New chat" at the top while it is open. */
function listedConversations() {
  const all = state.conversations.slice();
  for (const [id, conv] of state.extraConversations) if (id === state.current && !all.some((c) => c.conversationID === id)) all.unshift(conv);
  return all;
}

export function renderConversationList() {
  const filter = state.filter.trim().toLowerCase();
  const all = listedConversations();
  renderListTabs(renderConversationList);
  const shown = matchingConversations(filter ? all : conversationsInTab(all), filter);
  // The items are made again: one that had the keyboard's focus gets it back, so that an
  // update arriving while someone tabs through the list does not drop their place.
  const list = $("conv-list");
  const focused = list.contains(document.activeElement) ? document.activeElement.closest("[data-conversation-id]") : null;
  list.replaceChildren(...shown.map(conversationItem));
  if (focused) {
    const again = [...list.children].find((item) => item.dataset.conversationId === focused.dataset.conversationId);
    if (again) again.focus({ preventScroll: true });
  }

  const booting = !state.conversationsLoaded;
  $("app").classList.toggle("is-booting", booting);
  $("conv-empty").hidden = booting || all.length > 0;
  const none = !booting && all.length === 0;
  $("placeholder-title").textContent = none ? t("Welcome to Chat") : t("Select a conversation");
  $("placeholder-text").textContent = none ? t("Message a colleague by their user ID, create a group, or join one by its ID.") : t("Pick one on the left, or start something new.");
  $("conv-nomatch").hidden = !(all.length > 0 && shown.length === 0);
  $("conv-nomatch").textContent = filter ? t("No conversations match your search.") : t("No chats here yet.");
}

export function setConversations(list) {
  state.conversations = Array.isArray(list) ? list : [];
  for (const conv of state.conversations) {
    if (conv.userProfile) rememberName(conv.userProfile.userID, conv.userProfile.nick);
    if (conv.lastMessage) rememberName(conv.lastMessage.fromAccount, conv.lastMessage.nick);
  }
  state.conversationsLoaded = true;
  for (const conv of state.conversations) state.extraConversations.delete(conv.conversationID);
  renderConversationList();
  const current = currentConversation();
  if (current) {
    renderChatHeader(current);
    if ((current.unreadCount || 0) > 0) markRead(state.current);
  }
  updateBackBadge();
}

/** The unread count of the other conversations, on the narrow screen's back button. */
export function updateBackBadge() {
  const others = state.conversations.reduce((sum, c) => sum + (c.conversationID === state.current ? 0 : c.unreadCount || 0), 0);
  const badge = $("back-badge");
  badge.hidden = others === 0;
  badge.textContent = badgeText(others);
  // The badge is drawn for the eye; the button's name says it (and holds its text, for voice control).
  $("back-btn").setAttribute("aria-label", others ? t("Back to conversations, %(count)s unread", { count: badgeText(others) }) : t("Back to conversations"));
}

/** The total unread count in the page title and on the favicon. */
export function updateTitle() {
  showUnreadCount(state.totalUnread);
}

export function wireConversationList() {
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
}
