/*
 * Sharing a location: the browser's position, or coordinates typed in (a
 * "latitude, longitude" pair pasted into the first box is split).
 */

import { parseCoordinate } from "../format.js";
import { openDialog, wireDialog } from "./dialogs.js";
import { $ } from "./dom.js";
import { addressOf, createAndSend } from "./sending.js";
import { chat, state } from "./state.js";
import { t } from "../i18n.js";

/** Bumped when the dialog closes or a new position is asked for: late answers are dropped. */
let locateToken = 0;

export function openLocationDialog() {
  if (!state.current) return;
  openDialog("dlg-location");
  locate();
}

function setLocateStatus(text, stateName, action) {
  $("locate-text").textContent = text;
  $("locate-status").dataset.state = stateName;
  $("locate-again").hidden = !action;
  if (action) $("locate-again").textContent = action;
}

function locate() {
  const token = ++locateToken;
  const form = $("dlg-location").querySelector("form");
  if (!navigator.geolocation) {
    setLocateStatus("This browser can't share its position. Enter the coordinates instead.", "error", "");
    form.elements.latitude.focus();
    return;
  }
  setLocateStatus("Finding your location…", "busy", "");
  const current = () => token === locateToken && $("dlg-location").open;
  navigator.geolocation.getCurrentPosition(
    (position) => {
      if (!current()) return;
      form.elements.latitude.value = position.coords.latitude.toFixed(6);
      form.elements.longitude.value = position.coords.longitude.toFixed(6);
      const accuracy = Math.round(position.coords.accuracy || 0);
      setLocateStatus(accuracy ? t("Found you, to within about %(accuracy)s m.", { accuracy }) : t("Found you."), "ok", t("Locate again"));
    },
    (error) => {
      if (!current()) return;
      const text =
        error && error.code === 1
          ? t("Location access is blocked for this site. Enter the coordinates instead, e.g. from a map app.")
          : t("Your location couldn't be found. Enter the coordinates instead.");
      setLocateStatus(text, "error", t("Try again"));
      form.elements.latitude.focus();
    },
    { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 },
  );
}

/** {latitude, longitude} from the form; throws the sentence to show when one is wrong. */
function typedPosition(form) {
  let latText = form.elements.latitude.value.trim();
  let lonText = form.elements.longitude.value.trim();
  const pair = /^([-+]?\d+(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d+(?:\.\d+)?)$/.exec(latText);
  if (pair && !lonText) [latText, lonText] = [pair[1], pair[2]];
  const latitude = parseCoordinate(latText);
  const longitude = parseCoordinate(lonText);
  if (!Number.isFinite(latitude) || Math.abs(latitude) > 90) throw t("Enter a latitude between -90 and 90 (e.g. 22.546103).");
  if (!Number.isFinite(longitude) || Math.abs(longitude) > 180) throw t("Enter a longitude between -180 and 180 (e.g. 113.941079).");
  return { latitude, longitude };
}

async function submitLocation(form) {
  const { latitude, longitude } = typedPosition(form);
  const conversationID = state.current;
  if (!conversationID) return true;
  const description = form.elements.description.value.trim() || "Shared location";
  const options = { ...addressOf(conversationID), payload: { description, longitude, latitude } };
  locateToken += 1;
  createAndSend(conversationID, () => chat.createLocationMessage(options), t("The location couldn't be sent."));
  return true;
}

export function wireLocation() {
  wireDialog("dlg-location", submitLocation);
  $("locate-again").addEventListener("click", locate);
  $("dlg-location").addEventListener("close", () => {
    locateToken += 1;
  });
}
