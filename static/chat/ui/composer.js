/*
 * The composer: drafts per conversation (kept on the server for every device), the size counter, Enter to send and
 * Shift+Enter for a new line.
 *
 * A text's size is counted as the server counts it (rules.bodyBytes of the payload
 * it will store, @mentions included) against the server's limit: a text the server
 * would refuse is refused here, before it is sent.
 */

import { formatLimit } from "../format.js";
import { isGroupConversation, peerOf } from "../ids.js";
import { bodyBytes, textPayload } from "../rules.js";
import { pickedMentions, typedMentions } from "../text.js";
import { $ } from "./dom.js";
import { knownErrorText } from "./errors.js";
import { draftOf, findConversation } from "./conversations.js";
import { closeMentionList, onMentionKeydown, updateMentionList } from "./mention-list.js";
import { endEdit, saveEdit } from "./editing.js";
import { closePicker } from "./picker.js";
import { cancelReply, renderReplyBar, replyData, takeReplyData } from "./reply.js";
import { addressOf, createAndSend } from "./sending.js";
import { chat, limits, state } from "./state.js";
import { toast } from "./toast.js";
import { signalTyping } from "./typing.js";
import { isRecording, stopRecording } from "./voice.js";
import { t } from "../i18n.js";

/** The counter shows once a text reaches this share of the limit. */
const COUNTER_FROM = 0.8;

export function closeComposerPops() {
  closePicker();
  closeMentionList();
}

/** How long the composer waits after the last keystroke before it saves the draft. */
const DRAFT_SAVE_DELAY_MS = 1200;
let draftTimer = null;

/**
 * Keep the composer's text as the conversation's draft: at once in this tab (the list
 * shows "[Draft] …"), and on the server (setConversationDraft) for the user's other tabs
 * and devices. Called when the user leaves the conversation, and debounced while typing.
 */
export function saveDraft() {
  clearTimeout(draftTimer);
  draftTimer = null;
  if (!state.current || state.editing) return; // while editing, the draft was saved when it began
  const text = $("composer-input").value;
  storeDraft(state.current, text.trim() ? text : "");
}

function storeDraft(conversationID, text) {
  const conv = findConversation(conversationID);
  const saved = (conv && conv.draftText) || "";
  if (text === saved) {
    state.drafts.delete(conversationID);
    return;
  }
  state.drafts.set(conversationID, text);
  if (!conv || !state.conversations.includes(conv)) return; // a new chat: no row on the server yet (2500)
  chat
    .setConversationDraft({ conversationID, draftText: text })
    .then(() => {
      // The server's patch (CONVERSATION_LIST_UPDATED) carries it from now on.
      if (state.drafts.get(conversationID) === text) state.drafts.delete(conversationID);
    })
    .catch(() => {}); // kept in this tab; the next save tries again
}

function scheduleDraftSave() {
  clearTimeout(draftTimer);
  draftTimer = setTimeout(saveDraft, DRAFT_SAVE_DELAY_MS);
}

export function restoreDraft(conversationID) {
  if (state.editing && state.editing.conversationID !== conversationID) endEdit({ restore: false });
  const conv = findConversation(conversationID);
  $("composer-input").value = conv ? draftOf(conv) : state.drafts.get(conversationID) || "";
  renderReplyBar();
  onComposerInput();
}

/**
 * The user IDs picked from the @ list whose "@Name" is still in the text, then those an
 * "@Name" typed by hand names (the members the @ list loaded; typing "@" loads them).
 * Groups only.
 */
function mentionedIn(conversationID, text) {
  if (!isGroupConversation(conversationID)) return [];
  const picked = pickedMentions(state.mentions.get(conversationID), text);
  const cached = state.memberCache.get(peerOf(conversationID));
  const typed = typedMentions(text, cached && cached.list, { viewerID: state.me.userID });
  return [...picked, ...typed.filter((id) => !picked.includes(id))];
}

/** The payload the server will store for this text, and its size as the server counts it (with a reply's quote). */
function composedText(text) {
  const payload = textPayload(text, mentionedIn(state.current, text));
  return { payload, bytes: bodyBytes(payload, replyData(state.current)) };
}

const kilobytes = (bytes) => (bytes / 1024).toFixed(1);

function showCount(bytes, max) {
  const count = $("composer-count");
  const over = Boolean(max) && bytes > max;
  count.hidden = !max || bytes < max * COUNTER_FROM;
  count.classList.toggle("is-over", over);
  if (max) count.textContent = over ? t("Too long: %(size)s KB of %(limit)s", { size: kilobytes(bytes), limit: formatLimit(max) }) : `${kilobytes(bytes)} / ${formatLimit(max)}`;
  return over;
}

export function onComposerInput() {
  const input = $("composer-input");
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight + 2, 180) + "px";
  const text = input.value;
  const over = showCount(composedText(text).bytes, limits().maxBodyBytes);
  $("composer").classList.toggle("has-text", Boolean(text.trim()));
  $("send-btn").disabled = !isRecording() && (!text.trim() || over);
}

function onComposerKeydown(e) {
  if (onMentionKeydown(e)) return;
  if (e.key === "Escape" && cancelReply()) {
    e.preventDefault();
    e.stopPropagation();
    return;
  }
  if (e.key !== "Enter" || e.shiftKey || e.altKey || e.ctrlKey || e.metaKey) return;
  if (e.isComposing || e.keyCode === 229) return; // an IME is composing: Enter picks a candidate
  e.preventDefault();
  submitComposer();
}

function submitComposer() {
  const input = $("composer-input");
  const text = input.value;
  const conversationID = state.current;
  if (!text.trim() || !conversationID) return;
  const { payload, bytes } = composedText(text);
  const max = limits().maxBodyBytes;
  if (max && bytes > max) {
    toast(knownErrorText(80002), { error: true });
    return;
  }
  if (state.editing) {
    saveEdit(text);
    return;
  }
  input.value = "";
  signalTyping(conversationID, false);
  clearTimeout(draftTimer);
  storeDraft(conversationID, ""); // sent: the draft is gone on every device
  state.mentions.delete(conversationID);
  closeComposerPops();
  onComposerInput();
  sendText(conversationID, payload, takeReplyData(conversationID));
}

/** A text message (with its @mentions, createTextAtMessage) to a conversation. */
function sendText(conversationID, payload, cloudCustomData = "") {
  const options = { ...addressOf(conversationID), payload };
  if (cloudCustomData) options.cloudCustomData = cloudCustomData;
  const create = payload.atUserList ? () => chat.createTextAtMessage(options) : () => chat.createTextMessage(options);
  return createAndSend(conversationID, create, t("The message couldn't be created."));
}

export function wireComposer() {
  const input = $("composer-input");
  input.addEventListener("input", () => {
    onComposerInput();
    scheduleDraftSave();
    updateMentionList();
    signalTyping(state.current, Boolean(input.value.trim()) && !state.editing); // editing is not typing a new message
  });
  input.addEventListener("click", updateMentionList);
  input.addEventListener("blur", () =>
    setTimeout(() => {
      if (document.activeElement !== input) closeMentionList();
    }, 150),
  );
  input.addEventListener("keydown", onComposerKeydown);
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    if (isRecording()) {
      stopRecording(true); // the send button sends the voice message being recorded
      return;
    }
    submitComposer();
    input.focus();
  });
}
