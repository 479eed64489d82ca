/*
 * The emoji and sticker picker: a custom emoji goes into the composer as its code, a
 * Unicode emoji (ui/unicode-picker.js) as its character, a sticker is sent at once as a
 * face message {index, data: sticker name}.
 */

import { moveIndex } from "../keys.js";
import { assets } from "./assets.js";
import { closeMenus } from "./dialogs.js";
import { $, el } from "./dom.js";
import { onComposerInput } from "./composer.js";
import { closeMentionList } from "./mention-list.js";
import { addressOf, createAndSend } from "./sending.js";
import { NARROW, chat, state } from "./state.js";
import { showUnicode, wireUnicode } from "./unicode-picker.js";
import { t } from "../i18n.js";

function emojiButton(e) {
  const img = el("img", { alt: "", draggable: "false", loading: "lazy", width: "28", height: "28" });
  img.src = assets.emojiUrl + e.file;
  return el("button", { type: "button", class: "picker-emoji", title: `${e.label} ${e.code}`, "aria-label": e.label, "data-testid": "emoji-item", "data-code": e.code, onclick: (ev) => insertEmoji(e.code, ev.detail === 0) }, img);
}

function stickerButton(st) {
  const img = el("img", { alt: "", draggable: "false", loading: "lazy", width: "72", height: "72" });
  img.src = assets.stickerUrl + st.file;
  return el("button", { type: "button", class: "picker-sticker", title: st.label, "aria-label": `Send the “${st.label}” sticker`, "data-testid": "sticker-item", "data-name": st.name, onclick: () => sendSticker(st) }, img);
}

/** The site's own emoji as grid buttons that call onPick(code): the reaction picker's second half. */
export function emojiGridItems(onPick) {
  return assets.emojiList.map((e) => {
    const button = emojiButton(e);
    button.onclick = () => onPick(e.code);
    button.dataset.testid = "reaction-picker-item";
    return button;
  });
}

const pickerEmpty = (text) => el("p", { class: "picker-empty", text });

export function renderPicker() {
  const emojiGrid = $("picker-emoji");
  const stickerGrid = $("picker-stickers");
  if (!emojiGrid) return;
  emojiGrid.replaceChildren(...(assets.emojiList.length ? assets.emojiList.map(emojiButton) : [pickerEmpty(t("Emoji couldn't be loaded. Reload the page to try again."))]));
  stickerGrid.replaceChildren(...(assets.stickers.length ? assets.stickers.map(stickerButton) : [pickerEmpty(t("Stickers couldn't be loaded. Reload the page to try again."))]));
}

/** byKeyboard: the focus goes to the first item of the open tab (else it stays in the composer). */
function openPicker(byKeyboard) {
  closeMentionList();
  closeMenus();
  $("picker").hidden = false;
  $("emoji-btn").setAttribute("aria-expanded", "true");
  if (byKeyboard && !$("picker-unicode").hidden) $("unicode-search").focus();
  else if (byKeyboard) focusGridItem(visibleGrid(), 0);
}

const visibleGrid = () => ["picker-emoji", "unicode-grid", "picker-stickers"].map($).find((grid) => !grid.closest("[hidden]")) || $("picker-emoji");
const gridItems = (grid) => [...grid.querySelectorAll("button")];

function focusGridItem(grid, index) {
  const item = gridItems(grid)[index];
  if (item) item.focus({ preventScroll: false });
}

/** Arrow keys, Home and End in the emoji and sticker grids (as many columns as CSS draws). */
export function onGridKey(e) {
  const grid = e.currentTarget;
  const items = gridItems(grid);
  const columns = getComputedStyle(grid).gridTemplateColumns.split(" ").length;
  const to = moveIndex(e.key, items.indexOf(document.activeElement), items.length, columns);
  if (to < 0) return;
  e.preventDefault();
  focusGridItem(grid, to);
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
  $("picker-unicode").hidden = tab !== "unicode";
  $("picker-stickers").hidden = tab !== "stickers";
  if (tab === "unicode") showUnicode(insertEmoji);
}

/** Put an emoji in the composer; chosen by keyboard, the focus stays in the picker for another. */
function insertEmoji(code, byKeyboard = false) {
  const input = $("composer-input");
  const start = input.selectionStart ?? input.value.length;
  const end = input.selectionEnd ?? input.value.length;
  input.setRangeText(code, start, end, "end");
  onComposerInput();
  if (!NARROW.matches && !byKeyboard) input.focus({ preventScroll: true });
}

async function sendSticker(sticker) {
  closePicker();
  const conversationID = state.current;
  if (!conversationID) return;
  const options = { ...addressOf(conversationID), payload: { index: sticker.index, data: sticker.name } };
  await createAndSend(conversationID, () => chat.createFaceMessage(options), t("The sticker couldn't be sent."));
}

export function wirePicker() {
  $("emoji-btn").addEventListener("click", (e) => {
    e.stopPropagation();
    if ($("picker").hidden) openPicker(e.detail === 0);
    else closePicker();
  });
  for (const grid of [$("picker-emoji"), $("unicode-grid"), $("picker-stickers")]) grid.addEventListener("keydown", onGridKey);
  wireUnicode();
  for (const tab of document.querySelectorAll(".picker-tab")) tab.addEventListener("click", () => showPickerTab(tab.dataset.tab));
  document.addEventListener("pointerdown", (e) => {
    if (!$("picker").hidden && !e.target.closest("#picker, #emoji-btn")) closePicker();
  });
}
