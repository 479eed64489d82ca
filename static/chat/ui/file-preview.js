/*
 * The preview before files are sent (paste, drop, or the clip's menu): the images as
 * thumbnails, the other files as cards, each removable, and a caption. Nothing is
 * uploaded until Send; Cancel or Esc drops them all. The caption is a text message
 * sent after the files (the SDK's image and file messages carry no text), as WeChat
 * and Slack's mobile apps do.
 */

import { fileKind, formatBytes } from "../format.js";
import { conversationTitle, findConversation } from "./conversations.js";
import { wireDialog, openDialog } from "./dialogs.js";
import { $, el, icon } from "./dom.js";
import { limits } from "./state.js";
import { t } from "../i18n.js";

const pending = { conversationID: null, items: [], send: null };

const isImage = (file) => /^image\/(jpeg|png|gif|webp|bmp)$/i.test(file.type || "");

function releaseURLs() {
  for (const item of pending.items) if (item.url) URL.revokeObjectURL(item.url);
}

function titleText() {
  const n = pending.items.length;
  const images = pending.items.every((i) => i.url);
  const what = images ? (n === 1 ? "a photo" : `${n} photos`) : n === 1 ? "a file" : `${n} files`;
  const conv = findConversation(pending.conversationID);
  return conv ? `Send ${what} to ${conversationTitle(conv)}` : `Send ${what}`;
}

function itemNode(item, index) {
  const remove = el(
    "button",
    { type: "button", class: "icon-btn send-file-remove", "aria-label": `Remove ${item.file.name}`, title: t("Remove"), "data-testid": "send-file-remove", onclick: () => removeItem(index) },
    icon("close"),
  );
  if (item.url) {
    const img = el("img", { alt: item.file.name, decoding: "async" });
    img.src = item.url;
    return el("li", { class: "send-file is-image", "data-testid": "send-file" }, img, remove);
  }
  const kind = fileKind(item.file.name);
  return el(
    "li",
    { class: "send-file", "data-testid": "send-file" },
    el("span", { class: "file-icon", "aria-hidden": "true", style: `--file-color: ${kind.color}` }, el("span", { class: "file-ext", text: kind.ext.slice(0, 4) })),
    el("span", { class: "file-info" }, el("span", { class: "file-name", text: item.file.name }), el("span", { class: "file-size", text: `${formatBytes(item.file.size)} · ${kind.label}` })),
    remove,
  );
}

function render() {
  $("send-files-list").replaceChildren(...pending.items.map(itemNode));
  $("dlg-send-files-title").textContent = titleText();
  $("send-files-list").classList.toggle("is-grid", pending.items.some((i) => i.url));
}

function removeItem(index) {
  const [gone] = pending.items.splice(index, 1);
  if (gone && gone.url) URL.revokeObjectURL(gone.url);
  if (!pending.items.length) $("dlg-send-files").close();
  else render();
}

/**
 * Show `files` (already checked against the limits) for conversationID; on Send,
 * send(files, caption) is called and the dialog closes.
 */
export function previewFiles(conversationID, files, send) {
  releaseURLs();
  pending.conversationID = conversationID;
  pending.send = send;
  pending.items = files.map((file) => ({ file, url: isImage(file) ? URL.createObjectURL(file) : null }));
  openDialog("dlg-send-files", render);
  $("send-files-caption").focus();
}

export function wireFilePreview() {
  const dialog = $("dlg-send-files");
  wireDialog("dlg-send-files", () => {
    const caption = $("send-files-caption").value.trim();
    const max = limits().maxBodyBytes;
    if (max && new TextEncoder().encode(caption).length > max) throw t("The caption is too long.");
    const files = pending.items.map((i) => i.file);
    if (!files.length) return true;
    pending.send(files, caption);
    return true;
  });
  dialog.addEventListener("close", () => {
    releaseURLs();
    pending.items = [];
  });
  // Enter sends, Shift+Enter breaks the line: as in the composer.
  $("send-files-caption").addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    dialog.querySelector("form").requestSubmit();
  });
}
