/*
 * Menus and dialogs: one menu open at a time, dialogs with a form whose submit
 * handler throws the sentence to show (or an SDK error), a confirm dialog, and Esc
 * (which <dialog> handles itself). Closing either gives the focus back to what opened
 * it (a dialog opened from a menu item: the menu's button, since the item is hidden).
 */

import { moveIndex } from "../keys.js";
import { $, currentControl } from "./dom.js";
import { errorText } from "./errors.js";

// What had the focus when the open menu opened: it gets it back when the menu closes.
let menuOpener = null;
// An open dialog -> the element to focus when it closes.
const returnFocus = new WeakMap();

export function toggleMenu(button, menu) {
  const open = menu.hidden;
  closeMenus();
  if (!open) return;
  menu.hidden = false;
  button.setAttribute("aria-expanded", "true");
  menuOpened(menu, button);
}

/** A menu has just been shown: remember its opener and focus its first item. */
export function menuOpened(menu, opener) {
  menuOpener = opener;
  const first = menu.querySelector(".menu-item:not([hidden])");
  if (first) first.focus();
}

/** Close every menu; the focus, if it was in one, goes back to the menu's opener. */
export function closeMenus() {
  const hadFocus = Boolean(document.activeElement && document.activeElement.closest(".menu:not([hidden])"));
  for (const menu of document.querySelectorAll(".menu")) menu.hidden = true;
  for (const button of document.querySelectorAll('[aria-haspopup="menu"]')) button.setAttribute("aria-expanded", "false");
  const opener = currentControl(menuOpener); // a redraw while the menu was open may have made it again
  menuOpener = null;
  if (hadFocus && opener) opener.focus({ preventScroll: true });
}

/** Show a modal dialog; when it closes, the focus returns to what opened it. */
export function showDialog(dialog) {
  const active = document.activeElement;
  const opener = active && active.closest && active.closest(".menu") ? menuOpener : active;
  closeMenus();
  returnFocus.set(dialog, opener);
  dialog.addEventListener(
    "close",
    () => {
      const target = currentControl(returnFocus.get(dialog));
      returnFocus.delete(dialog);
      // Unless the code that closed it has put the focus somewhere already (the browser
      // itself puts it back on the opener, or nowhere when that was a menu item).
      const now = document.activeElement;
      const untouched = !now || now === document.body || now === opener || dialog.contains(now);
      if (target && untouched && !document.querySelector("dialog[open]")) target.focus({ preventScroll: true });
    },
    { once: true },
  );
  dialog.showModal();
}

/** Focus el now, or when the open dialog closes (a modal dialog keeps the focus inside itself). */
export function focusAfterDialog(el) {
  const open = [...document.querySelectorAll("dialog[open]")].find((d) => returnFocus.has(d));
  if (open) returnFocus.set(open, el);
  else el.focus({ preventScroll: true });
}

/** Arrow keys, Home and End move between the items of the open menu that has the focus. */
export function wireMenuKeys() {
  document.addEventListener("keydown", (e) => {
    const menu = document.activeElement && document.activeElement.closest(".menu:not([hidden])");
    if (!menu || e.altKey || e.ctrlKey || e.metaKey) return;
    const items = [...menu.querySelectorAll(".menu-item")].filter((item) => !item.hidden && !item.disabled);
    const to = moveIndex(e.key, items.indexOf(document.activeElement), items.length);
    if (to < 0) return;
    e.preventDefault();
    items[to].focus();
  });
}

export const isMenuOpen = () => Boolean(document.querySelector(".menu:not([hidden])"));

/** Open a dialog with its form reset; onOpen(dialog) prepares anything else. */
export function openDialog(id, onOpen) {
  const dialog = $(id);
  dialog.querySelector("form").reset();
  setDialogError(dialog, "");
  setBusy(dialog, false);
  if (onOpen) onOpen(dialog);
  showDialog(dialog);
  const first = dialog.querySelector("input[type=text]");
  if (first) first.focus();
  return dialog;
}

export function setDialogError(dialog, text) {
  const node = dialog.querySelector("[data-error]");
  node.textContent = text;
  node.hidden = !text;
}

function setBusy(dialog, busy) {
  const submit = dialog.querySelector('button[type="submit"]');
  if (submit) {
    submit.classList.toggle("is-busy", busy);
    submit.disabled = busy;
  }
}

/** Close buttons ([data-close]) and a click on the backdrop close the dialog. */
export function wireDialogClose(dialog) {
  for (const button of dialog.querySelectorAll("[data-close]")) button.addEventListener("click", () => dialog.close());
  dialog.addEventListener("click", (e) => {
    if (e.target === dialog) dialog.close(); // a click on the backdrop
  });
}

/**
 * A dialog whose form runs onSubmit(form, dialog): it closes unless that returns
 * false; what it throws (a sentence, or an SDK error) is shown in the dialog.
 */
export function wireDialog(id, onSubmit) {
  const dialog = $(id);
  const form = dialog.querySelector("form");
  wireDialogClose(dialog);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    setDialogError(dialog, "");
    setBusy(dialog, true);
    try {
      const ok = await onSubmit(form, dialog);
      if (ok !== false) dialog.close();
    } catch (error) {
      setDialogError(dialog, typeof error === "string" ? error : errorText(error));
    } finally {
      setBusy(dialog, false);
    }
  });
}

/** A small confirm dialog; resolves true when confirmed. */
export function confirmAction({ title, text, ok }) {
  const dialog = $("dlg-confirm");
  $("dlg-confirm-title").textContent = title;
  $("dlg-confirm-text").textContent = text;
  $("dlg-confirm-ok").textContent = ok;
  return new Promise((resolve) => {
    const form = dialog.querySelector("form");
    const done = (value) => {
      form.removeEventListener("submit", onSubmit);
      dialog.removeEventListener("close", onClose);
      resolve(value);
    };
    const onSubmit = (e) => {
      e.preventDefault();
      dialog.close("ok");
    };
    const onClose = () => done(dialog.returnValue === "ok");
    dialog.returnValue = "";
    form.addEventListener("submit", onSubmit);
    dialog.addEventListener("close", onClose);
    showDialog(dialog);
    $("dlg-confirm-ok").focus();
  });
}

export function wireConfirmDialog() {
  for (const button of $("dlg-confirm").querySelectorAll("[data-close]")) button.addEventListener("click", () => $("dlg-confirm").close());
}
