// static/chat/tim.js, the SDK, loaded alone (as vendor code loads it) with a fake
// WebSocket: the globals, the server's rules from hello, the conversation patches the
// server pushes merged into the list, and messages delivered twice emitted once.
import assert from "node:assert/strict";
import { test } from "node:test";
import { RULES, conversation, lastRequest, listed, loadSDK, loggedIn, plain, push, reply, settle } from "./sdk-harness.js";

test("tim.js alone defines TIM and TencentCloudChat, one instance per page", () => {
  const { TIM, window } = loadSDK();
  assert.equal(window.TencentCloudChat, TIM);
  assert.equal(TIM.TYPES.CONV_GROUP, "GROUP");
  assert.equal(TIM.EVENT.MESSAGE_RECEIVED, "onMessageReceived");
  assert.equal(TIM.create({ SDKAppID: 1 }), TIM.create({ SDKAppID: 2 }));
});

test("getServerRules returns what the server said in hello", async () => {
  const { chat } = await loggedIn();
  assert.deepEqual(plain(chat.getServerRules()), RULES);
});

test("conversation patches update fields and keep the others; the list stays sorted, pinned first", async () => {
  const { socket, events } = await loggedIn([
    conversation("C2Cbob", 300, { userProfile: { userID: "bob", nick: "Bob" } }),
    conversation("C2Ccarol", 200),
    conversation("GROUPdemo", 100),
  ]);
  assert.deepEqual(listed(events), ["C2Cbob", "C2Ccarol", "GROUPdemo"]);

  push(socket, { event: "CONVERSATION_LIST_UPDATED", data: [{ conversationID: "C2Ccarol", unreadCount: 2, lastMessage: { lastTime: 400, lastSequence: 9, messageForShow: "new" } }] });
  assert.deepEqual(listed(events), ["C2Ccarol", "C2Cbob", "GROUPdemo"]);
  const carol = events.onConversationListUpdated.at(-1)[0];
  assert.equal(carol.unreadCount, 2);
  assert.equal(carol.lastMessage.messageForShow, "new");
  assert.equal(carol.type, "C2C");

  push(socket, { event: "CONVERSATION_LIST_UPDATED", data: [{ conversationID: "GROUPdemo", isPinned: true }] });
  assert.deepEqual(listed(events), ["GROUPdemo", "C2Ccarol", "C2Cbob"]);
  assert.equal(events.onConversationListUpdated.at(-1)[2].userProfile.nick, "Bob");
});

test("a mention is added to groupAtInfoList; a deleted conversation leaves the list", async () => {
  const { socket, events } = await loggedIn([conversation("GROUPdemo", 100), conversation("C2Cbob", 50)]);
  const at = { messageSequence: 7, atType: 1 };
  push(socket, { event: "CONVERSATION_LIST_UPDATED", data: [{ conversationID: "GROUPdemo", groupAtInfoAdded: at }] });
  push(socket, { event: "CONVERSATION_LIST_UPDATED", data: [{ conversationID: "GROUPdemo", groupAtInfoAdded: { messageSequence: 8, atType: 2 } }] });
  const demo = events.onConversationListUpdated.at(-1)[0];
  assert.deepEqual(demo.groupAtInfoList, [at, { messageSequence: 8, atType: 2 }]);
  assert.equal(demo.groupAtInfoAdded, undefined);

  push(socket, { event: "CONVERSATION_LIST_UPDATED", data: [{ conversationID: "C2Cbob", deleted: true }] });
  assert.deepEqual(listed(events), ["GROUPdemo"]);
});

test("a new message in a conversation the list lacks fetches it; a read of one does not", async () => {
  const { socket, events } = await loggedIn([conversation("C2Cbob", 50)]);
  push(socket, { event: "CONVERSATION_LIST_UPDATED", data: [{ conversationID: "C2Cdave", unreadCount: 0 }] });
  assert.equal(lastRequest(socket, "getConversationProfile"), undefined);

  push(socket, { event: "CONVERSATION_LIST_UPDATED", data: [{ conversationID: "C2Cdave", unreadCount: 1, lastMessage: { lastTime: 90 } }] });
  const asked = lastRequest(socket, "getConversationProfile");
  assert.deepEqual(plain(asked.args), { conversationID: "C2Cdave" });
  reply(socket, asked, { conversation: conversation("C2Cdave", 90, { unreadCount: 1 }) });
  await settle();
  assert.deepEqual(listed(events), ["C2Cdave", "C2Cbob"]);
});

test("a message delivered twice (a push and a sync) is emitted once", async () => {
  const { socket, events } = await loggedIn([conversation("C2Cbob", 50)]);
  const message = { ID: "bob-1-1", conversationID: "C2Cbob", sequence: 51, from: "bob", flow: "in", type: "TIMTextElem", payload: { text: "hi" } };
  push(socket, { event: "MESSAGE_RECEIVED", data: [message] });
  push(socket, { event: "MESSAGE_RECEIVED", data: [message, { ...message, ID: "bob-1-2", sequence: 52 }] });
  assert.deepEqual(
    events.onMessageReceived.map((batch) => batch.map((m) => m.ID)),
    [["bob-1-1"], ["bob-1-2"]],
  );
  // The same ID in another conversation is another message.
  push(socket, { event: "MESSAGE_RECEIVED", data: [{ ...message, conversationID: "GROUPdemo" }] });
  assert.equal(events.onMessageReceived.length, 3);
});

test("revokeMessage sends the message's ID and conversation and resolves with that message marked recalled", async () => {
  const { chat, socket, events } = await loggedIn([conversation("C2Cbob", 50)]);
  const page = chat.getMessageList({ conversationID: "C2Cbob" });
  const sent = { ID: "alice-1-1", conversationID: "C2Cbob", sequence: 50, time: 50, from: "alice", flow: "out", type: "TIMTextElem", payload: { text: "oops" }, isRevoked: false };
  reply(socket, lastRequest(socket, "getMessageList"), { messageList: [sent], nextReqMessageID: "", isCompleted: true });
  const [held] = (await page).data.messageList;
  socket.sent.length = 0;
  const pending = chat.revokeMessage(held);
  const request = lastRequest(socket, "revokeMessage");
  assert.deepEqual(plain(request.args), { message: { ID: "alice-1-1", conversationID: "C2Cbob" } });
  const recalled = { ...sent, payload: {}, isRevoked: true, revoker: "alice", revokerInfo: { userID: "alice", nick: "Alice", avatar: "" }, messageForShow: "Alice recalled a message" };
  reply(socket, request, { message: recalled });
  const result = await pending;
  assert.equal(result.code, 0);
  assert.equal(result.data.message, held, "the same Message object");
  assert.equal(held.isRevoked, true);
  assert.deepEqual(plain(held.payload), {});
  assert.equal(events.onMessageRevoked, undefined, "the revoker's own instance gets the promise, not the event");
});

test("revokeMessage rejects with the server's code", async () => {
  const { chat, socket } = await loggedIn([conversation("C2Cbob", 50)]);
  const pending = chat.revokeMessage({ ID: "alice-1-1", conversationID: "C2Cbob" });
  const request = lastRequest(socket, "revokeMessage");
  push(socket, { id: request.id, ok: false, code: 20016, message: "the time to recall this message has passed" });
  await assert.rejects(pending, (error) => error.code === 20016);
});

test("reportMessage sends the message's ID, conversation, reason and words, and resolves the server's reply", async () => {
  const { chat, socket } = await loggedIn([conversation("C2Cbob", 50)]);
  const message = { ID: "bob-1-1", conversationID: "C2Cbob", from: "bob", payload: { text: "spam" } };
  const pending = chat.reportMessage({ message, reason: "spam", description: "selling things" });
  const request = lastRequest(socket, "reportMessage");
  assert.deepEqual(plain(request.args), { message: { ID: "bob-1-1", conversationID: "C2Cbob" }, reason: "spam", description: "selling things" });
  const report = { reportID: "4", messageID: "bob-1-1", conversationID: "C2Cbob", reason: "spam", description: "selling things", status: "open", time: 50 };
  reply(socket, request, { report, isUpdate: false });
  const result = await pending;
  assert.equal(result.code, 0);
  assert.deepEqual(plain(result.data), { report, isUpdate: false });

  const bare = chat.reportMessage({ message, reason: "other" });
  assert.deepEqual(plain(lastRequest(socket, "reportMessage").args), { message: { ID: "bob-1-1", conversationID: "C2Cbob" }, reason: "other" });
  push(socket, { id: lastRequest(socket, "reportMessage").id, ok: false, code: 10006, message: "at most 20 reports an hour" });
  await assert.rejects(bare, (error) => error.code === 10006);
  await assert.rejects(chat.reportMessage({ reason: "spam" }), (error) => error.code === 2105);
});

test("MESSAGE_REVOKED marks the held message, merges the patch, drops the @-flag and emits the messages", async () => {
  const at = { messageID: "bob-1-1", messageSequence: 51, atType: 1 };
  const { socket, events, chat } = await loggedIn([conversation("GROUPdemo", 50, { unreadCount: 1, groupAtInfoList: [at] })]);
  const received = [];
  chat.on("onMessageReceived", (e) => received.push(...e.data));
  const message = { ID: "bob-1-1", conversationID: "GROUPdemo", sequence: 51, from: "bob", flow: "in", type: "TIMTextElem", payload: { text: "@alice hi" }, isRevoked: false };
  push(socket, { event: "MESSAGE_RECEIVED", data: [message] });
  const recalled = { ...message, payload: {}, isRevoked: true, revoker: "bob", messageForShow: "Bob recalled a message" };
  push(socket, {
    event: "MESSAGE_REVOKED",
    data: [recalled],
    conversation: { conversationID: "GROUPdemo", type: "GROUP", lastMessage: { lastTime: 51, isRevoked: true, messageForShow: "Bob recalled a message" }, unreadCount: 0, groupAtInfoRemoved: { messageID: "bob-1-1", groupID: "demo" } },
    totalUnreadCount: 0,
  });
  assert.equal(received[0].isRevoked, true, "the object the application holds is marked");
  assert.deepEqual(events.onMessageRevoked.map((batch) => batch.map((m) => [m.ID, m.isRevoked, m.revoker])), [[["bob-1-1", true, "bob"]]]);
  const demo = events.onConversationListUpdated.at(-1)[0];
  assert.equal(demo.unreadCount, 0);
  assert.deepEqual(plain(demo.groupAtInfoList), []);
  assert.equal(demo.groupAtInfoRemoved, undefined);
  assert.equal(demo.lastMessage.messageForShow, "Bob recalled a message");
  assert.deepEqual(events.onTotalUnreadMessageCountUpdated.at(-1), 0);
});

test("the send options go over the wire in the SDK's shape: receiverList on the message, options as given", async () => {
  const { chat, socket } = await loggedIn([conversation("GROUPdemo", 50)]);
  const message = chat.createTextMessage({ to: "demo", conversationType: "GROUP", payload: { text: "psst" }, receiverList: ["bob"] });
  assert.deepEqual(plain(message.receiverList), ["bob"]);
  const options = { messageControlInfo: { excludedFromUnreadCount: true } };
  const pending = chat.sendMessage(message, options);
  await settle();
  const request = lastRequest(socket, "sendMessage");
  assert.deepEqual(plain(request.args.message.receiverList), ["bob"]);
  assert.deepEqual(plain(request.args.options), options);
  reply(socket, request, { message: { ...request.args.message, sequence: 51, time: 51, flow: "out", conversationID: "GROUPdemo" } });
  assert.equal((await pending).code, 0);
  const plainMessage = chat.createTextMessage({ to: "demo", conversationType: "GROUP", payload: { text: "all" } });
  assert.equal(plainMessage.receiverList, undefined);
});

test("an onlineUserOnly or excludedFromLastMessage send resolves without becoming the conversation's lastMessage", async () => {
  for (const options of [{ onlineUserOnly: true }, { messageControlInfo: { excludedFromLastMessage: true } }]) {
    const { chat, socket, events } = await loggedIn([conversation("C2Cbob", 50)]);
    const message = chat.createCustomMessage({ to: "bob", conversationType: "C2C", payload: { data: "typing" } });
    const pending = chat.sendMessage(message, options);
    await settle();
    const request = lastRequest(socket, "sendMessage");
    reply(socket, request, { message: { ...request.args.message, sequence: 0, time: 99, flow: "out", conversationID: "C2Cbob", status: "success" } });
    const result = await pending;
    assert.equal(result.data.message.status, "success");
    assert.equal(events.onConversationListUpdated.at(-1)[0].lastMessage.lastTime, 50, JSON.stringify(options));
  }
});

test("an onlineUserOnly message arriving (no conversation patch) fires MESSAGE_RECEIVED and changes no conversation", async () => {
  const { socket, events } = await loggedIn([conversation("C2Cbob", 50, { unreadCount: 2 })]);
  const before = plain(events.onConversationListUpdated.at(-1));
  const typing = { ID: "bob-9-9", conversationID: "C2Cbob", sequence: 0, from: "bob", flow: "in", type: "TIMCustomElem", payload: { data: "typing" } };
  push(socket, { event: "MESSAGE_RECEIVED", data: [typing] });
  assert.deepEqual(events.onMessageReceived.at(-1).map((m) => m.ID), ["bob-9-9"]);
  assert.deepEqual(plain(events.onConversationListUpdated.at(-1)), before);
  assert.equal(events.onConversationListUpdated.at(-1)[0].unreadCount, 2);
});

test("read receipts: needReadReceipt goes over the wire, the calls send refs, and the event sets held messages' info", async () => {
  const { chat, socket, events, TIM } = await loggedIn([conversation("GROUPg1", 1)]);
  const message = chat.createTextMessage({ to: "g1", conversationType: TIM.TYPES.CONV_GROUP, payload: { text: "read?" }, needReadReceipt: true });
  const sending = chat.sendMessage(message);
  await settle();
  const send = lastRequest(socket, "sendMessage");
  assert.equal(send.args.message.needReadReceipt, true);
  reply(socket, send, { message: { ...plain(send.args.message), conversationID: "GROUPg1", flow: "out", sequence: 2, needReadReceipt: true } });
  await sending;

  const listing = chat.getMessageReadReceiptList([message]);
  const list = lastRequest(socket, "getMessageReadReceiptList");
  assert.deepEqual(list.args, { messageList: [{ ID: message.ID, conversationID: "GROUPg1" }] });
  const info = { readCount: 0, unreadCount: 3, isPeerRead: false, timestamp: 0 };
  reply(socket, list, { messageList: [{ ID: message.ID, conversationID: "GROUPg1", readReceiptInfo: info }] });
  const filled = await listing;
  assert.equal(filled.data.messageList[0], message);
  assert.deepEqual(plain(message.readReceiptInfo), info);

  const item = { conversationID: "GROUPg1", groupID: "g1", userID: "", messageID: message.ID, readCount: 2, unreadCount: 1, isPeerRead: false, timestamp: 0 };
  push(socket, { event: "MESSAGE_READ_RECEIPT_RECEIVED", data: [item] });
  assert.deepEqual(plain(message.readReceiptInfo), { readCount: 2, unreadCount: 1, isPeerRead: false, timestamp: 0 });
  assert.deepEqual(events[TIM.EVENT.MESSAGE_READ_RECEIPT_RECEIVED], [[item]]);

  const receipt = chat.sendMessageReadReceipt([message]);
  reply(socket, lastRequest(socket, "sendMessageReadReceipt"), {});
  assert.equal((await receipt).code, 0);
  const members = chat.getGroupMessageReadMemberList({ message, filter: 1, cursor: "", count: 50 });
  const page = lastRequest(socket, "getGroupMessageReadMemberList");
  assert.deepEqual(page.args, { message: { ID: message.ID, conversationID: "GROUPg1" }, filter: 1, count: 50 });
  reply(socket, page, { isCompleted: true, cursor: "", messageID: message.ID, unreadUserIDList: ["dave"] });
  assert.deepEqual(plain((await members).data.unreadUserIDList), ["dave"]);
  await assert.rejects(chat.sendMessageReadReceipt([]), { code: 10004 });
});

test("group administration: updateGroupProfile, setGroupMemberRole and setGroupMemberMuteTime send the SDK's fields and resolve {code: 0, data}", async () => {
  const { chat, socket } = await loggedIn([conversation("GROUPg1", 1)]);
  const group = { groupID: "g1", name: "Launch", muteAllMembers: true };
  const updating = chat.updateGroupProfile({ groupID: "g1", name: "Launch", muteAllMembers: true });
  const update = lastRequest(socket, "updateGroupProfile");
  assert.deepEqual(plain(update.args), { groupID: "g1", name: "Launch", muteAllMembers: true });
  reply(socket, update, { group });
  const updated = await updating;
  assert.equal(updated.code, 0);
  assert.deepEqual(plain(updated.data.group), group);

  const member = { userID: "bob", role: "Admin", muteUntil: 0 };
  const appointing = chat.setGroupMemberRole({ groupID: "g1", userID: "bob", role: "Admin" });
  const role = lastRequest(socket, "setGroupMemberRole");
  assert.deepEqual(plain(role.args), { groupID: "g1", userID: "bob", role: "Admin" });
  reply(socket, role, { group, member });
  assert.deepEqual(plain((await appointing).data.member), member);

  const muting = chat.setGroupMemberMuteTime({ groupID: "g1", userID: "bob", muteTime: 0 });
  const mute = lastRequest(socket, "setGroupMemberMuteTime");
  assert.deepEqual(plain(mute.args), { groupID: "g1", userID: "bob", muteTime: 0 });
  push(socket, { id: mute.id, ok: false, code: 10007, message: "only the owner or an admin may mute members" });
  await assert.rejects(muting, (error) => error.code === 10007);
});

test("changeGroupOwner and dismissGroup send the SDK's arguments and resolve {code: 0, data}", async () => {
  const { chat, socket } = await loggedIn([conversation("GROUPg1", 1)]);
  const changing = chat.changeGroupOwner({ groupID: "g1", newOwnerID: "bob" });
  const change = lastRequest(socket, "changeGroupOwner");
  assert.deepEqual(plain(change.args), { groupID: "g1", newOwnerID: "bob" });
  reply(socket, change, { group: { groupID: "g1", ownerID: "bob" } });
  assert.equal((await changing).data.group.ownerID, "bob");

  const dismissing = chat.dismissGroup("g1");
  const dismiss = lastRequest(socket, "dismissGroup");
  assert.deepEqual(plain(dismiss.args), { groupID: "g1" });
  reply(socket, dismiss, { groupID: "g1" });
  const dismissed = await dismissing;
  assert.equal(dismissed.code, 0);
  assert.equal(dismissed.data.groupID, "g1");
});

test("setGroupMemberNameCard sends the SDK's arguments; a name-card tip updates the held messages of that member", async () => {
  const { TIM, chat, socket } = await loggedIn([conversation("GROUPg1", 1)]);
  const received = []; // the SDK's own message objects (the harness records copies)
  chat.on(TIM.EVENT.MESSAGE_RECEIVED, (e) => received.push(...e.data));
  const setting = chat.setGroupMemberNameCard({ groupID: "g1", nameCard: "Me" });
  const set = lastRequest(socket, "setGroupMemberNameCard");
  assert.deepEqual(plain(set.args), { groupID: "g1", nameCard: "Me" });
  reply(socket, set, { group: { groupID: "g1" }, member: { userID: "alice", nameCard: "Me" } });
  assert.equal((await setting).data.member.nameCard, "Me");
  const other = chat.setGroupMemberNameCard({ groupID: "g1", userID: "bob", nameCard: "B" });
  const setOther = lastRequest(socket, "setGroupMemberNameCard");
  assert.deepEqual(plain(setOther.args), { groupID: "g1", nameCard: "B", userID: "bob" });
  push(socket, { id: setOther.id, ok: false, code: 10007, message: "not allowed" });
  await assert.rejects(other, (error) => error.code === 10007);

  const base = { conversationID: "GROUPg1", conversationType: "GROUP", to: "g1", flow: "in" };
  push(socket, { event: "MESSAGE_RECEIVED", data: [{ ...base, ID: "m2", sequence: 2, from: "bob", nameCard: "Bobby", type: "TIMTextElem", payload: { text: "hi" } }, { ...base, ID: "m3", sequence: 3, from: "carol", nameCard: "", type: "TIMTextElem", payload: { text: "yo" } }] });
  push(socket, { event: "MESSAGE_RECEIVED", data: [{ ...base, ID: "t4", sequence: 4, from: "alice", type: "TIMGroupTipElem", payload: { operationType: 7, memberList: [{ userID: "bob", nameCard: "Bob B" }] } }] });
  const [bobs, carols] = received;
  assert.deepEqual([bobs.nameCard, carols.nameCard], ["Bob B", ""]);
});

test("getGroupMemberProfile sends the SDK's arguments and resolves {memberList}", async () => {
  const { chat, socket } = await loggedIn([conversation("GROUPg1", 1)]);
  const asking = chat.getGroupMemberProfile({ groupID: "g1", userIDList: ["bob"] });
  const ask = lastRequest(socket, "getGroupMemberProfile");
  assert.deepEqual(plain(ask.args), { groupID: "g1", userIDList: ["bob"] });
  reply(socket, ask, { memberList: [{ userID: "bob", nameCard: "B" }] });
  assert.deepEqual(plain((await asking).data.memberList), [{ userID: "bob", nameCard: "B" }]);
});

test("searchGroupByID takes the groupID as the vendor's does and resolves {group}", async () => {
  const { chat, socket } = await loggedIn([conversation("GROUPg1", 1)]);
  const searching = chat.searchGroupByID("g9");
  const search = lastRequest(socket, "searchGroupByID");
  assert.deepEqual(plain(search.args), { groupID: "g9" });
  reply(socket, search, { group: { groupID: "g9", type: "Public" } });
  assert.equal((await searching).data.group.type, "Public");
});

test("a membership tip's memberCount updates the held group list and fires GROUP_LIST_UPDATED; an older tip does not", async () => {
  const { chat, socket, events } = await loggedIn([conversation("GROUPg1", 4)]);
  const listing = chat.getGroupList();
  reply(socket, lastRequest(socket, "getGroupList"), { groupList: [{ groupID: "g1", memberCount: 3, nextMessageSeq: 5 }] });
  await listing;
  const tip = (sequence, memberCount) => ({ ID: `t-${sequence}`, conversationID: "GROUPg1", conversationType: "GROUP", to: "g1", sequence, from: "dave", flow: "in", type: "TIMGroupTipElem", payload: { operationType: 1, memberCount } });

  push(socket, { event: "MESSAGE_RECEIVED", data: [tip(5, 4)] });
  assert.deepEqual(events.onGroupListUpdated.at(-1), [{ groupID: "g1", memberCount: 4, nextMessageSeq: 6 }]);

  push(socket, { event: "MESSAGE_RECEIVED", data: [tip(4, 9)] });
  assert.equal(events.onGroupListUpdated.length, 1, "a tip the list already counts changes nothing");
});

test("join applications: joinGroup sends applyMessage, handleGroupApplication sends the notice's ID, the list op", async () => {
  const { chat, socket } = await loggedIn();
  const joining = chat.joinGroup({ groupID: "g1", applyMessage: "let me in", type: "Public" });
  const join = lastRequest(socket, "joinGroup");
  assert.deepEqual(join.args, { groupID: "g1", applyMessage: "let me in" });
  reply(socket, join, { status: "WaitAdminApproval", group: { groupID: "g1" } });
  const joined = await joining;
  assert.equal(joined.data.status, "WaitAdminApproval");

  const notice = { ID: "@TIM#SYSTEM-1-2-5", type: "TIMGroupSystemNoticeElem", conversationID: "@TIM#SYSTEM", payload: { operationType: 1 } };
  const handling = chat.handleGroupApplication({ handleAction: "Agree", handleMessage: "welcome", message: notice });
  const handle = lastRequest(socket, "handleGroupApplication");
  assert.deepEqual(handle.args, { handleAction: "Agree", handleMessage: "welcome", message: { ID: notice.ID, conversationID: "@TIM#SYSTEM" } });
  reply(socket, handle, { group: { groupID: "g1" } });
  assert.equal((await handling).data.group.groupID, "g1");

  const listing = chat.getGroupApplicationList();
  reply(socket, lastRequest(socket, "getGroupApplicationList"), { applicationList: [], unreadCount: 0 });
  assert.deepEqual(plain((await listing).data), { applicationList: [], unreadCount: 0 });
});

test("a group system notice fires MESSAGE_RECEIVED, then the legacy GROUP_SYSTEM_NOTICE_RECEIVED {type, message}", async () => {
  const { TIM, socket, events } = await loggedIn();
  const notice = {
    ID: "@TIM#SYSTEM-1-2-5",
    type: TIM.TYPES.MSG_GRP_SYS_NOTICE,
    conversationType: TIM.TYPES.CONV_SYSTEM,
    conversationID: "@TIM#SYSTEM",
    from: "@TIM#SYSTEM",
    flow: "in",
    sequence: 1,
    payload: { operationType: 2, operatorID: "alice", groupProfile: { groupID: "g1", name: "Team" }, handleMessage: "", userDefinedField: "" },
  };
  push(socket, { event: "MESSAGE_RECEIVED", data: [notice] });
  assert.deepEqual(events.onMessageReceived.at(-1).map((m) => m.ID), [notice.ID]);
  const [legacy] = events.receiveGroupSystemNotice;
  assert.equal(legacy.type, 2);
  assert.equal(legacy.message.ID, notice.ID);
  assert.equal(events.receiveGroupSystemNotice.length, 1);
  // A group tip is not a system notice.
  push(socket, { event: "MESSAGE_RECEIVED", data: [{ ...notice, ID: "t1", type: TIM.TYPES.MSG_GRP_TIP, conversationType: "GROUP", conversationID: "GROUPg1" }] });
  assert.equal(events.receiveGroupSystemNotice.length, 1);
});

test("too many connections (4029 after a KICKED_OUT push): the login rejects with 10006, KICKED_OUT once, no reconnect", async () => {
  const { TIM, sockets } = loadSDK();
  const chat = TIM.create({ SDKAppID: 0 });
  const kicked = [];
  chat.on(TIM.EVENT.KICKED_OUT, (e) => kicked.push(plain(e.data)));
  const login = chat.login({ userID: "alice" });
  const socket = sockets[0];
  push(socket, { event: "KICKED_OUT", data: { type: "multipleAccount", code: 10006, message: "too many", limit: 20 } });
  socket.onclose({ code: 4029 });
  await assert.rejects(login, (error) => error.code === 10006);
  assert.deepEqual(kicked, [{ type: TIM.TYPES.KICKED_OUT_MULT_ACCOUNT, code: 10006, message: "too many", limit: 20 }]);
  await new Promise((resolve) => setTimeout(resolve, 700));
  assert.equal(sockets.length, 1, "no reconnect");
});
