/*
 * The UI's words in the page's language: Django's JavaScript catalog (/i18n/catalog.js,
 * a classic script loaded before the modules) defines gettext, ngettext and interpolate
 * on window. Without it (Node's tests, a failed load) every text stays English.
 * Pure otherwise: importable by Node.
 */

const catalog = globalThis.gettext ? globalThis : null;

/** The English text in the page's language: t("Today"); t("%(name)s left", {name}) interpolates by name. */
export function t(text, values) {
  const translated = catalog ? catalog.gettext(text) : text;
  return values ? fill(translated, values) : translated;
}

/** Singular or plural by count: nt("%(count)s member", "%(count)s members", n, {count: n}). */
export function nt(singular, plural, count, values) {
  const translated = catalog ? catalog.ngettext(singular, plural, count) : count === 1 ? singular : plural;
  return fill(translated, { count, ...values });
}

/** A text marked for translation but translated later (tables built at import time). */
export const tlater = (text) => text;

/** %(name)s placeholders, as Django's interpolate(fmt, obj, true) fills them. */
function fill(text, values) {
  return text.replace(/%\((\w+)\)s/g, (match, name) => (Object.hasOwn(values, name) ? String(values[name]) : match));
}

/**
 * The locale for Intl (dates, times, numbers): the page's language (<html lang>, which
 * Django sets); English keeps the browser's own English variant ("en-GB" gives 24-hour times).
 */
export function uiLocale() {
  const lang = (globalThis.document && globalThis.document.documentElement.lang) || "";
  if (!lang) return undefined;
  if (lang.toLowerCase().startsWith("zh")) return "zh-Hans-CN";
  const browser = globalThis.navigator && globalThis.navigator.language;
  return browser && browser.toLowerCase().startsWith(lang.toLowerCase().slice(0, 2)) ? browser : lang;
}

/** The page's language code as Django names it: "en" or "zh-hans". */
export const uiLanguage = () => ((globalThis.document && globalThis.document.documentElement.lang) || "en").toLowerCase();
