/*
 * The owner's and admins' actions on a member, from the "…" button on a member in the
 * group info panel: admin role, mute, hand the group over
 * (docs/PROTOCOL.md §5.26–5.28). The menu offers what the server's rules allow as
 * far as the UI knows them; the server decides, and a refusal is shown in words.
 */

import { closeMenus, confirmAction, menuOpened } from "./dialogs.js";
import { $, el, icon } from "./dom.js";
import { errorText } from "./errors.js";
import { reloadMembers } from "./members.js";
import { chat, state } from "./state.js";
import { toast } from "./toast.js";
import { t, tlater } from "../i18n.js";

const WORK = "Private"; // a Work group: no admins, no mutes
const MUTES = [
  [tlater("Mute for 10 minutes"), 600, tlater("10 minutes")],
  [tlater("Mute for 1 hour"), 3600, tlater("1 hour")],
  [tlater("Mute for 1 day"), 86400, tlater("1 day")],
];

export const isMuted = (member, nowMs = Date.now()) => (member.muteUntil || 0) * 1000 > nowMs;

const displayName = (m) => m.nameCard || m.nick || m.userID;

/** Mirrors messaging/actions/groups.py: the owner mutes admins and members, an admin members only. */
function mayMute(groupType, role, target) {
  if (groupType === WORK || target.role === "Owner") return false;
  return role === "Owner" || (role === "Admin" && target.role === "Member");
}

/** Runs an admin op, says what happened, and reloads the list (the tip reloads the others'). */
async function run(call, done) {
  try {
    await call();
    toast(done);
  } catch (error) {
    toast(errorText(error, t("That couldn't be done.")), { error: true });
  }
  await reloadMembers();
}

function setRole(groupID, m, role) {
  const done = role === "Admin" ? t("%(name)s is now an admin.", { name: displayName(m) }) : t("%(name)s is no longer an admin.", { name: displayName(m) });
  return run(() => chat.setGroupMemberRole({ groupID, userID: m.userID, role }), done);
}

function mute(groupID, m, seconds, label) {
  const done = seconds ? t("%(name)s is muted for %(length)s.", { name: displayName(m), length: label }) : t("%(name)s can send messages again.", { name: displayName(m) });
  return run(() => chat.setGroupMemberMuteTime({ groupID, userID: m.userID, muteTime: seconds }), done);
}

async function makeOwner(groupID, m) {
  const groupName = (state.members.profile && state.members.profile.name) || groupID;
  const text = t("%(name)s becomes the owner of %(group)s, and you become an ordinary member. Only the new owner can undo this.", { name: displayName(m), group: groupName });
  if (!(await confirmAction({ title: t("Make %(name)s the owner?", { name: displayName(m) }), text, ok: t("Make owner") }))) return;
  await run(() => chat.changeGroupOwner({ groupID, newOwnerID: m.userID }), t("%(name)s is now the owner.", { name: displayName(m) }));
}

/** [label, testid, action, danger] for what the user may do to this member (removing has its own button). */
export function memberActions(m, { groupID, type, role }) {
  if (m.userID === state.me.userID) return [];
  const actions = [];
  if (role === "Owner" && type !== WORK && m.role !== "Owner") {
    if (m.role === "Admin") actions.push([t("Remove admin"), "member-unset-admin", () => setRole(groupID, m, "Member")]);
    else actions.push([t("Make admin"), "member-set-admin", () => setRole(groupID, m, "Admin")]);
  }
  if (mayMute(type, role, m)) {
    for (const [label, seconds, length] of MUTES) actions.push([t(label), `member-mute-${seconds}`, () => mute(groupID, m, seconds, t(length))]);
    if (isMuted(m)) actions.push([t("Unmute"), "member-unmute", () => mute(groupID, m, 0)]);
  }
  if (role === "Owner" && m.role !== "Owner") actions.push([t("Make owner"), "member-make-owner", () => makeOwner(groupID, m), true]);
  return actions;
}

function menuItem(button, [label, testid, action, danger]) {
  const onclick = () => {
    closeMenus();
    button.focus();
    action();
  };
  return el("button", { type: "button", role: "menuitem", class: "menu-item" + (danger ? " danger" : ""), "data-testid": testid, onclick }, label);
}

/** The "…" button on a member: opens the menu under it (Esc or a click elsewhere closes it). */
export function memberMenuButton(m, actions) {
  if (!actions.length) return null;
  const label = t("Actions for %(name)s", { name: displayName(m) });
  const button = el("button", { type: "button", class: "icon-btn member-more-btn", "aria-haspopup": "menu", "aria-expanded": "false", "aria-label": label, title: label, "data-testid": "member-menu-button" }, icon("more"));
  button.addEventListener("click", (e) => {
    e.stopPropagation();
    const menu = $("member-menu");
    const wasOpen = !menu.hidden && menu.dataset.userId === m.userID;
    closeMenus();
    if (wasOpen) return;
    menu.dataset.userId = m.userID;
    menu.setAttribute("aria-label", label);
    menu.replaceChildren(...actions.map((action) => menuItem(button, action)));
    menu.hidden = false;
    button.setAttribute("aria-expanded", "true");
    const at = button.getBoundingClientRect();
    const rect = menu.getBoundingClientRect();
    menu.style.left = Math.max(8, Math.min(at.right - rect.width, window.innerWidth - rect.width - 8)) + "px";
    menu.style.top = Math.max(8, at.bottom + rect.height + 8 > window.innerHeight ? at.top - rect.height - 4 : at.bottom + 4) + "px";
    menuOpened(menu, button);
  });
  return button;
}
