/*
 * Pure helpers of the people search and the profile screens (no DOM; tested in
 * tests/js/directory.test.js).
 */

/** The token being typed at the end of a list of IDs ("bob, car" -> "car"). */
export function lastToken(text) {
  const parts = String(text || "").split(/[\s,;]+/);
  return parts[parts.length - 1] || "";
}

/** The text with its last token replaced by `userID` and a separator to type the next one. */
export function replaceLastToken(text, userID) {
  const value = String(text || "");
  const match = value.match(/^(.*[\s,;])?[^\s,;]*$/s);
  const head = (match && match[1]) || "";
  return `${head}${userID}, `;
}

/** The option to highlight after pressing an arrow: wraps around; -1 when there are none. */
export function moveActive(index, delta, length) {
  if (!length) return -1;
  if (index < 0) return delta > 0 ? 0 : length - 1;
  return (index + delta + length) % length;
}

/** A birthday as the SDK stores it (YYYYMMDD, 0 for none) <-> an <input type=date> value. */
export function birthdayToDate(birthday) {
  const n = Number(birthday) || 0;
  if (n < 10000101 || n > 99991231) return "";
  const s = String(n);
  return `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}`;
}

export function dateToBirthday(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(value || ""));
  return match ? Number(match[1] + match[2] + match[3]) : 0;
}

/** The fields of `next` that differ from `current` (what updateMyProfile needs to send). */
export function changedFields(current, next) {
  const out = {};
  for (const [key, value] of Object.entries(next)) {
    if (value !== undefined && (current || {})[key] !== value) out[key] = value;
  }
  return out;
}

/** "Carol (@carol)" or "@carol" when the nick is the ID or empty. */
export function personLabel(profile) {
  const nick = (profile && profile.nick) || "";
  const id = (profile && profile.userID) || "";
  return nick && nick !== id ? `${nick} (@${id})` : `@${id}`;
}
