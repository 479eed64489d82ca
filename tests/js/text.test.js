// static/chat/text.js: emoji codes and @mentions in message text.
import assert from "node:assert/strict";
import { test } from "node:test";

import { jumboEmoji, linkHref, mentionOptions, mentionQuery, mentionRules, mentionsViewer, parseText, pickedMentions, splitLinks, textSegments, typedMentions } from "../../static/chat/text.js";

const AT_ALL = "__kImSDK_MesssageAtALL__";
const emoji = { map: { "[呲牙]": "emoji_1.svg", "[下雨]": "emoji_2.svg", "[微笑]": "emoji_0.svg" }, url: "/e/" };
const names = { alice: "Alice", bob: "Bob", carol: "Carol Chen" };
const nameOf = (id) => names[id] || id;

test("parseText is the seed docs' parseText: codes in the map become images, the rest text", () => {
  assert.deepEqual(parseText({ text: "Hi [呲牙] and [nope] [下雨" }, emoji.map, emoji.url), [
    { name: "text", text: "Hi " },
    { name: "img", src: "/e/emoji_1.svg", code: "[呲牙]" },
    { name: "text", text: " and " },
    { name: "text", text: "[" },
    { name: "text", text: "nope] " },
    { name: "text", text: "[下雨" },
  ]);
  assert.deepEqual(parseText({ text: "" }, emoji.map, emoji.url), []);
  assert.deepEqual(parseText({ text: "[微笑][微笑]" }, emoji.map, emoji.url).map((p) => p.name), ["img", "img"]);
});

test("textSegments: emoji, mentions and the text between them, nothing lost", () => {
  const rules = [
    { token: "@Bob", me: true },
    { token: "@Alice", me: false },
  ];
  const segments = textSegments("[微笑] hi @Bob and @Alice[呲牙]!", emoji, rules);
  assert.deepEqual(segments, [
    { kind: "emoji", code: "[微笑]", src: "/e/emoji_0.svg" },
    { kind: "text", text: " hi " },
    { kind: "mention", text: "@Bob", me: true },
    { kind: "text", text: " and " },
    { kind: "mention", text: "@Alice", me: false },
    { kind: "emoji", code: "[呲牙]", src: "/e/emoji_1.svg" },
    { kind: "text", text: "!" },
  ]);
  // Mention tokens are plain text, not patterns; without rules the text stays whole.
  assert.deepEqual(textSegments("a (b) [x] c", emoji, [{ token: "@a.b", me: false }]), [{ kind: "text", text: "a (b) [x] c" }]);
  assert.deepEqual(textSegments("@a.b @axb", emoji, [{ token: "@a.b", me: false }]).map((s) => s.kind), ["mention", "text"]);
  assert.deepEqual(textSegments("no [rules] here", emoji), [{ kind: "text", text: "no [rules] here" }]);
});

test("jumboEmoji: one to three emoji and only spaces besides", () => {
  assert.equal(jumboEmoji("[微笑]", emoji).length, 1);
  assert.equal(jumboEmoji(" [微笑] [呲牙][下雨] ", emoji).length, 3);
  assert.equal(jumboEmoji("[微笑][微笑][微笑][微笑]", emoji), null);
  assert.equal(jumboEmoji("[微笑] ok", emoji), null);
  assert.equal(jumboEmoji("plain", emoji), null);
});

test("mentionRules: names and IDs of the mentioned, longest first; me only in others' messages", () => {
  const viewer = { userID: "bob", nick: "Bobby" };
  const fromAlice = { from: "alice", atUserList: ["bob", "carol"] };
  const rules = mentionRules(fromAlice, { viewer, nameOf, atAll: AT_ALL });
  assert.deepEqual(
    rules.map((r) => `${r.token}:${r.me}`),
    ["@Carol Chen:false", "@Bobby:true", "@carol:false", "@bob:true", "@Bob:true"],
  );
  const mine = mentionRules({ from: "bob", atUserList: [AT_ALL] }, { viewer, nameOf, atAll: AT_ALL });
  assert.ok(mine.length > 0 && mine.every((r) => !r.me));
  assert.ok(mine.some((r) => r.token === "@Everyone"));
  // atUserList may be on the payload (a stored message).
  assert.equal(mentionRules({ from: "alice", payload: { atUserList: ["carol"] } }, { viewer, nameOf, atAll: AT_ALL }).length, 2);
});

test("mentionsViewer: by ID or @all, never in my own messages", () => {
  assert.equal(mentionsViewer({ from: "alice", atUserList: ["bob"] }, "bob", AT_ALL), true);
  assert.equal(mentionsViewer({ from: "alice", payload: { atUserList: [AT_ALL] } }, "bob", AT_ALL), true);
  assert.equal(mentionsViewer({ from: "alice", atUserList: ["carol"] }, "bob", AT_ALL), false);
  assert.equal(mentionsViewer({ from: "bob", atUserList: ["bob"] }, "bob", AT_ALL), false);
});

test("pickedMentions keeps picks whose @label is still in the text, each user once", () => {
  const picks = [
    { userID: "bob", label: "Bob" },
    { userID: "carol", label: "Carol Chen" },
    { userID: "bob", label: "Bob" },
  ];
  assert.deepEqual(pickedMentions(picks, "@Bob and @Carol Chen"), ["bob", "carol"]);
  assert.deepEqual(pickedMentions(picks, "@Bob only"), ["bob"]);
  assert.deepEqual(pickedMentions(picks, "nobody"), []);
  assert.deepEqual(pickedMentions(undefined, "@Bob"), []);
});

test("mentionQuery finds the @word before the caret", () => {
  assert.deepEqual(mentionQuery("hi @bo"), { start: 3, query: "bo" });
  assert.deepEqual(mentionQuery("@"), { start: 0, query: "" });
  assert.deepEqual(mentionQuery("（@卡"), { start: 1, query: "卡" });
  assert.equal(mentionQuery("mail@example"), null);
  assert.equal(mentionQuery("hi @bob "), null);
});

test("mentionOptions: Everyone first, prefix matches before inner ones, never the viewer", () => {
  const members = [
    { userID: "alice", nick: "Alice" },
    { userID: "bob", nick: "Bob" },
    { userID: "dave", nick: "Dave Bobson" },
    { userID: "carol", nameCard: "Caro" },
  ];
  const all = mentionOptions(members, "", { viewerID: "alice", atAll: AT_ALL });
  assert.deepEqual(all.map((o) => o.userID), [AT_ALL, "bob", "carol", "dave"]);
  const bo = mentionOptions(members, "Bo", { viewerID: "alice", atAll: AT_ALL });
  assert.deepEqual(bo.map((o) => o.userID), ["bob", "dave"]);
  assert.equal(mentionOptions(members, "car", { viewerID: "alice", atAll: AT_ALL })[0].label, "Caro");
  assert.deepEqual(mentionOptions(members, "al", { viewerID: "alice", atAll: AT_ALL }).map((o) => o.userID), [AT_ALL]);
});

// --- links (issue 11 item 8) ---

const links = (text) => splitLinks(text).filter((s) => s.kind === "link").map((s) => [s.text, s.href]);

test("web addresses become links; the text around them stays text", () => {
  assert.deepEqual(splitLinks("see https://example.com/a?b=1&c=2#x now"), [
    { kind: "text", text: "see " },
    { kind: "link", text: "https://example.com/a?b=1&c=2#x", href: "https://example.com/a?b=1&c=2#x" },
    { kind: "text", text: " now" },
  ]);
  assert.deepEqual(links("http://localhost:8000/x and www.example.org"), [
    ["http://localhost:8000/x", "http://localhost:8000/x"],
    ["www.example.org", "https://www.example.org/"],
  ]);
  assert.deepEqual(splitLinks(""), []);
  assert.deepEqual(splitLinks("no links here"), [{ kind: "text", text: "no links here" }]);
});

test("sentence punctuation and an unpaired bracket after a link are not part of it", () => {
  assert.deepEqual(links("Read https://example.com/post."), [["https://example.com/post", "https://example.com/post"]]);
  assert.deepEqual(links("(see www.example.org/x)"), [["www.example.org/x", "https://www.example.org/x"]]);
  assert.deepEqual(links("https://en.wikipedia.org/wiki/Foo_(bar)), ok?"), [["https://en.wikipedia.org/wiki/Foo_(bar)", "https://en.wikipedia.org/wiki/Foo_(bar)"]]);
  assert.deepEqual(links("打开https://example.cn/路径。好的"), [["https://example.cn/路径", "https://example.cn/%E8%B7%AF%E5%BE%84"]]);
  assert.deepEqual(links("<https://a.example/c>"), [["https://a.example/c", "https://a.example/c"]]);
});

test("only http and https with a host, never javascript:, data: or credentials", () => {
  for (const text of ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "http://", "https:// x", "ftp://example.com", "http://user:pw@evil.example/", "vbscript:msgbox"]) {
    assert.deepEqual(links(text), [], text);
  }
  assert.equal(linkHref("javascript:alert(1)"), null);
  assert.equal(linkHref("https://example.com"), "https://example.com/");
  // A quote or angle bracket ends the link: nothing can close an attribute (and the UI sets href with setAttribute anyway).
  assert.deepEqual(links('https://a.example/"onmouseover=alert(1)'), [["https://a.example/", "https://a.example/"]]);
  assert.deepEqual(links("https://a.example/<img src=x>"), [["https://a.example/", "https://a.example/"]]);
});

test("links come before mentions, and only when asked for (bodies, not previews)", () => {
  const rules = mentionRules({ from: "bob", atUserList: ["alice"] }, { viewer: { userID: "alice", nick: "" }, nameOf, atAll: AT_ALL });
  const withLinks = textSegments("@Alice look https://x.example/@Alice [微笑]", emoji, rules, { links: true });
  assert.deepEqual(
    withLinks.map((s) => s.kind),
    ["mention", "text", "link", "text", "emoji"],
  );
  assert.equal(withLinks[2].text, "https://x.example/@Alice");
  const plain = textSegments("look https://x.example/", emoji, [], {});
  assert.deepEqual(plain, [{ kind: "text", text: "look https://x.example/" }]);
});

// --- "@name" typed by hand (issue 11 item 8) ---

test("an @name typed by hand names the member whose name, nick or ID it is", () => {
  const members = [
    { userID: "alice", nick: "Alice" },
    { userID: "bob", nick: "Bob" },
    { userID: "carol", nick: "Carol", nameCard: "Carol Chen" },
    { userID: "bobby", nick: "Bobby Tables" },
  ];
  const opts = { viewerID: "alice" };
  assert.deepEqual(typedMentions("@bob can you look?", members, opts), ["bob"]);
  assert.deepEqual(typedMentions("hi @Bob, and @Carol Chen: ok", members, opts), ["bob", "carol"]);
  assert.deepEqual(typedMentions("@Bobby Tables and @bobby", members, opts), ["bobby"]); // the longest name wins, each once
  assert.deepEqual(typedMentions("@Carol too", members, opts), ["carol"]);
  assert.deepEqual(typedMentions("thanks @bob.", members, opts), ["bob"]);
  // Not a mention: inside a word or an address, a longer word, the viewer, nobody by that name.
  assert.deepEqual(typedMentions("mail bob@bob.example", members, opts), []);
  assert.deepEqual(typedMentions("@bobcat @Bob_x @bob.x", members, opts), []);
  assert.deepEqual(typedMentions("@alice @Alice", members, opts), []);
  assert.deepEqual(typedMentions("@dave", members, opts), []);
  assert.deepEqual(typedMentions("@bob", [], opts), []);
  assert.deepEqual(typedMentions("@bob", undefined, opts), []);
  // After CJK punctuation and at the start of a line.
  assert.deepEqual(typedMentions("好的，@Bob\n@carol", members, opts), ["bob", "carol"]);
});
