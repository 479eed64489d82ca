/*
 * Message bodies, one function per type: text, images, video, voice, files,
 * locations, stickers, custom messages (dice), and merged chat histories. Each
 * returns {node, kind}; kind (text | media | card | sticker) shapes the bubble.
 *
 * An image bubble is the thumbnail (type 1) at its own size; a click opens the 720 px
 * one (type 2) with a link to the original (type 0). Media boxes have the picture's
 * real aspect ratio before it loads.
 */

import { customDataText, fileKind, fileNameParts, formatBytes, formatCoordinate, formatDuration, hueFor, osmUrl } from "../format.js";
import { unicodeEmojiOnly } from "../emoji-search.js";
import { assets, emojiImage, emojiPart, jumboParts, messageMentionRules, richText, stickerFor } from "./assets.js";
import { el, icon, safeUrl, svgNode } from "./dom.js";
import { openLightbox } from "./lightbox.js";
import { openMerger } from "./merger.js";
import { tipSentence } from "./names.js";
import { state } from "./state.js";
import { toast } from "./toast.js";
import { t } from "../i18n.js";

// A thumbnail is 198 px on its longest side: at that size a 1x screen uses it, and
// srcset lets a 2x screen take the 720 one.
const IMAGE_BOX = 198;
const VIDEO_MAX_W = 280;
const VIDEO_MAX_H = 300;

/** Image sizes read from local files before upload, so the preview keeps its shape. */
export const localSizes = new Map();

/**
 * A box of the media's real aspect ratio, reserved before it loads. Pictures are
 * never blown up past their size; panoramas beyond 3:1 are cropped to 3:1.
 */
function mediaBox(node, width, height, maxW, maxH) {
  const w = Number(width) || 0;
  const h = Number(height) || 0;
  if (!(w > 0 && h > 0)) {
    node.style.width = Math.min(maxW, 240) + "px";
    node.style.aspectRatio = "4 / 3";
    return node;
  }
  const ratio = Math.min(3, Math.max(1 / 3, w / h));
  const exact = Math.abs(ratio - w / h) < 1e-9;
  const boxW = Math.min(w, maxW, maxH * ratio);
  node.style.width = Math.max(64, Math.round(boxW)) + "px";
  node.style.aspectRatio = exact ? `${w} / ${h}` : String(ratio);
  return node;
}

const progressFraction = (m) => Math.max(0, Math.min(1, Number(m.progress) || 0));
const isUploading = (m) => m.status === "unSend" && m.flow === "out";
const uploadLabel = (pct, size) => (size ? `Uploading… ${pct}% of ${formatBytes(size)}` : `Uploading… ${pct}%`);

function uploadProgress(m) {
  if (!isUploading(m)) return null;
  const pct = Math.round(progressFraction(m) * 100);
  return el(
    "div",
    { class: "upload-progress", role: "progressbar", "aria-label": t("Uploading"), "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(pct), "data-testid": "upload-progress" },
    el("span", { class: "upload-bar", style: `width: ${pct}%` }),
  );
}

/** Move a bubble's progress bar (and its label) without redrawing the conversation. */
export function showUploadProgress(messageID, fraction) {
  const bubble = document.querySelector(`.bubble[data-message-id="${CSS.escape(messageID)}"]`);
  if (!bubble) return;
  const pct = Math.round(Math.max(0, Math.min(1, fraction)) * 100);
  const bar = bubble.querySelector(".upload-progress");
  if (bar) {
    bar.setAttribute("aria-valuenow", String(pct));
    bar.firstChild.style.width = pct + "%";
  }
  const label = bubble.querySelector("[data-upload-label]");
  if (label) label.textContent = uploadLabel(pct, Number(label.dataset.uploadLabel) || 0);
}

function textBody(m) {
  const text = (m.payload && m.payload.text) || "";
  const jumbo = jumboParts(text);
  if (jumbo) return { node: el("span", { class: "msg-text jumbo", "data-testid": "jumbo-emoji" }, jumbo.map((part) => emojiImage(part, "emoji emoji-jumbo"))), kind: "sticker" };
  const unicodeJumbo = unicodeEmojiOnly(text);
  if (unicodeJumbo) return { node: el("span", { class: "msg-text jumbo jumbo-unicode", "data-testid": "jumbo-emoji", text: unicodeJumbo.join("") }), kind: "sticker" };
  return { node: el("span", { class: "msg-text" }, richText(text, messageMentionRules(m), { links: true })), kind: "text" };
}

/** The original (type 0), thumbnail (type 1) and large (type 2) of an image message. */
export function imageInfos(m) {
  const infos = (m.payload && m.payload.imageInfoArray) || [];
  const byType = (type) => infos.find((i) => i && i.type === type) || null;
  const original = byType(0) || infos[0] || {};
  return { original, thumb: byType(1) || original, large: byType(2) || original };
}

function thumbnailImage(frame, { original, thumb, large }) {
  const src = safeUrl(thumb.url) || safeUrl(large.url) || safeUrl(original.url);
  if (!src) return null;
  const img = el("img", { alt: "", decoding: "async", "data-testid": "image-thumb-img" });
  const bigger = safeUrl(large.url);
  if (bigger && bigger !== src && thumb.width && large.width > thumb.width) {
    img.srcset = `${src} ${thumb.width}w, ${bigger} ${large.width}w`;
    img.sizes = frame.style.width;
  }
  img.addEventListener("error", () => frame.classList.add("is-broken"), { once: true });
  img.src = src;
  return img;
}

function imageBody(m) {
  const infos = imageInfos(m);
  const { original, thumb, large } = infos;
  const local = localSizes.get(m.ID) || {};
  const width = original.width || large.width || thumb.width || local.width;
  const height = original.height || large.height || thumb.height || local.height;
  const frame = mediaBox(el("button", { type: "button", class: "media-frame", "aria-label": t("Open the image"), "data-testid": "image-thumb" }), width, height, IMAGE_BOX, IMAGE_BOX);
  const img = thumbnailImage(frame, infos);
  if (img) frame.append(img);
  frame.append(el("span", { class: "media-broken", "aria-hidden": "true" }, icon("image"), "Image unavailable"));
  frame.addEventListener("click", () => openLightbox(m));
  const progress = uploadProgress(m);
  if (progress) frame.append(progress);
  return { node: frame, kind: "media" };
}

function videoBody(m) {
  const p = m.payload || {};
  const frame = mediaBox(el("div", { class: "media-frame video-frame", "data-testid": "video-player" }), p.snapshotWidth, p.snapshotHeight, VIDEO_MAX_W, VIDEO_MAX_H);
  const src = safeUrl(p.videoUrl);
  const poster = safeUrl(p.snapshotUrl);
  const duration = el("span", { class: "video-duration", "data-testid": "video-duration", text: p.videoSecond ? formatDuration(p.videoSecond) : t("Video") });
  if (src) {
    // No poster (a local preview): let the browser show the first frame.
    const video = el("video", { preload: poster && p.videoSecond ? "none" : "metadata", playsinline: true });
    if (poster) video.poster = poster;
    video.src = src;
    video.addEventListener("loadedmetadata", () => {
      if (!p.videoSecond && Number.isFinite(video.duration)) duration.textContent = formatDuration(video.duration);
    });
    const play = el("button", { type: "button", class: "video-play", "aria-label": t("Play the video"), "data-testid": "video-play" }, el("span", { class: "play-disc" }, icon("play")), duration);
    play.addEventListener("click", () => {
      if (state.select.active) return;
      frame.classList.add("is-playing");
      video.controls = true;
      video.play().catch(() => {});
    });
    frame.append(video, play);
  } else frame.append(duration);
  const progress = uploadProgress(m);
  if (progress) frame.append(progress);
  return { node: frame, kind: "media" };
}

/** The voice message playing now: starting another pauses it. */
let playingVoice = null;

export function pauseVoice() {
  if (playingVoice) playingVoice.pause();
}

/** Bars of a voice message's "waveform": drawn from its ID, so they stay the same. */
function voiceBars(seed, count) {
  let h = hueFor(seed) + 7;
  const bars = [];
  for (let i = 0; i < count; i++) {
    h = (h * 1103515245 + 12345) >>> 0;
    const wave = 0.55 + 0.45 * Math.sin((i / count) * Math.PI);
    bars.push(Math.max(0.18, Math.min(1, wave * (0.35 + ((h >>> 8) % 1000) / 1540))));
  }
  return bars;
}

/** Wire a voice player's <audio> to its button, wave and time. */
function playVoice({ audio, button, wave, time, player, seconds }) {
  const bars = Array.from(wave.children);
  const total = () => (Number.isFinite(audio.duration) && audio.duration > 0 ? audio.duration : seconds);
  const paint = () => {
    const played = total() ? audio.currentTime / total() : 0;
    bars.forEach((bar, i) => bar.classList.toggle("is-played", i / bars.length < played));
    time.textContent = audio.paused && !audio.currentTime ? formatDuration(seconds || total()) : formatDuration(audio.currentTime);
  };
  const setIcon = (playing) => {
    button.replaceChildren(icon(playing ? "pause" : "play"));
    button.setAttribute("aria-label", (playing ? t("Pause voice message, %(duration)s", { duration: formatDuration(seconds) }) : t("Play voice message, %(duration)s", { duration: formatDuration(seconds) })));
    player.classList.toggle("is-playing", playing);
  };
  audio.addEventListener("play", () => setIcon(true));
  audio.addEventListener("pause", () => setIcon(false));
  audio.addEventListener("timeupdate", paint);
  audio.addEventListener("ended", () => {
    audio.currentTime = 0;
    paint();
  });
  audio.addEventListener("loadedmetadata", () => {
    if (!seconds && Number.isFinite(audio.duration)) time.textContent = formatDuration(audio.duration);
  });
  button.addEventListener("click", () => {
    if (state.select.active) return;
    if (!audio.paused) {
      audio.pause();
      return;
    }
    if (playingVoice && playingVoice !== audio) playingVoice.pause();
    playingVoice = audio;
    audio.play().catch(() => toast(t("The voice message couldn't be played."), { error: true }));
  });
  // Click on the wave to jump.
  wave.addEventListener("click", (e) => {
    if (!total() || state.select.active) return;
    const rect = wave.getBoundingClientRect();
    audio.currentTime = Math.max(0, Math.min(total(), ((e.clientX - rect.left) / rect.width) * total()));
    paint();
  });
}

function audioBody(m) {
  const p = m.payload || {};
  const src = safeUrl(p.url);
  const seconds = Number(p.second) || 0;
  const count = Math.round(Math.min(36, Math.max(16, 14 + seconds * 1.2)));
  const wave = el("span", { class: "voice-wave", "aria-hidden": "true" }, voiceBars(m.ID || p.uuid || "", count).map((v) => el("span", { class: "voice-bar", style: `height: ${Math.round(v * 100)}%` })));
  const time = el("span", { class: "voice-time", "data-testid": "voice-duration", text: formatDuration(seconds) });
  const button = el("button", { type: "button", class: "voice-play", "aria-label": `Play voice message, ${formatDuration(seconds)}`, "data-testid": "voice-play", disabled: !src }, icon("play"));
  const player = el("div", { class: "voice", "data-testid": "voice-player" }, button, el("span", { class: "voice-main" }, wave, time));
  if (src) {
    const audio = el("audio", { preload: "none" });
    audio.src = src;
    playVoice({ audio, button, wave, time, player, seconds });
    player.append(audio);
  }
  return { node: el("div", { class: "card-body" }, player, uploadProgress(m)), kind: "card" };
}

function fileNameNodes(name) {
  const [head, tail] = fileNameParts(name);
  return [el("span", { class: "file-name-head", text: head }), tail ? el("span", { class: "file-name-tail", text: tail }) : null];
}

function fileBody(m) {
  const p = m.payload || {};
  const kind = fileKind(p.fileName);
  const uploading = isUploading(m);
  const href = !uploading && m.status !== "fail" ? safeUrl(p.fileUrl) : null;
  const size = uploading
    ? el("span", { class: "file-size", "data-upload-label": String(p.fileSize || 0), text: uploadLabel(Math.round(progressFraction(m) * 100), p.fileSize) })
    : el("span", { class: "file-size", text: `${formatBytes(p.fileSize)} · ${kind.label}` });
  const tile = el("span", { class: "file-icon", "aria-hidden": "true", style: `--file-color: ${kind.color}` }, el("span", { class: "file-ext", text: kind.ext.slice(0, 4) }));
  const info = el("span", { class: "file-info" }, el("span", { class: "file-name", title: p.fileName || "", "data-testid": "file-name" }, fileNameNodes(p.fileName)), size);
  const card = el("div", { class: "file-card", "data-testid": "file-card" }, tile, info);
  if (href) {
    card.append(el("a", { class: "file-download", href, download: p.fileName || "", "aria-label": `Download ${p.fileName || "the file"}`, title: t("Download"), "data-testid": "file-download" }, icon("download")));
  }
  // An audio file plays in place (the browser's own player; nothing loads until Play).
  const player = href && kind.label === "Audio" ? el("audio", { class: "file-audio", controls: true, preload: "none", src: href, "aria-label": `Play ${p.fileName || "the audio"}`, "data-testid": "file-audio" }) : null;
  return { node: el("div", { class: "card-body file-body" }, card, player, uploadProgress(m)), kind: "card" };
}

function locationBody(m) {
  const p = m.payload || {};
  const lat = Number(p.latitude);
  const lon = Number(p.longitude);
  const valid = Number.isFinite(lat) && Number.isFinite(lon) && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
  const art = el("span", { class: "map-art", "aria-hidden": "true" }, el("span", { class: "map-pin" }, icon("mappin")));
  const info = el(
    "span",
    { class: "location-info" },
    el("span", { class: "card-title", text: p.description || t("Shared location") }),
    el("span", { class: "location-coords", "data-testid": "location-coords", text: valid ? `${formatCoordinate(lat, "N", "S")}, ${formatCoordinate(lon, "E", "W")}` : t("No coordinates") }),
  );
  const card = el(valid ? "a" : "div", { class: "location-card", "data-testid": "location-card" }, art, info);
  if (valid) {
    card.href = osmUrl(lat, lon);
    card.target = "_blank";
    card.rel = "noopener noreferrer";
    card.title = t("Open in OpenStreetMap");
    info.append(el("span", { class: "card-link", "data-testid": "map-link", text: t("Open in OpenStreetMap") }));
  }
  return { node: el("div", { class: "card-body" }, card), kind: "card" };
}

function faceBody(m) {
  const p = m.payload || {};
  const sticker = stickerFor(p);
  if (sticker) {
    const img = el("img", { class: "sticker-img", alt: `Sticker: ${sticker.label}`, title: sticker.label, width: "144", height: "144", draggable: "false", "data-testid": "sticker", "data-name": sticker.name });
    img.src = assets.stickerUrl + sticker.file;
    return { node: img, kind: "sticker" };
  }
  const emoji = emojiPart(p.data);
  if (emoji) return { node: el("span", { class: "msg-text jumbo" }, emojiImage(emoji, "emoji emoji-jumbo")), kind: "sticker" };
  return { node: el("span", { class: "msg-text msg-muted", "data-testid": "sticker-missing", text: "[Sticker]" }), kind: "text" };
}

/** The docs' dice: a custom message {data: "dice", description: "1".."6"}. */
export function isDice(p) {
  return Boolean(p) && p.data === "dice" && /^[1-6]$/.test(String(p.description));
}

const DICE_PIPS = {
  1: [[2, 2]],
  2: [[1, 1], [3, 3]],
  3: [[1, 1], [2, 2], [3, 3]],
  4: [[1, 1], [1, 3], [3, 1], [3, 3]],
  5: [[1, 1], [1, 3], [2, 2], [3, 1], [3, 3]],
  6: [[1, 1], [1, 2], [1, 3], [3, 1], [3, 2], [3, 3]],
};

function diceFace(value) {
  const svg = svgNode("svg", { viewBox: "0 0 64 64", class: "dice-face", role: "img", "aria-label": `Rolled a ${value}` });
  svg.append(svgNode("rect", { x: "4", y: "4", width: "56", height: "56", rx: "13", fill: "#fff", stroke: "#d5dae3", "stroke-width": "2" }));
  for (const [row, col] of DICE_PIPS[value]) {
    svg.append(svgNode("circle", { cx: String(4 + col * 14), cy: String(4 + row * 14), r: "5.4", fill: value === 1 ? "#e5484d" : "#1f2430" }));
  }
  return svg;
}

function customBody(m) {
  const p = m.payload || {};
  if (isDice(p)) return { node: el("span", { class: "dice", "data-testid": "dice", title: `Rolled a ${p.description}` }, diceFace(Number(p.description))), kind: "sticker" };
  const card = el(
    "div",
    { class: "custom-card", "data-testid": "custom-card" },
    el("span", { class: "custom-head" }, icon("puzzle"), el("span", { class: "card-title", "data-testid": "custom-description", text: p.description || "Custom message" })),
  );
  if (p.data) card.append(el("pre", { class: "custom-data", "data-testid": "custom-data", text: customDataText(p.data) }));
  if (p.extension) card.append(el("span", { class: "custom-ext", "data-testid": "custom-extension", text: `Extension: ${String(p.extension).slice(0, 200)}` }));
  return { node: el("div", { class: "card-body" }, card), kind: "card" };
}

/** A merged chat history's card; open() shows it (by default in the history viewer). */
export function mergerBody(m, open = () => openMerger(m)) {
  const p = m.payload || {};
  const lines = (Array.isArray(p.abstractList) ? p.abstractList : []).slice(0, 3).map((line) => el("span", { class: "card-line" }, richText(String(line))));
  const card = el(
    "button",
    { type: "button", class: "merger-card", "data-testid": "merger-card", "aria-label": `Open ${p.title || "the chat history"}` },
    el("span", { class: "card-title", text: p.title || t("Chat history") }),
    el("span", { class: "merger-lines" }, lines),
    el("span", { class: "merger-foot" }, icon("history"), "Chat history"),
  );
  card.addEventListener("click", () => {
    if (!state.select.active) open();
  });
  return { node: card, kind: "card" };
}

const BODIES = {
  TIMTextElem: textBody,
  TIMImageElem: imageBody,
  TIMVideoFileElem: videoBody,
  TIMFileElem: fileBody,
  TIMSoundElem: audioBody,
  TIMLocationElem: locationBody,
  TIMFaceElem: faceBody,
  TIMRelayElem: (m) => mergerBody(m),
  TIMCustomElem: customBody,
};

export function messageBody(m) {
  const draw = Object.hasOwn(BODIES, m.type) ? BODIES[m.type] : null;
  if (draw) return draw(m);
  if (m.type === "TIMGroupTipElem") return { node: el("span", { class: "msg-text msg-muted", text: tipSentence(m) }), kind: "text" };
  const p = m.payload || {};
  return { node: el("span", { class: "msg-text", text: m.messageForShow || p.text || t("[Message]") }), kind: "text" };
}
