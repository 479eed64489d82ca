/*
 * Presence in the chat UI (docs/PROTOCOL.md §5.35–5.39, §6.14):
 *
 * - the C2C header says "online" or "last seen 10 min ago" (and the peer's custom
 *   status), live: the page follows the open chat's peer (subscribeUserStatus);
 * - the member panel shows a green dot (labelled "Online") on online members, and the
 *   page follows the members it shows (at most 100);
 * - the group header adds "N online" (getGroupOnlineMemberCount), asked again when a
 *   followed member goes online or offline, and every minute;
 * - the account menu has "Set a status…", a small dialog for your custom status text.
 *   (A full profile screen is another module's; this one keeps to presence.)
 *
 * The page follows only what it shows: the subscriptions are this socket's, at most 200
 * (tim.js subscribes again after a reconnect).
 */

import { C2C, GROUP, peerOf } from "../ids.js";
import { isOnline, mergeStatuses, onlineCountText, presenceLine, statusBytes } from "../presence.js";
import { conversationSubtitle, currentConversation } from "./conversations.js";
import { openDialog, wireDialog } from "./dialogs.js";
import { $, el, icon } from "./dom.js";
import { EVENT, chat, serverRules, state } from "./state.js";
import { t } from "../i18n.js";

/** hello.rules.presence (messaging/rules.py), with the server's values before the first hello. */
function presenceRules() {
  const rules = serverRules();
  return (rules && rules.presence) || { maxCustomStatusBytes: 100, maxSubscribeUserIDs: 100, maxSubscriptions: 200 };
}

const TICK_MS = 30000;

const statuses = new Map(); // userID -> {statusType, customStatus, lastSeen}
let followed = new Set();
let shownConversation = null;
const groupCounts = new Map(); // groupID -> online count
let countTimer = null;
let ticks = 0;

// --- the header ------------------------------------------------------------------------

/** Called by the header's renderer (navigation.js) after it drew `conv`: adds presence. */
export function showPresence(conv) {
  if (!conv) return;
  const opened = conv.conversationID !== shownConversation;
  shownConversation = conv.conversationID;
  renderHeader(conv);
  if (!opened) return;
  if (conv.type === GROUP) countOnline(peerOf(conv.conversationID));
  followWhatIsShown();
}

function renderHeader(conv) {
  const sub = $("chat-sub");
  if (!conv || sub.classList.contains("is-typing")) return;
  if (conv.type === C2C) {
    const status = statuses.get(peerOf(conv.conversationID));
    sub.textContent = presenceLine(status) || conversationSubtitle(conv);
    sub.dataset.presence = isOnline(status) ? "online" : status ? "offline" : "";
  } else if (conv.type === GROUP) {
    const count = groupCounts.get(peerOf(conv.conversationID));
    sub.textContent = [conversationSubtitle(conv), onlineCountText(count || 0)].filter(Boolean).join(" · ");
    delete sub.dataset.presence;
  }
}

function rerenderHeader() {
  const conv = currentConversation();
  if (conv && conv.conversationID === shownConversation) renderHeader(conv);
}

async function countOnline(groupID) {
  try {
    const res = await chat.getGroupOnlineMemberCount(groupID);
    groupCounts.set(groupID, res.data.memberCount || 0);
    rerenderHeader();
  } catch {
    // Not a member any more, or offline: the header keeps its member count.
  }
}

function countOnlineSoon() {
  const conv = currentConversation();
  if (!conv || conv.type !== GROUP) return;
  clearTimeout(countTimer);
  countTimer = setTimeout(() => countOnline(peerOf(conv.conversationID)), 300);
}

// --- the member panel ------------------------------------------------------------------

/** Called by the member panel (members.js) after it drew its list: dots, and follow them. */
export function decorateMembers() {
  drawDots();
  followWhatIsShown();
}

function drawDots() {
  for (const item of document.querySelectorAll("#member-list li.member")) {
    const online = isOnline(statuses.get(item.dataset.userId)) || item.dataset.userId === state.me.userID;
    let dot = item.querySelector(".presence-dot");
    if (online && !dot) {
      dot = el("span", { class: "presence-dot", role: "img", "aria-label": t("Online"), title: t("Online"), "data-testid": "member-online" });
      const avatarNode = item.querySelector(".avatar");
      if (avatarNode) avatarNode.after(dot);
      else item.prepend(dot);
    } else if (!online && dot) dot.remove();
  }
}

// --- following ---------------------------------------------------------------------------

/** Follow exactly the users the page shows: the open C2C peer and the panel's members. */
async function followWhatIsShown() {
  if (!chat || !state.ready) return;
  const wanted = new Set();
  const conv = currentConversation();
  if (conv && conv.type === C2C) wanted.add(peerOf(conv.conversationID));
  if (state.members.groupID && conv && conv.type === GROUP && peerOf(conv.conversationID) === state.members.groupID) {
    // The panel's first members, leaving room in the socket's subscriptions for the C2C peer.
    const room = Math.min(presenceRules().maxSubscribeUserIDs, presenceRules().maxSubscriptions - 1);
    for (const m of state.members.list.slice(0, room)) wanted.add(m.userID);
  }
  wanted.delete(state.me.userID);
  const added = [...wanted].filter((id) => !followed.has(id));
  const dropped = [...followed].filter((id) => !wanted.has(id));
  followed = wanted;
  try {
    if (dropped.length) await chat.unsubscribeUserStatus({ userIDList: dropped });
    if (!added.length) return;
    // Subscribe first, then read: a change in between is not lost.
    await chat.subscribeUserStatus({ userIDList: added });
    const res = await chat.getUserStatus({ userIDList: added });
    onStatusUpdated({ data: res.data.successUserList });
  } catch {
    for (const id of added) followed.delete(id); // tried again the next time they are shown
  }
}

const recheckedContacts = new Set();

/** Whether ``lastSeen`` was left out only because the socket followed the peer before
 * the two had a conversation (the server decides who is a contact when one subscribes):
 * then follow once more, which asks again. */
function recheckContact(item) {
  const conv = currentConversation();
  if (!conv || conv.type !== C2C || peerOf(conv.conversationID) !== item.userID) return;
  if (item.statusType !== 2 || item.lastSeen || recheckedContacts.has(item.userID)) return;
  if (!state.conversations.some((c) => c.conversationID === conv.conversationID)) return;
  recheckedContacts.add(item.userID);
  followed.delete(item.userID);
  followWhatIsShown();
}

function onStatusUpdated(event) {
  const items = event.data || [];
  for (const item of items) if (item) recheckContact(item);
  const flipped = mergeStatuses(statuses, items);
  if (items.some((item) => item && item.userID === state.me.userID)) renderOwnStatus();
  rerenderHeader();
  drawDots();
  if (flipped.some((id) => followed.has(id))) countOnlineSoon();
}

/** Every 30 s: "last seen 5 min ago" moves on; every minute the group count is asked again. */
function tick() {
  rerenderHeader();
  ticks += 1;
  if (ticks % 2 === 0) countOnlineSoon();
}

// --- your own status ---------------------------------------------------------------------

function ownStatus() {
  return (statuses.get(state.me.userID) || {}).customStatus || "";
}

function renderOwnStatus() {
  const line = $("my-status");
  if (line) line.textContent = ownStatus() ? t("Status: %(status)s", { status: ownStatus() }) : t("No status set");
}

async function loadOwnStatus() {
  followed = new Set(); // a new session: tim.js's subscriptions are gone
  shownConversation = null;
  try {
    const res = await chat.getUserStatus({ userIDList: [] });
    onStatusUpdated({ data: res.data.successUserList });
  } catch {
    // offline: the menu says "No status set" until the next ready
  }
}

function buildStatusMenu() {
  const menu = $("me-menu");
  const logout = $("logout-form");
  const line = el("div", { class: "menu-label my-status", id: "my-status", "data-testid": "my-status", text: t("No status set") });
  const button = el(
    "button",
    { type: "button", role: "menuitem", class: "menu-item", "data-testid": "set-status-button", onclick: openStatusDialog },
    t("Set a status…"),
  );
  menu.insertBefore(line, logout);
  menu.insertBefore(button, logout);
}

function buildStatusDialog() {
  const dialog = el(
    "dialog",
    { class: "dialog", id: "dlg-status", "aria-labelledby": "dlg-status-title", "data-testid": "status-dialog" },
    el(
      "form",
      { class: "dialog-form", novalidate: true },
      el(
        "header",
        { class: "dialog-head" },
        el("h2", { id: "dlg-status-title", text: t("Your status") }),
        el("button", { type: "button", class: "icon-btn", "data-close": true, "aria-label": t("Close") }, icon("close")),
      ),
      el(
        "div",
        { class: "dialog-body" },
        el(
          "label",
          { class: "field" },
          el("span", { text: t("What are you up to?") }),
          el("input", { type: "text", name: "customStatus", placeholder: t("e.g. In a meeting"), autocomplete: "off", "data-testid": "status-input" }),
        ),
        el("p", { class: "field-hint", text: t("People who follow you see it next to your name.") }),
        el("p", { class: "field-error", "data-error": true, role: "alert", hidden: true }),
      ),
      el(
        "footer",
        { class: "dialog-foot" },
        el("button", { type: "button", class: "btn", "data-testid": "status-clear", onclick: clearStatus }, "Clear status"),
        el("button", { type: "button", class: "btn", "data-close": true }, "Cancel"),
        el("button", { type: "submit", class: "btn btn-primary", "data-testid": "status-save" }, "Save"),
      ),
    ),
  );
  document.body.append(dialog);
  wireDialog("dlg-status", async (form) => {
    const text = form.elements.customStatus.value.trim();
    const max = presenceRules().maxCustomStatusBytes;
    if (statusBytes(text) > max) throw t("That status is too long: at most %(max)s bytes (about %(max)s letters, fewer with accents or emoji).", { max });
    await chat.setSelfStatus({ customStatus: text });
  });
}

function openStatusDialog() {
  openDialog("dlg-status", (dialog) => {
    dialog.querySelector("input[name=customStatus]").value = ownStatus();
  });
}

async function clearStatus() {
  const dialog = $("dlg-status");
  try {
    await chat.setSelfStatus({ customStatus: "" });
    dialog.close();
  } catch {
    dialog.querySelector("[data-error]").hidden = false;
    dialog.querySelector("[data-error]").textContent = t("Your status couldn't be cleared. Try again.");
  }
}

// --- wiring -------------------------------------------------------------------------------

/** The page's parts (before the SDK exists). */
export function wirePresence() {
  buildStatusMenu();
  buildStatusDialog();
  setInterval(tick, TICK_MS);
}

/** The SDK's events (once it exists). */
export function listenToPresence() {
  chat.on(EVENT.USER_STATUS_UPDATED, onStatusUpdated);
  chat.on(EVENT.SDK_READY, loadOwnStatus);
}
