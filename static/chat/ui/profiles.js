/*
 * People: profile cards (from a message's avatar, a member in the group panel, or the
 * C2C header), the user's own profile and settings screen, "Browse groups", the
 * typeaheads of New chat and Add member, and PROFILE_UPDATED applied everywhere a
 * name or an avatar shows (conversation list, message rows, member panel, header).
 */

import { birthdayToDate, changedFields, dateToBirthday, personLabel, replaceLastToken } from "../directory.js";
import { C2C, c2cConversationID, groupConversationID, parseConversationID } from "../ids.js";
import { wireAccount } from "./account.js";
import { uploadAvatarFile } from "./avatar-upload.js";
import { confirmAction, openDialog, setDialogError, wireDialog, wireDialogClose } from "./dialogs.js";
import { $, avatar, el, fillAvatar } from "./dom.js";
import { errorText } from "./errors.js";
import { isMembersPanelOpen, refreshMembersSoon } from "./members.js";
import { renderMessages } from "./messages.js";
import { renderConversationList } from "./conversations.js";
import { openConversation, rerenderChatHeader } from "./navigation.js";
import { refreshNotificationControls } from "./notifications.js";
import { addMemberChip } from "./new-conversation.js";
import { rememberName } from "./names.js";
import { TYPES, chat, state } from "./state.js";
import { toast } from "./toast.js";
import { attachTypeahead } from "./typeahead.js";
import { t, tlater } from "../i18n.js";

const GENDER_WORDS = { Gender_Type_Female: tlater("Female"), Gender_Type_Male: tlater("Male") };
const NO_FRIENDS = tlater("Friend requests aren't available on this server yet.");
const NO_BLOCKING = tlater("Blocking isn't available on this server yet.");

let onMeChanged = () => {};

// --- PROFILE_UPDATED -------------------------------------------------------------------

/** A profile changed (mine or someone I share a conversation with): show it everywhere. */
export function applyProfiles(profiles) {
  const byID = new Map((profiles || []).filter((p) => p && p.userID).map((p) => [p.userID, p]));
  if (!byID.size) return;
  for (const [userID, p] of byID) {
    if (p.nick && p.nick !== userID) rememberName(userID, p.nick);
    else state.names.delete(userID);
    if (userID === state.me.userID) Object.assign(state.me, p);
  }
  for (const conv of state.conversations) {
    const peer = conv.userProfile;
    if (peer && byID.has(peer.userID)) Object.assign(peer, { nick: byID.get(peer.userID).nick, avatar: byID.get(peer.userID).avatar });
    const last = conv.lastMessage;
    if (last && byID.has(last.fromAccount)) last.nick = byID.get(last.fromAccount).nick;
  }
  for (const h of state.histories.values()) {
    for (const m of h.messages || []) {
      const p = byID.get(m.from);
      if (p) Object.assign(m, { nick: p.nick, avatar: p.avatar });
    }
  }
  for (const m of state.members.list || []) {
    const p = byID.get(m.userID);
    if (p) Object.assign(m, { nick: p.nick, avatar: p.avatar });
  }
  renderConversationList();
  rerenderChatHeader();
  if (state.current) renderMessages({ scroll: "auto" });
  if (isMembersPanelOpen() && (state.members.list || []).some((m) => byID.has(m.userID))) refreshMembersSoon();
  if (byID.has(state.me.userID)) onMeChanged();
  if (card.userID && byID.has(card.userID)) showCard(byID.get(card.userID));
}

export function onProfileUpdated(event) {
  applyProfiles(event && event.data);
}

// --- the profile card -------------------------------------------------------------------

const card = { userID: null };

function showCard(p) {
  const name = p.nick || p.userID;
  fillAvatar($("profile-avatar"), { id: p.userID, name, url: p.avatar });
  $("profile-name").textContent = name;
  $("profile-id").textContent = "@" + p.userID;
  $("profile-signature").textContent = p.selfSignature || "";
  $("profile-signature").hidden = !p.selfSignature;
  const facts = [];
  if (p.location) facts.push([t("Location"), p.location]);
  if (GENDER_WORDS[p.gender]) facts.push([t("Gender"), t(GENDER_WORDS[p.gender])]);
  if (birthdayToDate(p.birthday)) facts.push([t("Birthday"), birthdayToDate(p.birthday)]);
  $("profile-facts").replaceChildren(...facts.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })]));
  const mine = p.userID === state.me.userID;
  for (const id of ["profile-block", "profile-add-friend", "profile-message"]) $(id).hidden = mine;
  $("profile-edit").hidden = !mine;
}

/** Open the profile card of `userID` (a message's avatar, a member, the C2C header). */
export async function openProfileCard(userID) {
  if (!userID) return;
  const dialog = openDialog("dlg-profile", () => {
    card.userID = userID;
    showCard({ userID, nick: state.names.get(userID) || "" });
  });
  try {
    const res = await chat.getUserProfile({ userIDList: [userID] });
    const profile = (res.data || [])[0];
    if (card.userID !== userID) return;
    if (profile) showCard(profile);
    else setDialogError(dialog, t("This account no longer exists."));
  } catch (error) {
    setDialogError(dialog, errorText(error, t("The profile couldn't be loaded.")));
  }
}

/** Friends and blocking are another part of the SDK: used when this server has them. */
async function callIfAvailable(method, args, missing, done) {
  const dialog = $("dlg-profile");
  setDialogError(dialog, "");
  if (typeof chat[method] !== "function") {
    setDialogError(dialog, missing);
    return;
  }
  try {
    await chat[method](args);
    toast(done);
  } catch (error) {
    setDialogError(dialog, errorText(error));
  }
}

function wireProfileCard() {
  const dialog = $("dlg-profile");
  wireDialogClose(dialog);
  dialog.addEventListener("close", () => {
    card.userID = null;
  });
  $("profile-message").addEventListener("click", async () => {
    const userID = card.userID;
    dialog.close();
    await openConversation(c2cConversationID(userID), { focus: true });
    // Already open (the card came from its header): the composer takes the focus back.
    if (!$("composer-input").disabled) $("composer-input").focus();
  });
  $("profile-add-friend").addEventListener("click", () =>
    callIfAvailable(
      "addFriend",
      { to: card.userID, source: "AddSource_Type_Web", type: TYPES.SNS_ADD_TYPE_BOTH || "Add_Type_Both" },
      t(NO_FRIENDS),
      t("Friend request sent."),
    ),
  );
  $("profile-block").addEventListener("click", async () => {
    const userID = card.userID;
    const name = $("profile-name").textContent || userID;
    if (typeof chat.addToBlacklist !== "function") {
      setDialogError(dialog, t(NO_BLOCKING));
      return;
    }
    dialog.close();
    const ok = await confirmAction({ title: `Block ${name}?`, text: `${name} won't be able to message you. You can unblock them later.`, ok: t("Block") });
    if (!ok) return;
    try {
      await chat.addToBlacklist({ userIDList: [userID] });
      toast(`${name} is blocked.`);
    } catch (error) {
      toast(errorText(error, t("The user couldn't be blocked.")), { error: true });
    }
  });
  $("profile-edit").addEventListener("click", () => {
    dialog.close();
    openSettings();
  });
  // Where people show: a message's avatar, a member of the group panel, the C2C header.
  $("messages").addEventListener("click", (e) => {
    const face = e.target.closest(".msg-row .avatar[data-user-id]");
    if (face) openProfileCard(face.dataset.userId);
  });
  $("messages").addEventListener("keydown", (e) => {
    const face = e.target.closest(".msg-row .avatar[data-user-id]");
    if (face && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      openProfileCard(face.dataset.userId);
    }
  });
  $("member-list").addEventListener("click", (e) => {
    if (e.target.closest("button")) return; // the member menu and remove buttons
    const item = e.target.closest(".member[data-user-id]");
    if (item) openProfileCard(item.dataset.userId);
  });
  $("chat-title").addEventListener("click", () => {
    const target = parseConversationID(state.current || "");
    if (target && target.kind === C2C) openProfileCard(target.target);
  });
}

// --- my profile and settings ---------------------------------------------------------------

const settings = { avatar: undefined, uploading: false, edited: false };

function settingsAvatar(url) {
  fillAvatar($("settings-avatar"), { id: state.me.userID, name: state.me.nick || state.me.userID, url });
}

export async function openSettings() {
  const dialog = openDialog("dlg-settings", () => {
    settings.avatar = undefined;
    settings.edited = false;
    fillSettings(state.me);
    refreshNotificationControls();
  });
  try {
    // The profile as it is now; what the user already typed is never overwritten.
    const res = await chat.getMyProfile();
    if (res && res.data && dialog.open && !settings.edited && !settings.uploading && settings.avatar === undefined) {
      Object.assign(state.me, res.data);
      fillSettings(res.data);
    }
  } catch (error) {
    setDialogError(dialog, errorText(error, t("Your profile couldn't be loaded.")));
  }
}

function fillSettings(p) {
  const form = $("dlg-settings").querySelector("form");
  form.elements.nick.value = p.nick || "";
  form.elements.selfSignature.value = p.selfSignature || "";
  form.elements.gender.value = p.gender || "Gender_Type_Unknown";
  form.elements.birthday.value = birthdayToDate(p.birthday);
  form.elements.location.value = p.location || "";
  form.elements.allowType.value = p.allowType || "AllowType_Type_NeedConfirm";
  settingsAvatar(settings.avatar !== undefined ? settings.avatar : p.avatar);
  $("settings-avatar-remove").hidden = !(settings.avatar !== undefined ? settings.avatar : p.avatar);
}

async function uploadAvatar(file) {
  const dialog = $("dlg-settings");
  setDialogError(dialog, "");
  settings.uploading = true;
  try {
    settings.avatar = await uploadAvatarFile(file, {
      progress: $("settings-avatar-progress"),
      saveButton: dialog.querySelector('button[type="submit"]'),
      show: settingsAvatar,
      previous: settings.avatar !== undefined ? settings.avatar : state.me.avatar,
    });
    $("settings-avatar-remove").hidden = false;
  } catch (error) {
    setDialogError(dialog, errorText(error, t("That picture couldn't be uploaded.")));
  } finally {
    settings.uploading = false;
  }
}

async function saveSettings(form) {
  if (settings.uploading) throw t("Wait for the picture to finish uploading.");
  const next = {
    nick: form.elements.nick.value.trim(),
    selfSignature: form.elements.selfSignature.value.trim(),
    gender: form.elements.gender.value,
    birthday: dateToBirthday(form.elements.birthday.value),
    location: form.elements.location.value.trim(),
    allowType: form.elements.allowType.value,
    avatar: settings.avatar,
  };
  const changes = changedFields(state.me, next);
  if (!Object.keys(changes).length) return true;
  const res = await chat.updateMyProfile(changes);
  applyProfiles([res.data]);
  toast(t("Profile saved."));
  return true;
}

function wireSettings() {
  wireDialog("dlg-settings", saveSettings);
  $("dlg-settings").querySelector("form").addEventListener("input", () => {
    settings.edited = true;
  });
  // The language: the select belongs to #language-form (Django's set_language), which sets
  // the language cookie and reloads the page in it.
  $("settings-language").addEventListener("change", () => $("language-form").requestSubmit());
  $("settings-avatar-btn").addEventListener("click", () => $("settings-avatar-input").click());
  $("settings-avatar-input").addEventListener("change", (e) => {
    const file = e.target.files && e.target.files[0];
    e.target.value = "";
    if (file) uploadAvatar(file);
  });
  $("settings-avatar-remove").addEventListener("click", () => {
    settings.avatar = "";
    settingsAvatar("");
    $("settings-avatar-remove").hidden = true;
  });
  wireAccount();
}

// --- browse groups ---------------------------------------------------------------------------

const browse = { cursor: "", items: [] };

function browseItem(g) {
  const member = Boolean(g.selfInfo && g.selfInfo.role) || state.groups.has(g.groupID);
  const kind = g.type === "ChatRoom" ? "Meeting" : "Public";
  const count = g.memberCount === 1 ? "1 member" : `${g.memberCount || 0} members`;
  const action = el("button", {
    type: "button",
    class: member ? "btn" : "btn btn-primary",
    "data-testid": member ? "browse-open" : "browse-join",
    text: member ? t("Open") : t("Join"),
    onclick: () => joinFromBrowse(g, member),
  });
  return el(
    "li",
    { class: "browse-item", "data-testid": "browse-group", "data-group-id": g.groupID },
    avatar("md", { id: g.groupID, name: g.name || g.groupID, url: g.avatar, group: true }),
    el("div", { class: "member-main" }, el("span", { class: "member-name", text: g.name || g.groupID }), el("span", { class: "member-id", text: `${kind} · ${count} · ${g.groupID}` })),
    action,
  );
}

function renderBrowse() {
  const list = $("browse-groups-list");
  if (!browse.items.length) list.replaceChildren(el("li", { class: "browse-empty", text: t("No public groups yet. Create one with New group.") }));
  else list.replaceChildren(...browse.items.map(browseItem));
  $("browse-groups-more").hidden = !browse.cursor;
}

async function loadBrowsePage() {
  const dialog = $("dlg-browse-groups");
  try {
    const res = await chat.getPublicGroupList({ cursor: browse.cursor, count: 20 });
    browse.items = browse.items.concat(res.data.groupList || []);
    browse.cursor = res.data.cursor || "";
    renderBrowse();
  } catch (error) {
    setDialogError(dialog, errorText(error, t("The groups couldn't be loaded.")));
  }
}

async function joinFromBrowse(g, member) {
  const dialog = $("dlg-browse-groups");
  try {
    if (!member) {
      const data = (await chat.joinGroup({ groupID: g.groupID })).data || {};
      if (data.status === (TYPES.JOIN_STATUS_WAIT_APPROVAL || "WaitAdminApproval")) {
        toast(t("Request sent. You'll be in once an admin approves it."));
        dialog.close();
        return;
      }
      if (data.group) state.groups.set(data.group.groupID, data.group);
      toast(t("You joined %(name)s.", { name: g.name || g.groupID }));
    }
    dialog.close();
    await openConversation(groupConversationID(g.groupID), { focus: true });
  } catch (error) {
    setDialogError(dialog, errorText(error));
  }
}

export function openBrowseGroups() {
  openDialog("dlg-browse-groups", () => {
    browse.cursor = "";
    browse.items = [];
    $("browse-groups-list").replaceChildren(el("li", { class: "history-edge" }, el("span", { class: "spinner" }), "Loading groups…"));
    $("browse-groups-more").hidden = true;
  });
  loadBrowsePage();
}

// --- the typeaheads ----------------------------------------------------------------------------

function wireTypeaheads() {
  const newChat = $("new-chat-input");
  attachTypeahead(newChat, {
    onPick: (p) => {
      newChat.value = p.userID;
      newChat.title = personLabel(p);
      newChat.form.requestSubmit();
    },
  });
  attachTypeahead($("new-group-members"), { onPick: addMemberChip, anchor: $("new-group-chips") });
  const addMember = $("add-member-input");
  attachTypeahead(addMember, {
    multiple: true,
    onPick: (p) => {
      addMember.value = replaceLastToken(addMember.value, p.userID);
      addMember.focus();
    },
  });
}

/** onMe(): my own profile changed (the account button shows it). */
export function wireProfiles({ onMe } = {}) {
  if (onMe) onMeChanged = onMe;
  wireProfileCard();
  wireSettings();
  wireDialogClose($("dlg-browse-groups"));
  $("browse-groups-more").addEventListener("click", loadBrowsePage);
  wireTypeaheads();
}
