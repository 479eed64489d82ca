// ESLint (flat config) for the browser code and its tests: `make lint`.
// static/chat/tim.js is the SDK, a classic script in ES5 (usable alone, as the
// vendor's SDK is); the rest of static/chat/ is the UI as native ES modules: the pure
// ones at the top (no DOM: Node imports them in tests/js/), the DOM ones in ui/.
import js from "@eslint/js";
import globals from "globals";

const PURE_MODULES = ["static/chat/*.js"];
const SDK = "static/chat/tim.js";
const ENTRY = "static/chat/main.js";

export default [
  {
    ignores: ["node_modules/", "staticfiles/", "media/", ".venv/"],
  },
  js.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
      "no-shadow": "error",
      "prefer-const": "error",
    },
  },
  {
    files: ["static/**/*.js"],
    ignores: [SDK],
    languageOptions: { sourceType: "module", ecmaVersion: 2022 },
    rules: {
      "no-var": "error",
      "no-restricted-properties": [
        "error",
        { property: "innerHTML", message: "Build DOM with el()/textContent: user data never goes through innerHTML." },
        { property: "outerHTML", message: "Build DOM with el()/textContent." },
        { property: "insertAdjacentHTML", message: "Build DOM with el()/textContent." },
      ],
    },
  },
  {
    files: ["static/chat/ui/**/*.js", ENTRY],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: PURE_MODULES,
    ignores: [SDK, ENTRY],
    // What both Node and browsers have (TextEncoder, Intl, URL): no window, no document.
    languageOptions: { globals: { ...globals["shared-node-browser"] } },
  },
  {
    files: [SDK],
    languageOptions: { sourceType: "script", ecmaVersion: 5, globals: { ...globals.browser, ...globals.es2015 } },
    rules: { "no-implicit-globals": "error" },
  },
  {
    files: ["tests/js/**/*.js", "tests/js/**/*.mjs", "eslint.config.js"],
    languageOptions: { sourceType: "module", ecmaVersion: 2022, globals: { ...globals.node } },
  },
];
