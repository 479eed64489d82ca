/*
 * Words and numbers the UI shows: times and days, sizes, durations, file kinds,
 * coordinates, initials. Pure: no DOM, importable by Node. Functions that depend on
 * "today" take `now` (a Date) so they can be tested.
 */

import { nt, t, tlater, uiLocale } from "./i18n.js";


/**
 * The clock for `locale` (the browser's when undefined): "2:12 AM" on a 12-hour clock,
 * "02:12" on a 24-hour one. Intl's "2-digit" hour gives "02:12 AM", which no chat app shows.
 */
export function clockFormat(locale) {
  const { hourCycle } = new Intl.DateTimeFormat(locale, { hour: "numeric" }).resolvedOptions();
  const twelve = hourCycle === "h11" || hourCycle === "h12";
  return new Intl.DateTimeFormat(locale, { hour: twelve ? "numeric" : "2-digit", minute: "2-digit" });
}
const LOCALE = uiLocale();
const fmtTime = clockFormat(LOCALE);
const fmtWeekday = new Intl.DateTimeFormat(LOCALE, { weekday: "long" });
const fmtWeekdayShort = new Intl.DateTimeFormat(LOCALE, { weekday: "short" });
const fmtDayMonth = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "long" });
const fmtDayMonthShort = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "short" });
const fmtFull = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "long", year: "numeric" });
const fmtFullShort = new Intl.DateTimeFormat(LOCALE, { day: "numeric", month: "short", year: "2-digit" });
const fmtTooltip = new Intl.DateTimeFormat(LOCALE, { dateStyle: "full", timeStyle: "short" });

/** A message time (seconds since the epoch) as a Date. */
export const toDate = (seconds) => new Date((seconds || 0) * 1000);
export const startOfDay = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
const daysBetween = (d, now) => Math.round((startOfDay(now) - startOfDay(d)) / 86400000);

/** "14:05" */
export const clockTime = (seconds) => fmtTime.format(toDate(seconds));
/** "Tuesday, 3 June 2025 at 14:05" (tooltips, captions) */
export const fullTime = (seconds) => fmtTooltip.format(toDate(seconds));

/** A day separator: "Today", "Yesterday", "Monday", "3 June", "3 June 2023". */
export function dayLabel(seconds, now = new Date()) {
  const d = toDate(seconds);
  const ago = daysBetween(d, now);
  if (ago === 0) return t("Today");
  if (ago === 1) return t("Yesterday");
  if (ago > 1 && ago < 7) return fmtWeekday.format(d);
  return d.getFullYear() === now.getFullYear() ? fmtDayMonth.format(d) : fmtFull.format(d);
}

/** The time in the conversation list: "14:05" today, then "Yesterday", "Mon", "3 Jun", "3 Jun 23". */
export function listTime(seconds, now = new Date()) {
  if (!seconds) return "";
  const d = toDate(seconds);
  const ago = daysBetween(d, now);
  if (ago <= 0) return fmtTime.format(d);
  if (ago === 1) return t("Yesterday");
  if (ago < 7) return fmtWeekdayShort.format(d);
  return d.getFullYear() === now.getFullYear() ? fmtDayMonthShort.format(d) : fmtFullShort.format(d);
}

/** "512 B", "3.4 KB", "12 KB", "4.2 MB", "1.1 GB" */
export function formatBytes(bytes) {
  const n = Number(bytes) || 0;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(1)} GB`;
}

/** A limit in the words of an error text: 12288 -> "12 KB", 20971520 -> "20 MB", 1536 -> "1.5 KB". */
export function formatLimit(bytes) {
  const n = Number(bytes) || 0;
  const units = [
    ["GB", 1024 ** 3],
    ["MB", 1024 ** 2],
    ["KB", 1024],
  ];
  for (const [unit, size] of units) {
    if (n >= size) return `${Number((n / size).toFixed(1))} ${unit}`;
  }
  return `${n} bytes`;
}

/** "0:07", "2:05" */
export function formatDuration(seconds) {
  const s = Math.max(0, Math.round(Number(seconds) || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function fileExtension(name) {
  const match = /\.([A-Za-z0-9]{1,5})$/.exec(String(name || ""));
  return match ? match[1].toLowerCase() : "";
}

const FILE_KINDS = [
  [/^pdf$/, tlater("PDF document"), "#e5484d"],
  [/^(docx?|odt|rtf|pages)$/, tlater("Document"), "#3a66db"],
  [/^(xlsx?|ods|csv|tsv|numbers)$/, tlater("Spreadsheet"), "#2f9e5b"],
  [/^(pptx?|odp|key)$/, tlater("Presentation"), "#e8762c"],
  [/^(zip|rar|7z|gz|tgz|bz2|xz|tar)$/, tlater("Archive"), "#8e6cf0"],
  [/^(png|jpe?g|gif|webp|bmp|svg|heic|tiff?)$/, tlater("Image"), "#12a1a1"],
  [/^(mp3|wav|m4a|ogg|oga|flac|aac|opus|amr)$/, tlater("Audio"), "#d6409f"],
  [/^(mp4|mov|mkv|avi|webm|m4v)$/, tlater("Video"), "#c2410c"],
  [/^(txt|md|log|json|xml|ya?ml|ini|toml)$/, tlater("Text"), "#5f6b7d"],
  [/^(py|js|ts|go|rs|java|c|h|cpp|rb|php|sh|html|css|sql)$/, tlater("Code"), "#0f766e"],
];

/** {ext: "PDF", label: "PDF document", color} for a file card. */
export function fileKind(name) {
  const ext = fileExtension(name);
  const found = FILE_KINDS.find(([re]) => re.test(ext));
  return { ext: ext ? ext.toUpperCase() : "FILE", label: found ? t(found[1]) : ext ? t("%(ext)s file", { ext: ext.toUpperCase() }) : t("File"), color: found ? found[2] : "#6f7787" };
}

/**
 * A file name as [head, tail]: the head may be cut with an ellipsis when space runs
 * out, the tail (the last characters and the extension) is always shown; tail is ""
 * for short names. The tail starts at a word when one starts just before the cut:
 * "…board, v3.pdf", not "…oard, v3.pdf".
 */
export function fileNameParts(name) {
  const chars = Array.from(String(name || "File"));
  const ext = fileExtension(name);
  let cut = chars.length > 20 ? chars.length - Math.max(ext.length + 8, 12) : chars.length;
  for (let i = cut; i > Math.max(0, cut - 8) && cut < chars.length; i--) {
    if (/[\s_\-—–]/.test(chars[i - 1])) {
      cut = i;
      break;
    }
  }
  return [chars.slice(0, cut).join(""), chars.slice(cut).join("")];
}

/** "22.54610° N" */
export function formatCoordinate(value, positive, negative) {
  return `${Math.abs(value).toFixed(5)}° ${value >= 0 ? positive : negative}`;
}

export function osmUrl(lat, lon) {
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`;
}

/** A latitude or longitude typed by a person ("22,5", "-113.9°"); NaN when it is not a number. */
export function parseCoordinate(text) {
  const cleaned = String(text || "").trim().replace(/°/g, "").replace(",", ".");
  return cleaned && /^[-+]?\d+(\.\d+)?$/.test(cleaned) ? Number(cleaned) : NaN;
}

/** Pretty JSON when the data is JSON (a few lines of it), else the text (cut at 300 characters). */
export function customDataText(data) {
  const text = String(data || "");
  try {
    const parsed = JSON.parse(text);
    if (parsed && typeof parsed === "object") {
      const lines = JSON.stringify(parsed, null, 2).split("\n");
      return lines.length > 8 ? lines.slice(0, 8).join("\n") + "\n…" : lines.join("\n");
    }
  } catch {
    /* not JSON */
  }
  return text.length > 300 ? text.slice(0, 300) + "…" : text;
}

/** An avatar's colour, stable for an ID. */
export function hueFor(id) {
  let h = 0;
  for (const ch of String(id || "")) h = (h * 31 + ch.codePointAt(0)) >>> 0;
  return [211, 262, 338, 14, 32, 152, 188, 232, 290, 96][h % 10];
}

/** "Alice Smith" -> "AS", "bob" -> "B". */
export function initials(name) {
  const words = String(name || "?").trim().split(/[\s._-]+/).filter(Boolean);
  if (!words.length) return "?";
  const first = Array.from(words[0])[0] || "?";
  const second = words.length > 1 ? Array.from(words[words.length - 1])[0] : "";
  return (first + second).toUpperCase();
}

/** User IDs typed in a box: split on spaces, commas and semicolons, "@" dropped, each once. */
export function splitIDs(text) {
  return Array.from(new Set(String(text || "").split(/[\s,;]+/).map((s) => s.trim().replace(/^@/, "")).filter(Boolean)));
}

/** "1 member" / "4 members" */
export const memberCountText = (n) => nt("%(count)s member", "%(count)s members", n);

/** "1 message" / "3 messages" */
export const messageCountText = (n) => nt("%(count)s message", "%(count)s messages", n);

/** A badge's number: "7", "99+". */
export const badgeText = (n) => (n > 99 ? "99+" : String(n));

/**
 * What the sender sees under a group message that asked for read receipts: "3 read", or
 * "All read" once nobody is left (readReceiptInfo from getMessageReadReceiptList or
 * MESSAGE_READ_RECEIPT_RECEIVED). "" while the counts are unknown or nobody else can read it.
 */
export function receiptText(info) {
  if (!info || (info.readCount || 0) + (info.unreadCount || 0) === 0) return "";
  return info.unreadCount === 0 ? t("All read") : nt("%(count)s read", "%(count)s read", info.readCount);
}

/** `items` in lists of at most `size` (the SDK takes 30 messages per receipt call). */
export function chunks(items, size) {
  const out = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
