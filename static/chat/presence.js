/*
 * Presence in words (docs/PROTOCOL.md §5.33, USER_STATUS_UPDATED): "online", "last seen
 * 5 min ago", "3 online". Pure: no DOM, importable by Node. Functions that depend on
 * "now" take it (a Date) so they can be tested.
 */

import { clockFormat } from "./format.js";
import { nt, t, uiLocale } from "./i18n.js";

const ONLINE = 1;
const OFFLINE = 2;

const LOCALE = uiLocale();
const fmtTime = clockFormat(LOCALE);
const fmtWeekday = new Intl.DateTimeFormat(LOCALE, { weekday: "long" });
const fmtDayMonth = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "long" });
const fmtFull = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "long", year: "numeric" });

const startOfDay = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
const daysBetween = (d, now) => Math.round((startOfDay(now) - startOfDay(d)) / 86400000);

/**
 * When someone was last seen (epoch seconds): "just now" (under a minute), "5 min ago"
 * (under an hour), "2 h ago" (under 6 hours, same day), "today at 09:10",
 * "yesterday at 14:05", "Monday at 14:05" (this week), "on 3 June", "on 3 June 2023".
 * A time a little in the future (clocks differ) reads "just now".
 */
export function lastSeenText(seconds, now = new Date()) {
  const d = new Date(seconds * 1000);
  const ago = Math.floor((now.getTime() - d.getTime()) / 1000);
  if (ago < 60) return t("just now");
  if (ago < 3600) return t("%(n)s min ago", { n: Math.floor(ago / 60) });
  const days = daysBetween(d, now);
  if (days === 0) return ago < 6 * 3600 ? t("%(n)s h ago", { n: Math.floor(ago / 3600) }) : t("today at %(time)s", { time: fmtTime.format(d) });
  if (days === 1) return t("yesterday at %(time)s", { time: fmtTime.format(d) });
  if (days < 7) return t("%(day)s at %(time)s", { day: fmtWeekday.format(d), time: fmtTime.format(d) });
  return t("on %(date)s", { date: d.getFullYear() === now.getFullYear() ? fmtDayMonth.format(d) : fmtFull.format(d) });
}

/** The C2C header's line for a status {statusType, lastSeen?}: "online", "last seen …",
 * "offline" (no lastSeen shown to us), or "" (never signed in, or unknown). */
export function presenceText(status, now = new Date()) {
  if (!status) return "";
  if (status.statusType === ONLINE) return t("online");
  if (status.statusType === OFFLINE) return status.lastSeen ? t("last seen %(when)s", { when: lastSeenText(status.lastSeen, now) }) : t("offline");
  return "";
}

/** The header line with the custom status: "online · In a meeting". */
export function presenceLine(status, now = new Date()) {
  const custom = status && typeof status.customStatus === "string" ? status.customStatus.trim() : "";
  return [presenceText(status, now), custom].filter(Boolean).join(" · ");
}

/** "3 online" (the group header); "" for none. */
export const onlineCountText = (count) => (count > 0 ? nt("%(count)s online", "%(count)s online", count) : "");

export const isOnline = (status) => Boolean(status) && status.statusType === ONLINE;

/** Merge USER_STATUS_UPDATED items into `statuses` (a Map userID -> status); returns the
 * userIDs whose online state changed (so counts are asked again only then). An item
 * without lastSeen keeps nothing stale: lastSeen is dropped with it. */
export function mergeStatuses(statuses, items) {
  const flipped = [];
  for (const item of items || []) {
    if (!item || typeof item.userID !== "string") continue;
    const before = statuses.get(item.userID);
    if (isOnline(before) !== isOnline(item)) flipped.push(item.userID);
    statuses.set(item.userID, { statusType: item.statusType, customStatus: item.customStatus || "", lastSeen: item.lastSeen || 0 });
  }
  return flipped;
}

/** Bytes of a custom status as the server counts them (UTF-8; at most 100). */
export const statusBytes = (text) => new TextEncoder().encode(String(text || "")).length;
