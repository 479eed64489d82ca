/*
 * The typing indicator (C2C): the composer tells the peer that the user is typing
 * (static/chat/typing.js: an onlineUserOnly Custom message, throttled), and the chat
 * header shows "typing…" while the peer's signals keep coming. The signals are taken out
 * of MESSAGE_RECEIVED before anything else sees them: they are never bubbles.
 */

import { isGroupConversation, peerOf } from "../ids.js";
import { TYPING_SHOW_MS, nextTypingSignal, typingData, typingStatusOf } from "../typing.js";
import { rerenderChatHeader } from "./navigation.js";
import { TYPES, chat, state } from "./state.js";

const sent = new Map(); // conversationID -> {typing, at}: the last signal this tab sent
const shown = new Map(); // conversationID -> the timer that hides "typing…"

export function isPeerTyping(conversationID) {
  return shown.has(conversationID);
}

/**
 * Tell the C2C peer that the user is typing (hasText) or stopped; best effort, never an
 * error. Not while offline: a signal is worth nothing later, so it is never queued.
 */
export function signalTyping(conversationID, hasText) {
  if (!conversationID || isGroupConversation(conversationID) || !state.ready) return;
  if (state.netState && state.netState !== TYPES.NET_STATE_CONNECTED) return;
  const now = Date.now();
  const signal = nextTypingSignal(sent.get(conversationID), hasText, now);
  if (!signal) return;
  sent.set(conversationID, { typing: signal === "typing", at: now });
  const payload = { data: typingData(signal === "typing"), description: "", extension: "" };
  const message = chat.createCustomMessage({ to: peerOf(conversationID), conversationType: "C2C", payload });
  chat.sendMessage(message, { onlineUserOnly: true }).catch(() => {});
}

function setShown(conversationID, typing) {
  clearTimeout(shown.get(conversationID));
  const was = shown.delete(conversationID);
  if (typing) shown.set(conversationID, setTimeout(() => setShown(conversationID, false), TYPING_SHOW_MS));
  if ((typing || was) && conversationID === state.current) rerenderChatHeader();
}

/** The messages of a MESSAGE_RECEIVED without the typing signals, which update the header
 * instead. A real message from the peer ends their "typing…". */
export function takeTypingSignals(messages) {
  const rest = [];
  for (const m of messages) {
    const status = typingStatusOf(m);
    if (status === null) rest.push(m);
    if (!m || m.flow !== "in" || isGroupConversation(m.conversationID)) continue;
    if (status !== null || shown.has(m.conversationID)) setShown(m.conversationID, status === true);
  }
  return rest;
}
