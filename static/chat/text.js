/*
 * Message text: emoji codes ("[微笑]", the seed docs' emojiMap names), links and
 * @mentions. Text is cut into segments ({kind: "text" | "emoji" | "link" | "mention"})
 * that the UI turns into text nodes and elements, never HTML. Pure: no DOM, importable
 * by Node.
 */

import { t } from "./i18n.js";

/** What an @all mention may be written as in the text. */
const AT_ALL_WORDS = ["Everyone", "everyone", "all", "All", "所有人"];

/**
 * The seed's parseText (shared/spec S0, "解析文本消息"), unchanged in its logic:
 * [{name: "text", text}, {name: "img", src, code}] for a text payload.
 */
export function parseText(payload, emojiMap, emojiUrl) {
  const renderDom = [];
  let temp = String((payload && payload.text) || "");
  let left;
  let right;
  while (temp !== "") {
    left = temp.indexOf("[");
    right = temp.indexOf("]");
    switch (left) {
      case 0:
        if (right === -1) {
          renderDom.push({ name: "text", text: temp });
          temp = "";
        } else {
          const _emoji = temp.slice(0, right + 1);
          if (emojiMap[_emoji]) {
            renderDom.push({ name: "img", src: emojiUrl + emojiMap[_emoji], code: _emoji });
            temp = temp.substring(right + 1);
          } else {
            renderDom.push({ name: "text", text: "[" });
            temp = temp.slice(1);
          }
        }
        break;
      case -1:
        renderDom.push({ name: "text", text: temp });
        temp = "";
        break;
      default:
        renderDom.push({ name: "text", text: temp.slice(0, left) });
        temp = temp.substring(left);
        break;
    }
  }
  return renderDom;
}

/** Text cut at the mention tokens: [{kind: "text", text} | {kind: "mention", text, me}]. */
export function splitMentions(text, rules) {
  if (!text) return [];
  if (!rules || !rules.length) return [{ kind: "text", text }];
  const escaped = rules.map((r) => r.token.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(`(${escaped.join("|")})`, "g");
  const segments = [];
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    const rule = rules.find((r) => r.token === match[0]);
    if (match.index > last) segments.push({ kind: "text", text: text.slice(last, match.index) });
    segments.push({ kind: "mention", text: match[0], me: Boolean(rule && rule.me) });
    last = match.index + match[0].length;
  }
  if (last < text.length) segments.push({ kind: "text", text: text.slice(last) });
  return segments;
}

// A web address as people type it: http(s)://… or www.…, up to a space or a character
// that cannot be in a URL as typed (quotes, angle brackets); trailing punctuation is cut
// off afterwards (linkEnd).
const LINK_PATTERN = /\b(?:https?:\/\/|www\.)[^\s<>"'`\u3000-\u303f\uff01-\uff0f\uff1a-\uff20]+/giu;
const TRAILING = /[.,;:!?…]$/u;
const PAIRS = { ")": "(", "]": "[", "}": "{" };

/** Where a matched link really ends: sentence punctuation and an unpaired closing bracket stay text. */
function linkEnd(candidate) {
  let link = candidate;
  for (;;) {
    const last = link.at(-1);
    if (TRAILING.test(link)) link = link.slice(0, -1);
    else if (PAIRS[last] && link.split(PAIRS[last]).length <= link.split(last).length - 1) link = link.slice(0, -1);
    else return link;
  }
}

/**
 * The href for a link's text, or null: http and https only (a "www." address gets
 * https://), with a host; anything else (javascript:, data:, a bare "http://") stays text.
 */
export function linkHref(text) {
  const withScheme = /^www\./i.test(text) ? "https://" + text : text;
  try {
    const url = new URL(withScheme);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname && !url.username && !url.password ? url.href : null;
  } catch {
    return null;
  }
}

/** Text cut at its web addresses: [{kind: "text", text} | {kind: "link", text, href}]. */
export function splitLinks(text) {
  if (!text) return [];
  const segments = [];
  let last = 0;
  for (const match of text.matchAll(LINK_PATTERN)) {
    const linkText = linkEnd(match[0]);
    const href = linkText.length > match[0].indexOf("//") + 2 && linkHref(linkText);
    if (!href) continue;
    if (match.index > last) segments.push({ kind: "text", text: text.slice(last, match.index) });
    segments.push({ kind: "link", text: linkText, href });
    last = match.index + linkText.length;
  }
  if (last < text.length) segments.push({ kind: "text", text: text.slice(last) });
  return segments;
}

/**
 * A text as segments: emoji codes found in emoji.map become {kind: "emoji", code,
 * src}; the text between them is cut at web addresses when `links` ({kind: "link",
 * text, href}: message bodies, not the one-line previews, which are links themselves),
 * and the rest at the mention tokens (mentionRules).
 * emoji: {map: {"[微笑]": "emoji_0.svg"}, url: "/static/chat/emoji/"}.
 */
export function textSegments(text, emoji, rules, { links = false } = {}) {
  const segments = [];
  let buffer = "";
  const flush = () => {
    for (const part of links ? splitLinks(buffer) : [{ kind: "text", text: buffer }]) {
      if (part.kind === "link") segments.push(part);
      else segments.push(...splitMentions(part.text, rules));
    }
    buffer = "";
  };
  for (const part of parseText({ text }, emoji.map, emoji.url)) {
    if (part.name === "img") {
      flush();
      segments.push({ kind: "emoji", code: part.code, src: part.src });
    } else buffer += part.text;
  }
  flush();
  return segments;
}

/** A text of one to three emoji and nothing else (shown big, without a bubble): their parts, else null. */
export function jumboEmoji(text, emoji) {
  const parts = parseText({ text }, emoji.map, emoji.url);
  const images = parts.filter((p) => p.name === "img");
  const rest = parts.every((p) => p.name === "img" || !p.text.trim());
  return images.length >= 1 && images.length <= 3 && rest ? images : null;
}

/** The user IDs a message mentions (message.atUserList, or its payload's). */
export function atList(m) {
  const list = (m && (m.atUserList && m.atUserList.length ? m.atUserList : m.payload && m.payload.atUserList)) || [];
  return Array.isArray(list) ? list : [];
}

/** Whether someone else's message mentions the viewer, by ID or @all. */
export function mentionsViewer(m, viewerID, atAll) {
  if (!m || m.from === viewerID) return false;
  const list = atList(m);
  return list.includes(viewerID) || list.includes(atAll);
}

/**
 * [{token: "@Bob", me}] for the users a message mentions, longest first. me: the
 * mention is of the viewer (or @all) in someone else's message. viewer: {userID,
 * nick}; nameOf(userID) is what the UI calls them.
 */
export function mentionRules(m, { viewer, nameOf, atAll }) {
  const rules = [];
  const mine = m.from === viewer.userID; // my own mentions are marked, not highlighted as "me"
  for (const id of atList(m)) {
    if (id === atAll) {
      for (const word of AT_ALL_WORDS) rules.push({ token: "@" + word, me: !mine });
      continue;
    }
    const me = id === viewer.userID && !mine;
    const names = new Set([id, nameOf(id)]);
    if (me && viewer.nick) names.add(viewer.nick);
    for (const name of names) if (name) rules.push({ token: "@" + name, me });
  }
  return rules.sort((a, b) => b.token.length - a.token.length);
}

/** The user IDs picked from the @ list ([{userID, label}]) whose "@label" is still in the text, each once. */
export function pickedMentions(picks, text) {
  const ids = [];
  for (const { userID, label } of picks || []) {
    if (text.includes("@" + label) && !ids.includes(userID)) ids.push(userID);
  }
  return ids;
}

/** The "@query" that ends the text before the caret: {start, query}, else null. */
export function mentionQuery(beforeCaret) {
  const match = /(^|[\s(（])@([^\s@]{0,32})$/.exec(beforeCaret);
  return match ? { start: beforeCaret.length - match[2].length - 1, query: match[2] } : null;
}

/**
 * The @ list for a query: "Everyone" when it fits, then the members (not the viewer)
 * whose name or ID starts with the query, then those that contain it, by name; 50 at most.
 */
export function mentionOptions(members, query, { viewerID, atAll }) {
  const q = query.toLowerCase();
  const options = [];
  if (!q || "everyone".startsWith(q) || "all".startsWith(q)) options.push({ userID: atAll, label: t("Everyone"), sub: t("Notify everyone in the group") });
  const matches = [];
  for (const m of members) {
    if (m.userID === viewerID) continue;
    const label = m.nameCard || m.nick || m.userID;
    const names = [label.toLowerCase(), m.userID.toLowerCase()];
    const rank = !q ? 1 : names.some((n) => n.startsWith(q)) ? 0 : names.some((n) => n.includes(q)) ? 1 : -1;
    if (rank >= 0) matches.push({ rank, option: { userID: m.userID, label, sub: "@" + m.userID, avatar: m.avatar } });
  }
  matches.sort((a, b) => a.rank - b.rank || a.option.label.localeCompare(b.option.label));
  options.push(...matches.slice(0, 50).map((x) => x.option));
  return options;
}

// After a name, a letter, digit, "_" or "-" (or "." before one: "@bob.smith") means a longer word.
const WORD_GOES_ON = /^(?:[\p{L}\p{N}_-]|\.[\p{L}\p{N}_-])/u;

/**
 * The members an "@Name" typed by hand (not picked from the @ list) names: at an "@"
 * that starts a word, the longest of a member's name card, nick or user ID that follows
 * and ends there (at a space, punctuation or the end) counts; the viewer is left out,
 * and so is "@all" (picking "Everyone" is a choice, a typed "@all" may be a word).
 * members: [{userID, nick, nameCard}]. Returns user IDs, each once, in text order.
 */
export function typedMentions(text, members, { viewerID } = {}) {
  const names = [];
  for (const m of members || []) {
    if (!m || !m.userID || m.userID === viewerID) continue;
    for (const name of new Set([m.nameCard, m.nick, m.userID])) if (name) names.push({ name, userID: m.userID });
  }
  if (!names.length || !text) return [];
  names.sort((a, b) => b.name.length - a.name.length);
  const ids = [];
  for (const match of String(text).matchAll(/(^|[\s(（,，])@/gu)) {
    const at = match.index + match[0].length;
    const found = names.find(({ name }) => text.startsWith(name, at) && !WORD_GOES_ON.test(text.slice(at + name.length, at + name.length + 2)));
    if (found && !ids.includes(found.userID)) ids.push(found.userID);
  }
  return ids;
}
