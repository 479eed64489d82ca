/*
 * Toasts: a short line at the bottom of the page, errors in red. The same text is
 * shown once; at most three at a time.
 */

import { $, el, icon } from "./dom.js";
import { t } from "../i18n.js";

const MAX_TOASTS = 3;

export function toast(text, { error = false, timeout = 5000 } = {}) {
  const box = $("toasts");
  for (const existing of box.children) if (existing.dataset.text === text) existing.remove();
  const node = el("div", { class: "toast" + (error ? " is-error" : ""), role: error ? "alert" : "status", "data-testid": error ? "error-toast" : "toast", dataset: { text } }, el("span", { text }));
  const dismiss = () => {
    node.classList.add("is-leaving");
    setTimeout(() => node.remove(), 200);
  };
  node.append(el("button", { type: "button", "aria-label": t("Dismiss"), onclick: dismiss }, icon("close")));
  box.append(node);
  while (box.children.length > MAX_TOASTS) box.firstChild.remove();
  setTimeout(dismiss, timeout);
}

/** Take the error toasts away (what they reported is resolved). */
export function clearErrorToasts() {
  for (const node of document.querySelectorAll(".toast.is-error")) node.remove();
}
