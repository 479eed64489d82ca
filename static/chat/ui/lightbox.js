/*
 * The image viewer: the 720 px image (type 2) at its size, with links to the
 * original (type 0) and a download.
 */

import { fullTime } from "../format.js";
import { imageInfos, localSizes } from "./bodies.js";
import { $, safeUrl } from "./dom.js";
import { senderName } from "./names.js";
import { state } from "./state.js";
import { t } from "../i18n.js";

function setImageSize(img, w, h) {
  if (w && h) {
    img.width = w;
    img.height = h;
  } else {
    img.removeAttribute("width");
    img.removeAttribute("height");
  }
}

/** Links to the stored original; a local preview (blob:) has none. */
function setOriginalLinks(originalUrl) {
  const stored = !originalUrl.startsWith("blob:");
  $("lightbox-original").href = originalUrl;
  $("lightbox-original").hidden = !stored;
  const download = $("lightbox-download");
  download.hidden = !stored;
  if (stored) {
    const url = new URL(originalUrl, window.location.href);
    url.searchParams.set("download", "1");
    download.href = url.pathname + url.search;
  }
}

export function openLightbox(m) {
  if (state.select.active) return;
  const { original, large } = imageInfos(m);
  const src = safeUrl(large.url) || safeUrl(original.url);
  if (!src) return;
  const img = $("lightbox-img");
  const local = localSizes.get(m.ID) || {};
  img.removeAttribute("src");
  setImageSize(img, large.width || original.width || local.width, large.height || original.height || local.height);
  img.alt = t("Image from %(name)s", { name: senderName(m) });
  img.src = src;
  setOriginalLinks(safeUrl(original.url) || src);
  const size = original.width && original.height ? ` · ${original.width} × ${original.height}` : "";
  $("lightbox-caption").textContent = `${senderName(m)}${m.time ? " · " + fullTime(m.time) : ""}${size}`;
  $("lightbox").showModal();
  $("lightbox").querySelector(".lightbox-close").focus();
}

export function wireLightbox() {
  const lightbox = $("lightbox");
  lightbox.querySelector("[data-close]").addEventListener("click", () => lightbox.close());
  lightbox.addEventListener("click", (e) => {
    if (e.target === lightbox || e.target === $("lightbox-stage")) lightbox.close();
  });
  lightbox.addEventListener("close", () => $("lightbox-img").removeAttribute("src"));
}
