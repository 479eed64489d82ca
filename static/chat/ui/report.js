/*
 * Reporting a message to the moderators: a reason (radio buttons) and optional words,
 * sent with chat.reportMessage; a toast says it was sent. The reasons and the length
 * limit are the server's (hello.rules.report).
 */

import { messageSummary } from "./conversations.js";
import { openDialog, wireDialog } from "./dialogs.js";
import { $ } from "./dom.js";
import { errorText } from "./errors.js";
import { senderName } from "./names.js";
import { chat, serverRules } from "./state.js";
import { toast } from "./toast.js";
import { t, tlater } from "../i18n.js";

export const REPORTED_TEXT = "Reported. A moderator will look at it.";
const TOO_MANY_TEXT = tlater("You've sent a lot of reports in the last hour. Try again later.");

/** The message being reported while the dialog is open. */
let reporting = null;

export function openReportDialog(message) {
  reporting = message;
  const rules = serverRules();
  const limit = rules && rules.report && rules.report.maxDescription;
  const dialog = openDialog("dlg-report", (node) => {
    const description = node.querySelector("textarea[name=description]");
    if (limit) description.maxLength = limit;
    else description.removeAttribute("maxlength");
    const reasons = rules && rules.report && rules.report.reasons;
    for (const radio of node.querySelectorAll("input[name=reason]")) radio.closest("label").hidden = Boolean(reasons) && !reasons.includes(radio.value);
    $("dlg-report-what").textContent = `${senderName(message)}: “${messageSummary(message)}”`;
  });
  const first = dialog.querySelector("label:not([hidden]) > input[name=reason]");
  if (first) first.focus();
}

async function submitReport(form) {
  const message = reporting;
  if (!message) return true;
  const reason = form.elements.reason.value;
  if (!reason) throw t("Choose what's wrong with this message.");
  const description = form.elements.description.value.trim();
  try {
    await chat.reportMessage({ message, reason, description });
  } catch (error) {
    throw error && error.code === 10006 ? t(TOO_MANY_TEXT) : errorText(error, t("The report couldn't be sent. Try again."));
  }
  reporting = null;
  toast(REPORTED_TEXT);
  return true;
}

export function wireReportDialog() {
  wireDialog("dlg-report", submitReport);
  $("dlg-report").addEventListener("close", () => {
    reporting = null;
  });
}
