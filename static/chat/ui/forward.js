/*
 * Forwarding: one message, several one by one, or merged into a chat history.
 * Only stored messages are taken (no group tips, nothing recalled or unsent).
 * Messages this tab sends go straight into the target's history.
 */

import { messageCountText } from "../format.js";
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

const canSendTo = (c) => c.type === C2C || c.type === GROUP;

/** The conversations one can send to, for the "Forward to…" list. */
function forwardTargets() {
  const list = state.conversations.filter((c) => c.type === C2C || (c.type === GROUP && (!state.groupsLoaded || state.groups.has(peerOf(c.conversationID)))));
  const current = currentConversation();
  if (current && !list.includes(current) && canSendTo(current)) list.unshift(current);
  return list;
}

function targetItem(conv, choose) {
  return el(
    "li",
    {},
    el(
      "button",
      { type: "button", class: "pick-item", role: "option", "data-testid": "forward-target", "data-conversation-id": conv.conversationID, onclick: () => choose(conv.conversationID) },
      avatar("md", conversationAvatarInfo(conv)),
      el("span", { class: "pick-main" }, el("span", { class: "pick-name", text: conversationTitle(conv) }), el("span", { class: "pick-sub", text: conversationSubtitle(conv) })),
      conv.conversationID === state.current ? el("span", { class: "pick-tag", text: "This chat" }) : null,
    ),
  );
}

/** Enter picks the first target, the down arrow moves into the list. */
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

/** "Forward to…": resolves the chosen conversationID, or null when closed. */
function pickConversation({ title, what }) {
  const dialog = $("dlg-forward");
  const input = $("forward-filter");
  $("dlg-forward-title").textContent = title;
  $("forward-what").textContent = what || "";
  $("forward-what").hidden = !what;
  input.value = "";
  closeMenus();
  return new Promise((resolve) => {
    let chosen = null;
    const choose = (conversationID) => {
      chosen = conversationID;
      dialog.close();
    };
    const draw = () => {
      const filter = input.value.trim().toLowerCase();
      const items = matchingConversations(forwardTargets(), filter).map((conv) => targetItem(conv, choose));
      if (!items.length) items.push(el("li", { class: "pick-empty", text: filter ? "No conversations match." : "No conversations yet." }));
      $("forward-list").replaceChildren(...items);
    };
    const onClose = () => {
      input.removeEventListener("input", draw);
      input.removeEventListener("keydown", onFilterKeydown);
      dialog.removeEventListener("close", onClose);
      resolve(chosen);
    };
    input.addEventListener("input", draw);
    input.addEventListener("keydown", onFilterKeydown);
    dialog.addEventListener("close", onClose);
    draw();
    showDialog(dialog);
    input.focus();
  });
}

/** Forward messages one by one; resolves how many were stored. */
async function forwardMessages(messages, targetID) {
  let sent = 0;
  for (const m of messages) {
    const stored = await createAndSend(targetID, () => chat.createForwardMessage({ ...addressOf(targetID), payload: m }), "That message can't be forwarded.");
    if (stored) sent += 1;
  }
  return sent;
}

export async function forwardOne(m) {
  const target = await pickConversation({ title: "Forward to…", what: `${senderName(m)}: ${messageSummary(m)}` });
  if (!target) return;
  if (await forwardMessages([m], target)) toast(`Forwarded to ${targetName(target)}.`);
}

export async function forwardSelected() {
  const list = selectedMessages();
  if (!list.length) return;
  const target = await pickConversation({ title: "Forward to…", what: list.length === 1 ? "1 message, as it is" : `${list.length} messages, one by one` });
  if (!target) return;
  exitSelect();
  const sent = await forwardMessages(list, target);
  if (sent) toast(`Forwarded ${messageCountText(sent)} to ${targetName(target)}.`);
}

/** The merged history's title: "Chat history of Alice and Bob", or of the group. */
function mergeTitle(conversationID) {
  const name = targetName(conversationID);
  if (isGroupConversation(conversationID)) return `Chat history of ${name}`;
  return `Chat history of ${state.me.nick || state.me.userID} and ${name}`;
}

export async function mergeSelected() {
  const list = selectedMessages();
  if (!list.length || !state.current) return;
  const title = mergeTitle(state.current);
  const target = await pickConversation({ title: "Send chat history to…", what: `${title} (${messageCountText(list.length)})` });
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
    toast(errorText(error, "These messages can't be merged."), { error: true });
    return;
  }
  exitSelect();
  insertOutgoing(target, message);
  if (await deliver(target, message, () => chat.sendMessage(message))) toast(`Chat history sent to ${targetName(target)}.`);
}

export function wireForwardDialog() {
  wireDialogClose($("dlg-forward"));
}
