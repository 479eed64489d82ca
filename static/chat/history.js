/*
 * A conversation's message history as the UI keeps it: messages in the order every
 * viewer sees (the server's sequence), each once, with the ones still being sent
 * after them. Pure: no DOM, importable by Node.
 */

const GROUP_TIP = "TIMGroupTipElem";
const NOT_FORWARDABLE = new Set([GROUP_TIP, "TIMGroupSystemNoticeElem"]);

export function newHistory() {
  return {
    messages: [],
    byID: new Map(),
    rows: new Map(), // message ID -> {sig, message, row}: drawn rows are reused, so a playing video keeps playing
    nextReqMessageID: "",
    isCompleted: false,
    loading: false,
    loaded: false,
    dividerBeforeID: null,
    unreadAbove: 0, // unread messages older than the loaded ones (the divider says how many)
    errors: new Map(),
    order: 0,
  };
}

const stored = (m) => m.status === "success";

/**
 * Stored messages in sequence order; messages not stored (no sequence yet) after them, as
 * created, except the unsent ones a history page placed (mergePage): those stay after the
 * stored message they followed there.
 */
export function sortHistory(h) {
  const key = (m) => {
    if (stored(m) && m.sequence) return m.sequence;
    return m._anchor !== undefined ? m._anchor + 0.5 : Number.MAX_SAFE_INTEGER;
  };
  h.messages.sort((a, b) => key(a) - key(b) || (a.time || 0) - (b.time || 0) || (a._order || 0) - (b._order || 0));
}

/**
 * Merge a getMessageList page (oldest first). The SDK puts the messages its outbox kept
 * from an earlier page load (status "fail") at their place in the page: each is anchored
 * to the sequence of the stored message before it (or just before the page's first), so
 * that it keeps that place among the stored messages instead of going to the end.
 */
export function mergePage(h, page) {
  let before = null;
  page.forEach((m, index) => {
    if (stored(m) && m.sequence) before = m.sequence;
    else if (m._anchor === undefined) {
      const next = page.slice(index + 1).find((n) => stored(n) && n.sequence);
      m._anchor = before !== null ? before : next ? next.sequence - 1 : 0;
    }
  });
  mergeMessages(h, page);
}

/** Add a message, or replace the one with its ID (keeping its place among unsent ones): never twice. */
export function upsertMessage(h, message) {
  const existing = h.byID.get(message.ID);
  if (existing && existing !== message) {
    const index = h.messages.indexOf(existing);
    message._order = existing._order;
    if (index >= 0) h.messages[index] = message;
  } else if (!existing) {
    message._order = ++h.order;
    h.messages.push(message);
  }
  h.byID.set(message.ID, message);
}

/** Take a message out of the history (an unsent one the user deleted). */
export function removeMessage(h, id) {
  const existing = h.byID.get(id);
  if (!existing) return;
  h.messages.splice(h.messages.indexOf(existing), 1);
  h.byID.delete(id);
  h.rows.delete(id);
  h.errors.delete(id);
}

/**
 * Drop what the user deleted for themselves (deleteMessage, clearHistoryMessage; the
 * SDK's MESSAGE_DELETED): the messages named, and every stored one up to
 * `clearedSequence` (Infinity: all of them, as the clearing tab knows). Messages not
 * stored yet stay. Returns how many left.
 */
export function removeDeleted(h, { messageIDList = [], clearedSequence = 0 } = {}) {
  const gone = h.messages.filter(
    (m) => messageIDList.includes(m.ID) || (clearedSequence && stored(m) && m.sequence && m.sequence <= clearedSequence),
  );
  for (const m of gone) removeMessage(h, m.ID);
  if (clearedSequence === Infinity) h.isCompleted = true;
  return gone.length;
}

export function mergeMessages(h, messages) {
  for (const m of messages) upsertMessage(h, m);
  sortHistory(h);
}

/** How many messages in the history someone else sent. */
export const countIncoming = (h) => h.messages.reduce((n, m) => n + (m.flow === "out" ? 0 : 1), 0);

/**
 * Where "New messages" goes: {beforeID, above}. beforeID: the first of the last `unread`
 * incoming messages before `endBeforeID` (the end when null), or the first incoming one
 * when fewer are loaded; above: how many of the `unread` are older than the loaded ones
 * (0 once the history is complete). Called again with (above, beforeID) after an older
 * page loads, it moves the divider up: counting back from it, not from the end, so that
 * the messages read since the chat was opened do not count.
 */
export function placeUnreadDivider(h, unread, endBeforeID = null) {
  const at = endBeforeID ? h.messages.findIndex((m) => m.ID === endBeforeID) : -1;
  const end = at >= 0 ? at : h.messages.length;
  let seen = 0;
  let beforeID = at >= 0 ? endBeforeID : null;
  for (let i = end - 1; i >= 0 && seen < unread; i--) {
    if (h.messages[i].flow === "out") continue;
    seen += 1;
    beforeID = h.messages[i].ID;
  }
  return { beforeID, above: h.isCompleted ? 0 : Math.max(0, unread - seen) };
}

/** The ID of the first of the last `unreadCount` incoming messages (where "New messages" goes). */
export const firstUnreadID = (h, unreadCount) => placeUnreadDivider(h, unreadCount).beforeID;

/** My latest message when it is the last one (tips aside), stored and not recalled: it carries "Sent"/"Read". */
export function lastOwnStoredID(h) {
  for (let i = h.messages.length - 1; i >= 0; i--) {
    const m = h.messages[i];
    if (m.type === GROUP_TIP) continue;
    return m.flow === "out" && stored(m) && !m.isRevoked ? m.ID : null;
  }
  return null;
}

/** The peer read up to `sequence`: my stored messages up to it are read. */
export function markReadUpTo(h, sequence) {
  for (const m of h.messages) if (m.flow === "out" && stored(m) && m.sequence && m.sequence <= sequence) m.isPeerRead = true;
}

/** Stored, not recalled, not a group tip or notice: what may be selected, forwarded or merged. */
export function isForwardable(m) {
  return Boolean(m) && !NOT_FORWARDABLE.has(m.type) && stored(m) && !m.isRevoked;
}
