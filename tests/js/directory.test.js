import assert from "node:assert/strict";
import { test } from "node:test";

import { birthdayToDate, changedFields, dateToBirthday, lastToken, moveActive, personLabel, replaceLastToken } from "../../static/chat/directory.js";

test("the last token is what the typeahead searches", () => {
  assert.equal(lastToken("car"), "car");
  assert.equal(lastToken("bob, car"), "car");
  assert.equal(lastToken("bob car"), "car");
  assert.equal(lastToken("bob, "), "");
  assert.equal(lastToken(""), "");
});

test("picking replaces the last token and leaves room for the next", () => {
  assert.equal(replaceLastToken("car", "carol"), "carol, ");
  assert.equal(replaceLastToken("bob, car", "carol"), "bob, carol, ");
  assert.equal(replaceLastToken("", "carol"), "carol, ");
});

test("arrows wrap around the options", () => {
  assert.equal(moveActive(-1, 1, 3), 0);
  assert.equal(moveActive(-1, -1, 3), 2);
  assert.equal(moveActive(2, 1, 3), 0);
  assert.equal(moveActive(0, -1, 3), 2);
  assert.equal(moveActive(0, 1, 0), -1);
});

test("birthdays go between YYYYMMDD and a date input", () => {
  assert.equal(birthdayToDate(19990412), "1999-04-12");
  assert.equal(birthdayToDate(0), "");
  assert.equal(birthdayToDate(12), "");
  assert.equal(dateToBirthday("1999-04-12"), 19990412);
  assert.equal(dateToBirthday(""), 0);
});

test("only changed fields are sent", () => {
  assert.deepEqual(changedFields({ nick: "A", location: "" }, { nick: "A", location: "Oslo", gender: undefined }), { location: "Oslo" });
});

test("a person is named by nick and ID", () => {
  assert.equal(personLabel({ userID: "carol", nick: "Carol" }), "Carol (@carol)");
  assert.equal(personLabel({ userID: "carol", nick: "" }), "@carol");
});
