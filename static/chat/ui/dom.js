/*
 * Small DOM helpers. Everything the UI draws is built here with createElement and
 * textContent: user data never goes through innerHTML.
 */

import { hueFor, initials } from "../format.js";

export const $ = (id) => document.getElementById(id);

/**
 * The control in the page now that stands for `node`: `node` itself while it is in the
 * page, else (its row was made again by a redraw) the one control in the row of the same
 * message or conversation (the row with the same test id) whose data attributes are all
 * `node`'s (its test id, a reaction chip's reaction...); null when there is not exactly one.
 */
export function currentControl(node) {
  if (!node || node.isConnected) return node;
  const row = node.closest && node.closest("[data-row-id], [data-conversation-id]");
  if (!row || !node.dataset || !node.dataset.testid) return null;
  const key = row.dataset.rowId ? `[data-row-id="${CSS.escape(row.dataset.rowId)}"]` : `[data-conversation-id="${CSS.escape(row.dataset.conversationId)}"]`;
  const rows = document.querySelectorAll(key + (row.dataset.testid ? `[data-testid="${CSS.escape(row.dataset.testid)}"]` : ""));
  if (rows.length !== 1) return null;
  const same = (candidate) => Object.entries(node.dataset).every(([name, value]) => candidate.dataset[name] === value);
  const found = [rows[0], ...rows[0].querySelectorAll(`[data-testid="${CSS.escape(node.dataset.testid)}"]`)].filter(same);
  return found.length === 1 ? found[0] : null;
}

/** el("div", {class: "x", text: "y", dataset: {...}, onclick}, ...children). Strings become text nodes. */
export function el(tag, props, ...children) {
  const node = document.createElement(tag);
  if (props) {
    for (const [key, value] of Object.entries(props)) {
      if (value == null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "style") setStyle(node, value);
      else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/**
 * "width: 40%; --x: 1" through the CSSOM (style.setProperty), not a style attribute:
 * the Content-Security-Policy allows no inline style attributes.
 */
function setStyle(node, declarations) {
  for (const declaration of String(declarations).split(";")) {
    const colon = declaration.indexOf(":");
    if (colon > 0) node.style.setProperty(declaration.slice(0, colon).trim(), declaration.slice(colon + 1).trim());
  }
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with its attributes. */
export function svgNode(tag, attrs) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

const LINE = { fill: "none", stroke: "currentColor", "stroke-linecap": "round", "stroke-linejoin": "round" };

const ICONS = {
  check: [["path", { ...LINE, d: "M5 12.5l4.2 4L19 7", "stroke-width": "1.9" }]],
  checks: [
    ["path", { ...LINE, d: "M2.5 12.5l4.2 4L16.5 7", "stroke-width": "1.8" }],
    ["path", { ...LINE, d: "M11.5 15.8l.9.7L22 7", "stroke-width": "1.8" }],
  ],
  clock: [
    ["circle", { cx: "12", cy: "12", r: "7.5", fill: "none", stroke: "currentColor", "stroke-width": "1.7" }],
    ["path", { d: "M12 8v4.3l2.6 1.6", fill: "none", stroke: "currentColor", "stroke-width": "1.7", "stroke-linecap": "round" }],
  ],
  alert: [
    ["circle", { cx: "12", cy: "12", r: "9", fill: "currentColor" }],
    ["path", { d: "M12 7.5v5.5M12 16.2v.3", stroke: "#fff", "stroke-width": "2.2", "stroke-linecap": "round" }],
  ],
  retry: [["path", { ...LINE, d: "M4.5 12a7.5 7.5 0 1 0 2.3-5.4M4.5 4.5v4h4", "stroke-width": "2" }]],
  close: [["path", { d: "M6 6l12 12M18 6L6 18", stroke: "currentColor", "stroke-width": "2", "stroke-linecap": "round" }]],
  pin: [["path", { ...LINE, d: "M9 4h6l-1 5 3 3v2H7v-2l3-3-1-5zM12 14v6", "stroke-width": "1.7" }]],
  star: [["path", { d: "M12 3.6l2.6 5.3 5.8.8-4.2 4.1 1 5.8-5.2-2.7-5.2 2.7 1-5.8-4.2-4.1 5.8-.8z", fill: "currentColor" }]],
  bellOff: [
    ["path", { ...LINE, d: "M6.5 16.5h11l-1.5-2v-4a4 4 0 0 0-6.3-3.3M8 10.5v4l-1.5 2M10.3 19a1.9 1.9 0 0 0 3.4 0", "stroke-width": "1.7" }],
    ["path", { ...LINE, d: "M4 4l16 16", "stroke-width": "1.7" }],
  ],
  people: [["path", { d: "M9 11a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7zM2.5 20a6.5 6.5 0 0 1 13 0M16 4.3a3.5 3.5 0 0 1 0 6.4M18 14.2a6.5 6.5 0 0 1 3.5 5.8", fill: "none", stroke: "currentColor", "stroke-width": "1.9", "stroke-linecap": "round" }]],
  more: [
    ["circle", { cx: "5.5", cy: "12", r: "1.7", fill: "currentColor" }],
    ["circle", { cx: "12", cy: "12", r: "1.7", fill: "currentColor" }],
    ["circle", { cx: "18.5", cy: "12", r: "1.7", fill: "currentColor" }],
  ],
  play: [["path", { d: "M8 5.5v13l10.5-6.5z", fill: "currentColor", stroke: "currentColor", "stroke-width": "1.5", "stroke-linejoin": "round" }]],
  pause: [["path", { d: "M8 5.5v13M16 5.5v13", stroke: "currentColor", "stroke-width": "3.4", "stroke-linecap": "round" }]],
  download: [["path", { ...LINE, d: "M12 4v11M7 10l5 5 5-5M5 20h14", "stroke-width": "2" }]],
  forward: [["path", { ...LINE, d: "M13 5l7 7-7 7M20 12H9a5 5 0 0 0-5 5v2", "stroke-width": "1.8" }]],
  reply: [["path", { ...LINE, d: "M10 5L3 12l7 7M3 12h11a6 6 0 0 1 6 6v1", "stroke-width": "1.8" }]],
  select: [
    ["circle", { cx: "12", cy: "12", r: "8.5", fill: "none", stroke: "currentColor", "stroke-width": "1.7" }],
    ["path", { ...LINE, d: "M8.3 12.3l2.6 2.5 4.9-5.3", "stroke-width": "1.8" }],
  ],
  copy: [
    ["rect", { x: "8.5", y: "8.5", width: "11", height: "11", rx: "2", fill: "none", stroke: "currentColor", "stroke-width": "1.7" }],
    ["path", { d: "M15.5 5.5v-.5a1.5 1.5 0 0 0-1.5-1.5H6A1.5 1.5 0 0 0 4.5 5v8A1.5 1.5 0 0 0 6 14.5h.5", fill: "none", stroke: "currentColor", "stroke-width": "1.7" }],
  ],
  edit: [["path", { ...LINE, d: "M4.5 19.5h4l10-10-4-4-10 10v4zM13 7l4 4", "stroke-width": "1.7" }]],
  recall: [["path", { ...LINE, d: "M9 14L4.5 9.5 9 5M4.5 9.5H15a4.5 4.5 0 0 1 0 9h-3", "stroke-width": "1.8" }]],
  flag: [["path", { ...LINE, d: "M6 21V4.5M6 4.5h10.5l-2 4 2 4H6", "stroke-width": "1.8" }]],
  trash: [["path", { ...LINE, d: "M4.5 7h15M9.5 7V4.5h5V7M6.5 7l1 12.5h9l1-12.5M10.5 11v5M13.5 11v5", "stroke-width": "1.7" }]],
  mappin: [
    ["path", { d: "M12 22s-7-6.6-7-12a7 7 0 0 1 14 0c0 5.4-7 12-7 12z", fill: "currentColor" }],
    ["circle", { cx: "12", cy: "10", r: "2.8", fill: "#fff" }],
  ],
  history: [
    ["path", { d: "M5 5h14v10H9l-4 4z", fill: "none", stroke: "currentColor", "stroke-width": "1.8", "stroke-linejoin": "round" }],
    ["path", { d: "M9 9h6M9 12h4", stroke: "currentColor", "stroke-width": "1.8", "stroke-linecap": "round" }],
  ],
  puzzle: [["path", { d: "M10 4.5a2 2 0 0 1 4 0V6h4v4h-1.5a2 2 0 0 0 0 4H18v4h-4v-1.5a2 2 0 0 0-4 0V18H6v-4h1.5a2 2 0 0 0 0-4H6V6h4z", fill: "none", stroke: "currentColor", "stroke-width": "1.7", "stroke-linejoin": "round" }]],
  image: [
    ["rect", { x: "3.5", y: "5", width: "17", height: "14", rx: "2.5", fill: "none", stroke: "currentColor", "stroke-width": "1.7" }],
    ["path", { d: "M4 17l5-4.5 3.5 3 3-2.5 4.5 4", fill: "none", stroke: "currentColor", "stroke-width": "1.7", "stroke-linejoin": "round" }],
  ],
};

export function icon(name, className) {
  const svg = svgNode("svg", { viewBox: "0 0 24 24", "aria-hidden": "true" });
  if (className) svg.setAttribute("class", className);
  for (const [tag, attrs] of ICONS[name]) svg.append(svgNode(tag, attrs));
  return svg;
}

/** An http(s) URL (or a local blob: preview), never javascript: or data:. */
export function safeUrl(url) {
  if (typeof url !== "string" || !url) return null;
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === "https:" || parsed.protocol === "http:" || parsed.protocol === "blob:" ? parsed.href : null;
  } catch {
    return null;
  }
}

/** Fill (or create) an avatar: the picture if there is one, otherwise initials on a colour from the ID. */
export function fillAvatar(node, { id, name, url, group }) {
  node.replaceChildren();
  node.classList.toggle("is-group", Boolean(group));
  node.style.setProperty("--avatar-hue", hueFor(id));
  node.append(el("span", { text: initials(name || id) }));
  const src = safeUrl(url);
  if (src) {
    const img = el("img", { alt: "", loading: "lazy", decoding: "async" });
    img.addEventListener("error", () => img.remove());
    img.src = src;
    node.append(img);
  }
  return node;
}

export function avatar(size, info) {
  return fillAvatar(el("span", { class: "avatar avatar-" + size, "aria-hidden": "true" }), info);
}

/** A spinner and a line of text, while something loads. */
export function loadingEdge(text, props = {}) {
  return el("div", { class: "history-edge", ...props }, el("span", { class: "spinner" }), text);
}
