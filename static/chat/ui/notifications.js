/*
 * Desktop notifications, the new-message sound, and the unread count in the page title
 * and on the favicon. What deserves a notification is decided in static/chat/notify.js
 * (pure, tested with node); this module shows it.
 *
 * - Permission is asked only from a click: the banner above the conversation list
 *   ("Turn on desktop notifications") or the checkbox in Profile and settings; never
 *   on page load (browsers penalise that, and people say no to it).
 * - The sound is a short two-tone chime made with WebAudio (nothing to download, so
 *   no media-src for it); browsers let an AudioContext play only after the page got a
 *   gesture, so it is made on the first click or key press.
 * - The user's choices (desktop on/off, sound on/off, banner dismissed) are kept in
 *   localStorage: they belong to this browser, as the browser's permission does.
 * - Several tabs of the same account all get the message: each notification is tagged
 *   with its conversation (the browser replaces rather than stacks), and the message IDs
 *   already announced are noted in localStorage so a second tab stays quiet.
 */

import { initials, hueFor } from "../format.js";
import { peerOf } from "../ids.js";
import { faviconURL, mentionsMe, notificationBody, notificationTitle, pickNotifications, remindType, REMIND, titleWithCount } from "../notify.js";
import { chatIsShowing, findConversation, groupOf, previewLabel } from "./conversations.js";
import { $, safeUrl } from "./dom.js";
import { senderName } from "./names.js";
import { openConversation } from "./navigation.js";
import { atAllID, state } from "./state.js";
import { toast } from "./toast.js";
import { t } from "../i18n.js";

const KEY_DESKTOP = "chat.notify.desktop";
const KEY_SOUND = "chat.notify.sound";
const KEY_BANNER = "chat.notify.banner";
const KEY_SEEN = "chat.notify.seen";

function stored(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key, value) {
  try {
    window.localStorage.setItem(key, value);
  } catch {
    /* private mode: the choice lasts for this page */
  }
}

const supported = () => typeof window.Notification === "function";
const permission = () => (supported() ? window.Notification.permission : "denied");
export const desktopWanted = () => stored(KEY_DESKTOP) !== "off";
export const soundWanted = () => stored(KEY_SOUND) !== "off";

// --- the count in the title and on the favicon ---------------------------------------------

let shownCount = -1;

/** "(3) Chat" and a red "3" on the favicon; nothing when all is read. */
export function showUnreadCount(count) {
  const n = Math.max(0, Number(count) || 0);
  document.title = titleWithCount(n, t("Chat"));
  if (n === shownCount) return;
  shownCount = n;
  const link = document.querySelector("link[rel~='icon']");
  if (link) link.setAttribute("href", faviconURL(n));
}

// --- sound ---------------------------------------------------------------------------------

let audio = null;

function audioContext() {
  if (audio) return audio;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return null;
  try {
    audio = new Context();
  } catch {
    audio = null;
  }
  return audio;
}

/** Two soft tones, 0.25 s in all. */
export function playChime() {
  const ctx = audio;
  if (!ctx || ctx.state !== "running") return false;
  const start = ctx.currentTime + 0.01;
  for (const [freq, offset] of [
    [880, 0],
    [1318.5, 0.09],
  ]) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.type = "sine";
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.12, start + offset + 0.015);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(start + offset);
    osc.stop(start + offset + 0.18);
  }
  window.__chatChimes = (window.__chatChimes || 0) + 1; // for the browser tests: a chime was played
  return true;
}

function unlockAudio() {
  const ctx = audioContext();
  if (ctx && ctx.state === "suspended") ctx.resume().catch(() => {});
}

// --- notifications -------------------------------------------------------------------------

/** The message IDs this browser announced lately, shared by its tabs. */
function claim(messageID) {
  let seen = [];
  try {
    seen = JSON.parse(stored(KEY_SEEN) || "[]");
  } catch {
    seen = [];
  }
  if (!Array.isArray(seen)) seen = [];
  if (seen.includes(messageID)) return false;
  seen.push(messageID);
  store(KEY_SEEN, JSON.stringify(seen.slice(-100)));
  return true;
}

const iconCache = new Map();

/** The sender's picture, or their initials on their colour (as the avatars in the list). */
function iconFor(message) {
  const url = safeUrl(message.avatar);
  if (url && !url.startsWith("blob:")) return url;
  const id = message.from || "";
  if (iconCache.has(id)) return iconCache.get(id);
  let made = "";
  try {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 96;
    const g = canvas.getContext("2d");
    g.fillStyle = `hsl(${hueFor(id)} 55% 52%)`;
    g.beginPath();
    g.arc(48, 48, 48, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = "#fff";
    g.font = "600 38px system-ui, sans-serif";
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(initials(senderName(message) || id), 48, 51);
    made = canvas.toDataURL("image/png");
  } catch {
    made = "";
  }
  iconCache.set(id, made);
  return made;
}

function groupName(message, conversation) {
  if (!message.conversationID.startsWith("GROUP")) return "";
  const group = groupOf(conversation) || state.groups.get(peerOf(message.conversationID));
  return (group && (group.name || group.groupID)) || peerOf(message.conversationID);
}

function contextFor(message) {
  return {
    myID: state.me.userID,
    atAllID: atAllID(),
    conversation: findConversation(message.conversationID),
    showing: chatIsShowing(message.conversationID),
    nowSeconds: Date.now() / 1000,
  };
}

function showNotification(message) {
  const conversation = findConversation(message.conversationID);
  const muted = remindType(conversation) !== REMIND.NOTIFY;
  const mentioned = muted && mentionsMe(message, state.me.userID, atAllID());
  const title = notificationTitle(senderName(message), groupName(message, conversation));
  const options = {
    body: notificationBody(message, previewLabel, { mentioned }),
    icon: iconFor(message) || undefined,
    tag: message.conversationID,
    renotify: true,
    silent: true, // the page plays its own chime, or none when the sound is off
    data: { conversationID: message.conversationID, messageID: message.ID },
  };
  let n;
  try {
    n = new window.Notification(title, options);
  } catch {
    return; // e.g. Android Chrome allows notifications only from a service worker
  }
  n.onclick = () => {
    window.focus();
    openConversation(message.conversationID, { focus: true });
    n.close();
  };
}

/**
 * MESSAGE_RECEIVED: announce what deserves it (notify.js), once per conversation and
 * batch, with a chime when the sound is on.
 */
export function notifyArrivals(messages) {
  const chosen = pickNotifications(messages, contextFor).filter((m) => claim(m.ID));
  if (!chosen.length) return;
  if (soundWanted()) playChime();
  if (!desktopWanted() || permission() !== "granted") return;
  for (const m of chosen) showNotification(m);
}

// --- asking, and the settings ----------------------------------------------------------------

function renderControls() {
  const p = permission();
  $("notify-banner").hidden = !(supported() && p === "default" && stored(KEY_BANNER) !== "dismissed");
  const desktop = $("notify-desktop");
  desktop.checked = p === "granted" && desktopWanted();
  desktop.disabled = !supported() || p === "denied";
  const hint = $("notify-desktop-hint");
  hint.textContent = !supported()
    ? t("This browser can't show desktop notifications.")
    : p === "denied"
      ? t("Notifications are blocked for this site. Allow them in your browser's site settings.")
      : "";
  hint.hidden = !hint.textContent;
  $("notify-sound").checked = soundWanted();
}

/** Ask for the browser's permission (from a click), and turn notifications on. */
export async function enableDesktopNotifications() {
  if (!supported()) return;
  store(KEY_DESKTOP, "on");
  if (window.Notification.permission === "default") {
    try {
      await window.Notification.requestPermission();
    } catch {
      /* an old callback-style API: the state below tells */
    }
  }
  store(KEY_BANNER, "dismissed");
  if (window.Notification.permission === "denied") toast(t("Notifications are blocked for this site. Allow them in your browser's site settings."), { error: true });
  renderControls();
}

export function wireNotifications() {
  showUnreadCount(state.totalUnread);
  for (const type of ["pointerdown", "keydown"]) document.addEventListener(type, unlockAudio, { capture: true, passive: true });
  $("notify-enable").addEventListener("click", () => enableDesktopNotifications());
  $("notify-dismiss").addEventListener("click", () => {
    store(KEY_BANNER, "dismissed");
    renderControls();
  });
  $("notify-desktop").addEventListener("change", (e) => {
    if (e.target.checked) enableDesktopNotifications();
    else {
      store(KEY_DESKTOP, "off");
      renderControls();
    }
  });
  $("notify-sound").addEventListener("change", (e) => {
    store(KEY_SOUND, e.target.checked ? "on" : "off");
    if (e.target.checked) {
      unlockAudio();
      playChime(); // what it will sound like
    }
  });
  document.addEventListener("visibilitychange", renderControls); // the permission may change in the browser's settings
  renderControls();
}

/** The settings dialog opened: show the current state (the permission may have changed). */
export const refreshNotificationControls = renderControls;
