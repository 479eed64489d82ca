/*
 * A merged chat history, opened in a dialog; nested histories open inside it, with
 * a back button.
 */

import { clockTime, dayLabel, messageCountText, startOfDay, toDate } from "../format.js";
import { mergerBody, messageBody, pauseVoice } from "./bodies.js";
import { wireDialogClose } from "./dialogs.js";
import { $, avatar, el, loadingEdge } from "./dom.js";
import { errorText } from "./errors.js";
import { displayName } from "./names.js";
import { chat } from "./state.js";
import { t } from "../i18n.js";

/** The histories opened, outermost first; the last one is showing. */
const mergerStack = [];

const showing = () => mergerStack[mergerStack.length - 1];

export async function openMerger(m, { nested = false } = {}) {
  const dialog = $("dlg-merger");
  if (!nested) mergerStack.length = 0;
  mergerStack.push(m);
  if (!dialog.open) dialog.showModal();
  await drawMerger();
}

/** A stored history's messages, downloaded the first time; null when that failed (the error is shown). */
async function mergedMessages(m) {
  const p = m.payload || {};
  const list = Array.isArray(p.messageList) ? p.messageList : [];
  if (!p.downloadKey || list.length) return list;
  const body = $("merger-body");
  body.replaceChildren(loadingEdge(t("Loading the messages…")));
  try {
    if (!m.conversationID) throw { code: 2451, message: t("This part of the history can only be opened where it was first sent.") };
    await chat.downloadMergerMessage(m);
    return Array.isArray(m.payload.messageList) ? m.payload.messageList : [];
  } catch (error) {
    if (showing() === m) body.replaceChildren(el("div", { class: "merger-error", role: "alert", text: errorText(error, t("The messages couldn't be loaded.")) }));
    return null;
  }
}

/** "3 messages · Yesterday – Today" */
function mergerSubtitle(list) {
  const times = list.map((x) => x.time || 0).filter(Boolean);
  if (!times.length) return "";
  const first = dayLabel(Math.min(...times));
  const last = dayLabel(Math.max(...times));
  return `${messageCountText(list.length)} · ${first === last ? first : `${first} – ${last}`}`;
}

async function drawMerger() {
  const m = showing();
  if (!m) return;
  const p = m.payload || {};
  const body = $("merger-body");
  $("dlg-merger-title").textContent = p.title || "Chat history";
  $("merger-back").hidden = mergerStack.length < 2;
  $("merger-sub").textContent = "";
  const list = await mergedMessages(m);
  if (!list || showing() !== m) return;
  $("merger-sub").textContent = mergerSubtitle(list);
  if (!list.length) {
    body.replaceChildren(el("p", { class: "merger-error", text: p.compatibleText || t("There are no messages in this history.") }));
    return;
  }
  let prevDay = null;
  const rows = [];
  for (const item of list) {
    const day = startOfDay(toDate(item.time));
    if (day !== prevDay) {
      rows.push(el("div", { class: "merger-day", text: dayLabel(item.time) }));
      prevDay = day;
    }
    rows.push(mergerItem(item));
  }
  body.replaceChildren(...rows);
  body.scrollTop = 0;
}

function mergerItem(item) {
  const name = item.nick || displayName(item.from) || t("Someone");
  const content = item.type === "TIMRelayElem" ? mergerBody(item, () => openMerger(item, { nested: true })) : messageBody(item);
  return el(
    "div",
    { class: "merger-item", "data-testid": "merger-item", "data-type": item.type || "" },
    avatar("sm", { id: item.from, name, url: item.avatar }),
    el(
      "div",
      { class: "merger-main" },
      el("div", { class: "merger-meta" }, el("span", { class: "merger-name", text: name }), el("time", { text: clockTime(item.time) })),
      el("div", { class: "merger-content is-" + content.kind }, content.node),
    ),
  );
}

export function wireMerger() {
  const merger = $("dlg-merger");
  wireDialogClose(merger);
  merger.addEventListener("close", () => {
    mergerStack.length = 0;
    pauseVoice();
  });
  $("merger-back").addEventListener("click", () => {
    if (mergerStack.length > 1) {
      mergerStack.pop();
      drawMerger();
    }
  });
}
