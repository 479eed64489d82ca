/*
 * "Forwarded from": a forwarded message's cloudCustomData holds the JSON string
 * {"forwardedFrom": {"userID", "name", "messageID"}} naming the original's sender
 * (docs/PROTOCOL.md §4.9). The vendor's SDK has no field for it. A forward of a forward
 * keeps the first origin. The name is the forwarder's own text. Pure: importable by Node.
 */

import { t } from "./i18n.js";

export const FORWARD_KEY = "forwardedFrom";
const NAME_MAX = 64;

const text = (value) => (typeof value === "string" ? value : "");

/** The origin a message's cloudCustomData names, or null: {userID, name, messageID}, strings only. */
export function parseForwarded(cloudCustomData) {
  if (typeof cloudCustomData !== "string" || !cloudCustomData.includes(FORWARD_KEY)) return null;
  let data;
  try {
    data = JSON.parse(cloudCustomData);
  } catch {
    return null;
  }
  const from = data && typeof data === "object" ? data[FORWARD_KEY] : null;
  if (!from || typeof from !== "object" || !(text(from.name) || text(from.userID))) return null;
  return { userID: text(from.userID), name: text(from.name).slice(0, NAME_MAX), messageID: text(from.messageID) };
}

/** The cloudCustomData of a forward of `original`, whose sender is shown as `senderName`. */
export function buildForwardData(original, senderName) {
  const first = parseForwarded(original.cloudCustomData);
  const from = first || { userID: original.from || "", name: String(senderName || original.nick || original.from || "").slice(0, NAME_MAX), messageID: original.ID || "" };
  return JSON.stringify({ [FORWARD_KEY]: from });
}

/** The label above a forwarded message's body, or "" when it is none. */
export function forwardedLabel(cloudCustomData) {
  const from = parseForwarded(cloudCustomData);
  return from ? t("Forwarded from %(name)s", { name: from.name || from.userID }) : "";
}
