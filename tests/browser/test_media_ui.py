"""Media, stickers, mentions and forwarding in the chat UI, in a real browser.

Two or three users in their own browser contexts against a real Daphne (see
conftest.py). The SDK docs' examples (shared/spec, the 2023 ``chat.*`` doc and
the 2020 ``tim.*`` doc) are pasted into the console unchanged: they send to
``'user1'``, so that user is created for them.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import confirm_send_files, conversation_item, unique

pytestmark = pytest.mark.browser

# 2023 doc (chat.*), verbatim.
SEED_IMAGE_EXAMPLE = """
// Web 端发送图片消息示例1 - 传入 DOM 节点
// 1. 创建消息实例,接口返回的实例可以上屏
let message = chat.createImageMessage({
to: 'user1',
conversationType: TencentCloudChat.TYPES.CONV_C2C,
// 消息优先级,用于群聊
// priority: TencentCloudChat.TYPES.MSG_PRIORITY_NORMAL,
payload: {
file: document.getElementById('imagePicker'),
},
// 消息自定义数据(云端保存,会发送到对端,程序卸载重装后还能拉取到)
// cloudCustomData: 'your cloud custom data'
onProgress: function(event) { console.log('file uploading:', event) }
});

// 2. 发送消息
let promise = chat.sendMessage(message);
promise.then(function(imResponse) {
// 发送成功
console.log(imResponse);
}).catch(function(imError) {
// 发送失败
console.warn('sendMessage error:', imError);
});
"""

# 2020 doc (tim.*), verbatim.
SEED_FILE_EXAMPLE = """
// Web 端发送文件消息示例1 - 传入 DOM 节点
// 1. 创建文件消息实例,接口返回的实例可以上屏
let message = tim.createFileMessage({
  to: 'user1',
  conversationType: TIM.TYPES.CONV_C2C,
  // 消息优先级,用于群聊(v2.4.2起支持)。如果某个群的消息超过了频率限制,后台会优先下发高优先级的消息,详细请参考 消息优先级与频率控制
  // 支持的枚举值:TIM.TYPES.MSG_PRIORITY_HIGH, TIM.TYPES.MSG_PRIORITY_NORMAL(默认), TIM.TYPES.MSG_PRIORITY_LOW, TIM.TYPES.MSG_PRIORITY_LOWEST
  // priority: TIM.TYPES.MSG_PRIORITY_NORMAL,
  payload: {
    file: document.getElementById('filePicker'),
  },
  onProgress: function(event) { console.log('file uploading:', event) }
});
// 2. 发送消息
let promise = tim.sendMessage(message);
promise.then(function(imResponse) {
  // 发送成功
  console.log(imResponse);
}).catch(function(imError) {
  // 发送失败
  console.warn('sendMessage error:', imError);
});
"""

# 2023 doc (chat.*), verbatim.
SEED_DICE_EXAMPLE = """
// 示例:利用自定义消息实现投骰子功能
// 1. 定义随机函数
function random(min, max) {
return Math.floor(Math.random() * (max - min + 1) + min);
}
// 2. 创建消息实例,接口返回的实例可以上屏
let message = chat.createCustomMessage({
to: 'user1',
conversationType: TencentCloudChat.TYPES.CONV_C2C,
// 消息优先级,用于群聊
// priority: TencentCloudChat.TYPES.MSG_PRIORITY_HIGH,
payload: {
data: 'dice', // 用于标识该消息是骰子类型消息
description: String(random(1,6)), // 获取骰子点数
extension: ''
}
});
// 3. 发送消息
let promise = chat.sendMessage(message);
promise.then(function(imResponse) {
// 发送成功
console.log(imResponse);
}).catch(function(imError) {
// 发送失败
console.warn('sendMessage error:', imError);
});
"""

# 2023 doc (chat.*), verbatim.
SEED_FACE_EXAMPLE = """
// 发送表情消息,Web端与小程序端相同。
// 1. 创建消息实例,接口返回的实例可以上屏
let message = chat.createFaceMessage({
to: 'user1',
conversationType: TencentCloudChat.TYPES.CONV_C2C,
// 消息优先级,用于群聊
// priority: TencentCloudChat.TYPES.MSG_PRIORITY_NORMAL,
payload: {
index: 1, // Number 表情索引,用户自定义
data: 'tt00' // String 额外数据
},
// 消息自定义数据(云端保存,会发送到对端,程序卸载重装后还能拉取到)
// cloudCustomData: 'your cloud custom data'
});
// 2. 发送消息
let promise = chat.sendMessage(message);
promise.then(function(imResponse) {
// 发送成功
console.log(imResponse);
}).catch(function(imError) {
// 发送失败
console.warn('sendMessage error:', imError);
});
"""

# 2023 doc (chat.*), verbatim.
SEED_LOCATION_EXAMPLE = """
// 发送地理位置消息,Web 端与小程序端相同
// 1. 创建消息实例,接口返回的实例可以上屏
let message = chat.createLocationMessage({
to: 'user1',
conversationType: TencentCloudChat.TYPES.CONV_C2C,
// 消息优先级,用于群聊
// priority: TencentCloudChat.TYPES.MSG_PRIORITY_NORMAL,
payload: {
description: '深圳市深南大道10000号腾讯大厦',
longitude: 113.941079, // 经度
latitude: 22.546103 // 纬度
}
});
// 2. 发送消息
let promise = chat.sendMessage(message);
promise.then(function(imResponse) {
// 发送成功
console.log(imResponse);
}).catch(function(imError) {
// 发送失败
console.warn('sendMessage error:', imError);
});
"""


# 2020 doc (tim.*), "解析文本消息", verbatim: the UI renders emoji codes with this algorithm.
SEED_PARSE_TEXT_EXAMPLE = """
const emojiMap = {         // 根据[呲牙]可匹配的路径地址
  '[微笑]': 'emoji_0.png',
  '[呲牙]': 'emoji_1.png',
  '[下雨]': 'emoji_2.png'
}

const emojiUrl = 'http://xxxxxxxx/emoji/'   // 为<img src="https://main.qcloudimg.com/raw/6be88c30a4552b5eb93d8eec243b6593.png"  style="margin:0;">图片的地址

function parseText (payload) {
  let renderDom = []
  // 文本消息
    let temp = payload.text
    let left = -1
    let right = -1
    while (temp !== '') {
      left = temp.indexOf('[')
      right = temp.indexOf(']')
      switch (left) {
        case 0:
          if (right === -1) {
            renderDom.push({
              name: 'text',
              text: temp
            })
            temp = ''
          } else {
            let _emoji = temp.slice(0, right + 1)
            if (emojiMap[_emoji]) {    // 如果您需要渲染表情包,需要进行匹配您对应[呲牙]的表情包地址
              renderDom.push({
                name: 'img',
                src: emojiUrl + emojiMap[_emoji]
              })
              temp = temp.substring(right + 1)
            } else {
              renderDom.push({
                name: 'text',
                text: '['
              })
              temp = temp.slice(1)
            }
          }
          break
        case -1:
          renderDom.push({
            name: 'text',
            text: temp
          })
          temp = ''
          break
        default:
          renderDom.push({
            name: 'text',
            text: temp.slice(0, left)
          })
          temp = temp.substring(left)
          break
      }
    }
  return renderDom
}
"""


def bubbles(page, flow):
    return page.locator(f'[data-testid="message-bubble"][data-flow="{flow}"]')


def open_chat(page, conversation_id):
    """Open a conversation by its URL hash (the way a reload or a link does)."""
    page.evaluate("id => { window.location.hash = '#' + encodeURIComponent(id); }", conversation_id)
    expect(page.get_by_test_id("chat-pane")).to_be_visible()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=history-loading]')"
        " && document.querySelector('[data-testid=message-bubble], [data-testid=group-tip], [data-testid=history-start]')"
    )


def send_text(page, conversation_id, text):
    page.evaluate(
        """async ([id, text]) => {
            const group = id.startsWith('GROUP');
            const m = chat.createTextMessage({to: id.slice(group ? 5 : 3), conversationType: group ? 'GROUP' : 'C2C', payload: {text}});
            await chat.sendMessage(m);
        }""",
        [conversation_id, text],
    )


def save_png(path, width, height, color):
    from PIL import Image

    Image.new("RGB", (width, height), color).save(path)
    return str(path)


def expect_image_loaded(page, img):
    """The <img> has pixels, and its URL answers 200 to this user."""
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
    status = page.evaluate("async img => (await fetch(img.currentSrc || img.src)).status", img.element_handle())
    assert status == 200


HOLD_UPLOADS = "**/api/uploads/*/data*"


def test_image_by_picker_and_paste_with_progress_thumbnail_and_viewer(open_as, tmp_path):
    alice = open_as("alice")
    bob = open_as("bob")
    send_text(alice.page, "C2Cbob", unique("Photos from the offsite"))
    open_chat(alice.page, "C2Cbob")

    # The file picker: the bubble shows the upload's progress bar while the bytes are held back.
    held = []
    alice.page.route(HOLD_UPLOADS, lambda route: held.append(route))
    alice.page.get_by_test_id("file-input").set_input_files(save_png(tmp_path / "tall.png", 300, 600, (219, 102, 58)))
    confirm_send_files(alice.page)
    mine = bubbles(alice.page, "out").last
    expect(mine.get_by_test_id("upload-progress")).to_be_visible()
    expect(mine).to_have_attribute("data-status", "unSend")
    assert mine.locator(".media-frame").evaluate("f => f.style.aspectRatio").replace(" ", "") == "300/600"
    for _ in range(100):  # route handlers run while Playwright waits
        if held:
            break
        alice.page.wait_for_timeout(50)
    assert held, "the upload's PUT was not made"
    for route in held:
        route.continue_()
    alice.page.unroute(HOLD_UPLOADS)
    expect(mine).to_have_attribute("data-status", "success", timeout=20_000)
    expect(mine.get_by_test_id("upload-progress")).to_have_count(0)

    # Paste: a PNG built in the page. Its first upload fails; the bubble says so in red, Retry sends it.
    alice.page.route(HOLD_UPLOADS, lambda route: route.fulfill(status=500, body="storage down"))
    alice.page.evaluate(
        """async () => {
            const canvas = Object.assign(document.createElement('canvas'), {width: 640, height: 360});
            const g = canvas.getContext('2d');
            g.fillStyle = '#3a66db'; g.fillRect(0, 0, 640, 360);
            const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
            const data = new DataTransfer();
            data.items.add(new File([blob], 'screenshot.png', {type: 'image/png'}));
            const input = document.getElementById('composer-input');
            input.focus();
            input.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));
        }"""
    )
    confirm_send_files(alice.page)
    pasted = bubbles(alice.page, "out").last
    expect(pasted).to_have_attribute("data-status", "fail", timeout=20_000)
    failed = alice.page.get_by_test_id("send-failed").last
    expect(failed).to_contain_text("Not sent")
    expect(alice.page.get_by_test_id("error-toast").last).to_contain_text("couldn't be uploaded")
    alice.page.unroute(HOLD_UPLOADS)
    failed.get_by_test_id("resend-button").click()
    expect(pasted).to_have_attribute("data-status", "success", timeout=20_000)

    # Bob sees both thumbnails: boxes of the pictures' shapes before they load, served to him.
    item = conversation_item(bob.page, "C2Calice")
    expect(item.get_by_test_id("conversation-preview")).to_contain_text("[Image]")
    item.click()
    frames = bubbles(bob.page, "in").locator('[data-testid="image-thumb"]')
    expect(frames).to_have_count(2)
    assert frames.nth(0).evaluate("f => f.style.aspectRatio").replace(" ", "") == "300/600"
    assert frames.nth(1).evaluate("f => f.style.aspectRatio").replace(" ", "") == "640/360"
    for i in range(2):
        img = frames.nth(i).locator("img")
        assert "/thumb" in img.get_attribute("src")
        expect_image_loaded(bob.page, img)

    # A click opens the 720 px image in the viewer, with a link to the original; Esc closes it.
    frames.nth(1).click()
    viewer = bob.page.get_by_test_id("lightbox")
    expect(viewer).to_be_visible()
    big = bob.page.get_by_test_id("lightbox-image")
    assert big.get_attribute("src").endswith("/large")
    expect_image_loaded(bob.page, big)
    assert bob.page.evaluate("() => document.getElementById('lightbox-img').naturalWidth") == 640
    expect(bob.page.get_by_test_id("lightbox-original")).to_have_attribute("href", re.compile(r"/files/\w+/original$"))
    bob.page.keyboard.press("Escape")
    expect(viewer).not_to_be_visible()


def test_sdk_doc_examples_pasted_in_the_console_reach_user1(open_as, make_user, tmp_path):
    make_user("user1", "Umi")
    alice = open_as("alice")
    user1 = open_as("user1")

    # The examples read <input id="imagePicker"> and <input id="filePicker">: put them on the page first.
    alice.page.evaluate(
        """() => {
            for (const id of ['imagePicker', 'filePicker']) {
                const input = Object.assign(document.createElement('input'), {type: 'file', id});
                document.body.append(input);
            }
        }"""
    )
    alice.page.set_input_files("#imagePicker", save_png(tmp_path / "wide.png", 800, 400, (47, 158, 91)))
    notes = tmp_path / "meeting-notes.txt"
    notes.write_text(("Agenda: budget, launch date.\n" * 80)[:2048])
    alice.page.set_input_files("#filePicker", str(notes))
    for example in (SEED_IMAGE_EXAMPLE, SEED_FILE_EXAMPLE, SEED_DICE_EXAMPLE, SEED_FACE_EXAMPLE, SEED_LOCATION_EXAMPLE):
        alice.page.evaluate(example)
    logged = [m.args[0].json_value() for m in alice.console if m.type == "log" and len(m.args) == 1]
    responses = [r for r in logged if isinstance(r, dict) and "data" in r]
    assert [r["code"] for r in responses] == [0, 0, 0, 0, 0], logged
    assert not [m.text for m in alice.console if m.text.startswith("sendMessage error")]
    # The examples' onProgress printed fractions up to 1.
    progress = [m.args[1].json_value() for m in alice.console if m.type == "log" and m.text.startswith("file uploading:")]
    assert progress and progress[-1] == 1

    # The docs' parseText runs as it is too (it defines its own emojiMap; the page's are its own).
    parsed = alice.page.evaluate(SEED_PARSE_TEXT_EXAMPLE + "\nparseText({text: 'Hi [呲牙] and [nope] [下雨'})")
    assert parsed == [
        {"name": "text", "text": "Hi "},
        {"name": "img", "src": "http://xxxxxxxx/emoji/emoji_1.png"},
        {"name": "text", "text": " and "},
        {"name": "text", "text": "["},
        {"name": "text", "text": "nope] "},
        {"name": "text", "text": "[下雨"},
    ]

    item = conversation_item(user1.page, "C2Calice")
    expect(item.get_by_test_id("conversation-preview")).to_contain_text("[Location]")
    expect(item.get_by_test_id("unread-badge")).to_have_text("5")
    item.click()
    incoming = bubbles(user1.page, "in")
    expect(incoming).to_have_count(5)

    img = incoming.nth(0).locator('[data-testid="image-thumb"] img')
    expect_image_loaded(user1.page, img)
    assert incoming.nth(0).locator(".media-frame").evaluate("f => f.style.aspectRatio").replace(" ", "") == "800/400"

    card = incoming.nth(1).get_by_test_id("file-card")
    expect(card.get_by_test_id("file-name")).to_have_text("meeting-notes.txt")
    expect(card).to_contain_text("2.0 KB · Text")
    download = card.get_by_test_id("file-download")
    expect(download).to_have_attribute("href", re.compile(r"/files/\w+/original\?download=1$"))
    with user1.page.expect_download() as got:
        download.click()
    assert got.value.suggested_filename == "meeting-notes.txt"

    dice = incoming.nth(2).get_by_test_id("dice")
    expect(dice).to_have_attribute("title", re.compile(r"^Rolled a [1-6]$"))

    # Face index 1 (data 'tt00', not a sticker name) shows sticker number 1 of the set.
    sticker = incoming.nth(3).get_by_test_id("sticker")
    expect(sticker).to_have_attribute("data-name", "ok")
    expect_image_loaded(user1.page, sticker)

    location = incoming.nth(4).get_by_test_id("location-card")
    expect(location).to_contain_text("深圳市深南大道10000号腾讯大厦")
    expect(location.get_by_test_id("location-coords")).to_have_text("22.54610° N, 113.94108° E")
    expect(location).to_have_attribute("href", re.compile(r"^https://www\.openstreetmap\.org/\?mlat=22\.546103&mlon=113\.941079"))


def test_emoji_stickers_voice_and_location_from_the_composer(open_as, chat_site):
    alice = open_as("alice")
    carol = open_as("carol")
    send_text(alice.page, "C2Ccarol", unique("Quick test"))
    open_chat(alice.page, "C2Ccarol")
    composer = alice.page.get_by_test_id("composer-input")

    # An emoji from the picker goes into the text as its code; the peer sees it as a picture (the seed's parseText).
    composer.fill("Great news ")
    alice.page.get_by_test_id("emoji-button").click()
    alice.page.locator('[data-testid="emoji-item"][data-code="[呲牙]"]').click()
    expect(composer).to_have_value("Great news [呲牙]")
    composer.press("End")
    composer.type(" see you [下雨]")
    composer.press("Enter")

    # A sticker is a face message: {index, data: its name}.
    alice.page.get_by_test_id("emoji-button").click()
    alice.page.get_by_test_id("sticker-tab").click()
    alice.page.locator('[data-testid="sticker-item"][data-name="party"]').click()
    expect(alice.page.get_by_test_id("emoji-picker")).not_to_be_visible()
    expect(bubbles(alice.page, "out").last.get_by_test_id("sticker")).to_have_attribute("data-name", "party")

    # A voice message recorded with the microphone (a test tone stands in for it).
    alice.page.evaluate(
        """() => {
            navigator.mediaDevices.getUserMedia = async () => {
                const ctx = new AudioContext();
                const tone = ctx.createOscillator();
                const out = ctx.createMediaStreamDestination();
                tone.connect(out);
                tone.start();
                return out.stream;
            };
        }"""
    )
    alice.page.get_by_test_id("mic-button").click()
    expect(alice.page.get_by_test_id("recorder")).to_be_visible()
    expect(alice.page.get_by_test_id("recorder-time")).to_have_text("0:01", timeout=5000)
    alice.page.get_by_test_id("send-button").click()
    expect(alice.page.get_by_test_id("recorder")).not_to_be_visible()
    voice = bubbles(alice.page, "out").last
    expect(voice.get_by_test_id("voice-player")).to_be_visible()
    expect(voice).to_have_attribute("data-status", "success", timeout=20_000)

    # Share location: with the browser's position refused, the dialog asks for coordinates.
    alice.page.get_by_test_id("attach-button").click()
    alice.page.get_by_test_id("share-location-button").click()
    dialog = alice.page.get_by_test_id("location-dialog")
    expect(dialog.get_by_test_id("locate-status")).to_contain_text("Enter the coordinates")
    dialog.get_by_test_id("location-latitude").fill("91")
    dialog.get_by_test_id("location-longitude").fill("2.35")
    dialog.get_by_test_id("location-submit").click()
    expect(dialog).to_contain_text("latitude between -90 and 90")
    # ...and with it allowed, the position fills in.
    alice.page.context.grant_permissions(["geolocation"], origin=chat_site)
    alice.page.context.set_geolocation({"latitude": 48.858370, "longitude": 2.294481})
    dialog.get_by_test_id("locate-button").click()
    expect(dialog.get_by_test_id("location-latitude")).to_have_value("48.858370")
    expect(dialog.get_by_test_id("location-longitude")).to_have_value("2.294481")
    dialog.get_by_test_id("location-description").fill("Eiffel Tower, south pillar")
    dialog.get_by_test_id("location-submit").click()
    expect(dialog).not_to_be_visible()

    carol_item = conversation_item(carol.page, "C2Calice")
    expect(carol_item.get_by_test_id("conversation-preview")).to_contain_text("[Location] Eiffel Tower")
    carol_item.click()
    incoming = bubbles(carol.page, "in")
    text = incoming.filter(has_text="Great news")
    expect(text.locator("img.emoji")).to_have_count(2)
    assert text.locator("img.emoji").evaluate_all("imgs => imgs.map(i => i.alt)") == ["[呲牙]", "[下雨]"]
    assert text.locator(".msg-text").inner_text().startswith("Great news")
    expect_image_loaded(carol.page, text.locator("img.emoji").first)
    expect(incoming.get_by_test_id("sticker")).to_have_attribute("data-name", "party")
    expect(incoming.get_by_test_id("voice-duration")).to_have_text(re.compile(r"^0:0[1-3]$"))
    location = incoming.get_by_test_id("location-card")
    expect(location).to_contain_text("Eiffel Tower, south pillar")
    expect(location).to_have_attribute("href", re.compile(r"mlat=48\.85837&mlon=2\.294481"))


def test_mentions_in_a_group_flag_the_conversation_and_highlight(open_as):
    alice = open_as("alice")
    bob = open_as("bob")
    send_text(alice.page, "C2Cbob", unique("Hello"))
    conversation_item(bob.page, "C2Calice").click()  # Bob is elsewhere when the mention comes
    open_chat(alice.page, "GROUPdemo")
    composer = alice.page.get_by_test_id("composer-input")

    composer.type("@bo")
    options = alice.page.get_by_test_id("mention-option")
    expect(options.first).to_have_attribute("data-user-id", "bob")
    composer.press("Enter")
    expect(composer).to_have_value("@Bob ")
    note = unique("can you review the deck?")
    composer.type(note + " cc @")
    expect(options.first).to_have_attribute("data-user-id", "__kImSDK_MesssageAtALL__")
    composer.press("ArrowDown")
    composer.press("ArrowUp")
    composer.press("Tab")
    expect(composer).to_have_value(f"@Bob {note} cc @Everyone ")
    composer.press("Enter")
    expect(bubbles(alice.page, "out").filter(has_text=note)).to_have_attribute("data-status", "success")

    item = conversation_item(bob.page, "GROUPdemo")
    expect(item.get_by_test_id("at-flag")).to_have_text("[@me]")
    item.click()
    mention = bubbles(bob.page, "in").filter(has_text=note)
    expect(mention).to_have_class(re.compile(r"\bmentions-me\b"))
    expect(mention.locator('[data-testid="mention"].is-me')).to_have_text(["@Bob", "@Everyone"])
    expect(item.get_by_test_id("at-flag")).to_have_count(0)


def test_forward_one_and_merge_forward_open_at_the_peer(open_as):
    alice = open_as("alice")
    carol = open_as("carol")
    dave = open_as("dave")
    send_text(alice.page, "C2Ccarol", unique("Hi Carol"))
    lines = [unique(f"Plan step {i}") for i in range(3)]
    long_note = "Budget details: " + "figures " * 1200  # makes the merged list big enough to be stored apart
    for text in [*lines, long_note]:
        send_text(alice.page, "C2Cdave", text)
    open_chat(alice.page, "C2Cdave")

    # Forward one: the message menu, then a conversation and Send.
    bubbles(alice.page, "out").filter(has_text=lines[0]).click(button="right")
    alice.page.get_by_test_id("forward-message").click()
    picker = alice.page.get_by_test_id("forward-dialog")
    picker.locator('[data-testid="forward-target"][data-conversation-id="C2Ccarol"]').click()
    picker.get_by_test_id("forward-send").click()  # forwarding ticks one chat or several, then Send
    expect(picker).not_to_be_visible()
    expect(alice.page.get_by_test_id("toast").last).to_contain_text("Forwarded to Carol")

    # Select three more, merge them and send them to Carol.
    bubbles(alice.page, "out").filter(has_text=lines[1]).click(button="right")
    alice.page.get_by_test_id("select-message").click()
    bar = alice.page.get_by_test_id("select-bar")
    expect(bar.get_by_test_id("select-count")).to_have_text("1 selected")
    bubbles(alice.page, "out").filter(has_text=lines[2]).click()
    bubbles(alice.page, "out").filter(has_text="Budget details").click()
    expect(bar.get_by_test_id("select-count")).to_have_text("3 selected")
    bar.get_by_test_id("merge-forward-button").click()
    expect(picker).to_contain_text("Chat history of Alice and Dave (3 messages)")
    picker.get_by_test_id("forward-filter").fill("car")
    picker.get_by_test_id("forward-filter").press("Enter")
    expect(bar).not_to_be_visible()
    expect(alice.page.get_by_test_id("composer-input")).to_be_visible()

    item = conversation_item(carol.page, "C2Calice")
    expect(item.get_by_test_id("conversation-preview")).to_contain_text("[Chat history] Chat history of Alice and Dave")
    item.click()
    expect(bubbles(carol.page, "in").filter(has_text=lines[0])).to_be_visible()
    card = bubbles(carol.page, "in").last.get_by_test_id("merger-card")
    expect(card).to_contain_text("Chat history of Alice and Dave")
    expect(card.locator(".card-line")).to_have_text(
        [f"Alice: {lines[1]}", f"Alice: {lines[2]}", re.compile(r"^Alice: Budget details: figures")]
    )
    stored_apart = carol.page.evaluate(
        "async () => (await chat.getMessageList({conversationID: 'C2Calice'})).data.messageList.pop().payload.downloadKey"
    )
    assert stored_apart, "the merged list should be big enough to be stored apart (downloadKey)"
    card.click()
    viewer = carol.page.get_by_test_id("merger-dialog")
    expect(viewer).to_be_visible()
    entries = viewer.get_by_test_id("merger-item")
    expect(entries).to_have_count(3)  # fetched with downloadMergerMessage: the list was stored apart
    expect(entries.nth(0)).to_contain_text(lines[1])
    expect(entries.nth(2)).to_contain_text("Budget details")
    carol.page.keyboard.press("Escape")
    expect(viewer).not_to_be_visible()

    # Group tips can't be picked.
    send_text(dave.page, "GROUPdemo", unique("Morning all"))
    open_chat(dave.page, "GROUPdemo")
    dave.page.get_by_test_id("message-bubble").first.click(button="right")
    dave.page.get_by_test_id("select-message").click()
    expect(dave.page.get_by_test_id("group-tip").first).to_be_visible()
    assert dave.page.locator(".group-tip input, .group-tip [data-testid=message-checkbox]").count() == 0
    dave.page.keyboard.press("Escape")
    expect(dave.page.get_by_test_id("select-bar")).not_to_be_visible()
