/*
 * Contacts: the friend list (remark shown; Message, Edit remark, Block, Remove), friend
 * requests (Accept / Refuse received ones, Cancel sent ones; the unread count as a badge
 * on the sidebar's Contacts button) and the block list (Unblock). A dialog with three
 * tabs, reached from the sidebar. It only talks to the SDK (docs/PROTOCOL.md §5.34) and
 * redraws from the SDK's FRIEND_LIST_UPDATED, FRIEND_APPLICATION_LIST_UPDATED and
 * BLACKLIST_UPDATED events, so every tab of the user shows the same lists.
 */

import { SENT_BY_ME, SENT_TO_ME, addFriendResult, friendName, requestBadge, sortedFriends, splitRequests } from "../friends.js";
import { C2C } from "../ids.js";
import { closeMenus, confirmAction, setDialogError, showDialog, wireDialog, wireDialogClose } from "./dialogs.js";
import { $, avatar, el } from "./dom.js";
import { errorText } from "./errors.js";
import { displayName, rememberName } from "./names.js";
import { openConversation } from "./navigation.js";
import { EVENT, TYPES, chat } from "./state.js";
import { toast } from "./toast.js";
import { nt, t } from "../i18n.js";

const contacts = { friends: [], applications: [], unreadCount: 0, blacklist: [], tab: "friends", editing: null };
const TABS = ["friends", "requests", "blocked"];

const isOpen = () => $("dlg-contacts").open;

// --- drawing ---------------------------------------------------------------------------------

function actionButton(text, label, onclick, { primary = false, danger = false, testid } = {}) {
  const cls = "btn" + (primary ? " btn-primary" : "") + (danger ? " btn-danger" : "");
  return el("button", { type: "button", class: cls, "aria-label": label, "data-testid": testid, onclick }, text);
}

function row(info, name, sub, actions, dataset) {
  return el(
    "li",
    { class: "contact", dataset },
    avatar("sm", info),
    el("span", { class: "contact-text" }, el("span", { class: "contact-name", text: name }), el("span", { class: "contact-sub", text: sub })),
    el("span", { class: "contact-actions" }, actions),
  );
}

function friendRow(friend) {
  const profile = friend.profile || {};
  const name = friendName(friend);
  const sub = friend.remark && profile.nick ? `${profile.nick} · @${friend.userID}` : `@${friend.userID}`;
  return row({ id: friend.userID, name, url: profile.avatar }, name, sub, [
    actionButton("Message", `Message ${name}`, () => messageFriend(friend.userID), { primary: true, testid: "friend-message" }),
    actionButton(t("Edit remark"), t("Edit the remark for %(name)s", { name }), () => editRemark(friend), { testid: "friend-remark" }),
    actionButton("Block", `Block ${name}`, () => block(friend.userID, name), { testid: "friend-block" }),
    actionButton("Remove", `Remove ${name} from your friends`, () => removeFriend(friend.userID, name), { testid: "friend-remove" }),
  ], { userId: friend.userID, testid: "friend-row" });
}

function requestRow(application) {
  const name = application.nick || application.userID;
  if (application.type === SENT_TO_ME) {
    const sub = application.wording ? `“${application.wording}”` : `@${application.userID} wants to be your friend`;
    return row({ id: application.userID, name, url: application.avatar }, name, sub, [
      actionButton("Accept", `Accept ${name}'s friend request`, () => accept(application.userID, name), { primary: true, testid: "request-accept" }),
      actionButton("Refuse", `Refuse ${name}'s friend request`, () => refuse(application.userID), { testid: "request-refuse" }),
    ], { userId: application.userID, testid: "request-row" });
  }
  return row({ id: application.userID, name, url: application.avatar }, name, t("Waiting for them to accept"), [
    actionButton(t("Cancel"), t("Cancel your friend request to %(name)s", { name }), () => cancelRequest(application.userID), { testid: "request-cancel" }),
  ], { userId: application.userID, testid: "sent-request-row" });
}

function blockedRow(userID) {
  const name = displayName(userID);
  return row({ id: userID, name }, name, `@${userID}`, [
    actionButton("Unblock", `Unblock ${name}`, () => unblock(userID), { testid: "blocked-unblock" }),
  ], { userId: userID, testid: "blocked-row" });
}

function renderList(listID, emptyID, items) {
  $(listID).replaceChildren(...items);
  $(emptyID).hidden = items.length > 0;
}

function renderBadges() {
  const text = requestBadge(contacts.unreadCount);
  for (const id of ["contacts-badge", "contacts-requests-badge"]) {
    $(id).textContent = text;
    $(id).hidden = !text;
  }
  $("contacts-btn").setAttribute("aria-label", text ? nt("Contacts, %(count)s new friend request", "Contacts, %(count)s new friend requests", Number(text) || 0, { count: text }) : t("Contacts"));
}

function render() {
  renderBadges();
  renderList("contacts-friend-list", "contacts-friends-empty", sortedFriends(contacts.friends).map(friendRow));
  const { received, sent } = splitRequests(contacts.applications);
  const requests = [...received.map(requestRow)];
  if (sent.length) requests.push(el("li", { class: "contacts-section-title", text: t("Sent") }), ...sent.map(requestRow));
  renderList("contacts-request-list", "contacts-requests-empty", requests);
  renderList("contacts-blocked-list", "contacts-blocked-empty", contacts.blacklist.map(blockedRow));
}

function selectTab(tab, { focus = false } = {}) {
  contacts.tab = tab;
  for (const name of TABS) {
    const button = $(`contacts-tab-${name}`);
    const selected = name === tab;
    button.setAttribute("aria-selected", String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`contacts-panel-${name}`).hidden = !selected;
    if (selected && focus) button.focus();
  }
  if (tab === "requests") markRequestsRead();
}

function markRequestsRead() {
  if (isOpen() && contacts.tab === "requests" && contacts.unreadCount > 0) chat.setFriendApplicationRead().catch(() => {});
}

// --- actions ----------------------------------------------------------------------------------

async function run(promise, fallback) {
  try {
    return await promise;
  } catch (error) {
    toast(errorText(error, fallback), { error: true });
    return null;
  }
}

function messageFriend(userID) {
  $("dlg-contacts").close();
  openConversation(C2C + userID, { focus: true });
}

function editRemark(friend) {
  contacts.editing = friend.userID;
  const dialog = $("dlg-remark");
  dialog.querySelector("form").reset();
  setDialogError(dialog, "");
  $("dlg-remark-title").textContent = `Remark for ${(friend.profile && friend.profile.nick) || friend.userID}`;
  const input = dialog.querySelector("input[name=remark]");
  input.value = friend.remark || "";
  showDialog(dialog);
  input.focus();
  input.select();
}

async function removeFriend(userID, name) {
  const sure = await confirmAction({ title: `Remove ${name}?`, text: `${name} will no longer be in your friends, and you'll leave theirs. Your chat history stays.`, ok: t("Remove") });
  if (sure && (await run(chat.deleteFriend({ userIDList: [userID], type: TYPES.SNS_DELETE_TYPE_BOTH }), t("The friend couldn't be removed.")))) {
    toast(`${name} was removed from your friends.`);
  }
}

async function block(userID, name) {
  const sure = await confirmAction({ title: `Block ${name}?`, text: `${name} won't be able to message you or send you friend requests. If you're friends, that ends too.`, ok: t("Block") });
  if (sure && (await run(chat.addToBlacklist({ userIDList: [userID] }), t("That person couldn't be blocked.")))) toast(t("%(name)s is blocked.", { name }));
}

async function unblock(userID) {
  if (await run(chat.removeFromBlacklist({ userIDList: [userID] }), t("That person couldn't be unblocked."))) toast(t("%(name)s is unblocked.", { name: displayName(userID) }));
}

async function accept(userID, name) {
  const done = await run(
    chat.acceptFriendApplication({ userID, remark: "", type: TYPES.SNS_APPLICATION_AGREE_AND_ADD }),
    t("The request couldn't be accepted."),
  );
  if (done) toast(`${name} is now your friend.`);
}

function refuse(userID) {
  return run(chat.refuseFriendApplication({ userID }), t("The request couldn't be refused."));
}

function cancelRequest(userID) {
  return run(chat.deleteFriendApplication({ userID, type: SENT_BY_ME }), t("The request couldn't be cancelled."));
}

async function submitAdd(form) {
  const userID = form.elements.userID.value.trim();
  if (!userID) throw t("Enter the user ID of the person to add.");
  const res = await chat.addFriend({ to: userID, source: "AddSource_Type_Web", wording: form.elements.wording.value.trim(), type: TYPES.SNS_ADD_TYPE_BOTH });
  toast(addFriendResult(res.data, displayName(userID)));
  form.reset();
}

async function submitBlock(form) {
  const userID = form.elements.userID.value.trim();
  if (!userID) throw t("Enter the user ID of the person to block.");
  await chat.addToBlacklist({ userIDList: [userID] });
  toast(`${displayName(userID)} is blocked.`);
  form.reset();
}

/** An inline form of the Contacts dialog: errors shown in it, as the other dialogs do. */
function wireInlineForm(form, onSubmit) {
  const error = form.querySelector("[data-error]");
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.hidden = true;
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      await onSubmit(form);
    } catch (failure) {
      error.textContent = typeof failure === "string" ? failure : errorText(failure);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
}

// --- wiring ----------------------------------------------------------------------------------

export function openContacts(tab) {
  closeMenus();
  render();
  selectTab(TABS.includes(tab) ? tab : contacts.unreadCount > 0 ? "requests" : contacts.tab);
  showDialog($("dlg-contacts"));
  $(`contacts-tab-${contacts.tab}`).focus();
  markRequestsRead();
}

export function wireContacts() {
  $("contacts-btn").addEventListener("click", () => openContacts());
  wireDialogClose($("dlg-contacts"));
  const tablist = $("dlg-contacts").querySelector("[role=tablist]");
  tablist.addEventListener("click", (e) => {
    const tab = e.target.closest("[role=tab]");
    if (tab) selectTab(tab.dataset.tab);
  });
  tablist.addEventListener("keydown", (e) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (!step) return;
    e.preventDefault();
    selectTab(TABS[(TABS.indexOf(contacts.tab) + step + TABS.length) % TABS.length], { focus: true });
  });
  wireInlineForm($("contacts-add-form"), submitAdd);
  wireInlineForm($("contacts-block-form"), submitBlock);
  wireDialog("dlg-remark", async (form) => {
    await chat.updateFriend({ userID: contacts.editing, remark: form.elements.remark.value.trim() });
  });
}

function setFriends(friends) {
  contacts.friends = friends || [];
  for (const friend of contacts.friends) rememberName(friend.userID, friend.profile && friend.profile.nick);
  render();
}

function setApplications(data) {
  contacts.applications = (data && data.friendApplicationList) || [];
  contacts.unreadCount = (data && data.unreadCount) || 0;
  for (const application of contacts.applications) rememberName(application.userID, application.nick);
  render();
  markRequestsRead();
}

function setBlacklist(list) {
  contacts.blacklist = list || [];
  render();
}

export function listenToContacts() {
  chat.on(EVENT.FRIEND_LIST_UPDATED, (event) => setFriends(event.data));
  chat.on(EVENT.FRIEND_APPLICATION_LIST_UPDATED, (event) => setApplications(event.data));
  chat.on(EVENT.BLACKLIST_UPDATED, (event) => setBlacklist(event.data));
}

/** On SDK_READY: the three lists (the badge needs the requests at once). */
export async function loadContacts() {
  const [friends, applications, blacklist] = await Promise.all([chat.getFriendList(), chat.getFriendApplicationList(), chat.getBlacklist()]);
  contacts.friends = friends.data || [];
  contacts.blacklist = blacklist.data || [];
  setFriends(contacts.friends);
  setApplications(applications.data);
}
