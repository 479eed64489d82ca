/*
 * Menus and dialogs: one menu open at a time, dialogs with a form whose submit
 * handler throws the sentence to show (or an SDK error), a confirm dialog, and Esc
 * (which <dialog> handles itself).
 */

import { $ } from "./dom.js";
import { errorText } from "./errors.js";

export function toggleMenu(button, menu) {
  const open = menu.hidden;
  closeMenus();
  if (!open) return;
  menu.hidden = false;
  button.setAttribute("aria-expanded", "true");
  const first = menu.querySelector(".menu-item:not([hidden])");
  if (first) first.focus();
}

export function closeMenus() {
  for (const menu of document.querySelectorAll(".menu")) menu.hidden = true;
  for (const button of document.querySelectorAll('[aria-haspopup="menu"]')) button.setAttribute("aria-expanded", "false");
}

export const isMenuOpen = () => Boolean(document.querySelector(".menu:not([hidden])"));

/** Open a dialog with its form reset; onOpen(dialog) prepares anything else. */
export function openDialog(id, onOpen) {
  closeMenus();
  const dialog = $(id);
  dialog.querySelector("form").reset();
  setDialogError(dialog, "");
  setBusy(dialog, false);
  if (onOpen) onOpen(dialog);
  dialog.showModal();
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
  closeMenus();
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
    dialog.showModal();
    $("dlg-confirm-ok").focus();
  });
}

export function wireConfirmDialog() {
  for (const button of $("dlg-confirm").querySelectorAll("[data-close]")) button.addEventListener("click", () => $("dlg-confirm").close());
}
