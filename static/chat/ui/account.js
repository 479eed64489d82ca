/**
 * The user's own account from "Profile and settings": deleting it (a dialog that asks for
 * the password, then POST /account/delete/). Downloading one's data is a plain link
 * (/account/export/): the server streams the zip.
 */
import { openDialog, wireDialog } from "./dialogs.js";
import { $ } from "./dom.js";
import { t } from "../i18n.js";

function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function deleteAccount(form) {
  const password = form.elements.password.value;
  if (!password) throw t("Type your password to confirm.");
  let response;
  try {
    response = await fetch("/account/delete/", {
      method: "POST",
      body: new URLSearchParams({ password }),
      headers: { "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    });
  } catch {
    throw t("The account couldn't be deleted: check your connection and try again.");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw body.message || t("The account couldn't be deleted. Try again.");
  // The socket is closed by the server too; leave before its "signed out" card shows.
  window.location.assign(`${body.next}?deleted=1`);
  return false;
}

export function wireAccount() {
  wireDialog("dlg-delete-account", deleteAccount);
  $("settings-delete-account").addEventListener("click", () => {
    $("dlg-settings").close();
    openDialog("dlg-delete-account");
    $("dlg-delete-account").querySelector("input[type=password]").focus();
  });
}
