/*
 * Conversation management in the list: the tabs above it (All, Unread, Starred, the
 * user's lists, Folded), the marks, the muted bell, and the "Lists" dialog.
 *
 * The state is the server's: markList, messageRemindType and conversationGroupList on
 * each conversation, the list names from getConversationGroupList and
 * CONVERSATION_GROUP_LIST_UPDATED. Every change goes through the SDK and comes back to
 * every tab of the user as an event, which re-renders (docs/PROTOCOL.md §5.49).
 */

import { $, el } from "./dom.js";
import { closeMenus, openDialog, wireDialog } from "./dialogs.js";
import { errorText } from "./errors.js";
import { chat, serverRules, state, TYPES } from "./state.js";
import { toast } from "./toast.js";
import { t } from "../i18n.js";

// The SDK's TYPES.CONV_MARK_TYPE_* (bit flags), with the values as a fallback.
export const MARK = {
  get STAR() {
    return TYPES.CONV_MARK_TYPE_STAR || 1;
  },
  get UNREAD() {
    return TYPES.CONV_MARK_TYPE_UNREAD || 2;
  },
  get FOLD() {
    return TYPES.CONV_MARK_TYPE_FOLD || 4;
  },
  get HIDE() {
    return TYPES.CONV_MARK_TYPE_HIDE || 8;
  },
};

export const hasMark = (conv, mark) => Boolean(conv && Array.isArray(conv.markList) && conv.markList.includes(mark));

/** Notifications are off for AcceptNotNotify and Discard (the desktop notifier reads the same field). */
export const isMuted = (conv) => Boolean(conv && conv.messageRemindType && conv.messageRemindType !== "AcceptAndNotify");

export const listsOf = (conv) => (conv && Array.isArray(conv.conversationGroupList) ? conv.conversationGroupList : []);

const LIST_PREFIX = "list:";

/** Which conversations a tab shows. "All" leaves out the folded and hidden ones. */
function inTab(conv, tab) {
  if (tab === "unread") return (conv.unreadCount || 0) > 0 || hasMark(conv, MARK.UNREAD);
  if (tab === "starred") return hasMark(conv, MARK.STAR);
  if (tab === "folded") return hasMark(conv, MARK.FOLD);
  if (tab.startsWith(LIST_PREFIX)) return listsOf(conv).includes(tab.slice(LIST_PREFIX.length));
  return !hasMark(conv, MARK.FOLD) && !hasMark(conv, MARK.HIDE);
}

/** The conversations of the current tab (the open one stays, so that it never vanishes under the cursor). */
export function conversationsInTab(list) {
  const tab = currentTab(list);
  return list.filter((conv) => conv.conversationID === state.current || inTab(conv, tab));
}

/** The selected tab, or "all" when its list was deleted or nothing is folded any more. */
function currentTab(list) {
  const tab = state.listTab;
  if (tab.startsWith(LIST_PREFIX) && !state.conversationGroups.includes(tab.slice(LIST_PREFIX.length))) return "all";
  if (tab === "folded" && !list.some((c) => hasMark(c, MARK.FOLD))) return "all";
  return tab;
}

function tabButton(tab, label, count, onSelect) {
  const selected = tab === currentTab(state.conversations);
  return el(
    "button",
    {
      type: "button",
      role: "tab",
      class: "conv-tab",
      "aria-selected": selected ? "true" : "false",
      "data-testid": "conversation-tab",
      "data-tab": tab,
      title: label,
      onclick: () => onSelect(tab),
    },
    label,
    count ? el("span", { class: "tab-count", text: String(count) }) : null,
  );
}

/** The tabs above the list; ``onSelect`` re-renders it. Hidden while there is nothing to choose. */
export function renderListTabs(onSelect) {
  const list = state.conversations;
  const select = (tab) => {
    state.listTab = tab;
    onSelect();
  };
  const folded = list.filter((c) => hasMark(c, MARK.FOLD)).length;
  const tabs = [
    tabButton("all", t("All"), 0, select),
    tabButton("unread", t("Unread"), 0, select),
    tabButton("starred", t("Starred"), 0, select),
    ...state.conversationGroups.map((name) => tabButton(LIST_PREFIX + name, name, 0, select)),
  ];
  if (folded) tabs.push(tabButton("folded", t("Folded"), folded, select));
  $("conv-tabs").replaceChildren(...tabs);
  $("conv-tabs").hidden = list.length === 0;
}

export function setConversationGroups(names, rerender) {
  state.conversationGroups = Array.isArray(names) ? names.slice() : [];
  rerender();
}

// --- the conversation menu's items ----------------------------------------------------------

async function setMark(conv, markType, enableMark, failure) {
  closeMenus();
  try {
    await chat.markConversation({ conversationIDList: [conv.conversationID], markType, enableMark });
  } catch (error) {
    toast(errorText(error, failure), { error: true });
  }
}

export const toggleStar = (conv) => setMark(conv, MARK.STAR, !hasMark(conv, MARK.STAR), t("The chat couldn't be starred."));
export const toggleFold = (conv) => setMark(conv, MARK.FOLD, !hasMark(conv, MARK.FOLD), t("The chat couldn't be folded."));
export const markUnread = (conv) => setMark(conv, MARK.UNREAD, true, t("The chat couldn't be marked as unread."));

export async function toggleMuted(conv) {
  closeMenus();
  const id = conv.conversationID;
  const messageRemindType = isMuted(conv) ? TYPES.MSG_REMIND_ACPT_AND_NOTE : TYPES.MSG_REMIND_ACPT_NOT_NOTE;
  const target = conv.type === TYPES.CONV_GROUP ? { groupID: id.slice("GROUP".length) } : { userIDList: [id.slice("C2C".length)] };
  try {
    const res = await chat.setMessageRemindType({ ...target, messageRemindType });
    const failed = res.data && res.data.failureUserIDList && res.data.failureUserIDList[0];
    if (failed) throw failed;
  } catch (error) {
    toast(errorText(error, t("Notifications couldn't be changed for this chat.")), { error: true });
  }
}

// --- the "Lists" dialog -----------------------------------------------------------------------

let editing = null; // the conversation whose lists the dialog shows
let renaming = null; // the list whose row is an inline rename form

/** The ticks as the dialog shows them now (not saved yet), else as the conversation has them. */
function checkedNames() {
  const inputs = [...$("dlg-lists-choices").querySelectorAll("input[name=list]")];
  if (!inputs.length) return new Set(listsOf(editing));
  return new Set(inputs.filter((input) => input.checked).map((input) => input.value));
}

function choiceRow(name, checked) {
  if (name === renaming) return renameRow(name, checked);
  return el(
    "li",
    { "data-list": name },
    el(
      "label",
      {},
      el("input", { type: "checkbox", name: "list", value: name, checked, "data-testid": "list-choice" }),
      el("span", { class: "list-name", text: name }),
    ),
    el("button", {
      type: "button",
      class: "btn list-rename",
      text: t("Rename"),
      "aria-label": t("Rename the list %(name)s", { name }),
      "data-testid": "list-rename",
      onclick: () => {
        renaming = name;
        renderChoices({ focus: "[data-testid=list-rename-input]" });
      },
    }),
    el("button", {
      type: "button",
      class: "btn list-delete",
      text: t("Delete"),
      "aria-label": t("Delete the list %(name)s", { name }),
      "data-testid": "list-delete",
      onclick: () => deleteList(name),
    }),
  );
}

/** The row as a small form: Enter or "Save" renames, Esc or "Cancel" leaves it (not the dialog). */
function renameRow(name, checked) {
  const input = el("input", {
    type: "text",
    class: "list-rename-input",
    value: name,
    autocomplete: "off",
    "aria-label": t("New name for the list %(name)s", { name }),
    "data-testid": "list-rename-input",
  });
  const cancel = () => {
    renaming = null;
    renderChoices({ focus: `[data-list="${CSS.escape(name)}"] .list-rename` });
  };
  input.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault(); // not the dialog's Save
      renameList(name, input.value);
    } else if (e.key === "Escape") {
      e.preventDefault(); // the dialog stays open
      e.stopPropagation();
      cancel();
    }
  });
  return el(
    "li",
    { "data-list": name, class: "list-renaming" },
    // The tick stays in the form (hidden) so that Save keeps it while the row is renamed.
    el("input", { type: "checkbox", name: "list", value: name, checked, hidden: true }),
    input,
    el("button", { type: "button", class: "btn btn-primary list-rename-save", text: t("Save"), "data-testid": "list-rename-save", onclick: () => renameList(name, input.value) }),
    el("button", { type: "button", class: "btn list-rename-cancel", text: t("Cancel"), onclick: cancel }),
  );
}

async function renameList(oldName, value) {
  const newName = value.trim();
  if (!newName || newName === oldName) {
    renaming = null;
    renderChoices({ focus: `[data-list="${CSS.escape(oldName)}"] .list-rename` });
    return;
  }
  try {
    await chat.renameConversationGroup({ oldName, newName });
  } catch (error) {
    toast(errorText(error, t("The list couldn't be renamed.")), { error: true });
    $("dlg-lists-choices").querySelector("[data-testid=list-rename-input]")?.focus();
    return;
  }
  // CONVERSATION_GROUP_LIST_UPDATED says the same; the dialog need not wait for it.
  const checked = checkedNames();
  state.conversationGroups = state.conversationGroups.map((other) => (other === oldName ? newName : other));
  if (state.listTab === LIST_PREFIX + oldName) state.listTab = LIST_PREFIX + newName; // the tab shown stays
  if (checked.delete(oldName)) checked.add(newName);
  editing = { ...editing, conversationGroupList: listsOf(editing).map((other) => (other === oldName ? newName : other)) };
  renaming = null;
  renderChoices({ checked, focus: `[data-list="${CSS.escape(newName)}"] .list-rename` });
}

async function deleteList(name) {
  const rows = state.conversationGroups;
  const next = rows[rows.indexOf(name) + 1] || rows[rows.indexOf(name) - 1];
  try {
    await chat.deleteConversationGroup(name);
  } catch (error) {
    toast(errorText(error, t("The list couldn't be deleted.")), { error: true });
    return;
  }
  // CONVERSATION_GROUP_LIST_UPDATED says the same; the dialog need not wait for it.
  const checked = checkedNames();
  checked.delete(name);
  state.conversationGroups = state.conversationGroups.filter((other) => other !== name);
  if (renaming === name) renaming = null;
  // The focus was on the button that went: the next list's Delete, else the new list's name.
  renderChoices({ checked, focus: next ? `[data-list="${CSS.escape(next)}"] .list-delete` : "[data-testid=new-list-name]" });
  toast(t("List “%(name)s” deleted.", { name }));
}

function renderChoices({ checked = null, focus = null } = {}) {
  const mine = checked || new Set(listsOf(editing));
  $("dlg-lists-choices").replaceChildren(...state.conversationGroups.map((name) => choiceRow(name, mine.has(name))));
  const { max } = (serverRules() && serverRules().conversationGroups) || { max: 20 };
  $("dlg-lists-intro").textContent = state.conversationGroups.length
    ? t("Tick the lists this chat belongs to. Each list is a tab above your chats.")
    : t("Lists are tabs above your chats. Make one for this chat (up to %(max)s).", { max });
  if (focus) {
    const target = $("dlg-lists").querySelector(focus);
    if (target) {
      target.focus();
      if (target.select) target.select();
    }
  }
}

export function openListsDialog(conv) {
  closeMenus();
  editing = conv;
  renaming = null;
  openDialog("dlg-lists", () => renderChoices());
}

async function saveLists(form) {
  const id = editing.conversationID;
  const had = new Set(listsOf(editing));
  const wanted = new Set([...form.querySelectorAll("input[name=list]:checked")].map((input) => input.value));
  const newName = form.elements.newList.value.trim();
  const conversationIDList = [id];
  for (const name of state.conversationGroups) {
    if (wanted.has(name) && !had.has(name)) await chat.addConversationsToGroup({ groupName: name, conversationIDList });
    if (!wanted.has(name) && had.has(name)) await chat.deleteConversationsFromGroup({ groupName: name, conversationIDList });
  }
  if (newName) await chat.createConversationGroup({ groupName: newName, conversationIDList });
}

export function wireListsDialog() {
  wireDialog("dlg-lists", saveLists);
}
