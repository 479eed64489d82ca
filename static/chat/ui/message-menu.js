/*
 * Message actions: a quick row of reactions, then reply, copy, edit, forward, select, retry, recall, delete for me, report. Opened by the "…" button,
 * a right-click, or a long press on a touch screen.
 */

import { isForwardable } from "../history.js";
import { mayReport, mayRevoke } from "../rules.js";
import { closeMenus, confirmAction, menuOpened } from "./dialogs.js";
import { $, el, icon } from "./dom.js";
import { errorText } from "./errors.js";
import { forwardOne } from "./forward.js";
import { mayEdit, startEdit } from "./editing.js";
import { dropDeleted, renderMessages } from "./messages.js";
import { quickReactionRow } from "./reactions.js";
import { openReportDialog } from "./report.js";
import { startReply, wireReplySwipe } from "./reply.js";
import { enterSelect } from "./select.js";
import { resend } from "./sending.js";
import { TYPES, chat, revokeRules, state } from "./state.js";
import { toast } from "./toast.js";
import { t } from "../i18n.js";

const LONG_PRESS_MS = 550;

function messageFromNode(node) {
  const bubble = node && node.closest && node.closest(".bubble[data-message-id]");
  const h = bubble && state.current && state.histories.get(state.current);
  return h ? h.byID.get(bubble.dataset.messageId) || null : null;
}

function copyText(m) {
  navigator.clipboard.writeText((m.payload && m.payload.text) || "").then(
    () => toast(t("Copied.")),
    () => toast(t("Couldn't copy. Select the text and copy it by hand."), { error: true }),
  );
}

async function recall(m) {
  // The tab keeps its own copy of a recalled text for "Re-edit"; the server sends none back.
  const text = m.type === "TIMTextElem" && m.payload ? m.payload.text : undefined;
  try {
    await chat.revokeMessage(m);
    if (text !== undefined && m.from === state.me.userID) state.recalledTexts.set(m.ID, text);
    m.isRevoked = true;
    if (state.current === m.conversationID) renderMessages({ scroll: "auto" });
  } catch (error) {
    toast(errorText(error, t("The message couldn't be recalled.")), { error: true });
  }
}

async function deleteForMe(m) {
  const ok = await confirmAction({
    title: t("Delete this message for you?"),
    text: t("It disappears from your history on all your devices. Others in the chat still see it."),
    ok: t("Delete for me"),
  });
  if (!ok) return;
  try {
    await chat.deleteMessage([m]);
  } catch (error) {
    toast(errorText(error, t("The message couldn't be deleted.")), { error: true });
    return;
  }
  dropDeleted(m.conversationID, { messageIDList: [m.ID] });
}

/** My role in the message's group and its sender's, as far as the UI knows (the server decides). */
function groupRoles(m) {
  if (m.conversationType !== "GROUP") return {};
  const group = state.groups.get(m.to);
  const role = (group && group.selfInfo && group.selfInfo.role) || "";
  const cached = state.memberCache.get(m.to);
  const sender = cached && cached.list.find((member) => member.userID === m.from);
  return { role, senderRole: sender ? sender.role : "Member" };
}

/** [label, icon, testid, action, danger] for what can be done with a message. */
function messageActions(m) {
  const actions = [];
  if (m.status === "success" && !m.isRevoked && m.conversationType !== TYPES.CONV_SYSTEM && m.type !== "TIMGroupTipElem") {
    actions.push([t("Reply"), "reply", "reply-message", () => startReply(m)]);
  }
  if (m.type === "TIMTextElem" && !m.isRevoked) actions.push(["Copy text", "copy", "copy-message", () => copyText(m)]);
  if (mayEdit(m)) actions.push([t("Edit"), "edit", "edit-message", () => startEdit(m)]);
  if (isForwardable(m)) {
    actions.push([t("Forward"), "forward", "forward-message", () => forwardOne(m)]);
    actions.push([t("Select"), "select", "select-message", () => enterSelect(m)]);
  }
  if (m.status === "fail") actions.push([t("Retry sending"), "retry", "retry-message", () => resend(m)]);
  const allowed = mayRevoke(m, { viewerID: state.me.userID, revoke: revokeRules(), nowMs: Date.now(), ...groupRoles(m) });
  if (allowed && typeof chat.revokeMessage === "function") {
    actions.push([t("Recall"), "recall", "recall-message", () => recall(m), true]);
  }
  if (m.status === "success" && m.conversationType !== TYPES.CONV_SYSTEM) {
    actions.push([t("Delete for me"), "trash", "delete-message", () => deleteForMe(m), true]);
  }
  if (mayReport(m, state.me.userID) && typeof chat.reportMessage === "function") {
    actions.push([t("Report"), "flag", "report-message", () => openReportDialog(m), true]);
  }
  return actions;
}

function menuItem([label, iconName, testid, action, danger]) {
  const onclick = () => {
    closeMenus();
    action();
  };
  return el("button", { type: "button", role: "menuitem", class: "menu-item" + (danger ? " danger" : ""), "data-testid": testid, onclick }, icon(iconName), label);
}

export function openMessageMenu(m, x, y) {
  const opener = document.activeElement;
  closeMenus();
  const items = messageActions(m).map(menuItem);
  const reactions = quickReactionRow(m, x, y);
  if (reactions) items.unshift(reactions);
  if (!items.length) return;
  const menu = $("msg-menu");
  menu.replaceChildren(...items);
  menu.hidden = false;
  const { innerWidth: vw, innerHeight: vh } = window;
  const rect = menu.getBoundingClientRect();
  menu.style.left = Math.max(8, Math.min(x, vw - rect.width - 8)) + "px";
  menu.style.top = Math.max(8, Math.min(y, vh - rect.height - 8)) + "px";
  menuOpened(menu, opener);
}

export function wireMessageMenu() {
  const box = $("messages");
  box.addEventListener("contextmenu", (e) => {
    if (window.getSelection && String(window.getSelection()).trim()) return; // let the browser copy a selection
    const m = messageFromNode(e.target);
    if (!m || state.select.active || (e.target.closest && e.target.closest("video[controls], audio"))) return;
    e.preventDefault();
    openMessageMenu(m, e.clientX, e.clientY);
  });
  wireReplySwipe(box, messageFromNode);
  let pressTimer = null;
  box.addEventListener("pointerdown", (e) => {
    if (e.pointerType !== "touch" || state.select.active) return;
    const m = messageFromNode(e.target);
    if (!m) return;
    pressTimer = setTimeout(() => openMessageMenu(m, e.clientX, e.clientY), LONG_PRESS_MS);
  });
  for (const type of ["pointerup", "pointercancel", "pointermove"]) box.addEventListener(type, () => clearTimeout(pressTimer));
  // The user scrolling closes the menu; a redraw that moves the list (a message arriving) does not.
  for (const type of ["wheel", "touchmove"]) {
    box.addEventListener(
      type,
      () => {
        if (!$("msg-menu").hidden) closeMenus();
      },
      { passive: true },
    );
  }
}
