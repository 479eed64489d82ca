// Conversation management in tim.js (docs/PROTOCOL.md §5.49, §6.17): the SDK's methods send
// the vendor's arguments; the patches of another tab (draftText, markList,
// messageRemindType, conversationGroupList) update the held list and fire the whole list;
// CONVERSATION_GROUP_LIST_UPDATED passes the names through.
import assert from "node:assert/strict";
import { test } from "node:test";
import { conversation, lastRequest, loggedIn, plain, push, reply } from "./sdk-harness.js";

test("the mark types are the SDK's bit values", async () => {
  const { TIM } = await loggedIn();
  assert.deepEqual(
    [TIM.TYPES.CONV_MARK_TYPE_STAR, TIM.TYPES.CONV_MARK_TYPE_UNREAD, TIM.TYPES.CONV_MARK_TYPE_FOLD, TIM.TYPES.CONV_MARK_TYPE_HIDE],
    [1, 2, 4, 8],
  );
  assert.equal(TIM.EVENT.CONVERSATION_GROUP_LIST_UPDATED, "onConversationGroupListUpdated");
});

test("the methods send the vendor's arguments and resolve {code: 0, data}", async () => {
  const { chat, socket } = await loggedIn([conversation("C2Cbob", 5)]);
  const calls = [
    [() => chat.setConversationDraft({ conversationID: "C2Cbob", draftText: "later" }), "setConversationDraft", { conversationID: "C2Cbob", draftText: "later" }],
    [() => chat.setConversationDraft({ conversationID: "C2Cbob" }), "setConversationDraft", { conversationID: "C2Cbob", draftText: "" }],
    [
      () => chat.markConversation({ conversationIDList: ["C2Cbob"], markType: 1, enableMark: true }),
      "markConversation",
      { conversationIDList: ["C2Cbob"], markType: 1, enableMark: true },
    ],
    [() => chat.setMessageRemindType({ groupID: "g1", messageRemindType: "Discard" }), "setMessageRemindType", { groupID: "g1", messageRemindType: "Discard" }],
    [
      () => chat.setMessageRemindType({ userIDList: ["bob"], messageRemindType: "AcceptNotNotify" }),
      "setMessageRemindType",
      { userIDList: ["bob"], messageRemindType: "AcceptNotNotify" },
    ],
    [
      () => chat.createConversationGroup({ groupName: "Work", conversationIDList: ["C2Cbob"] }),
      "createConversationGroup",
      { groupName: "Work", conversationIDList: ["C2Cbob"] },
    ],
    [() => chat.deleteConversationGroup("Work"), "deleteConversationGroup", { groupName: "Work" }],
    [() => chat.renameConversationGroup({ oldName: "A", newName: "B" }), "renameConversationGroup", { oldName: "A", newName: "B" }],
    [
      () => chat.addConversationsToGroup({ groupName: "B", conversationIDList: ["C2Cbob"] }),
      "addConversationsToGroup",
      { groupName: "B", conversationIDList: ["C2Cbob"] },
    ],
    [
      () => chat.deleteConversationsFromGroup({ groupName: "B", conversationIDList: ["C2Cbob"] }),
      "deleteConversationsFromGroup",
      { groupName: "B", conversationIDList: ["C2Cbob"] },
    ],
  ];
  for (const [call, op, args] of calls) {
    const pending = call();
    const request = lastRequest(socket, op);
    assert.deepEqual(plain(request.args), args, op);
    reply(socket, request, { ok: op });
    assert.deepEqual(plain(await pending), { code: 0, data: { ok: op } });
  }
});

test("getConversationGroupList resolves the names; the event fires them", async () => {
  const { chat, socket, events } = await loggedIn();
  const listing = chat.getConversationGroupList();
  reply(socket, lastRequest(socket, "getConversationGroupList"), { groupList: ["Work", "Family"] });
  assert.deepEqual(plain((await listing).data), ["Work", "Family"]);
  push(socket, { event: "CONVERSATION_GROUP_LIST_UPDATED", data: ["Family"] });
  assert.deepEqual(events.onConversationGroupListUpdated.at(-1), ["Family"]);
});

test("another tab's changes come as patches that update the held list", async () => {
  const { socket, events } = await loggedIn([conversation("C2Cbob", 5), conversation("C2Ccarol", 4)]);
  push(socket, {
    event: "CONVERSATION_LIST_UPDATED",
    data: [
      { conversationID: "C2Cbob", draftText: "see you" },
      { conversationID: "C2Cbob", markList: [1, 4] },
      { conversationID: "C2Ccarol", messageRemindType: "AcceptNotNotify", conversationGroupList: ["Work"] },
      { conversationID: "C2Cnobody", markList: [1] },
    ],
  });
  const list = events.onConversationListUpdated.at(-1);
  const byID = Object.fromEntries(list.map((c) => [c.conversationID, c]));
  assert.deepEqual(Object.keys(byID).sort(), ["C2Cbob", "C2Ccarol"], "a patch of a conversation not held adds nothing");
  assert.equal(byID.C2Cbob.draftText, "see you");
  assert.deepEqual(byID.C2Cbob.markList, [1, 4]);
  assert.equal(byID.C2Ccarol.messageRemindType, "AcceptNotNotify");
  assert.deepEqual(byID.C2Ccarol.conversationGroupList, ["Work"]);
});
