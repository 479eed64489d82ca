// tim.js's reactions (docs/PROTOCOL.md §5.54–5.57, §6.19): the calls send the vendor's
// arguments, getMessageReactions fills the messages' reactionList, and MESSAGE_REACTIONS_UPDATED
// (only the changed reaction, absolute totals) is applied to the held message: replaced,
// appended, dropped at 0, reactedByMyself from the operation when the operator is me.
import assert from "node:assert/strict";
import { test } from "node:test";
import { conversation, lastRequest, loggedIn, plain, push, reconnect, reply, settle } from "./sdk-harness.js";

const user = (userID) => ({ userID, nick: userID, avatar: "" });

test("reactions: calls, fetched lists and live changes on the held message", async () => {
  const { chat, socket, events, TIM } = await loggedIn([conversation("GROUPg1", 1)]);
  const message = chat.createTextMessage({ to: "g1", conversationType: TIM.TYPES.CONV_GROUP, payload: { text: "lunch?" } });
  const sending = chat.sendMessage(message);
  await settle();
  const send = lastRequest(socket, "sendMessage");
  reply(socket, send, { message: { ...plain(send.args.message), conversationID: "GROUPg1", flow: "out", sequence: 2 } });
  await sending;

  const fetching = chat.getMessageReactions({ messageList: [message], maxUserCountPerReaction: 10 });
  const get = lastRequest(socket, "getMessageReactions");
  assert.deepEqual(get.args, { messageList: [{ ID: message.ID, conversationID: "GROUPg1" }], maxUserCountPerReaction: 10 });
  const thumbs = { reactionID: "👍", totalUserCount: 1, partialUserList: [user("bob")], reactedByMyself: false };
  reply(socket, get, { resultList: [{ messageID: message.ID, reactionList: [thumbs] }] });
  await fetching;
  assert.deepEqual(plain(message.reactionList), [thumbs]);

  const change = (operatorID, operation, item) =>
    push(socket, { event: "MESSAGE_REACTIONS_UPDATED", data: { conversationID: "GROUPg1", messageID: message.ID, operatorID, operation, reactionList: [item] } });
  change("carol", "add", { reactionID: "🎉", totalUserCount: 1, partialUserList: [user("carol")] });
  change("alice", "add", { reactionID: "👍", totalUserCount: 2, partialUserList: [user("bob"), user("alice")] });
  assert.deepEqual(plain(message.reactionList).map((r) => [r.reactionID, r.totalUserCount, r.reactedByMyself]), [["👍", 2, true], ["🎉", 1, false]]);
  change("bob", "remove", { reactionID: "👍", totalUserCount: 1, partialUserList: [user("alice")] });
  assert.equal(message.reactionList[0].reactedByMyself, true, "someone else's change keeps mine");
  change("carol", "remove", { reactionID: "🎉", totalUserCount: 0, partialUserList: [] });
  assert.deepEqual(plain(message.reactionList).map((r) => r.reactionID), ["👍"]);
  assert.equal(events[TIM.EVENT.MESSAGE_REACTIONS_UPDATED].length, 4);

  const removing = chat.removeMessageReaction({ message, reactionID: "👍" });
  const remove = lastRequest(socket, "removeMessageReaction");
  assert.deepEqual(remove.args, { message: { ID: message.ID, conversationID: "GROUPg1" }, reactionID: "👍" });
  reply(socket, remove, { conversationID: "GROUPg1", messageID: message.ID, reactionList: [{ reactionID: "👍", totalUserCount: 0, partialUserList: [], reactedByMyself: false }] });
  await removing;
  assert.deepEqual(plain(message.reactionList), []);

  const users = chat.getAllUserListOfMessageReaction({ message, reactionID: "👍", nextSeq: 0, count: 50 });
  const page = lastRequest(socket, "getAllUserListOfMessageReaction");
  assert.deepEqual(page.args, { message: { ID: message.ID, conversationID: "GROUPg1" }, reactionID: "👍", nextSeq: 0, count: 50 });
  reply(socket, page, { userList: [user("bob")], nextSeq: 0, isCompleted: true });
  assert.equal((await users).data.isCompleted, true);
  await assert.rejects(chat.addMessageReaction({ reactionID: "👍" }), { code: 2105 });
});

test("a sync brings the reactions missed while offline: the held lists replaced, the changes told once", async () => {
  const { chat, socket, sockets, events, TIM } = await loggedIn([conversation("GROUPg1", 5, { syncCursor: 5 })]);
  const thumbs = { reactionID: "👍", totalUserCount: 1, partialUserList: [user("bob")], reactedByMyself: false };
  const party = { reactionID: "🎉", totalUserCount: 2, partialUserList: [user("bob"), user("alice")], reactedByMyself: true };
  const stored = (ID, sequence) => ({ ID, conversationID: "GROUPg1", sequence, from: "bob", flow: "in", type: "TIMTextElem", payload: { text: ID }, isRevoked: false, version: 0 });
  const history = chat.getMessageList({ conversationID: "GROUPg1" });
  reply(socket, lastRequest(socket, "getMessageList"), { messageList: [stored("m-5", 5)], nextReqMessageID: "", isCompleted: true });
  const [held] = (await history).data.messageList;
  held.reactionList = [thumbs, party];

  const next = await reconnect(sockets, socket);
  reply(next, lastRequest(next, "sync"), {
    conversations: [
      {
        conversationID: "GROUPg1",
        syncCursor: 9,
        messageList: [stored("m-6", 6)],
        changedList: [stored("m-5", 5)],
        reactions: [
          { messageID: "m-5", reactionList: [{ ...thumbs, totalUserCount: 2 }] },
          { messageID: "m-6", reactionList: [thumbs] },
        ],
      },
    ],
    isSyncCompleted: true,
    conversationList: [conversation("GROUPg1", 6, { syncCursor: 9 })],
    groupList: [],
  });
  await settle();
  assert.deepEqual(plain(held.reactionList), [{ ...thumbs, totalUserCount: 2 }], "the whole list replaces the held one");
  const told = events[TIM.EVENT.MESSAGE_REACTIONS_UPDATED];
  assert.equal(told.length, 1);
  assert.equal(told[0].messageID, "m-5");
  assert.deepEqual(
    plain(told[0].reactionList).map((r) => [r.reactionID, r.totalUserCount]),
    [["🎉", 0], ["👍", 2]],
  );
  assert.equal(events[TIM.EVENT.MESSAGE_MODIFIED], undefined, "a reaction is not an edit");
  const received = events[TIM.EVENT.MESSAGE_RECEIVED].flat().find((m) => m.ID === "m-6");
  assert.deepEqual(plain(received.reactionList), [thumbs], "a new message comes with its reactions");
});
