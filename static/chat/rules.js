/*
 * The server's rules, as the browser needs them: the group-tip sentence of a tip and
 * the size of a message body. The data (templates, profile fields, limits) comes
 * from the server in the `hello` frame (chat.getServerRules()); only the functions
 * that apply it live here, ported from messaging/rules.py and tested against the
 * same cases (tests/fixtures/group_tips.json, tests/js/rules.test.js).
 *
 * Pure: no DOM, importable by Node.
 */

import { nt, t } from "./i18n.js";


const TIP_MEMBER_JOIN = 1;
const TIP_GROUP_PROFILE_UPDATED = 6;
const TIP_MEMBER_PROFILE_UPDATED = 7;
const JOIN_BY_INVITATION = 2;

/** A tip's members whose mute changed (memberList entries with an integer muteTime). */
function mutedMembers(payload) {
  const members = Array.isArray(payload.memberList) ? payload.memberList : [];
  return members.filter((m) => m && Number.isInteger(m.muteTime));
}

/**
 * The key of a tip's sentence in groupTips.templates ("" when none fits): the
 * server's rules.tip_key. groupTips is hello.rules.groupTips ({templates, profileFields}).
 */
export function tipKey(payload, groupTips) {
  const p = payload || {};
  const op = p.operationType;
  if (op === TIP_MEMBER_JOIN) return p.groupJoinType === JOIN_BY_INVITATION ? "1.2" : "1";
  if (op === TIP_GROUP_PROFILE_UPDATED) return profileTipKey(p.newGroupProfile || {}, groupTips.profileFields || []);
  if (op === TIP_MEMBER_PROFILE_UPDATED) {
    const muted = mutedMembers(p);
    if (muted.length) return muted[0].muteTime > 0 ? "7.mute" : "7.unmute";
    const members = p.memberList || [];
    if (members.some((m) => m && Object.hasOwn(m, "nameCard"))) return "7.nameCard";
    return members.some((m) => m && Object.hasOwn(m, "memberCustomField")) ? "7.memberCustomField" : "";
  }
  const key = String(op);
  return Object.hasOwn(groupTips.templates || {}, key) ? key : "";
}

/** For a profile tip the first of the server's profileFields that the new profile holds names its sentence. */
function profileTipKey(profile, profileFields) {
  for (const name of profileFields) {
    if (!Object.hasOwn(profile, name)) continue;
    if (name === "muteAllMembers") return "6.muteAllMembers." + (profile[name] ? "on" : "off");
    return "6." + name;
  }
  return "6";
}

/** Python's round(): halves go to the even neighbour (round(2.5) == 2), as the server rounds. */
export function roundHalfEven(value) {
  const rounded = Math.round(value);
  return Math.abs(value % 1) === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/** A mute's length as the server words it: "45 seconds", "10 minutes", "2 hours", "3 days". */
export function durationText(seconds) {
  const s = roundHalfEven(Number(seconds) || 0);
  if (s < 90) return nt("%(count)s second", "%(count)s seconds", s);
  if (s < 5400) return nt("%(count)s minute", "%(count)s minutes", roundHalfEven(s / 60));
  if (s < 129600) return nt("%(count)s hour", "%(count)s hours", roundHalfEven(s / 3600));
  return nt("%(count)s day", "%(count)s days", roundHalfEven(s / 86400));
}

/** "Alice", "Alice and Bob", "Alice, Bob and Carol", "Alice, Bob, Carol and 2 others". */
export function listNames(names) {
  if (names.length <= 1) return names.join("");
  if (names.length <= 4) return t("%(names)s and %(last)s", { names: names.slice(0, -1).join(t(", ")), last: names[names.length - 1] });
  return t("%(names)s and %(last)s", { names: names.slice(0, 3).join(t(", ")), last: nt("%(count)s other", "%(count)s others", names.length - 3) });
}

/**
 * The note under a targeted group message (the SDK's receiverList): who besides its sender
 * may see it, "you" first. "Only visible to you and Carol", "Only visible to Bob".
 */
export function receiversNote(receiverList, viewerID, nameOf) {
  const others = receiverList.filter((id) => id !== viewerID).map(nameOf);
  return t("Only visible to %(names)s", { names: listNames(receiverList.includes(viewerID) ? [t("you"), ...others] : others) });
}

function fillTemplate(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(values, name) ? String(values[name]) : whole));
}

/**
 * A group tip in words, from the server's template for it ("" when none fits).
 * nameOf(userID, subject) names a person: the server passes nicknames; the UI its
 * own names, with "You" (subject) / "you" (object) for the viewer.
 * Placeholders: {operator}, {users} (subject form), {objects} (object form),
 * {name}, {owner} (object form), {duration}.
 */
export function tipText(payload, groupTips, nameOf) {
  const p = payload || {};
  if (!groupTips || !groupTips.templates) return "";
  const template = groupTips.templates[tipKey(p, groupTips)];
  if (typeof template !== "string") return "";
  const members = Array.isArray(p.memberList) ? p.memberList : [];
  const userIDs = Array.isArray(p.userIDList) && p.userIDList.length ? p.userIDList : members.map((m) => m.userID);
  const profile = p.newGroupProfile || {};
  const muted = mutedMembers(p);
  // The server's English sentence, in the page's language when the catalog has it
  // (manage.py jsmessages adds messaging/rules.py's sentences to djangojs.po).
  return fillTemplate(t(template), {
    operator: nameOf(p.operatorID || "", true),
    users: listNames(userIDs.map((id, i) => nameOf(id, i === 0))),
    objects: listNames(userIDs.map((id) => nameOf(id, false))),
    name: profile.name ?? "",
    owner: profile.ownerID ? nameOf(profile.ownerID, false) : "",
    duration: muted.length ? durationText(muted[0].muteTime) : "",
  });
}

const encoder = new TextEncoder();

export function utf8Length(text) {
  return encoder.encode(String(text)).length;
}

/**
 * The size of a message body as the server's limit (hello.rules.limits.maxBodyBytes)
 * counts it: the UTF-8 bytes of the payload as compact JSON plus those of
 * cloudCustomData (messaging/rules.py body_bytes). A newline is two bytes of JSON.
 */
export function bodyBytes(payload, cloudCustomData = "") {
  return utf8Length(JSON.stringify(payload)) + utf8Length(cloudCustomData || "");
}

/** A text message's payload as the server stores it: {text}, plus atUserList when it mentions people. */
export function textPayload(text, atUserList = []) {
  return atUserList && atUserList.length ? { text, atUserList } : { text };
}

/**
 * A recalled message in words: the server's sentence (hello.rules.revoke.template) with
 * the revoker's name, "You" when the viewer recalled it ("You recalled a message").
 */
export function revokedText(revoke, name) {
  if (!revoke || typeof revoke.template !== "string") return "";
  return fillTemplate(t(revoke.template), { revoker: name });
}

/** Whether `message` (sent by `viewerID`) is still inside the revoke window at `nowMs`. */
export function withinRevokeWindow(message, viewerID, revoke, nowMs) {
  if (!message || message.from !== viewerID || !revoke) return false;
  return nowMs / 1000 - (message.time || 0) <= revoke.window;
}

/**
 * Whether the viewer may recall `message` now, as the server decides (revokeMessage): their
 * own within the window; in a group, the owner anyone else's and an admin an ordinary
 * member's (`senderRole` when known) at any time. Tips and recalled messages never.
 */
export function mayRevoke(message, { viewerID, role = "", senderRole = "Member", revoke, nowMs }) {
  if (!message || message.isRevoked || message.status !== "success" || message.type === "TIMGroupTipElem") return false;
  if (message.from === viewerID) return withinRevokeWindow(message, viewerID, revoke, nowMs);
  if (message.conversationType !== "GROUP") return false;
  return role === "Owner" || (role === "Admin" && senderRole === "Member");
}

/**
 * Whether the viewer may edit `message` now, as the server decides (modifyMessage): their
 * own stored message of a type the server edits (`modify.types`: text and custom), not
 * recalled, within `modify.window` seconds of its time.
 */
export function mayModify(message, { viewerID, modify, nowMs }) {
  if (!message || !modify || message.isRevoked || message.status !== "success" || message.from !== viewerID) return false;
  if (!(modify.types || []).includes(message.type)) return false;
  return nowMs / 1000 - (message.time || 0) <= modify.window;
}

/**
 * Whether the viewer may report `message` to the moderators, as the server decides
 * (reportMessage): a stored message someone else sent, not a group tip or a system notice,
 * and not one already recalled (its content is gone from the viewer's screen).
 */
export function mayReport(message, viewerID) {
  if (!message || message.isRevoked || message.status !== "success") return false;
  if (message.type === "TIMGroupTipElem" || message.type === "TIMGroupSystemNoticeElem") return false;
  if (message.conversationType === "@TIM#SYSTEM" || message.from === "@TIM#SYSTEM") return false;
  return Boolean(message.from) && message.from !== viewerID;
}

/**
 * A group system notice in words (messaging/rules.py group_notice_text): the server's
 * sentence for its operationType (hello.rules.groupNotices) with {operator} named by
 * `nameOf` and {group} the group's name; "" when no sentence fits.
 */
export function noticeText(payload, groupNotices, nameOf = (id) => id) {
  const p = payload || {};
  const template = groupNotices && groupNotices.templates && groupNotices.templates[String(p.operationType)];
  if (typeof template !== "string") return "";
  const profile = p.groupProfile || {};
  const group = profile.name || profile.groupName || profile.groupID || t("the group");
  const operator = p.operatorID ? nameOf(p.operatorID) : t("Someone");
  const values = { operator, group, text: typeof p.userDefinedField === "string" ? p.userDefinedField : "" };
  // A function replacer: a name with "$&" in it is inserted as it is.
  return t(template).replace(/\{(operator|group|text)\}/g, (_, key) => values[key]);
}
