/*
 * The typing indicator's signal, as TUIKit sends it: a Custom message sent with
 * onlineUserOnly (never stored, never counted, never in a conversation's lastMessage),
 * whose data is {"businessID": "user_typing_status", "typingStatus": 1 | 0, ...}.
 * Pure: no DOM, importable by Node (tests/js/typing.test.js).
 */

export const TYPING_BUSINESS_ID = "user_typing_status";
/** While the user types, the signal is sent again at most this often. */
export const TYPING_SEND_INTERVAL_MS = 4000;
/** How long "typing…" shows after the last signal (longer than the interval, so it does not flicker). */
export const TYPING_SHOW_MS = 6000;

/** The Custom message's `data` for "typing" (true) or "stopped" (false), in TUIKit's words. */
export function typingData(isTyping) {
  return JSON.stringify({
    businessID: TYPING_BUSINESS_ID,
    typingStatus: isTyping ? 1 : 0,
    version: 1,
    userAction: 14,
    actionParam: isTyping ? "EIMAMSG_InputStatus_Ing" : "EIMAMSG_InputStatus_End",
  });
}

/** true (typing) or false (stopped) for a typing signal; null for any other message. */
export function typingStatusOf(message) {
  if (!message || message.type !== "TIMCustomElem" || !message.payload || typeof message.payload.data !== "string") return null;
  let data;
  try {
    data = JSON.parse(message.payload.data);
  } catch {
    return null;
  }
  if (!data || data.businessID !== TYPING_BUSINESS_ID) return null;
  return data.typingStatus === 1;
}

/**
 * What the composer sends now, given the last signal it sent ({typing, at}, or null) and
 * whether the input holds text: "typing" (at most once per interval), "end" (once, when
 * the text is gone), or null.
 */
export function nextTypingSignal(last, hasText, now) {
  const typing = Boolean(last && last.typing);
  if (hasText) return !typing || now - last.at >= TYPING_SEND_INTERVAL_MS ? "typing" : null;
  return typing ? "end" : null;
}
