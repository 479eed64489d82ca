/*
 * Join requests: the "Join requests" button in the sidebar (with the number waiting) and
 * its dialog, where a group's owner or admin accepts or refuses each request
 * (getGroupApplicationList, handleGroupApplication: docs/PROTOCOL.md §5.43–5.44).
 * The list is read again when a join-application notice arrives, when the groups the
 * user owns or administers change, and after each answer; another admin's answer
 * shows at the next of those, and answering it then says it was already handled.
 */

import { listTime } from "../format.js";
import { showDialog, wireDialogClose } from "./dialogs.js";
import { $, avatar, el } from "./dom.js";
import { errorText } from "./errors.js";
import { displayName, rememberName } from "./names.js";
import { EVENT, TYPES, chat } from "./state.js";
import { toast } from "./toast.js";
import { t } from "../i18n.js";

const APPLICATION_HANDLED = 10024;
const JOIN_APPLICATION = 1;
let pending = [];
let loading = null;

/** Read the list again (one request at a time; a call meanwhile waits for that one). */
export function refreshRequests() {
  if (loading) return loading;
  loading = chat
    .getGroupApplicationList()
    .then((res) => {
      pending = (res.data && res.data.applicationList) || [];
      for (const a of pending) rememberName(a.fromUser, a.fromUserNickName);
      render();
    })
    .catch(() => {})
    .finally(() => {
      loading = null;
    });
  return loading;
}

function render() {
  const count = pending.length;
  $("requests-btn").hidden = count === 0 && !$("dlg-requests").open;
  $("requests-badge").textContent = String(count);
  $("requests-btn").setAttribute("aria-label", `Join requests: ${count} waiting`);
  const list = $("requests-list");
  list.replaceChildren(...pending.map(requestItem));
  $("requests-empty").hidden = count > 0;
}

function requestItem(application) {
  const who = displayName(application.fromUser);
  const group = application.groupName || application.groupID;
  const accept = el("button", { type: "button", class: "btn btn-primary", "data-testid": "request-accept", "aria-label": `Accept ${who}'s request to join ${group}`, text: t("Accept") });
  const refuse = el("button", { type: "button", class: "btn", "data-testid": "request-refuse", "aria-label": `Refuse ${who}'s request to join ${group}`, text: t("Refuse") });
  const buttons = [accept, refuse];
  if (!application.message) {
    // An admin appointed after the request came has no notice of it to answer with.
    for (const button of buttons) button.disabled = true;
  }
  accept.addEventListener("click", () => answer(application, "Agree", buttons));
  refuse.addEventListener("click", () => answer(application, "Reject", buttons));
  return el(
    "li",
    { class: "request", "data-testid": "request-item", "data-user-id": application.fromUser, "data-group-id": application.groupID },
    avatar("md", { id: application.fromUser, name: who, url: application.fromUserFaceUrl }),
    el(
      "div",
      { class: "request-main" },
      el("div", { class: "request-text", text: `${who} asked to join ${group}` }),
      application.requestMsg ? el("div", { class: "request-note", text: `“${application.requestMsg}”` }) : null,
      el("div", { class: "request-time", text: application.message ? listTime(application.addTime) : t("Answer it from the owner's account") }),
    ),
    el("div", { class: "request-actions" }, buttons),
  );
}

async function answer(application, handleAction, buttons) {
  for (const button of buttons) button.disabled = true;
  const who = displayName(application.fromUser);
  const group = application.groupName || application.groupID;
  try {
    await chat.handleGroupApplication({ handleAction, message: application.message });
    toast(handleAction === "Agree" ? t("%(who)s joined %(group)s.", { who, group }) : t("You refused %(who)s's request to join %(group)s.", { who, group }));
  } catch (error) {
    if (error && error.code === APPLICATION_HANDLED) toast(`${who}'s request was already answered.`);
    else {
      toast(errorText(error, t("The request couldn't be answered.")), { error: true });
      for (const button of buttons) button.disabled = false;
      return;
    }
  }
  pending = pending.filter((a) => a !== application);
  render();
  await refreshRequests();
  const first = $("requests-list").querySelector("button:not([disabled])");
  if (first) first.focus();
  else $("requests-close").focus();
}

/** Open the Requests dialog (the Requests button; "Review requests" on a join notice). */
export function openRequests() {
  const dialog = $("dlg-requests");
  render();
  showDialog(dialog);
  const first = $("requests-list").querySelector("button:not([disabled])");
  (first || $("requests-close")).focus();
  refreshRequests();
}

/** A join-application notice came (live or by sync): the list changed. */
function onMessageReceived(event) {
  const notices = (event.data || []).filter((m) => m.conversationType === TYPES.CONV_SYSTEM && m.payload);
  if (notices.some((m) => m.payload.operationType === JOIN_APPLICATION)) refreshRequests();
}

let managed = null; // "groupID,groupID…" of the groups the user owns or administers, as last seen

/** The group list changed: read the requests again only when the groups the user runs did
 * (a role, a new or a left group), not on every member count a join tip moves. */
function onGroupListUpdated(event) {
  const groups = Array.isArray(event.data) ? event.data : [];
  const runs = groups
    .filter((g) => g.selfInfo && (g.selfInfo.role === TYPES.GRP_MBR_ROLE_OWNER || g.selfInfo.role === TYPES.GRP_MBR_ROLE_ADMIN))
    .map((g) => g.groupID)
    .sort()
    .join(",");
  if (runs === managed) return;
  managed = runs;
  refreshRequests();
}

export function wireRequests() {
  const dialog = $("dlg-requests");
  wireDialogClose(dialog);
  dialog.querySelector("form").addEventListener("submit", (e) => e.preventDefault());
  dialog.addEventListener("close", render);
  $("requests-btn").addEventListener("click", openRequests);
  chat.on(EVENT.SDK_READY, refreshRequests);
  chat.on(EVENT.MESSAGE_RECEIVED, onMessageReceived);
  chat.on(EVENT.GROUP_LIST_UPDATED, onGroupListUpdated);
}
