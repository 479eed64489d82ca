/*
 * Choosing a picture for a profile or a group: the file is shown at once (a local
 * preview), uploaded with a progress bar through the same upload path as images in
 * messages, and made into a 256 × 256 avatar on this site by the server
 * (chat.uploadAvatar, docs/PROTOCOL.md §10.4). Save stays disabled meanwhile.
 */

import { chat } from "./state.js";

/** Resolves the avatar URL; `show(url)` draws a preview, then the result (or the old one on failure). */
export async function uploadAvatarFile(file, { progress, saveButton, show, previous }) {
  const preview = URL.createObjectURL(file);
  show(preview);
  progress.hidden = false;
  progress.value = 0;
  if (saveButton) saveButton.disabled = true;
  try {
    const res = await chat.uploadAvatar(file, { onProgress: (fraction) => (progress.value = fraction) });
    show(res.data.avatar);
    return res.data.avatar;
  } catch (error) {
    show(previous);
    throw error;
  } finally {
    URL.revokeObjectURL(preview);
    progress.hidden = true;
    if (saveButton) saveButton.disabled = false;
  }
}
