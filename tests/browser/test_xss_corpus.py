"""An XSS corpus in Chromium (issue 9 item 4): classic payloads put by an attacker in
every user-controlled place the UI draws, then the victim's page loaded once and walked
through the places where they show.

Each place must show the payload as text: no dialog fires, the ``window.__xss`` canary
that the payloads set stays undefined, no element or attribute of a payload reaches the
DOM (an ``on*`` attribute, a ``javascript:`` link, a ``.xss-probe`` element, a script or
style other than the page's own), and the text the server stored is in the place's
``textContent``. The conftest fails the test on a Content-Security-Policy refusal too.

The attacker seeds through the SDK in their own page (the same path as a real client),
so the server's rules apply: a name is at most 30 bytes, bidi controls are dropped from
names, a file name is cleaned. What is checked on the victim's page is what the server
stored, as its replies said.
"""

import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.pages import conversation_item

pytestmark = pytest.mark.browser

CORPUS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1" class=xss-probe>',
    "<svg onload=window.__xss=1 class=xss-probe></svg>",
    "<svg><script>window.__xss=1</script></svg>",
    "javascript:window.__xss=1",
    '"><img src=x onerror=alert(1) class=xss-probe>',
    "'><script>alert(document.domain)</script>",
    "</script><script>window.__xss=1</script>",
    '<iframe src="javascript:top.__xss=1" class=xss-probe></iframe>',
    '{{constructor.constructor("window.__xss=1")()}}',
    "${window.__xss=1} #{7*7} <%= 7*7 %>",
    "[click me](javascript:window.__xss=1) **bold** _it_",
    "&lt;img src=x onerror=alert(1)&gt; &amp; &#60;script&#62; &#x3C;b&#x3E;",
    '<style>*{display:none}</style><div style="background:url(javascript:alert(1))" class=xss-probe>',
    '<a href="javascript:window.__xss=1" class=xss-probe>link</a>',
    "<details open ontoggle=window.__xss=1 class=xss-probe>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=1>",
    "<input autofocus onfocus=window.__xss=1 class=xss-probe>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)"><base href="javascript:/">',
    "data:text/html,<script>alert(1)</script>",
    "invoice\u202egnp.exe \u2066rtl\u2069 \u200fmark",
    "раураl.com аdmin gооgle.com",  # Cyrillic homoglyphs
    "<!--<img src=x onerror=window.__xss=1>-->",
    '"onmouseover="window.__xss=1" x="',
    "<x onclick=window.__xss=1 class=xss-probe>click</x>" + "A" * 3000,  # a very long string
    # Links are drawn as <a> in message bodies (issue 11 item 8): the payload around one stays text.
    'https://evil.example/"onmouseover="window.__xss=1"<img src=x onerror=window.__xss=1 class=xss-probe>',
    "www.evil.example/<svg onload=window.__xss=1 class=xss-probe> http://javascript:window.__xss=1@x",
]
# Payloads that fit the shortest fields (group name: 30 bytes; name card: 50).
SHORT = ["<img src=x onerror=alert(1)>", "<svg onload=alert(1)>", '"><script>alert(1)</script>']

# What would show that a payload became markup or ran, found by one walk of the DOM.
INERT = """
() => {
  const bad = [];
  const own = new URL(location.href).origin;
  for (const node of document.querySelectorAll("*")) {
    for (const attr of node.attributes) {
      if (/^on/i.test(attr.name)) bad.push(`${node.tagName} with ${attr.name}`);
      if (/^(href|src|action|formaction|xlink:href|srcdoc|data)$/i.test(attr.name) && /^\\s*(javascript|vbscript|data:text)/i.test(attr.value)) {
        bad.push(`${node.tagName} ${attr.name}=${attr.value.slice(0, 60)}`);
      }
    }
  }
  for (const a of document.querySelectorAll("a[target][href]")) {
    if (!/\\bnoopener\\b/.test(a.rel) || !/\\bnoreferrer\\b/.test(a.rel)) bad.push(`a link to a new tab without rel=noopener noreferrer: ${a.href}`);
    if (!/^https?:/.test(a.href) && !a.href.startsWith(own)) bad.push(`a link that is not http(s): ${a.href}`);
  }
  for (const script of document.querySelectorAll("script")) {
    const external = script.src && new URL(script.src).origin === own;
    // The page's own: its modules, the import map, and its json_script data (never run).
    const data = script.type === "application/json" && script.id && script.closest("head, body") && !script.closest("#app");
    if (!external && !data && script.type !== "importmap") bad.push(`a script: ${script.outerHTML.slice(0, 80)}`);
  }
  for (const node of document.querySelectorAll(".xss-probe, iframe, object, embed, base, meta[http-equiv], body style, mglyph, details, x")) {
    bad.push(`a ${node.tagName} element from a payload`);
  }
  return {bad, canary: typeof window.__xss, topCanary: typeof window.top.__xss};
}
"""

# The text of a part of the page as drawn: its text nodes, scripts and styles left out.
TEXT_OF = """
(selector) => {
  const parts = [];
  for (const root of document.querySelectorAll(selector)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const parent = walker.currentNode.parentElement;
      if (parent && !parent.closest("script, style, template")) parts.push(walker.currentNode.data);
    }
  }
  return parts.join("");
}
"""


def watch_dialogs(page):
    """Every dialog (alert, confirm, prompt) the page opens: recorded, then dismissed."""
    fired = []

    def on_dialog(dialog):
        fired.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return fired


def assert_inert(page, fired, where):
    found = page.evaluate(INERT)
    assert fired == [], f"{where}: a dialog fired: {fired}"
    assert found["canary"] == "undefined" and found["topCanary"] == "undefined", f"{where}: a payload ran"
    assert found["bad"] == [], f"{where}: payload markup in the DOM: {found['bad']}"


def assert_shown(page, selector, texts, where):
    """Each of ``texts`` is in the text drawn under ``selector`` (literally: as stored)."""
    shown = page.evaluate(TEXT_OF, selector)
    missing = [text[:80] for text in texts if text not in shown]
    assert not missing, f"{where}: not shown as text in {selector}: {missing}"


def new_id(prefix):
    return f"{prefix}{uuid.uuid4().hex[:6]}"


SEED_MESSAGES = """
async ([groupID, victim, corpus, short]) => {
  const GROUP = TIM.TYPES.CONV_GROUP;
  const stored = {};
  const send = async (message) => (await chat.sendMessage(message)).data.message;
  await chat.createGroup({type: TIM.TYPES.GRP_PUBLIC, name: 'XSS room', groupID, memberList: [{userID: victim}]});
  const texts = [];
  for (const text of corpus) {
    texts.push(await send(chat.createTextMessage({to: groupID, conversationType: GROUP, payload: {text}})));
  }
  stored.texts = texts.map((m) => m.payload.text);
  const at = await send(chat.createTextAtMessage({to: groupID, conversationType: GROUP,
    payload: {text: `@${victim} ${short[0]} ${corpus[1]}`, atUserList: [victim]}}));
  stored.mention = at.payload.text;
  const custom = await send(chat.createCustomMessage({to: groupID, conversationType: GROUP,
    payload: {data: corpus[0], description: corpus[1], extension: short[2]}}));
  stored.custom = [custom.payload.description, custom.payload.extension];
  const location = await send(chat.createLocationMessage({to: groupID, conversationType: GROUP,
    payload: {description: corpus[2], latitude: 52.52, longitude: 13.4}}));
  stored.location = location.payload.description;
  const file = await send(chat.createFileMessage({to: groupID, conversationType: GROUP,
    payload: {file: new File(["hello"], short[0] + ".txt", {type: "text/plain"})}}));
  stored.fileName = file.payload.fileName;
  const canvas = document.createElement("canvas");
  canvas.width = 40; canvas.height = 30;
  canvas.getContext("2d").fillRect(0, 0, 40, 30);
  const png = await new Promise((done) => canvas.toBlob(done, "image/png"));
  const image = await send(chat.createImageMessage({to: groupID, conversationType: GROUP,
    payload: {file: new File([png], short[1] + ".png", {type: "image/png"})}}));
  stored.imageID = image.ID;
  const merged = await send(chat.createMergerMessage({to: groupID, conversationType: GROUP, payload: {
    messageList: [texts[1], texts[2]], title: corpus[5], abstractList: [corpus[1], corpus[4], corpus[20]],
    compatibleText: corpus[0]}}));
  stored.merger = [merged.payload.title, ...merged.payload.abstractList];
  const forwarded = await send(chat.createForwardMessage({to: victim, conversationType: TIM.TYPES.CONV_C2C, payload: texts[3]}));
  stored.forwarded = forwarded.payload.text;
  const last = await send(chat.createTextMessage({to: victim, conversationType: TIM.TYPES.CONV_C2C, payload: {text: corpus[24]}}));
  stored.c2cPreview = last.payload.text;
  return stored;
}
"""


def test_messages_of_every_kind_render_as_text(open_as, make_user):
    """Text (and @mentions), custom data and description, a location, a file and an image
    named with payloads, a merged message's title and abstracts, a forward, and the
    conversation list's previews: one page load of the victim, every payload inert."""
    attacker, victim = new_id("xm"), new_id("xv")
    make_user(attacker, nick="Mallory")
    make_user(victim, nick="Victor")
    group_id = new_id("xss-")
    mallory = open_as(attacker)
    stored = mallory.page.evaluate(SEED_MESSAGES, [group_id, victim, CORPUS, SHORT])

    victor = open_as(victim)
    page = victor.page
    fired = watch_dialogs(page)
    # The conversation list: the previews of the group's and the C2C conversation.
    expect(conversation_item(page, f"GROUP{group_id}")).to_be_visible()
    expect(conversation_item(page, f"C2C{attacker}")).to_be_visible()
    assert_inert(page, fired, "the conversation list")
    assert_shown(page, f'[data-conversation-id="C2C{attacker}"]', [stored["c2cPreview"][:40]], "the C2C preview")

    conversation_item(page, f"C2C{attacker}").click()
    expect(page.locator('[data-testid="message-bubble"]').last).to_be_visible()
    assert_shown(page, '[data-testid="message-list"]', [stored["forwarded"], stored["c2cPreview"]], "the C2C history")

    conversation_item(page, f"GROUP{group_id}").click()
    expect(page.get_by_test_id("merger-card")).to_be_visible()
    expect(page.get_by_test_id("image-thumb-img")).to_be_visible()
    # History comes a page at a time: scroll up until the first payload is drawn.
    for _ in range(10):
        if page.evaluate(TEXT_OF, '[data-testid="message-list"]').count(stored["texts"][0]):
            break
        page.get_by_test_id("message-list").evaluate("list => { list.scrollTop = 0; }")
        page.wait_for_timeout(300)
    list_texts = [*stored["texts"], stored["mention"].split(" ", 1)[1], *stored["custom"], stored["location"]]
    assert_shown(page, '[data-testid="message-list"]', list_texts, "the group's history")
    assert_shown(page, '[data-testid="file-name"]', [stored["fileName"]], "the file card")
    assert_shown(page, '[data-testid="merger-card"]', stored["merger"][:2], "the merged message's card")
    assert_inert(page, fired, "the group's history")

    page.get_by_test_id("merger-card").click()
    dialog = page.get_by_test_id("merger-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_test_id("merger-item")).to_have_count(2)
    assert_shown(page, '[data-testid="merger-dialog"]', [stored["texts"][1], stored["texts"][2]], "the merged messages")
    assert_inert(page, fired, "the merged message's dialog")
    page.keyboard.press("Escape")

    page.get_by_test_id("image-thumb").click()
    expect(page.get_by_test_id("lightbox")).to_be_visible()
    assert_inert(page, fired, "the image viewer")


SEED_MALLORY = """
async ([groupID, victim, p]) => {
  const stored = {};
  const me = (await chat.updateMyProfile({nick: p.nick, selfSignature: p.signature, location: p.location})).data;
  Object.assign(stored, {nick: me.nick, signature: me.selfSignature, location: me.location});
  await chat.createGroup({type: TIM.TYPES.GRP_PUBLIC, name: p.groupName, groupID, introduction: p.introduction,
    notification: p.notification, memberList: [{userID: victim}]});
  await chat.updateGroupProfile({groupID, groupCustomField: [{key: "topic", value: p.custom}]});
  const card = (await chat.setGroupMemberNameCard({groupID, nameCard: p.nameCard})).data.member;
  stored.nameCard = card.nameCard;
  await chat.sendMessage(chat.createTextMessage({to: groupID, conversationType: TIM.TYPES.CONV_GROUP, payload: {text: "hello"}}));
  const group = (await chat.updateGroupProfile({groupID, name: p.newGroupName})).data.group;
  Object.assign(stored, {groupName: group.name, introduction: group.introduction, notification: group.notification});
  await chat.sendMessage(chat.createTextMessage({to: victim, conversationType: TIM.TYPES.CONV_C2C, payload: {text: "hi"}}));
  await chat.addFriend({to: victim, source: "AddSource_Type_Web", wording: p.wording});
  return stored;
}
"""

SEED_MAL2 = """
async ([doorID, victim, p]) => {
  const me = (await chat.updateMyProfile({nick: p.nick})).data;
  await chat.joinGroup({groupID: doorID, applyMessage: p.applyMessage});
  await chat.addFriend({to: victim, source: "AddSource_Type_Web", wording: p.wording});
  return {nick: me.nick};
}
"""


def test_names_profiles_requests_notices_and_search_render_as_text(open_as, make_user):
    """Nicks, a profile's signature and location, a friend remark, a group's name (and the
    tip that renames it), introduction and notification, a member's name card, a friend
    request's words, a join request's message, the system notices, the people search and
    the group directory: one page load of the victim, every payload inert."""
    attacker, attacker2, victim = new_id("xn"), new_id("xo"), new_id("xw")
    for user_id in (attacker, attacker2, victim):
        make_user(user_id, nick=user_id.title())
    group_id, door_id = new_id("xssg-"), new_id("xssd-")
    victor = open_as(victim)
    victor.page.evaluate(
        "async (groupID) => { await chat.createGroup({type: TIM.TYPES.GRP_PUBLIC, name: 'Door', groupID, joinOption: 'NeedPermission'}); }",
        door_id,
    )
    seeds = {
        "nick": CORPUS[1],
        "signature": CORPUS[13],
        "location": "<svg/onload=1>",
        "groupName": SHORT[0],
        "newGroupName": "\u202e" + SHORT[1],
        "introduction": CORPUS[13],
        "notification": CORPUS[16],
        "custom": CORPUS[0],
        "nameCard": '"><svg onload=window.__xss=1 class=xss-probe>',
        "wording": CORPUS[9],
    }
    stored = open_as(attacker).page.evaluate(SEED_MALLORY, [group_id, victim, seeds])
    stored2 = open_as(attacker2).page.evaluate(
        SEED_MAL2, [door_id, victim, {"nick": CORPUS[15], "applyMessage": CORPUS[7], "wording": CORPUS[6]}]
    )
    remark = victor.page.evaluate(
        "async ([userID, remark]) => { await chat.acceptFriendApplication({userID, remark, type: TIM.TYPES.SNS_APPLICATION_AGREE_AND_ADD});"
        " return (await chat.getFriendProfile({userIDList: [userID]})).data.friendList[0].remark; }",
        [attacker, CORPUS[2]],
    )
    assert remark == CORPUS[2]
    assert "\u202e" not in stored["groupName"], "bidi controls are dropped from group names"

    page = victor.page
    page.reload()
    victor.wait_ready()
    fired = watch_dialogs(page)
    expect(conversation_item(page, f"GROUP{group_id}")).to_be_visible()
    assert_inert(page, fired, "the conversation list")
    assert_shown(page, f'[data-conversation-id="GROUP{group_id}"]', [stored["groupName"]], "the group's list entry")
    assert_shown(page, f'[data-conversation-id="C2C{attacker}"]', [remark], "the remarked C2C entry")

    # The group: its name, the renaming tip, the name card on the message, the notification.
    conversation_item(page, f"GROUP{group_id}").click()
    expect(page.get_by_test_id("chat-name")).to_have_text(stored["groupName"])
    expect(page.get_by_test_id("message-list")).to_contain_text("hello")
    assert_shown(page, '[data-testid="message-list"]', [stored["groupName"], stored["nameCard"]], "the group's history")
    page.get_by_test_id("members-button").click()
    expect(page.locator(f'[data-testid="member-item"][data-user-id="{attacker}"]')).to_be_visible()
    assert_shown(page, '[data-testid="member-list"]', [stored["nameCard"]], "the member list")
    assert_shown(page, '[data-testid="group-notification"]', [stored["notification"]], "the group's notification")
    assert_inert(page, fired, "the group and its members")

    # The attacker's profile card, from the C2C header.
    conversation_item(page, f"C2C{attacker}").click()
    page.get_by_test_id("chat-title").click()
    card = page.get_by_test_id("profile-card")
    expect(card.get_by_test_id("profile-signature")).to_be_visible()
    assert_shown(page, '[data-testid="profile-card"]', [stored["signature"], stored["location"]], "the profile card")
    assert_inert(page, fired, "the profile card")
    page.keyboard.press("Escape")

    # Friend requests (words and nick), join requests (message and nick), system notices.
    page.get_by_test_id("contacts-button").click()
    page.get_by_test_id("contacts-tab-requests").click()
    requests = page.get_by_test_id("friend-request-list")
    expect(requests).to_contain_text(CORPUS[6][:20])
    assert_shown(page, '[data-testid="friend-request-list"]', [CORPUS[6], stored2["nick"]], "the friend requests")
    assert_inert(page, fired, "the friend requests")
    page.keyboard.press("Escape")
    page.get_by_test_id("requests-button").click()
    item = page.locator(f'[data-testid="request-item"][data-group-id="{door_id}"]')
    expect(item).to_be_visible()
    assert_shown(page, '[data-testid="requests-dialog"]', [CORPUS[7], stored2["nick"]], "the join requests")
    assert_inert(page, fired, "the join requests")
    page.keyboard.press("Escape")
    conversation_item(page, "@TIM#SYSTEM").click()
    expect(page.locator('[data-testid="message-list"]')).to_contain_text("Door")
    assert_shown(page, '[data-testid="message-list"]', [stored2["nick"]], "the system notices")
    assert_inert(page, fired, "the system notices")

    # The people search (typeahead) and the group directory.
    page.get_by_test_id("new-menu-button").click()
    page.get_by_test_id("new-chat-button").click()
    page.get_by_test_id("new-chat-input").press_sequentially(attacker, delay=20)
    option = page.locator(f'[data-testid="typeahead-option"][data-user-id="{attacker}"]')
    expect(option).to_be_visible()
    assert_shown(page, f'[data-testid="typeahead-option"][data-user-id="{attacker}"]', [stored["nick"]], "the people search")
    assert_inert(page, fired, "the people search")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.get_by_test_id("new-menu-button").click()
    page.get_by_test_id("browse-groups-button").click()
    entry = page.locator(f'[data-testid="browse-group"][data-group-id="{group_id}"]')
    expect(entry).to_be_visible()
    assert_shown(page, f'[data-testid="browse-group"][data-group-id="{group_id}"]', [stored["groupName"]], "the group directory")
    assert_inert(page, fired, "the group directory")
