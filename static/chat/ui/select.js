/*
 * Selecting messages (to forward them one by one or merged): a click on a row ticks
 * it; the select bar replaces the composer.
 */

import { isForwardable } from "../history.js";
import { closeComposerPops } from "./composer.js";
import { $ } from "./dom.js";
import { forwardSelected, mergeSelected } from "./forward.js";
import { renderMessages } from "./messages.js";
import { limits, state } from "./state.js";
import { toast } from "./toast.js";
import { nt, t } from "../i18n.js";

export function enterSelect(m) {
  state.select.active = true;
  state.select.ids = new Set(m && isForwardable(m) ? [m.ID] : []);
  closeComposerPops();
  $("app").classList.add("is-selecting");
  updateSelectBar();
  renderMessages({ scroll: "auto" });
}

export function exitSelect() {
  if (!state.select.active) return;
  state.select.active = false;
  state.select.ids = new Set();
  $("app").classList.remove("is-selecting");
  updateSelectBar();
  if (state.current) renderMessages({ scroll: "auto" });
}

/** Tick (or untick) a row while selecting. */
export function markSelected(row, m) {
  if (!state.select.active) return;
  const on = state.select.ids.has(m.ID);
  row.classList.toggle("is-selected", on);
  const box = row.querySelector(".msg-check");
  if (box) box.checked = on;
}

function toggleSelected(messageID) {
  const h = state.current && state.histories.get(state.current);
  const m = h && h.byID.get(messageID);
  if (!m || !isForwardable(m)) return;
  const max = limits().maxMergedMessages;
  if (state.select.ids.has(messageID)) state.select.ids.delete(messageID);
  else if (max && state.select.ids.size >= max) {
    toast(t("You can select up to %(max)s messages.", { max }));
    return;
  } else state.select.ids.add(messageID);
  const row = document.querySelector(`.msg-row[data-row-id="${CSS.escape(messageID)}"]`);
  if (row) markSelected(row, m);
  updateSelectBar();
}

export function updateSelectBar() {
  const active = state.select.active && Boolean(state.current);
  const n = state.select.ids.size;
  const composerHidden = active || Boolean($("composer-notice").textContent);
  $("select-bar").hidden = !active;
  $("composer").hidden = composerHidden;
  document.querySelector(".composer-hint").hidden = composerHidden;
  $("select-count").textContent = n === 0 ? t("Select messages") : nt("%(count)s selected", "%(count)s selected", n);
  $("select-forward").disabled = n === 0;
  $("select-merge").disabled = n === 0;
}

/** The selected messages, in the history's order. */
export function selectedMessages() {
  const h = state.current && state.histories.get(state.current);
  return h ? h.messages.filter((m) => state.select.ids.has(m.ID) && isForwardable(m)) : [];
}

export function wireSelect() {
  $("messages").addEventListener(
    "click",
    (e) => {
      if (!state.select.active) return;
      const row = e.target.closest(".msg-row[data-row-id]");
      if (!row) return;
      // A click on the box itself (Space on a focused box) toggles it natively; we only follow.
      if (!e.target.matches(".msg-check")) e.preventDefault();
      e.stopPropagation();
      toggleSelected(row.dataset.rowId);
    },
    { capture: true },
  );
  $("select-cancel").addEventListener("click", exitSelect);
  $("select-forward").addEventListener("click", forwardSelected);
  $("select-merge").addEventListener("click", mergeSelected);
}
