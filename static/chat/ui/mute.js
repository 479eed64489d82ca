/*
 * The user's own mute in each group, so the composer says they are muted before the
 * server refuses a send with 10017. Learned from the member list (muteUntil), kept
 * live by the mute tips (operationType 7) and by GROUP_LIST_UPDATED (mute-all, role).
 */

import { groupConversationID, peerOf } from "../ids.js";
import { mutedNotice } from "../mute.js";
import { chat, state } from "./state.js";

const MUTE_CHANGED = 7;
const selfMute = new Map(); // groupID -> muteUntil (seconds) of the signed-in user
const learning = new Set();
let expiryTimer = null;
let onChange = () => {};

/** What to call when a mute may have changed (navigation re-renders the composer). */
export function onMuteChange(callback) {
  onChange = callback;
}

/** Why the user can't send in this group now, or "". The open group's notice goes when the mute ends. */
export function muteNoticeFor(groupID) {
  const group = state.groups.get(groupID) || {};
  const role = (group.selfInfo && group.selfInfo.role) || "Member";
  const muteUntil = selfMute.get(groupID) || 0;
  if (state.current === groupConversationID(groupID)) {
    clearTimeout(expiryTimer);
    if (muteUntil * 1000 > Date.now()) expiryTimer = setTimeout(() => onChange(), muteUntil * 1000 - Date.now() + 500);
  }
  return mutedNotice({ muteUntil, muteAllMembers: Boolean(group.muteAllMembers), role });
}

/** The member list says when the user's mute ends (members panel, the first look). */
export function noteMembers(groupID, list) {
  const me = list.find((m) => m.userID === state.me.userID);
  if (!me || selfMute.get(groupID) === (me.muteUntil || 0)) return;
  selfMute.set(groupID, me.muteUntil || 0);
  onChange();
}

/** Reads the user's own muteUntil once per group (again after a 10017). */
export async function learnSelfMute(groupID, { again = false } = {}) {
  if ((!again && selfMute.has(groupID)) || learning.has(groupID)) return;
  learning.add(groupID);
  try {
    // One request whatever the group's size (not a walk through the member list).
    const res = await chat.getGroupMemberProfile({ groupID, userIDList: [state.me.userID] });
    noteMembers(groupID, res.data.memberList || []);
  } catch {
    // Not a member any more, or offline: the server still refuses a muted send.
  } finally {
    learning.delete(groupID);
  }
}

/** A mute tip naming the user: their mute starts (tip time + muteTime) or ends. */
export function noteMuteTip(m) {
  const tip = m.payload || {};
  if (tip.operationType !== MUTE_CHANGED) return;
  const me = (tip.memberList || []).find((x) => x.userID === state.me.userID);
  if (!me) return;
  selfMute.set(peerOf(m.conversationID), me.muteTime ? (m.time || Math.floor(Date.now() / 1000)) + me.muteTime : 0);
  onChange();
}
