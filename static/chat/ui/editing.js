/*
 * Editing a sent text (modifyMessage): the composer holds the message's text, with a bar
 * above it that says so. Enter saves, Esc or the bar's × cancels; either way the draft
 * the composer held before comes back. Opened from the message menu's "Edit".
 */

import { mayModify } from "../rules.js";
import { onComposerInput, restoreDraft, saveDraft } from "./composer.js";
import { $ } from "./dom.js";
import { errorText } from "./errors.js";
import { renderMessages } from "./messages.js";
import { chat, modifyRules, state } from "./state.js";
import { toast } from "./toast.js";
import { t } from "../i18n.js";

/** Whether the menu offers "Edit" for `m`: my own text, within the edit window. */
export function mayEdit(m) {
  return m.type === "TIMTextElem" && typeof chat.modifyMessage === "function" && mayModify(m, { viewerID: state.me.userID, modify: modifyRules(), nowMs: Date.now() });
}

export function startEdit(m) {
  if (!state.editing) saveDraft(); // the draft comes back when the edit ends
  state.editing = m;
  $("edit-bar-preview").textContent = m.payload.text;
  $("edit-bar").hidden = false;
  $("composer").classList.add("is-editing");
  $("send-btn").setAttribute("aria-label", t("Save"));
  $("send-btn").title = t("Save (Enter)");
  const input = $("composer-input");
  input.value = m.payload.text;
  onComposerInput();
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

/** Leave edit mode; `restore`: put the conversation's draft back into the composer. */
export function endEdit({ restore = true } = {}) {
  const m = state.editing;
  if (!m) return;
  state.editing = null;
  $("edit-bar").hidden = true;
  $("composer").classList.remove("is-editing");
  $("send-btn").setAttribute("aria-label", t("Send"));
  $("send-btn").title = t("Send (Enter)");
  if (restore) restoreDraft(m.conversationID);
}

/** Save the composer's `text` as the edited message's new text (unchanged: nothing to do). */
export async function saveEdit(text) {
  const m = state.editing;
  endEdit();
  if (!m || text === m.payload.text) return;
  if (!mayModify(m, { viewerID: state.me.userID, modify: modifyRules(), nowMs: Date.now() })) {
    toast(t("It's too late to edit this message."), { error: true });
    return;
  }
  try {
    // A copy: the message on screen changes when the server has taken the edit.
    await chat.modifyMessage({ ...m, payload: { ...m.payload, text } });
  } catch (error) {
    toast(errorText(error, t("The message couldn't be edited.")), { error: true });
  }
  if (state.current === m.conversationID) renderMessages({ scroll: "auto" });
}

export function wireEditing() {
  $("edit-cancel").addEventListener("click", () => {
    endEdit();
    $("composer-input").focus();
  });
}
