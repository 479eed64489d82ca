/*
 * Attachments: the clip button, paste and drag-and-drop. The files are shown first
 * (ui/file-preview.js: thumbnails, remove, a caption, cancel); on Send each becomes an
 * image, video or file message shown at once with its progress bar and sent in the
 * background, one after the other, so the composer stays free; the caption follows as a
 * text message. The size limits are the server's.
 */

import { formatLimit } from "../format.js";
import { localSizes, showUploadProgress } from "./bodies.js";
import { closeComposerPops } from "./composer.js";
import { conversationTitle, findConversation } from "./conversations.js";
import { closeMenus, toggleMenu } from "./dialogs.js";
import { $ } from "./dom.js";
import { errorText } from "./errors.js";
import { previewFiles, wireFilePreview } from "./file-preview.js";
import { openLocationDialog } from "./location.js";
import { addressOf, createAndSend, deliver, insertOutgoing } from "./sending.js";
import { chat, limits, state } from "./state.js";
import { toast } from "./toast.js";
import { t } from "../i18n.js";

const CREATE = { image: "createImageMessage", video: "createVideoMessage", audio: "createAudioMessage", file: "createFileMessage" };

/** An image the server takes as one (else it goes as a file), a video browsers play, or a file. */
function uploadKindOf(file) {
  const type = String(file.type || "").toLowerCase();
  const maxImage = (limits().upload || {}).image;
  if (/^image\/(jpeg|png|gif|webp|bmp)$/.test(type) && (!maxImage || file.size <= maxImage)) return "image";
  if (type === "video/mp4" || type === "video/webm") return "video"; // what browsers play (the server takes both)
  return "file";
}

function readImageSize(file) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    const done = (size) => {
      URL.revokeObjectURL(url);
      resolve(size);
    };
    img.onload = () => done({ width: img.naturalWidth, height: img.naturalHeight });
    img.onerror = () => done(null);
    img.src = url;
  });
}

/** Why a file can't be sent ("" when it can). */
function refusal(file) {
  if (file.size === 0) return `"${file.name}" is empty.`;
  const maxFile = (limits().upload || {}).file;
  if (maxFile && file.size > maxFile) return `"${file.name}" is too big: files can be up to ${formatLimit(maxFile)}.`;
  return "";
}

/** Files picked, pasted or dropped: the ones that can go are shown for a look first. */
function sendFiles(conversationID, files) {
  const list = Array.from(files || []).filter((f) => f && typeof f.size === "number");
  if (!conversationID || !list.length) return;
  const ok = [];
  for (const file of list) {
    const refused = refusal(file);
    if (refused) toast(refused, { error: true });
    else ok.push(file);
  }
  if (ok.length) previewFiles(conversationID, ok, (chosen, caption) => sendChosen(conversationID, chosen, caption));
}

/** The files (shown in the order picked, uploaded side by side), then the caption once they are stored. */
async function sendChosen(conversationID, files, caption) {
  const sends = [];
  for (const file of files) {
    const kind = uploadKindOf(file);
    const size = kind === "image" ? await readImageSize(file) : null;
    sends.push(await sendUpload(conversationID, kind, file, { size }));
  }
  await Promise.all(sends.map((s) => s && s.sent));
  if (caption) {
    const options = { ...addressOf(conversationID), payload: { text: caption } };
    await createAndSend(conversationID, () => chat.createTextMessage(options), t("The caption couldn't be sent."));
  }
}

/**
 * Create an upload message (image, video, audio or file), show it at once with its
 * progress bar, and send it in the background.
 */
export async function sendUpload(conversationID, kind, file, { size = null, second = 0 } = {}) {
  let messageID = null;
  const options = { ...addressOf(conversationID), payload: { file }, onProgress: (fraction) => messageID && showUploadProgress(messageID, fraction) };
  if (kind === "audio" && second) options.payload.second = second;
  let message;
  try {
    message = chat[CREATE[kind]](options);
  } catch (error) {
    toast(errorText(error, t("The file couldn't be prepared.")), { error: true });
    return;
  }
  messageID = message.ID;
  if (size) localSizes.set(message.ID, size);
  if (kind === "audio" && second && message.payload && !message.payload.second) message.payload.second = second;
  insertOutgoing(conversationID, message);
  // Not awaited here: the caller may wait for the send ({sent} resolves when it is stored).
  return { sent: deliver(conversationID, message, () => chat.sendMessage(message)) };
}

function onComposerPaste(e) {
  const files = e.clipboardData && e.clipboardData.files;
  if (!files || !files.length || !state.current) return;
  e.preventDefault();
  sendFiles(state.current, files);
}

function wireDropZone() {
  const pane = $("pane");
  const overlay = $("drop-overlay");
  let depth = 0;
  const hasFiles = (e) => e.dataTransfer && Array.from(e.dataTransfer.types || []).includes("Files");
  const canDrop = () => state.current && !$("chat").hidden && !$("composer").hidden;
  pane.addEventListener("dragenter", (e) => {
    if (!hasFiles(e) || !canDrop()) return;
    e.preventDefault();
    depth += 1;
    const conv = findConversation(state.current);
    $("drop-text").textContent = `Drop to send to ${conv ? conversationTitle(conv) : "this chat"}`;
    overlay.hidden = false;
  });
  pane.addEventListener("dragover", (e) => {
    if (!hasFiles(e) || !canDrop()) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
  });
  pane.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  pane.addEventListener("drop", (e) => {
    depth = 0;
    overlay.hidden = true;
    if (!hasFiles(e) || !canDrop()) return;
    e.preventDefault();
    sendFiles(state.current, e.dataTransfer.files);
  });
}

/** A menu item that closes the menus first. */
function onMenuItem(id, action) {
  $(id).addEventListener("click", () => {
    closeMenus();
    action();
  });
}

export function wireAttachments() {
  $("composer-input").addEventListener("paste", onComposerPaste);
  $("attach-btn").addEventListener("click", (e) => {
    e.stopPropagation();
    closeComposerPops();
    toggleMenu($("attach-btn"), $("attach-menu"));
  });
  onMenuItem("attach-media", () => $("media-input").click());
  onMenuItem("attach-file", () => $("file-input").click());
  onMenuItem("attach-location", openLocationDialog);
  for (const id of ["file-input", "media-input"]) {
    $(id).addEventListener("change", (e) => {
      const files = Array.from(e.target.files || []);
      e.target.value = "";
      sendFiles(state.current, files);
    });
  }
  wireDropZone();
  wireFilePreview();
}
