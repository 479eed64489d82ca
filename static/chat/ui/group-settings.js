/*
 * The group's settings from the group info panel: photo (uploaded and cropped by the
 * server, ui/avatar-upload.js), name, introduction, announcement, who can join
 * (joinOption) and mute-all (updateGroupProfile, docs/PROTOCOL.md §5.25), and dismissing the group
 * (§5.29, the owner; not a Work group). The buttons show to whom the server allows
 * them; the server decides, and a refusal is shown in words.
 */

import { uploadAvatarFile } from "./avatar-upload.js";
import { confirmAction, openDialog, setDialogError, wireDialog } from "./dialogs.js";
import { $, fillAvatar } from "./dom.js";
import { errorText } from "./errors.js";
import { closeMembersPanel, reloadMembers } from "./members.js";
import { chat, state } from "./state.js";
import { toast } from "./toast.js";
import { t } from "../i18n.js";

const WORK = "Private";
const PUBLIC = "Public";
const TEXT_FIELDS = ["name", "introduction", "notification"];
let shownRole = ""; // the user's role as the panel last showed it
const photo = { avatar: undefined, uploading: false }; // a new group photo, uploaded, not yet saved

/** Shows the announcement and the buttons the user's role allows (members panel render). */
export function renderGroupSettings(profile, role) {
  shownRole = role;
  const moderator = role === "Owner" || role === "Admin";
  $("group-notification").textContent = profile.notification || "";
  $("group-notification").hidden = !profile.notification;
  // In a Work group every member edits the profile; elsewhere the owner and admins.
  $("group-edit-btn").hidden = !(moderator || (profile.type === WORK && role));
  $("dismiss-btn").hidden = !(role === "Owner" && profile.type && profile.type !== WORK);
}

function openSettings() {
  const profile = state.members.profile || {};
  openDialog("dlg-group-settings", (dialog) => {
    const form = dialog.querySelector("form");
    for (const name of TEXT_FIELDS) form.elements[name].value = profile[name] || "";
    photo.avatar = undefined;
    showPhoto(profile.avatar);
    form.elements.muteAllMembers.checked = Boolean(profile.muteAllMembers);
    const manager = shownRole === "Owner" || shownRole === "Admin";
    $("group-settings-mute-all").hidden = profile.type === WORK || !manager;
    // Who can join: the owner and admins of Public and Meeting groups (a Work group is
    // invite-only); approval is for Public groups (a Meeting group is joined freely).
    $("group-settings-join").hidden = profile.type === WORK || !manager;
    const select = form.elements.joinOption;
    select.querySelector('option[value="NeedPermission"]').hidden = profile.type !== PUBLIC;
    select.value = profile.joinOption || "FreeAccess";
  });
}

/** Sends only what changed (a field left out is kept by the server). */
async function saveSettings(form) {
  const profile = state.members.profile || {};
  const groupID = state.members.groupID;
  const changes = {};
  for (const name of TEXT_FIELDS) {
    const value = name === "name" ? form.elements[name].value.trim() : form.elements[name].value;
    if (value !== (profile[name] || "")) changes[name] = value;
  }
  if (changes.name === "") throw t("Give the group a name.");
  if (photo.uploading) throw t("Wait for the photo to finish uploading.");
  if (photo.avatar !== undefined && photo.avatar !== (profile.avatar || "")) changes.avatar = photo.avatar;
  if (!$("group-settings-mute-all").hidden && form.elements.muteAllMembers.checked !== Boolean(profile.muteAllMembers)) {
    changes.muteAllMembers = form.elements.muteAllMembers.checked;
  }
  if (!$("group-settings-join").hidden && form.elements.joinOption.value !== (profile.joinOption || "FreeAccess")) {
    changes.joinOption = form.elements.joinOption.value;
  }
  if (!Object.keys(changes).length) return true;
  await chat.updateGroupProfile({ groupID, ...changes });
  toast(t("Group settings saved."));
  await reloadMembers();
  return true;
}

function showPhoto(url) {
  const profile = state.members.profile || {};
  const groupID = state.members.groupID || "";
  fillAvatar($("group-settings-avatar"), { id: groupID, name: profile.name || groupID, url, group: true });
}

async function changePhoto(file) {
  const dialog = $("dlg-group-settings");
  setDialogError(dialog, "");
  photo.uploading = true;
  try {
    photo.avatar = await uploadAvatarFile(file, {
      progress: $("group-settings-avatar-progress"),
      saveButton: dialog.querySelector('button[type="submit"]'),
      show: showPhoto,
      previous: photo.avatar !== undefined ? photo.avatar : (state.members.profile || {}).avatar,
    });
  } catch (error) {
    setDialogError(dialog, errorText(error, t("That photo couldn't be uploaded.")));
  } finally {
    photo.uploading = false;
  }
}

async function dismissGroup() {
  const groupID = state.members.groupID;
  const groupName = (state.members.profile && state.members.profile.name) || groupID;
  const text = `${groupName} ends for everyone: nobody can send to it any more. Members keep its history.`;
  if (!(await confirmAction({ title: `Dismiss ${groupName}?`, text, ok: t("Dismiss group") }))) return;
  try {
    await chat.dismissGroup(groupID);
    toast(`${groupName} was dismissed.`);
    closeMembersPanel();
  } catch (error) {
    toast(errorText(error, t("The group couldn't be dismissed.")), { error: true });
  }
}

export function wireGroupSettings() {
  $("group-edit-btn").addEventListener("click", openSettings);
  $("dismiss-btn").addEventListener("click", dismissGroup);
  wireDialog("dlg-group-settings", saveSettings);
  $("group-settings-avatar-btn").addEventListener("click", () => $("group-settings-avatar-input").click());
  $("group-settings-avatar-input").addEventListener("change", (e) => {
    const file = e.target.files && e.target.files[0];
    e.target.value = "";
    if (file) changePhoto(file);
  });
}
