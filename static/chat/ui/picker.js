/*
 * The emoji and sticker picker: an emoji goes into the composer as its code, a
 * sticker is sent at once as a face message {index, data: sticker name}.
 */

import { assets } from "./assets.js";
import { closeMenus } from "./dialogs.js";
import { $, el } from "./dom.js";
import { onComposerInput } from "./composer.js";
import { closeMentionList } from "./mention-list.js";
import { addressOf, createAndSend } from "./sending.js";
import { NARROW, chat, state } from "./state.js";

function emojiButton(e) {
  const img = el("img", { alt: "", draggable: "false", loading: "lazy", width: "28", height: "28" });
  img.src = assets.emojiUrl + e.file;
  return el("button", { type: "button", class: "picker-emoji", title: `${e.label} ${e.code}`, "aria-label": e.label, "data-testid": "emoji-item", "data-code": e.code, onclick: () => insertEmoji(e.code) }, img);
}

function stickerButton(st) {
  const img = el("img", { alt: "", draggable: "false", loading: "lazy", width: "72", height: "72" });
  img.src = assets.stickerUrl + st.file;
  return el("button", { type: "button", class: "picker-sticker", title: st.label, "aria-label": `Send the “${st.label}” sticker`, "data-testid": "sticker-item", "data-name": st.name, onclick: () => sendSticker(st) }, img);
}

const pickerEmpty = (what) => el("p", { class: "picker-empty", text: `${what} couldn't be loaded. Reload the page to try again.` });

export function renderPicker() {
  const emojiGrid = $("picker-emoji");
  const stickerGrid = $("picker-stickers");
  if (!emojiGrid) return;
  emojiGrid.replaceChildren(...(assets.emojiList.length ? assets.emojiList.map(emojiButton) : [pickerEmpty("Emoji")]));
  stickerGrid.replaceChildren(...(assets.stickers.length ? assets.stickers.map(stickerButton) : [pickerEmpty("Stickers")]));
}

function openPicker() {
  closeMentionList();
  closeMenus();
  $("picker").hidden = false;
  $("emoji-btn").setAttribute("aria-expanded", "true");
}

export function closePicker() {
  if ($("picker").hidden) return;
  $("picker").hidden = true;
  $("emoji-btn").setAttribute("aria-expanded", "false");
}

export const isPickerOpen = () => !$("picker").hidden;

function showPickerTab(tab) {
  for (const button of document.querySelectorAll(".picker-tab")) button.setAttribute("aria-selected", String(button.dataset.tab === tab));
  $("picker-emoji").hidden = tab !== "emoji";
  $("picker-stickers").hidden = tab !== "stickers";
}

function insertEmoji(code) {
  const input = $("composer-input");
  const start = input.selectionStart ?? input.value.length;
  const end = input.selectionEnd ?? input.value.length;
  input.setRangeText(code, start, end, "end");
  onComposerInput();
  if (!NARROW.matches) input.focus({ preventScroll: true });
}

async function sendSticker(sticker) {
  closePicker();
  const conversationID = state.current;
  if (!conversationID) return;
  const options = { ...addressOf(conversationID), payload: { index: sticker.index, data: sticker.name } };
  await createAndSend(conversationID, () => chat.createFaceMessage(options), "The sticker couldn't be sent.");
}

export function wirePicker() {
  $("emoji-btn").addEventListener("click", (e) => {
    e.stopPropagation();
    if ($("picker").hidden) openPicker();
    else closePicker();
  });
  for (const tab of document.querySelectorAll(".picker-tab")) tab.addEventListener("click", () => showPickerTab(tab.dataset.tab));
  document.addEventListener("pointerdown", (e) => {
    if (!$("picker").hidden && !e.target.closest("#picker, #emoji-btn")) closePicker();
  });
}
