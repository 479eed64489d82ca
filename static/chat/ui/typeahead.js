/*
 * A people typeahead on a text input (New chat, Add member): as you type, the
 * directory (chat.searchCloudUsers, a prefix of the user ID or the name) is asked
 * after a short pause; ↑/↓ move through the matches, Enter or a click picks one, Esc
 * closes the list. ARIA combobox: the input owns a listbox and names the active option.
 */

import { lastToken, moveActive } from "../directory.js";
import { avatar, el } from "./dom.js";
import { chat, state } from "./state.js";
import { t } from "../i18n.js";

const DEBOUNCE_MS = 180;
const MAX_OPTIONS = 8;
let seq = 0;

/**
 * attachTypeahead(input, {onPick(profile), multiple, anchor}): `multiple` searches the
 * last token of a comma-separated list; the list goes after `anchor` (the input, or a
 * box that redraws its children, like the New group chips). Returns {close()}.
 */
export function attachTypeahead(input, { onPick, multiple = false, anchor = input }) {
  const id = `${input.id || "typeahead" + ++seq}-options`;
  const list = el("ul", { class: "typeahead", id, role: "listbox", "aria-label": t("People"), "data-testid": "typeahead-list", hidden: true });
  anchor.insertAdjacentElement("afterend", list);
  anchor.parentElement.classList.add("typeahead-anchor");
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", id);

  let options = [];
  let active = -1;
  let timer = null;
  let asked = 0;

  const close = () => {
    clearTimeout(timer);
    asked += 1; // an answer still on its way is dropped
    options = [];
    active = -1;
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };

  const highlight = (index) => {
    active = index;
    list.querySelectorAll("[role=option]").forEach((node, i) => {
      node.classList.toggle("is-active", i === active);
      node.setAttribute("aria-selected", i === active ? "true" : "false");
      if (i === active) node.scrollIntoView({ block: "nearest" });
    });
    if (active >= 0) input.setAttribute("aria-activedescendant", `${id}-${active}`);
    else input.removeAttribute("aria-activedescendant");
  };

  const pick = (index) => {
    const profile = options[index];
    close();
    if (profile) onPick(profile);
  };

  const render = (found, query) => {
    options = found.slice(0, MAX_OPTIONS);
    if (!options.length) {
      list.replaceChildren(el("li", { class: "typeahead-empty", role: "presentation", text: t("Nobody matches \"%(query)s\".", { query }) }));
    } else {
      list.replaceChildren(
        ...options.map((p, i) =>
          el(
            "li",
            {
              class: "typeahead-option",
              id: `${id}-${i}`,
              role: "option",
              "aria-selected": "false",
              "data-testid": "typeahead-option",
              "data-user-id": p.userID,
              onmousedown: (e) => {
                e.preventDefault(); // keep the focus in the input
                pick(i);
              },
            },
            avatar("sm", { id: p.userID, name: p.nick || p.userID, url: p.avatar }),
            el("span", { class: "typeahead-main" }, el("span", { class: "typeahead-name", text: p.nick || p.userID }), el("span", { class: "typeahead-id", text: "@" + p.userID })),
          ),
        ),
      );
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(options.length ? 0 : -1);
  };

  const currentQuery = () => (multiple ? lastToken(input.value) : input.value).trim().replace(/^@/, "");

  const search = async () => {
    const query = currentQuery();
    if (!query) {
      close();
      return;
    }
    const mine = ++asked;
    try {
      const res = await chat.searchCloudUsers({ keywordList: [query], count: MAX_OPTIONS + 1 });
      if (mine !== asked || document.activeElement !== input || currentQuery() !== query) return;
      const found = ((res.data && res.data.searchResultList) || []).filter((p) => p.userID !== state.me.userID);
      render(found, query);
    } catch {
      if (mine === asked) close(); // the exact-ID path still works
    }
  };

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  const onKeydown = (e) => {
    if (list.hidden) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      highlight(moveActive(active, e.key === "ArrowDown" ? 1 : -1, options.length));
    } else if (e.key === "Enter" && active >= 0) {
      e.preventDefault();
      e.stopImmediatePropagation();
      pick(active);
    } else if (e.key === "Escape") {
      e.preventDefault(); // closes the list, not the dialog
      e.stopImmediatePropagation();
      close();
    }
  };
  // Capture: before the input's own keys (the New group chips take Enter and commas).
  input.addEventListener("keydown", onKeydown, true);
  input.addEventListener("blur", () => setTimeout(close, 120));
  return { close };
}
