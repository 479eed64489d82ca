/*
 * Whether the user may send in a group, in words (docs/PROTOCOL.md §5.25, §5.27): the
 * server refuses a muted member's send with 10017; the composer says so before.
 * Pure: no DOM, importable by Node.
 */

import { t } from "./i18n.js";

const pad = (n) => String(n).padStart(2, "0");

/** "14:05" today, "2026-12-03 14:05" on another day (local time). */
export function muteEndText(untilSeconds, nowMs = Date.now()) {
  const end = new Date(untilSeconds * 1000);
  const now = new Date(nowMs);
  const time = `${pad(end.getHours())}:${pad(end.getMinutes())}`;
  const sameDay = end.getFullYear() === now.getFullYear() && end.getMonth() === now.getMonth() && end.getDate() === now.getDate();
  return sameDay ? time : `${end.getFullYear()}-${pad(end.getMonth() + 1)}-${pad(end.getDate())} ${time}`;
}

/**
 * Why the user can't send in this group, or "" when they can. muteUntil: their own
 * member's end of mute in seconds (0 or past: not muted); role: their selfInfo.role.
 */
export function mutedNotice({ muteUntil = 0, muteAllMembers = false, role = "Member" }, nowMs = Date.now()) {
  if (muteUntil * 1000 > nowMs) return t("You are muted until %(end)s", { end: muteEndText(muteUntil, nowMs) });
  if (muteAllMembers && role !== "Owner" && role !== "Admin") return t("Only admins can send messages while everyone is muted");
  return "";
}
