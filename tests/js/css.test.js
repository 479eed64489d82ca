// static/chat/app.css: what the stylesheet must say, read as text.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const css = readFileSync(new URL("../../static/chat/app.css", import.meta.url), "utf8");

// As Bootstrap and GitHub do: the emoji fonts after the generic family, so that digits and
// "#" (which Noto Color Emoji also draws) keep the text font.
test("the font stack names a colour-emoji font for each platform, after the text fonts", () => {
  const stack = /--font:\s*([^;]+);/u.exec(css)[1].split(",").map((f) => f.trim().replace(/"/gu, ""));
  for (const font of ["Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji"]) {
    assert.ok(stack.includes(font), `${font} missing from ${stack.join(", ")}`);
    assert.ok(stack.indexOf(font) > stack.indexOf("sans-serif"), `${font} should come after the text fonts`);
  }
});
