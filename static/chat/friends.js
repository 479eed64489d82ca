/*
 * The relationship chain's pure rules for the UI (docs/PROTOCOL.md §5.34): what to call
 * a friend, and which friend requests are whose. No DOM: tested with node --test.
 */

import { t } from "./i18n.js";

export const SENT_TO_ME = "Pendency_Type_ComeIn";
export const SENT_BY_ME = "Pendency_Type_SendOut";

/** A friend's name: their remark, else their nick, else their userID (the SDK's order). */
export function friendName(friend) {
  if (!friend) return "";
  const profile = friend.profile || {};
  return friend.remark || profile.nick || friend.userID || "";
}

/** Friends sorted by name, as a contact list shows them (case-insensitive, stable). */
export function sortedFriends(friends) {
  return [...(friends || [])].sort((a, b) => friendName(a).localeCompare(friendName(b), undefined, { sensitivity: "base" }));
}

/** The requests sent to me, and the ones I sent, from getFriendApplicationList's list. */
export function splitRequests(applications) {
  const list = applications || [];
  return { received: list.filter((a) => a.type === SENT_TO_ME), sent: list.filter((a) => a.type === SENT_BY_ME) };
}

/** The badge on the Contacts button: the unread requests ("" when none; "99+" past 99). */
export function requestBadge(unreadCount) {
  const n = Number(unreadCount) || 0;
  if (n <= 0) return "";
  return n > 99 ? "99+" : String(n);
}

/** What addFriend's result means, in words: friends now, or a request waiting for them. */
export function addFriendResult(result, name) {
  return result && result.code === 0 ? t("%(name)s is now your friend.", { name }) : t("Friend request sent to %(name)s.", { name });
}
