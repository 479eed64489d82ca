// static/chat/keys.js: arrow keys in menus and in the emoji grid.
import assert from "node:assert/strict";
import { test } from "node:test";

import { moveIndex } from "../../static/chat/keys.js";

test("a menu: Down and Up move and wrap, Home and End go to the ends, other keys are not moves", () => {
  assert.equal(moveIndex("ArrowDown", 0, 3), 1);
  assert.equal(moveIndex("ArrowDown", 2, 3), 0);
  assert.equal(moveIndex("ArrowUp", 0, 3), 2);
  assert.equal(moveIndex("ArrowUp", -1, 3), 2);
  assert.equal(moveIndex("ArrowDown", -1, 3), 0);
  assert.equal(moveIndex("Home", 2, 3), 0);
  assert.equal(moveIndex("End", 0, 3), 2);
  assert.equal(moveIndex("ArrowLeft", 1, 3), -1);
  assert.equal(moveIndex("Enter", 1, 3), -1);
  assert.equal(moveIndex("ArrowDown", 0, 0), -1);
});

test("a grid 8 wide: Left and Right by one, Up and Down by a row, stopping at the edges", () => {
  assert.equal(moveIndex("ArrowRight", 0, 20, 8), 1);
  assert.equal(moveIndex("ArrowRight", 19, 20, 8), 19);
  assert.equal(moveIndex("ArrowLeft", 0, 20, 8), 0);
  assert.equal(moveIndex("ArrowDown", 3, 20, 8), 11);
  assert.equal(moveIndex("ArrowDown", 13, 20, 8), 13);
  assert.equal(moveIndex("ArrowUp", 11, 20, 8), 3);
  assert.equal(moveIndex("ArrowUp", 3, 20, 8), 3);
  assert.equal(moveIndex("End", 3, 20, 8), 19);
  assert.equal(moveIndex("ArrowDown", -1, 20, 8), 0);
});
