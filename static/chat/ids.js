/*
 * Conversation IDs (TIM.TYPES.CONV_*): "C2C<userID>", "GROUP<groupID>", "@TIM#SYSTEM".
 * The only place the UI spells them; the server's twin is messaging/rules.py.
 * Pure: no DOM, importable by Node.
 */

export const C2C = "C2C";
export const GROUP = "GROUP";
export const SYSTEM_CONVERSATION_ID = "@TIM#SYSTEM";

export function c2cConversationID(userID) {
  return C2C + userID;
}

export function groupConversationID(groupID) {
  return GROUP + groupID;
}

/** {kind: C2C | GROUP | SYSTEM_CONVERSATION_ID, target} or null for anything else. */
export function parseConversationID(conversationID) {
  if (typeof conversationID !== "string" || !conversationID) return null;
  if (conversationID === SYSTEM_CONVERSATION_ID) return { kind: SYSTEM_CONVERSATION_ID, target: "" };
  for (const kind of [C2C, GROUP]) {
    if (conversationID.startsWith(kind) && conversationID.length > kind.length) return { kind, target: conversationID.slice(kind.length) };
  }
  return null;
}

export function isGroupConversation(conversationID) {
  const parsed = parseConversationID(conversationID);
  return Boolean(parsed) && parsed.kind === GROUP;
}

/** The peer's userID or the groupID; the ID itself when it is neither. */
export function peerOf(conversationID) {
  const parsed = parseConversationID(conversationID);
  return parsed && parsed.kind !== SYSTEM_CONVERSATION_ID ? parsed.target : conversationID;
}

/** The SDK's conversationType for sending to a conversation (TIM.TYPES.CONV_GROUP or CONV_C2C). */
export function conversationTypeOf(conversationID) {
  return isGroupConversation(conversationID) ? GROUP : C2C;
}
