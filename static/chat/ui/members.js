/*
 * The group member panel: the group's card, its members with their roles, adding and
 * removing people, leaving the group.
 */

import { memberCountText, splitIDs } from "../format.js";
import { GROUP, groupConversationID, peerOf } from "../ids.js";
import { currentConversation, groupOf, groupTypeLabel } from "./conversations.js";
import { closeMenus, confirmAction } from "./dialogs.js";
import { $, avatar, el, fillAvatar, icon } from "./dom.js";
import { errorText } from "./errors.js";
import { renderGroupSettings, wireGroupSettings } from "./group-settings.js";
import { isMuted, memberActions, memberMenuButton } from "./member-menu.js";
import { noteMembers } from "./mute.js";
import { rememberMembers } from "./names.js";
import { closeConversation } from "./navigation.js";
import { decorateMembers } from "./presence.js";
import { chat, state } from "./state.js";
import { toast } from "./toast.js";
import { t } from "../i18n.js";

const MEMBER_PAGE = 100;
const noMembers = () => ({ groupID: null, list: [], offset: 0, profile: null, loading: false });

export async function openMembersPanel() {
  const conv = currentConversation();
  if (!conv || conv.type !== GROUP) return;
  closeMenus();
  const groupID = peerOf(conv.conversationID);
  state.members = { groupID, list: [], offset: 0, profile: groupOf(conv), loading: true };
  $("members-panel").hidden = false;
  $("app").classList.add("panel-open");
  renderMembersPanel();
  await reloadMembers();
  $("members-close").focus();
}

export function closeMembersPanel() {
  state.members = noMembers();
  $("members-panel").hidden = true;
  $("app").classList.remove("panel-open");
}

export const isMembersPanelOpen = () => !$("members-panel").hidden;

export async function reloadMembers() {
  const groupID = state.members.groupID;
  if (!groupID) return;
  try {
    const [profileRes, listRes] = await Promise.all([chat.getGroupProfile({ groupID }), chat.getGroupMemberList({ groupID, count: MEMBER_PAGE, offset: 0 })]);
    if (state.members.groupID !== groupID) return;
    state.members.profile = profileRes.data.group;
    state.members.list = listRes.data.memberList || [];
    state.members.offset = listRes.data.offset || 0;
    rememberMembers(state.members.list);
    noteMembers(groupID, state.members.list);
    if (!state.members.offset) state.memberCache.set(groupID, { list: state.members.list, at: Date.now() });
  } catch (error) {
    if (state.members.groupID !== groupID) return;
    toast(errorText(error, t("The member list couldn't be loaded.")), { error: true });
  } finally {
    if (state.members.groupID === groupID) {
      state.members.loading = false;
      renderMembersPanel();
    }
  }
}

let refreshTimer = null;

/** A tip arrived in the group the panel shows: reload it (once for a burst of tips). */
export function refreshMembersSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(reloadMembers, 250);
}

async function loadMoreMembers() {
  const { groupID, offset } = state.members;
  if (!groupID || !offset) return;
  try {
    const res = await chat.getGroupMemberList({ groupID, count: MEMBER_PAGE, offset });
    if (state.members.groupID !== groupID) return;
    state.members.list = state.members.list.concat(res.data.memberList || []);
    state.members.offset = res.data.offset || 0;
    renderMembersPanel();
  } catch (error) {
    toast(errorText(error, t("The member list couldn't be loaded.")), { error: true });
  }
}

function myRole() {
  const profile = state.members.profile || {};
  if (profile.selfInfo && profile.selfInfo.role) return profile.selfInfo.role;
  const me = state.members.list.find((m) => m.userID === state.me.userID);
  return me ? me.role : "Member";
}

/** Mirrors the server's rule (messaging/actions/groups.py `_may_remove`); the server decides anyway. */
function mayRemove(groupType, operatorRole, target) {
  if (target.userID === state.me.userID) return false;
  if (groupType === "Private") return operatorRole === "Owner";
  if (operatorRole === "Owner") return target.role !== "Owner";
  if (operatorRole === "Admin") return target.role === "Member";
  return false;
}

function roleTag(role) {
  if (role === "Owner") return el("span", { class: "role-tag", text: t("Owner") });
  if (role === "Admin") return el("span", { class: "role-tag is-admin", text: t("Admin") });
  return null;
}

function memberItem(m, { groupID, type, role }) {
  const display = m.nameCard || m.nick || m.userID;
  const isMe = m.userID === state.me.userID;
  const remove = mayRemove(type, role, m)
    ? el("button", { type: "button", class: "icon-btn remove-btn", "aria-label": `Remove ${display}`, title: `Remove ${display}`, "data-testid": "remove-member-button", onclick: () => removeMember(m) }, icon("close"))
    : null;
  return el(
    "li",
    { class: "member", "data-testid": "member-item", "data-user-id": m.userID, "data-role": m.role },
    avatar("md", { id: m.userID, name: display, url: m.avatar }),
    el("div", { class: "member-main" }, el("span", { class: "member-name", text: isMe ? `${display} (you)` : display }), el("span", { class: "member-id", text: "@" + m.userID })),
    roleTag(m.role),
    isMuted(m) ? el("span", { class: "role-tag is-muted", "data-testid": "member-muted", text: t("Muted") }) : null,
    memberMenuButton(m, memberActions(m, { groupID, type, role })),
    remove,
  );
}

function renderGroupCard(groupID, profile, count) {
  const name = profile.name || groupID;
  fillAvatar($("group-avatar"), { id: groupID, name, url: profile.avatar, group: true });
  $("group-name").textContent = name;
  $("group-meta").textContent = [groupTypeLabel(profile.type || ""), count ? memberCountText(count) : ""].filter(Boolean).join(" · ");
  $("group-id").textContent = groupID;
  $("member-count").textContent = count ? `(${count})` : "";
}

function renderMembersPanel() {
  const { groupID, list, offset, loading } = state.members;
  if (!groupID) return;
  const profile = state.members.profile || {};
  const type = profile.type || "";
  const role = myRole();
  renderGroupCard(groupID, profile, profile.memberCount || list.length);

  const canAdd = type === "Private" || role === "Owner" || role === "Admin";
  $("add-member-form").hidden = !canAdd;
  const note = $("add-member-note");
  note.hidden = canAdd;
  note.textContent = canAdd ? "" : t("Only the owner and admins can add people to this group.");

  if (loading && !list.length) $("member-list").replaceChildren(el("li", { class: "history-edge" }, el("span", { class: "spinner" }), "Loading members…"));
  else $("member-list").replaceChildren(...list.map((m) => memberItem(m, { groupID, type, role })));
  $("members-more").hidden = !offset;
  const ownerStuck = role === "Owner" && type && type !== "Private";
  $("leave-btn").hidden = Boolean(ownerStuck);
  renderGroupSettings(profile, role);
  decorateMembers();
}

/** "Added bob. carol is already in the group. No such user: zed." */
function addedText({ successUserIDList: added = [], failureUserIDList: failed = [], existedUserIDList: existed = [] }) {
  const parts = [];
  if (added.length) parts.push(`Added ${added.join(", ")}.`);
  if (existed.length) parts.push(`${existed.join(", ")} ${existed.length === 1 ? "is" : "are"} already in the group.`);
  if (failed.length) parts.push(t("No such user: %(ids)s.", { ids: failed.join(", ") }));
  return parts.join(" ") || t("Nobody was added.");
}

async function addMembers(e) {
  e.preventDefault();
  const groupID = state.members.groupID;
  const input = $("add-member-input");
  const ids = splitIDs(input.value);
  if (!groupID || !ids.length) {
    input.focus();
    return;
  }
  const button = e.target.querySelector('button[type="submit"]');
  button.disabled = true;
  try {
    const data = (await chat.addGroupMember({ groupID, userIDList: ids })).data || {};
    const added = data.successUserIDList || [];
    const failed = data.failureUserIDList || [];
    toast(addedText(data), { error: Boolean(failed.length && !added.length) });
    input.value = failed.join(", ");
    await reloadMembers();
  } catch (error) {
    toast(errorText(error, t("The members couldn't be added.")), { error: true });
  } finally {
    button.disabled = false;
  }
}

async function removeMember(member) {
  const groupID = state.members.groupID;
  const groupName = (state.members.profile && state.members.profile.name) || groupID;
  const display = member.nick || member.userID;
  const ok = await confirmAction({ title: `Remove ${display}?`, text: `${display} will be removed from ${groupName} and stop getting its messages.`, ok: t("Remove") });
  if (!ok) return;
  try {
    await chat.deleteGroupMember({ groupID, userIDList: [member.userID] });
    toast(`${display} was removed.`);
    await reloadMembers();
  } catch (error) {
    toast(errorText(error, t("The member couldn't be removed.")), { error: true });
  }
}

async function leaveGroup() {
  const groupID = state.members.groupID;
  if (!groupID) return;
  const groupName = (state.members.profile && state.members.profile.name) || groupID;
  const ok = await confirmAction({ title: `Leave ${groupName}?`, text: t("You'll stop getting its messages. To come back, someone has to add you (or you join again if it's public)."), ok: t("Leave group") });
  if (!ok) return;
  try {
    await chat.quitGroup(groupID);
    state.groups.delete(groupID);
    toast(t("You left %(name)s.", { name: groupName }));
    const conversationID = groupConversationID(groupID);
    closeMembersPanel();
    if (state.current === conversationID) closeConversation();
    state.histories.delete(conversationID);
  } catch (error) {
    toast(errorText(error, t("You couldn't leave the group.")), { error: true });
  }
}

async function copyGroupID() {
  try {
    await navigator.clipboard.writeText(state.members.groupID || "");
    toast(t("Group ID copied."));
  } catch {
    toast(t("Couldn't copy. Select the ID and copy it by hand."), { error: true });
  }
}

export function wireMembersPanel() {
  $("members-btn").addEventListener("click", () => (isMembersPanelOpen() ? closeMembersPanel() : openMembersPanel()));
  $("members-close").addEventListener("click", closeMembersPanel);
  $("members-more").addEventListener("click", loadMoreMembers);
  $("add-member-form").addEventListener("submit", addMembers);
  $("leave-btn").addEventListener("click", leaveGroup);
  $("group-id-copy").addEventListener("click", copyGroupID);
  wireGroupSettings();
}
