/*
 * Emoji ([微笑] codes in text, static/chat/emoji/emoji.json) and stickers (face
 * messages {index, data: sticker name}, static/chat/stickers/stickers.json), and
 * text drawn with them: emoji as <img>, @mentions marked, everything else text nodes.
 *
 * A face is drawn by its name, else by its index, so the docs' example (index 1,
 * data "tt00") shows sticker 1.
 */

import { jumboEmoji, mentionRules, textSegments } from "../text.js";
import { $, el } from "./dom.js";
import { displayName } from "./names.js";
import { atAllID, state } from "./state.js";

export const assets = {
  base: "/static/chat/",
  emojiUrl: "/static/chat/emoji/",
  emojiMap: Object.create(null), // "[微笑]" -> "emoji_0.svg": the seed's emojiMap
  emojiLabels: Object.create(null),
  emojiList: [],
  stickerUrl: "/static/chat/stickers/",
  stickers: [],
  stickerByName: new Map(),
  stickerByIndex: new Map(),
};

const getJSON = (url) => fetch(url, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))));

function addEmoji(list) {
  if (!Array.isArray(list)) return;
  for (const e of list) {
    if (typeof e.code !== "string" || typeof e.file !== "string") continue;
    assets.emojiMap[e.code] = e.file;
    assets.emojiLabels[e.code] = e.label || e.code;
    assets.emojiList.push(e);
  }
}

function addStickers(set) {
  if (!set || !Array.isArray(set.stickers)) return;
  for (const st of set.stickers) {
    if (typeof st.name !== "string" || typeof st.file !== "string") continue;
    assets.stickers.push(st);
    assets.stickerByName.set(st.name, st);
    if (Number.isInteger(st.index)) assets.stickerByIndex.set(st.index, st);
  }
}

/** Load the emoji and sticker sets; the UI works (with codes as text) without them. Resolves when they are in. */
export async function loadAssets() {
  assets.base = $("app").dataset.static || "/static/chat/";
  assets.emojiUrl = assets.base + "emoji/";
  assets.stickerUrl = assets.base + "stickers/";
  const [emojiRes, stickerRes] = await Promise.allSettled([getJSON(assets.emojiUrl + "emoji.json"), getJSON(assets.stickerUrl + "stickers.json")]);
  if (emojiRes.status === "fulfilled") addEmoji(emojiRes.value);
  if (stickerRes.status === "fulfilled") addStickers(stickerRes.value);
  state.assetsVersion += 1;
}

const emojiSet = () => ({ map: assets.emojiMap, url: assets.emojiUrl });

export function stickerFor(payload) {
  const p = payload || {};
  return assets.stickerByName.get(String(p.data || "")) || assets.stickerByIndex.get(Number(p.index)) || null;
}

export function emojiImage(part, className = "emoji") {
  const img = el("img", { class: className, alt: part.code || "", title: assets.emojiLabels[part.code] || part.code || "", draggable: "false", decoding: "async" });
  img.src = part.src;
  return img;
}

/** The emoji of a face message whose data is an emoji code, as a part for emojiImage; null otherwise. */
export function emojiPart(code) {
  return assets.emojiMap[code] ? { code, src: assets.emojiUrl + assets.emojiMap[code] } : null;
}

function segmentNode(segment) {
  if (segment.kind === "emoji") return emojiImage(segment);
  if (segment.kind === "link") {
    // A new tab that cannot reach back to this page (noopener) nor learn where the link
    // was (noreferrer); the text shown is the text sent.
    return el("a", { class: "msg-link", href: segment.href, target: "_blank", rel: "noopener noreferrer", "data-testid": "message-link", text: segment.text });
  }
  if (segment.kind === "mention") return el("span", { class: "mention" + (segment.me ? " is-me" : ""), "data-testid": "mention", text: segment.text });
  return segment.text;
}

/**
 * Text with emoji codes as images and @mentions marked, and web addresses as links when
 * `links` (message bodies): text nodes and elements only.
 */
export function richText(text, rules, { links = false } = {}) {
  return textSegments(text, emojiSet(), rules, { links }).map(segmentNode);
}

/** A text of one to three emoji and nothing else: their parts (shown big), else null. */
export function jumboParts(text) {
  return jumboEmoji(text, emojiSet());
}

/** How a message's @mentions are marked in its text (highlighted when they are of me). */
export function messageMentionRules(m) {
  return mentionRules(m, { viewer: state.me, nameOf: displayName, atAll: atAllID() });
}
