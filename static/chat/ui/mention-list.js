/*
 * @-mentions in the composer: "@" in a group opens its members (and Everyone); a
 * pick writes "@Name " and is remembered, so the message carries atUserList only
 * for picks whose "@Name" is still in the text when it is sent.
 */

import { isGroupConversation, peerOf } from "../ids.js";
import { mentionOptions, mentionQuery } from "../text.js";
import { onComposerInput } from "./composer.js";
import { $, avatar, el } from "./dom.js";
import { rememberMembers } from "./names.js";
import { closePicker } from "./picker.js";
import { atAllID, chat, state } from "./state.js";

/** Members are fetched again after this long. */
const MEMBERS_FRESH_MS = 60000;
const MEMBER_PAGES = 5;

const mentionUI = { open: false, items: [], active: 0, start: 0, token: 0 };

export const isMentionListOpen = () => mentionUI.open;

/** A group's members for the @ list (up to 500); fetched again after a minute. */
async function groupMembers(groupID) {
  const cached = state.memberCache.get(groupID);
  if (cached && Date.now() - cached.at < MEMBERS_FRESH_MS) return cached.list;
  let list = [];
  let offset = 0;
  for (let page = 0; page < MEMBER_PAGES; page++) {
    const res = await chat.getGroupMemberList({ groupID, count: 100, offset });
    list = list.concat((res.data && res.data.memberList) || []);
    offset = (res.data && res.data.offset) || 0;
    if (!offset) break;
  }
  rememberMembers(list);
  state.memberCache.set(groupID, { list, at: Date.now() });
  return list;
}

/** The "@query" just before the caret, in a group: {start, query}, else null. */
function currentQuery() {
  const input = $("composer-input");
  if (!state.current || !isGroupConversation(state.current) || input.selectionStart !== input.selectionEnd) return null;
  return mentionQuery(input.value.slice(0, input.selectionStart));
}

/** The cached members; when they are stale, fresh ones are fetched (and waited for only if there are none). */
async function membersFor(groupID) {
  const cached = state.memberCache.get(groupID);
  if (cached && Date.now() - cached.at <= MEMBERS_FRESH_MS) return cached.list;
  const fresh = groupMembers(groupID).catch(() => null);
  return (cached && cached.list) || (await fresh) || [];
}

export async function updateMentionList() {
  if (!currentQuery()) {
    closeMentionList();
    return;
  }
  const conversationID = state.current;
  const token = ++mentionUI.token;
  const members = await membersFor(peerOf(conversationID));
  if (token !== mentionUI.token || state.current !== conversationID) return;
  const q = currentQuery();
  if (!q) return;
  const options = mentionOptions(members, q.query, { viewerID: state.me.userID, atAll: atAllID() });
  if (!options.length) {
    closeMentionList();
    return;
  }
  const previous = mentionUI.open && mentionUI.items[mentionUI.active];
  mentionUI.items = options;
  mentionUI.start = q.start;
  const keep = previous ? options.findIndex((o) => o.userID === previous.userID) : -1;
  mentionUI.active = keep >= 0 ? keep : 0;
  mentionUI.open = true;
  closePicker();
  drawMentionList();
}

function mentionOption(o, i) {
  const face = o.userID === atAllID() ? el("span", { class: "avatar avatar-sm at-all", "aria-hidden": "true" }, el("span", { text: "@" })) : avatar("sm", { id: o.userID, name: o.label, url: o.avatar });
  return el(
    "li",
    {
      id: `mention-opt-${i}`,
      role: "option",
      class: "mention-option" + (i === mentionUI.active ? " is-active" : ""),
      "aria-selected": i === mentionUI.active ? "true" : "false",
      "data-testid": "mention-option",
      "data-user-id": o.userID,
      onmousedown: (e) => {
        e.preventDefault(); // keep the caret in the composer
        chooseMention(i);
      },
      onmousemove: () => {
        if (mentionUI.active !== i) {
          mentionUI.active = i;
          drawMentionList();
        }
      },
    },
    face,
    el("span", { class: "mention-main" }, el("span", { class: "mention-name", text: o.label }), el("span", { class: "mention-sub", text: o.sub })),
  );
}

function drawMentionList() {
  const list = $("mention-list");
  const input = $("composer-input");
  list.replaceChildren(...mentionUI.items.map(mentionOption));
  list.hidden = false;
  input.setAttribute("aria-expanded", "true");
  input.setAttribute("aria-activedescendant", `mention-opt-${mentionUI.active}`);
  const active = list.children[mentionUI.active];
  if (active) active.scrollIntoView({ block: "nearest" });
}

function chooseMention(index) {
  const option = mentionUI.items[index];
  const input = $("composer-input");
  if (!option || !state.current) return;
  input.setRangeText(`@${option.label} `, mentionUI.start, input.selectionStart, "end");
  const picked = state.mentions.get(state.current) || [];
  picked.push({ userID: option.userID, label: option.label });
  state.mentions.set(state.current, picked);
  closeMentionList();
  onComposerInput();
  input.focus();
}

export function closeMentionList() {
  mentionUI.token += 1;
  if (!mentionUI.open && $("mention-list").hidden) return;
  mentionUI.open = false;
  $("mention-list").hidden = true;
  $("composer-input").setAttribute("aria-expanded", "false");
  $("composer-input").removeAttribute("aria-activedescendant");
}

/** Arrow keys, Enter/Tab and Esc while the @ list is open; true when the key was used. */
export function onMentionKeydown(e) {
  if (!mentionUI.open) return false;
  const n = mentionUI.items.length;
  if (e.key === "ArrowDown" || e.key === "ArrowUp") {
    mentionUI.active = (mentionUI.active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
    drawMentionList();
  } else if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
    chooseMention(mentionUI.active);
  } else if (e.key === "Escape") {
    closeMentionList();
  } else return false;
  e.preventDefault();
  e.stopPropagation();
  return true;
}
