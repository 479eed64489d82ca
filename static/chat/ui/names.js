/*
 * Names: what to call a user ID, from everything the UI has seen (profiles, members,
 * messages, tips); and group tips in those names, with the server's wording.
 */

import { noticeText, revokedText, tipText } from "../rules.js";
import { serverRules, state } from "./state.js";
import { t } from "../i18n.js";

const GROUP_TIP = "TIMGroupTipElem";
const GROUP_SYSTEM_NOTICE = "TIMGroupSystemNoticeElem";

/**
 * A group system notice (the system conversation) in words: the server's sentence for
 * its operationType (hello.rules.groupNotices) with the operator's name as the UI knows
 * it, e.g. "Bob asked to join Team"; the server's messageForShow when none fits.
 */
export function noticeSentence(m) {
  const rules = serverRules();
  return noticeText(m.payload, rules && rules.groupNotices, (id) => personName(id)) || m.messageForShow || "";
}

export function rememberName(userID, name) {
  if (userID && name && name !== userID) state.names.set(userID, name);
}

export function rememberMembers(list) {
  for (const m of list || []) rememberName(m.userID, m.nameCard || m.nick);
}

export function displayName(userID) {
  if (!userID) return "";
  if (userID === state.me.userID && state.me.nick) return state.me.nick;
  return state.names.get(userID) || userID;
}

/** "Alice"; "You" (subject) or "you" (object) for me. */
function personName(userID, subject = true) {
  if (userID && userID === state.me.userID) return subject ? t("You") : t("you");
  return displayName(userID);
}

export function senderName(m) {
  if (m.from === state.me.userID) return state.me.nick || m.nick || m.from;
  return m.nameCard || m.nick || displayName(m.from);
}

/**
 * A group tip in words: the server's sentence for it (hello.rules.groupTips) with the
 * names the UI knows, never a bare user ID when a name is known; the message's
 * messageForShow when no sentence fits (and for group system notices, whose
 * operation types mean other things).
 */
export function tipSentence(m) {
  const p = m.payload || {};
  if (m.type === GROUP_SYSTEM_NOTICE) return noticeSentence(m);
  if (m.type !== GROUP_TIP) return m.messageForShow || "";
  for (const member of p.memberList || []) rememberName(member.userID, member.nick);
  if (p.operatorInfo) rememberName(p.operatorInfo.userID || p.operatorID, p.operatorInfo.nick);
  const rules = serverRules();
  return tipText(p, rules && rules.groupTips, personName) || m.messageForShow || "";
}

/**
 * A recalled message (or lastMessage) in words: the server's sentence
 * (hello.rules.revoke.template) with "You" when I recalled it, else the revoker's name;
 * the server's own wording (messageForShow, with their nick) when the UI knows no name.
 */
export function revokedSentence(m) {
  const revoker = m.revoker || m.fromAccount || m.from || "";
  if (m.revokerInfo) rememberName(m.revokerInfo.userID, m.revokerInfo.nick);
  const rules = serverRules();
  const mine = revoker === state.me.userID;
  const name = mine ? t("You") : state.names.get(revoker);
  if (!name) return m.messageForShow || revokedText(rules && rules.revoke, revoker);
  return revokedText(rules && rules.revoke, name) || m.messageForShow || "";
}
