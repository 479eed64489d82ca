/*
 * Replies with a quote, stored as the vendor's TUIKit stores them so that TUIKit clients
 * interoperate (docs/PROTOCOL.md §4.8): the reply's cloudCustomData is the JSON string
 * {"messageReply": {messageID, messageAbstract, messageSender, messageType,
 * messageTime, messageSequence, version: 1}}. The abstract and the sender's name are the
 * replier's own text: the server adds nothing from the original. Pure: importable by Node.
 */

export const REPLY_KEY = "messageReply";
export const REPLY_VERSION = 1;
/** The longest abstract this UI writes (TUIKit cuts its own too). */
export const ABSTRACT_MAX = 100;

/** The SDK's message types as TUIKit numbers them in messageType (V2TIMElemType). */
export const ELEM_TYPE = {
  TIMTextElem: 1,
  TIMCustomElem: 2,
  TIMImageElem: 3,
  TIMSoundElem: 4,
  TIMVideoFileElem: 5,
  TIMFileElem: 6,
  TIMLocationElem: 7,
  TIMFaceElem: 8,
  TIMGroupTipElem: 9,
  TIMRelayElem: 10,
};

/** What a quote shows of a message: its text, or the SDK's messageForShow ("[Image]", …), on one line, cut. */
export function replyAbstract(message) {
  const text = message.type === "TIMTextElem" && message.payload ? message.payload.text : message.messageForShow;
  const line = String(text || "").replace(/\s+/g, " ").trim();
  return line.length > ABSTRACT_MAX ? line.slice(0, ABSTRACT_MAX - 1) + "…" : line;
}

/** The cloudCustomData of a reply to `original`, whose sender is shown as `senderName`. */
export function buildReplyData(original, senderName) {
  return JSON.stringify({
    [REPLY_KEY]: {
      messageID: original.ID,
      messageAbstract: replyAbstract(original),
      messageSender: senderName || original.nick || original.from || "",
      messageType: ELEM_TYPE[original.type] || 0,
      messageTime: original.time || 0,
      messageSequence: original.sequence || 0,
      version: REPLY_VERSION,
    },
  });
}

/**
 * The quote a message's cloudCustomData holds, or null when it is no reply (not JSON,
 * no messageReply, no messageID): {messageID, messageAbstract, messageSender, messageType,
 * messageTime, messageSequence}, with strings and numbers only, whatever a client sent.
 */
export function parseReply(cloudCustomData) {
  if (typeof cloudCustomData !== "string" || !cloudCustomData.includes(REPLY_KEY)) return null;
  let data;
  try {
    data = JSON.parse(cloudCustomData);
  } catch {
    return null;
  }
  const reply = data && typeof data === "object" ? data[REPLY_KEY] : null;
  if (!reply || typeof reply !== "object" || typeof reply.messageID !== "string" || !reply.messageID) return null;
  const text = (value) => (typeof value === "string" ? value : "");
  const number = (value) => (Number.isFinite(value) ? value : 0);
  return {
    messageID: reply.messageID,
    messageAbstract: text(reply.messageAbstract),
    messageSender: text(reply.messageSender),
    messageType: number(reply.messageType),
    messageTime: number(reply.messageTime),
    messageSequence: number(reply.messageSequence),
  };
}
