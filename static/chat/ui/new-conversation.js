/*
 * Starting something: "New chat" (by user ID), "New group" (with member chips) and
 * "Join a group" (by group ID).
 */

import { splitIDs } from "../format.js";
import { c2cConversationID, groupConversationID } from "../ids.js";
import { utf8Length } from "../rules.js";
import { openDialog, setDialogError, wireDialog } from "./dialogs.js";
import { $, avatar, el, icon } from "./dom.js";
import { errorText } from "./errors.js";
import { openConversation } from "./navigation.js";
import { TYPES, chat, state } from "./state.js";
import { toast } from "./toast.js";
import { t } from "../i18n.js";

const MAX_GROUP_NAME_BYTES = 30;

async function lookUpUsers(userIDs) {
  const res = await chat.getUserProfile({ userIDList: userIDs });
  const found = new Map();
  for (const p of res.data || []) found.set(p.userID, p);
  return found;
}

async function submitNewChat(form) {
  const userID = String(form.elements.userID.value || "").trim().replace(/^@/, "");
  if (!userID) throw t("Enter the user ID of the person you want to chat with.");
  if (userID === state.me.userID) throw t("That's you. Enter someone else's user ID.");
  const found = await lookUpUsers([userID]);
  if (!found.has(userID)) throw t("There's no user \"%(id)s\". Check the spelling.", { id: userID });
  await openConversation(c2cConversationID(userID), { focus: true });
  return true;
}

// -- the members of a new group, as chips --

const chipUsers = new Map();

function resetChips() {
  chipUsers.clear();
  renderChips();
}

function removeChip(userID) {
  chipUsers.delete(userID);
  renderChips();
  $("new-group-members").focus();
}

function renderChips() {
  const input = $("new-group-members");
  const chips = Array.from(chipUsers.values()).map((p) =>
    el(
      "span",
      { class: "chip", "data-testid": "member-chip", "data-user-id": p.userID },
      avatar("xs", { id: p.userID, name: p.nick || p.userID, url: p.avatar }),
      p.nick && p.nick !== p.userID ? `${p.nick} (${p.userID})` : p.userID,
      el("button", { type: "button", "aria-label": `Remove ${p.userID}`, onclick: () => removeChip(p.userID) }, icon("close")),
    ),
  );
  $("new-group-chips").replaceChildren(...chips, input);
}

/** A person picked in the typeahead becomes a chip. */
export function addMemberChip(profile) {
  if (profile.userID !== state.me.userID) chipUsers.set(profile.userID, profile);
  $("new-group-members").value = "";
  renderChips();
  $("new-group-members").focus();
}

/** Turn what is typed into chips; returns the IDs that are not users. */
async function addChipsFromInput() {
  const input = $("new-group-members");
  const ids = splitIDs(input.value).filter((id) => id !== state.me.userID && !chipUsers.has(id));
  input.value = "";
  if (!ids.length) return [];
  const found = await lookUpUsers(ids);
  for (const id of ids) if (found.has(id)) chipUsers.set(id, found.get(id));
  renderChips();
  input.focus();
  return ids.filter((id) => !found.has(id));
}

async function onChipsKeydown(e) {
  const input = e.target;
  const dialog = $("dlg-new-group");
  if ((e.key === "Enter" || e.key === "," || e.key === " ") && input.value.trim()) {
    e.preventDefault();
    try {
      const missing = await addChipsFromInput();
      setDialogError(dialog, missing.length ? t("No such user: %(ids)s", { ids: missing.join(", ") }) : "");
    } catch (error) {
      setDialogError(dialog, errorText(error));
    }
  } else if (e.key === "Enter") {
    e.preventDefault();
    dialog.querySelector("form").requestSubmit();
  } else if (e.key === "Backspace" && !input.value && chipUsers.size) {
    removeChip(Array.from(chipUsers.keys()).pop());
  }
}

async function submitNewGroup(form) {
  const name = String(form.elements.name.value || "").trim();
  if (!name) throw t("Give the group a name.");
  if (utf8Length(name) > MAX_GROUP_NAME_BYTES) throw t("The group name is too long (%(max)s bytes at most).", { max: MAX_GROUP_NAME_BYTES });
  const missing = await addChipsFromInput();
  if (missing.length) throw t("No such user: %(ids)s", { ids: missing.join(", ") });
  const options = { type: form.elements.type.value, name, memberList: Array.from(chipUsers.keys()).map((userID) => ({ userID })) };
  const groupID = String(form.elements.groupID.value || "").trim();
  if (groupID) options.groupID = groupID;
  const res = await chat.createGroup(options);
  const group = res.data && res.data.group;
  if (group) state.groups.set(group.groupID, group);
  toast(`Group "${name}" created.`);
  if (group) await openConversation(groupConversationID(group.groupID), { focus: true });
  return true;
}

/** joinGroup; a group one is already in just opens. Resolves the SDK's data, or null when already a member. */
async function join(groupID) {
  try {
    return (await chat.joinGroup({ groupID })).data || {};
  } catch (error) {
    if (error && error.code === 10013) return null;
    throw error;
  }
}

async function submitJoinGroup(form) {
  const groupID = String(form.elements.groupID.value || "").trim();
  if (!groupID) throw t("Enter the ID of the group you want to join.");
  const data = state.groups.has(groupID) ? null : await join(groupID);
  if (data && data.status === (TYPES.JOIN_STATUS_WAIT_APPROVAL || "WaitAdminApproval")) {
    toast(t("Request sent. You'll be in once an admin approves it."));
    return true;
  }
  if (data) {
    const group = data.group;
    if (group) state.groups.set(group.groupID, group);
    toast(data.status === "AlreadyInGroup" ? t("You're already in this group.") : t("You joined %(name)s.", { name: (group && group.name) || groupID }));
  }
  await openConversation(groupConversationID(groupID), { focus: true });
  return true;
}

export function openNewChatDialog() {
  openDialog("dlg-new-chat");
}

export function openNewGroupDialog() {
  openDialog("dlg-new-group", resetChips);
}

export function openJoinGroupDialog() {
  openDialog("dlg-join-group");
}

export function wireNewConversationDialogs() {
  wireDialog("dlg-new-chat", submitNewChat);
  wireDialog("dlg-new-group", submitNewGroup);
  wireDialog("dlg-join-group", submitJoinGroup);
  $("new-group-members").addEventListener("keydown", onChipsKeydown);
  $("new-group-chips").addEventListener("click", (e) => {
    if (e.target === $("new-group-chips")) $("new-group-members").focus();
  });
}
