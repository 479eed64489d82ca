/*
 * Sending: a message this tab created goes into its conversation's history at once
 * (the SDK does not echo own sends back as MESSAGE_RECEIVED), then is sent; a
 * failure stays in the history in red with Resend and Delete. The SDK keeps failed
 * messages across a reload (its outbox) and returns them in the history pages; one
 * sent while offline waits in the SDK (a clock) and goes out when the socket is back.
 */

import { mergeMessages, removeMessage } from "../history.js";
import { GROUP, conversationTypeOf, peerOf } from "../ids.js";
import { errorText, knownErrorText } from "./errors.js";
import { historyOf, renderMessages } from "./messages.js";
import { learnSelfMute, muteNoticeFor } from "./mute.js";
import { chat, state } from "./state.js";
import { clearErrorToasts, toast } from "./toast.js";
import { t } from "../i18n.js";

/** {to, conversationType} of a conversation, for the SDK's create*Message options. */
export function addressOf(conversationID) {
  const conversationType = conversationTypeOf(conversationID);
  // Group messages ask for read receipts: the sender sees "3 read" under them (ui/receipts.js).
  return { to: peerOf(conversationID), conversationType, needReadReceipt: conversationType === "GROUP" };
}

/** Show a message this tab created in its conversation's history. */
export function insertOutgoing(conversationID, message) {
  if (!message.time) message.time = Math.floor(Date.now() / 1000);
  const h = historyOf(conversationID);
  h.dividerBeforeID = null;
  h.unreadAbove = 0;
  mergeMessages(h, [message]);
  if (state.current === conversationID && h.loaded) renderMessages({ scroll: "bottom" });
}

const MUTED = 10017;

/** What a failed send says: in the toast, and in the bubble when it says more than "not sent". */
async function failureText(message, error) {
  if (error && error.code === MUTED && message.conversationType === GROUP) {
    // The mute is news to this tab: read when it ends, and say it as the composer does.
    await learnSelfMute(message.to, { again: true });
    const notice = muteNoticeFor(message.to);
    if (notice) return notice;
  }
  // tim.js reports a failed image upload as 2251 ("no image selected"); here the image was there.
  if (message.type === "TIMImageElem" && error && error.code === 2251) return "The image couldn't be uploaded. Check your connection, then retry.";
  return errorText(error, t("The message couldn't be sent."));
}

const saysMoreThanNotSent = (error) => Boolean(error) && Boolean(knownErrorText(error.code)) && error.code !== 2100 && error.code !== 2251;

/** Send (or resend) and redraw; resolves true when the message was stored. */
export async function deliver(conversationID, message, call, { retry = false } = {}) {
  const h = historyOf(conversationID);
  h.errors.delete(message.ID);
  let sent = false;
  try {
    const res = await call();
    mergeMessages(h, [(res && res.data && res.data.message) || message]);
    if (retry) clearErrorToasts(); // the failure is resolved
    sent = true;
  } catch (error) {
    if (message.status !== "fail") message.status = "fail";
    const text = await failureText(message, error);
    if (saysMoreThanNotSent(error)) h.errors.set(message.ID, text);
    mergeMessages(h, [message]);
    toast(text, { error: true });
  }
  if (state.current === conversationID && h.loaded) renderMessages({ scroll: "auto" });
  return sent;
}

/**
 * Create a message with create() (the SDK's create*Message, which may throw), show it
 * and send it. Resolves true when it was stored.
 */
export async function createAndSend(conversationID, create, failText) {
  let message;
  try {
    message = create();
  } catch (error) {
    toast(errorText(error, failText), { error: true });
    return false;
  }
  insertOutgoing(conversationID, message);
  return deliver(conversationID, message, () => chat.sendMessage(message));
}

/** Resend a failed message (the SDK marks it "unSend" at once, and sends it with the same ID). */
export function resend(message) {
  const conversationID = message.conversationID || state.current;
  deliver(conversationID, message, () => chat.resendMessage(message), { retry: true });
  if (state.current === conversationID) renderMessages({ scroll: "auto" });
}

/** Delete a message that was never sent: it leaves the history and the SDK's outbox. */
export async function discard(message) {
  const conversationID = message.conversationID || state.current;
  try {
    await chat.deleteMessage([message]);
  } catch (error) {
    toast(errorText(error, t("The message couldn't be deleted.")), { error: true });
    return;
  }
  removeMessage(historyOf(conversationID), message.ID);
  if (state.current === conversationID) renderMessages({ scroll: "auto" });
}
