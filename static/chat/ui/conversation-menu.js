/*
 * The open conversation's "⋮" menu: pin, mark as unread, star, fold, mute, lists,
 * group info, clear history, delete.
 */

import { GROUP } from "../ids.js";
import { markUnread, openListsDialog, toggleFold, toggleMuted, toggleStar } from "./conversation-lists.js";
import { conversationTitle, currentConversation } from "./conversations.js";
import { closeMenus, confirmAction } from "./dialogs.js";
import { errorText } from "./errors.js";
import { dropDeleted } from "./messages.js";
import { closeConversation } from "./navigation.js";
import { chat, state } from "./state.js";
import { toast } from "./toast.js";
import { t } from "../i18n.js";

export async function togglePin() {
  const conv = currentConversation();
  if (!conv) return;
  closeMenus();
  try {
    await chat.pinConversation({ conversationID: conv.conversationID, isPinned: !conv.isPinned });
  } catch (error) {
    toast(errorText(error, conv.isPinned ? t("The chat couldn't be unpinned.") : t("The chat couldn't be pinned.")), { error: true });
  }
}

/** The menu's conversation-management items, on the open conversation (docs/PROTOCOL.md §5.49). */
function onCurrent(action) {
  return () => {
    const conv = currentConversation();
    if (conv) action(conv);
  };
}

export const markCurrentUnread = onCurrent(markUnread);
export const toggleCurrentStar = onCurrent(toggleStar);
export const toggleCurrentFold = onCurrent(toggleFold);
export const toggleCurrentMuted = onCurrent(toggleMuted);
export const openCurrentLists = onCurrent(openListsDialog);

export async function deleteCurrentConversation() {
  const conv = currentConversation();
  if (!conv) return;
  const ok = await confirmAction({
    title: t("Delete this conversation?"),
    text:
      conv.type === GROUP
        ? t("It disappears from your list. The messages are kept, and it comes back when someone writes in the group.")
        : t("It disappears from your list. The messages are kept, and it comes back when %(name)s writes to you.", { name: conversationTitle(conv) }),
    ok: t("Delete"),
  });
  if (!ok) return;
  try {
    await chat.deleteConversation(conv.conversationID);
    state.histories.delete(conv.conversationID);
    closeConversation();
  } catch (error) {
    toast(errorText(error, t("The conversation couldn't be deleted.")), { error: true });
  }
}

export async function clearCurrentHistory() {
  const conv = currentConversation();
  if (!conv) return;
  const ok = await confirmAction({
    title: t("Clear chat history?"),
    text: t("Every message in this chat disappears for you, on all your devices. The chat stays in your list, and others still see the messages."),
    ok: t("Clear history"),
  });
  if (!ok) return;
  try {
    await chat.clearHistoryMessage(conv.conversationID);
  } catch (error) {
    toast(errorText(error, t("The history couldn't be cleared.")), { error: true });
    return;
  }
  dropDeleted(conv.conversationID, { clearedSequence: Infinity });
}
