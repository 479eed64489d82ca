/*
 * Voice messages: record with the microphone (MediaRecorder); the send button stops
 * and sends, Esc or the bin throws the recording away.
 */

import { formatDuration } from "../format.js";
import { closeComposerPops } from "./composer.js";
import { $ } from "./dom.js";
import { state } from "./state.js";
import { toast } from "./toast.js";
import { sendUpload } from "./uploads.js";
import { t } from "../i18n.js";

const MAX_RECORDING_SECONDS = 120;
const RECORDING_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];

const idle = () => ({ media: null, stream: null, chunks: [], startedAt: 0, timer: null, conversationID: null, send: false, seconds: 0 });
const recording = idle();

export const isRecording = () => Boolean(recording.media);

function canRecord() {
  return Boolean(navigator.mediaDevices && typeof navigator.mediaDevices.getUserMedia === "function" && window.MediaRecorder);
}

function recordingSeconds() {
  return recording.startedAt ? (performance.now() - recording.startedAt) / 1000 : 0;
}

function microphoneErrorText(error) {
  const name = error && error.name;
  if (name === "NotAllowedError" || name === "SecurityError") return t("Allow microphone access in your browser to record voice messages.");
  if (name === "NotFoundError") return t("No microphone was found.");
  return t("The microphone couldn't be started.");
}

const stopTracks = (stream) => stream.getTracks().forEach((track) => track.stop());

async function startRecording() {
  if (recording.media || recording.stream || !state.current) return;
  closeComposerPops();
  const conversationID = state.current;
  recording.conversationID = conversationID;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    recording.conversationID = null;
    toast(microphoneErrorText(error), { error: true });
    return;
  }
  if (state.current !== conversationID) {
    stopTracks(stream);
    return;
  }
  const type = RECORDING_TYPES.find((mime) => MediaRecorder.isTypeSupported(mime)) || "";
  let media;
  try {
    media = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
  } catch {
    stopTracks(stream);
    toast(t("This browser can't record voice messages."), { error: true });
    return;
  }
  record(media, stream);
}

function record(media, stream) {
  Object.assign(recording, { media, stream, chunks: [], startedAt: performance.now(), send: false });
  media.addEventListener("dataavailable", (e) => {
    if (e.data && e.data.size) recording.chunks.push(e.data);
  });
  media.addEventListener("stop", onRecordingStopped);
  media.start(250);
  showRecorder(true);
  recording.timer = setInterval(() => {
    const seconds = recordingSeconds();
    $("recorder-time").textContent = formatDuration(Math.floor(seconds));
    if (seconds >= MAX_RECORDING_SECONDS) stopRecording(true);
  }, 200);
}

/** Stop: send = true sends what was recorded, false throws it away. */
export function stopRecording(send) {
  if (!recording.media) return;
  recording.send = send;
  recording.seconds = recordingSeconds();
  clearInterval(recording.timer);
  if (recording.media.state !== "inactive") recording.media.stop();
  else onRecordingStopped();
}

/** Throw away a recording in progress (leaving the conversation, Esc). */
export function cancelRecording() {
  stopRecording(false);
}

function onRecordingStopped() {
  const { media, stream, chunks, conversationID, send } = recording;
  const seconds = recording.seconds || recordingSeconds();
  if (stream) stopTracks(stream);
  Object.assign(recording, idle());
  showRecorder(false);
  if (!send || !conversationID) return;
  if (seconds < 1 || !chunks.length) {
    toast(t("That was too short to send. Record for at least a second."));
    return;
  }
  const type = (media && media.mimeType) || (chunks[0] && chunks[0].type) || "audio/webm";
  const ext = /ogg/.test(type) ? "ogg" : /mp4|aac/.test(type) ? "m4a" : "webm";
  const file = new File([new Blob(chunks, { type })], `voice.${ext}`, { type });
  sendUpload(conversationID, "audio", file, { second: Math.max(1, Math.round(seconds)) });
}

function showRecorder(on) {
  $("composer").classList.toggle("is-recording", on);
  $("recorder").hidden = !on;
  $("recorder-time").textContent = "0:00";
  $("send-btn").disabled = !on && !$("composer-input").value.trim();
  $("send-btn").setAttribute("aria-label", on ? t("Send voice message") : t("Send"));
  $("send-btn").title = on ? t("Stop and send") : t("Send (Enter)");
  if (on) $("send-btn").focus();
}

export function wireVoice() {
  $("composer").classList.toggle("can-record", canRecord());
  $("mic-btn").addEventListener("click", startRecording);
  $("recorder-cancel").addEventListener("click", () => stopRecording(false));
}
