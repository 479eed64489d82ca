/*
 * Forwarding: one message, several one by one (to several chats at once, with an
 * optional comment sent after them; each says "Forwarded from <sender>", ../forwarded.js),
 * or merged into a chat history. Only stored messages are taken (no group tips,
 * nothing recalled or unsent).
 * Messages this tab sends go straight into the target's history.
 */

import { messageCountText } from "../format.js";
import { buildForwardData } from "../forwarded.js";
import { C2C, GROUP, isGroupConversation, peerOf } from "../ids.js";
import { conversationAvatarInfo, conversationSubtitle, conversationTitle, currentConversation, matchingConversations, messageSummary, targetName } from "./conversations.js";
import { closeMenus, showDialog, wireDialogClose } from "./dialogs.js";
import { $, avatar, el } from "./dom.js";
import { errorText } from "./errors.js";
import { senderName } from "./names.js";
import { exitSelect, selectedMessages } from "./select.js";
import { addressOf, createAndSend, deliver, insertOutgoing } from "./sending.js";
import { chat, state } from "./state.js";
import { toast } from "./toast.js";
import { nt, t } from "../i18n.js";

const canSendTo = (c) => c.type === C2C || c.type === GROUP;

/** The conversations one can send to, for the "Forward to…" list. */
function forwardTargets() {
  const list = state.conversations.filter((c) => c.type === C2C || (c.type === GROUP && (!state.groupsLoaded || state.groups.has(peerOf(c.conversationID)))));
  const current = currentConversation();
  if (current && !list.includes(current) && canSendTo(current)) list.unshift(current);
  return list;
}

// The dialog's words for forwarding to several chats, in one place.
const TEXT = {
  sendTo: (n) => (n > 1 ? nt("Send to %(count)s chat", "Send to %(count)s chats", n) : t("Send")),
  forwarded: (names) => t("Forwarded to %(names)s.", { names }),
  failed: (names) => t("Couldn't forward to %(names)s.", { names }),
  commentFailed: (names) => t("The comment couldn't be sent to %(names)s.", { names }),
  what: (n) => (n === 1 ? t("1 message, as it is") : nt("%(count)s message, one by one", "%(count)s messages, one by one", n)),
};

/** "Bob", "Bob and Team", "Bob, Carol and Team". */
function nameList(ids) {
  const names = ids.map(targetName);
  return names.length > 1 ? t("%(names)s and %(last)s", { names: names.slice(0, -1).join(t(", ")), last: names[names.length - 1] }) : names[0] || "";
}

function targetItem(conv, choose, chosen) {
  const multi = Boolean(chosen);
  return el(
    "li",
    { role: "none" }, // the listbox's options are the buttons
    el(
      "button",
      {
        type: "button",
        class: "pick-item",
        role: "option",
        "aria-selected": multi ? String(chosen.has(conv.conversationID)) : null,
        "data-testid": "forward-target",
        "data-conversation-id": conv.conversationID,
        onclick: () => choose(conv.conversationID),
      },
      multi ? el("span", { class: "pick-check", "aria-hidden": "true", text: chosen.has(conv.conversationID) ? "✓" : "" }) : null,
      avatar("md", conversationAvatarInfo(conv)),
      el("span", { class: "pick-main" }, el("span", { class: "pick-name", text: conversationTitle(conv) }), el("span", { class: "pick-sub", text: conversationSubtitle(conv) })),
      conv.conversationID === state.current ? el("span", { class: "pick-tag", text: "This chat" }) : null,
    ),
  );
}

/** Enter picks (or ticks) the first target, the down arrow moves into the list. */
function onFilterKeydown(e) {
  const first = $("forward-list").querySelector(".pick-item");
  if (e.key === "Enter") {
    e.preventDefault();
    if (first) first.click();
  } else if (e.key === "ArrowDown") {
    e.preventDefault();
    if (first) first.focus();
  }
}

/**
 * "Forward to…". One target: resolves its conversationID, or null when closed. With
 * `multiple`, the user ticks several and may write a comment: resolves {targets, comment}
 * on Send, or null.
 */
function pickConversation({ title, what, multiple = false }) {
  const dialog = $("dlg-forward");
  const input = $("forward-filter");
  const comment = $("forward-comment");
  const sendButton = $("forward-send");
  $("dlg-forward-title").textContent = title;
  $("forward-what").textContent = what || "";
  $("forward-what").hidden = !what;
  $("forward-send-area").hidden = !multiple;
  $("forward-list").setAttribute("aria-multiselectable", String(multiple));
  input.value = "";
  comment.value = "";
  closeMenus();
  return new Promise((resolve) => {
    let result = null;
    const ticked = multiple ? new Set() : null;
    const choose = (conversationID) => {
      if (!multiple) {
        result = conversationID;
        dialog.close();
        return;
      }
      if (ticked.has(conversationID)) ticked.delete(conversationID);
      else ticked.add(conversationID);
      const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.conversationId : null;
      draw();
      if (focused) $("forward-list").querySelector(`[data-conversation-id="${CSS.escape(focused)}"]`)?.focus();
    };
    const draw = () => {
      const filter = input.value.trim().toLowerCase();
      const items = matchingConversations(forwardTargets(), filter).map((conv) => targetItem(conv, choose, ticked));
      if (!items.length) items.push(el("li", { class: "pick-empty", role: "none", text: filter ? "No conversations match." : "No conversations yet." }));
      $("forward-list").replaceChildren(...items);
      if (multiple) {
        sendButton.disabled = ticked.size === 0;
        sendButton.textContent = TEXT.sendTo(ticked.size);
      }
    };
    const onSend = () => {
      if (!ticked.size) return;
      result = { targets: [...ticked], comment: comment.value.trim() };
      dialog.close();
    };
    const onCommentKey = (e) => {
      if (e.key === "Enter" && !e.isComposing) {
        e.preventDefault();
        onSend();
      }
    };
    const onClose = () => {
      input.removeEventListener("input", draw);
      input.removeEventListener("keydown", onFilterKeydown);
      sendButton.removeEventListener("click", onSend);
      comment.removeEventListener("keydown", onCommentKey);
      dialog.removeEventListener("close", onClose);
      resolve(result);
    };
    input.addEventListener("input", draw);
    input.addEventListener("keydown", onFilterKeydown);
    sendButton.addEventListener("click", onSend);
    comment.addEventListener("keydown", onCommentKey);
    dialog.addEventListener("close", onClose);
    draw();
    showDialog(dialog);
    input.focus();
  });
}

/** Forward messages one by one, each saying whom it is from; resolves how many were stored. */
async function forwardMessages(messages, targetID) {
  let sent = 0;
  for (const m of messages) {
    const cloudCustomData = buildForwardData(m, senderName(m));
    const stored = await createAndSend(targetID, () => chat.createForwardMessage({ ...addressOf(targetID), payload: m, cloudCustomData }), t("That message can't be forwarded."));
    if (stored) sent += 1;
  }
  return sent;
}

/** Forward `list` to each chosen chat, then the comment after them; one toast says how it went. */
async function forwardToEach(list, { targets, comment }) {
  const done = [];
  const failed = [];
  const commentFailed = [];
  for (const target of targets) {
    const sent = await forwardMessages(list, target);
    if (sent < list.length) failed.push(target);
    if (sent) done.push(target);
    if (sent && comment) {
      const options = { ...addressOf(target), payload: { text: comment } };
      if (!(await createAndSend(target, () => chat.createTextMessage(options), t("The comment couldn't be sent.")))) commentFailed.push(target);
    }
  }
  const words = [done.length ? TEXT.forwarded(nameList(done)) : "", failed.length ? TEXT.failed(nameList(failed)) : "", commentFailed.length ? TEXT.commentFailed(nameList(commentFailed)) : ""];
  toast(words.filter(Boolean).join(" "), { error: failed.length + commentFailed.length > 0 });
}

export async function forwardOne(m) {
  const choice = await pickConversation({ title: t("Forward to…"), what: `${senderName(m)}: ${messageSummary(m)}`, multiple: true });
  if (choice) await forwardToEach([m], choice);
}

export async function forwardSelected() {
  const list = selectedMessages();
  if (!list.length) return;
  const choice = await pickConversation({ title: t("Forward to…"), what: TEXT.what(list.length), multiple: true });
  if (!choice) return;
  exitSelect();
  await forwardToEach(list, choice);
}

/** The merged history's title: "Chat history of Alice and Bob", or of the group. */
function mergeTitle(conversationID) {
  const name = targetName(conversationID);
  if (isGroupConversation(conversationID)) return t("Chat history of %(name)s", { name });
  return t("Chat history of %(me)s and %(name)s", { me: state.me.nick || state.me.userID, name });
}

export async function mergeSelected() {
  const list = selectedMessages();
  if (!list.length || !state.current) return;
  const title = mergeTitle(state.current);
  const target = await pickConversation({ title: t("Send chat history to…"), what: `${title} (${messageCountText(list.length)})` });
  if (!target) return;
  let message;
  try {
    message = chat.createMergerMessage({
      ...addressOf(target),
      payload: {
        messageList: list,
        title,
        abstractList: list.slice(0, 3).map((m) => `${senderName(m)}: ${messageSummary(m)}`),
        compatibleText: "[Chat history] Update your chat app to read these messages.",
      },
    });
  } catch (error) {
    toast(errorText(error, t("These messages can't be merged.")), { error: true });
    return;
  }
  exitSelect();
  insertOutgoing(target, message);
  if (await deliver(target, message, () => chat.sendMessage(message))) toast(t("Chat history sent to %(name)s.", { name: targetName(target) }));
}

export function wireForwardDialog() {
  wireDialogClose($("dlg-forward"));
}
