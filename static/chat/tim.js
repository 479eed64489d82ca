/*
 * tim.js: the browser SDK of this chat server, with the API surface of the
 * Tencent Cloud Chat web SDK (global TIM, alias TencentCloudChat).
 *
 * No DOM, no build step. One WebSocket per tab to /ws/chat/ (docs/PROTOCOL.md);
 * the server authenticates it with the page's session cookie. Every method
 * returns a Promise of {code: 0, data} or rejects with {code, message} (the SDK's
 * error codes), except getTotalUnreadMessageCount(), which returns a Number.
 *
 * The conversation list is kept here and re-emitted whole and sorted on every
 * change (as the SDK does); the server sends absolute unread counts, never deltas.
 * Nothing is lost: every conversation has a change counter on the server, and the
 * SDK keeps, per conversation, the last change it applied. After a reconnect, when
 * a live patch skips a number, and when the group list changes, it asks the server
 * for every change since (the sync op, docs/PROTOCOL.md §5.21, §8), in pages, and
 * emits what it missed as the vendor's events: MESSAGE_RECEIVED, MESSAGE_REVOKED,
 * the conversation and group lists. Pushes that arrive meanwhile wait until it ends.
 *
 * Nothing typed is lost: sendMessage while the socket is down queues the message
 * (status 'unSend'), and the queue goes out in order after the next hello. A message
 * that fails keeps status 'fail' and is kept in localStorage, or with its File in
 * IndexedDB for a media message (the outbox, below), so that after a reload
 * getMessageList returns it at its place in the history;
 * resendMessage sends it again with the same ID (the server stores it once), and
 * deleteMessage drops it.
 *
 * Our extension to the vendor's API: chat.getServerRules() returns the rules the
 * server sent in its hello frame (null before the first one): {limits:
 * {maxBodyBytes, messagePageSize, conversationListLimit, maxClientMessageIDLength,
 * maxAtUsers, maxMergedMessages, maxFrameBytes, maxGroupMembers, upload: {image,
 * audio, video, file, chunkBytes}}, groupTips: {templates, profileFields}, atAll}.
 * An application takes its limits and wording from there instead of copying them
 * (docs/PROTOCOL.md, messaging/rules.py). getMessageList without a count asks for
 * the server's default page, limits.messagePageSize messages.
 */
(function (global) {
  'use strict';

  var TYPES = {
    MSG_TEXT: 'TIMTextElem',
    MSG_IMAGE: 'TIMImageElem',
    MSG_SOUND: 'TIMSoundElem',
    MSG_AUDIO: 'TIMSoundElem',
    MSG_FILE: 'TIMFileElem',
    MSG_FACE: 'TIMFaceElem',
    MSG_VIDEO: 'TIMVideoFileElem',
    MSG_GEO: 'TIMLocationElem',
    MSG_LOCATION: 'TIMLocationElem',
    MSG_GRP_TIP: 'TIMGroupTipElem',
    MSG_GRP_SYS_NOTICE: 'TIMGroupSystemNoticeElem',
    MSG_CUSTOM: 'TIMCustomElem',
    MSG_MERGER: 'TIMRelayElem',
    MSG_PRIORITY_HIGH: 'High',
    MSG_PRIORITY_NORMAL: 'Normal',
    MSG_PRIORITY_LOW: 'Low',
    MSG_PRIORITY_LOWEST: 'Lowest',
    CONV_C2C: 'C2C',
    CONV_GROUP: 'GROUP',
    CONV_SYSTEM: '@TIM#SYSTEM',
    CONV_AT_ME: 1,
    CONV_AT_ALL: 2,
    CONV_AT_ALL_AT_ME: 3,
    MSG_AT_ALL: '__kImSDK_MesssageAtALL__',
    GRP_WORK: 'Private',
    GRP_PRIVATE: 'Private',
    GRP_PUBLIC: 'Public',
    GRP_MEETING: 'ChatRoom',
    GRP_CHATROOM: 'ChatRoom',
    GRP_AVCHATROOM: 'AVChatRoom',
    GRP_MBR_ROLE_OWNER: 'Owner',
    GRP_MBR_ROLE_ADMIN: 'Admin',
    GRP_MBR_ROLE_MEMBER: 'Member',
    GRP_TIP_MBR_JOIN: 1,
    GRP_TIP_MBR_QUIT: 2,
    GRP_TIP_MBR_KICKED_OUT: 3,
    GRP_TIP_MBR_SET_ADMIN: 4,
    GRP_TIP_MBR_CANCELED_ADMIN: 5,
    GRP_TIP_GRP_PROFILE_UPDATED: 6,
    GRP_TIP_MBR_PROFILE_UPDATED: 7,
    MSG_REMIND_ACPT_AND_NOTE: 'AcceptAndNotify',
    MSG_REMIND_ACPT_NOT_NOTE: 'AcceptNotNotify',
    MSG_REMIND_DISCARD: 'Discard',
    JOIN_OPTIONS_FREE_ACCESS: 'FreeAccess',
    JOIN_OPTIONS_NEED_PERMISSION: 'NeedPermission',
    JOIN_OPTIONS_DISABLE_APPLY: 'DisableApply',
    JOIN_STATUS_SUCCESS: 'JoinedSuccess',
    JOIN_STATUS_ALREADY_IN_GROUP: 'AlreadyInGroup',
    JOIN_STATUS_WAIT_APPROVAL: 'WaitAdminApproval',
    KICKED_OUT_MULT_ACCOUNT: 'multipleAccount',
    KICKED_OUT_MULT_DEVICE: 'multipleDevice',
    KICKED_OUT_USERSIG_EXPIRED: 'userSigExpired',
    NET_STATE_CONNECTED: 'connected',
    NET_STATE_CONNECTING: 'connecting',
    NET_STATE_DISCONNECTED: 'disconnected',
    // Profiles (the SDK's Profile.gender and Profile.allowType values)
    GENDER_UNKNOWN: 'Gender_Type_Unknown',
    GENDER_FEMALE: 'Gender_Type_Female',
    GENDER_MALE: 'Gender_Type_Male',
    // The relationship chain (the SDK's values; docs/PROTOCOL.md §5.34).
    SNS_ADD_TYPE_SINGLE: 'Add_Type_Single',
    SNS_ADD_TYPE_BOTH: 'Add_Type_Both',
    SNS_DELETE_TYPE_SINGLE: 'Delete_Type_Single',
    SNS_DELETE_TYPE_BOTH: 'Delete_Type_Both',
    SNS_APPLICATION_TYPE_BOTH: 'Pendency_Type_Both',
    SNS_APPLICATION_SENT_TO_ME: 'Pendency_Type_ComeIn',
    SNS_APPLICATION_SENT_BY_ME: 'Pendency_Type_SendOut',
    SNS_APPLICATION_AGREE: 'Response_Action_Agree',
    SNS_APPLICATION_AGREE_AND_ADD: 'Response_Action_AgreeAndAdd',
    SNS_CHECK_TYPE_BOTH: 'CheckResult_Type_Both',
    SNS_CHECK_TYPE_SINGLE: 'CheckResult_Type_Single',
    SNS_TYPE_NO_RELATION: 'CheckResult_Type_NoRelation',
    SNS_TYPE_A_WITH_B: 'CheckResult_Type_AWithB',
    SNS_TYPE_B_WITH_A: 'CheckResult_Type_BWithA',
    SNS_TYPE_BOTH_WAY: 'CheckResult_Type_BothWay',
    ALLOW_TYPE_ALLOW_ANY: 'AllowType_Type_AllowAny',
    ALLOW_TYPE_NEED_CONFIRM: 'AllowType_Type_NeedConfirm',
    ALLOW_TYPE_DENY_ANY: 'AllowType_Type_DenyAny',
    // User status (getUserStatus, USER_STATUS_UPDATED)
    USER_STATUS_UNKNOWN: 0,
    USER_STATUS_ONLINE: 1,
    USER_STATUS_OFFLINE: 2,
    USER_STATUS_UNLOGINED: 3,
    // setAllMessageRead's scopes (messaging/rules.py READ_ALL_*)
    READ_ALL_C2C_MSG: 'readAllC2CMessage',
    READ_ALL_GROUP_MSG: 'readAllGroupMessage',
    READ_ALL_MSG: 'readAllMessage',
    // markConversation's marks: bit flags (docs/PROTOCOL.md §5.49.2)
    CONV_MARK_TYPE_STAR: 1,
    CONV_MARK_TYPE_UNREAD: 2,
    CONV_MARK_TYPE_FOLD: 4,
    CONV_MARK_TYPE_HIDE: 8
  };

  var EVENT = {
    SDK_READY: 'sdkStateReady',
    SDK_NOT_READY: 'sdkStateNotReady',
    SDK_DESTROY: 'sdkDestroy',
    MESSAGE_RECEIVED: 'onMessageReceived',
    MESSAGE_MODIFIED: 'onMessageModified',
    MESSAGE_REVOKED: 'onMessageRevoked',
    // Our extension: your own deleteMessage/clearHistoryMessage from another tab or device
    // (docs/PROTOCOL.md §6.16). {conversationID, messageIDList, clearedSequence, messageList}.
    MESSAGE_DELETED: 'onMessageDeleted',
    MESSAGE_READ_BY_PEER: 'onMessageReadByPeer',
    MESSAGE_READ_RECEIPT_RECEIVED: 'onMessageReadReceiptReceived',
    // {conversationID, messageID, operatorID, operation, reactionList}: the changed reaction only
    // (docs/PROTOCOL.md §6.19); the held message's reactionList is updated first.
    MESSAGE_REACTIONS_UPDATED: 'onMessageReactionsUpdated',
    CONVERSATION_LIST_UPDATED: 'onConversationListUpdated',
    TOTAL_UNREAD_MESSAGE_COUNT_UPDATED: 'onTotalUnreadMessageCountUpdated',
    CONVERSATION_GROUP_LIST_UPDATED: 'onConversationGroupListUpdated',
    GROUP_LIST_UPDATED: 'onGroupListUpdated',
    GROUP_SYSTEM_NOTICE_RECEIVED: 'receiveGroupSystemNotice',
    GROUP_ATTRIBUTES_UPDATED: 'groupAttributesUpdated',
    PROFILE_UPDATED: 'onProfileUpdated',
    BLACKLIST_UPDATED: 'blacklistUpdated',
    FRIEND_LIST_UPDATED: 'onFriendListUpdated',
    FRIEND_GROUP_LIST_UPDATED: 'onFriendGroupListUpdated',
    FRIEND_APPLICATION_LIST_UPDATED: 'onFriendApplicationListUpdated',
    KICKED_OUT: 'kickedOut',
    ERROR: 'error',
    NET_STATE_CHANGE: 'netStateChange',
    SDK_RELOAD: 'sdkReload',
    USER_STATUS_UPDATED: 'onUserStatusUpdated'
  };

  // SDK-side error codes (the server's come in replies).
  var ERR = {
    NOT_READY: 2024,
    SEND_FAILED: 2100,
    MESSAGE_REQUIRED: 2105,
    BAD_CONVERSATION_TYPE: 2106,
    INVALID_PARAMETERS: 10004,
    FREQUENCY_LIMIT: 10006
  };

  // The KICKED_OUT type for a close that ends the login, when no push said it first.
  var KICK_TYPES = { 4001: TYPES.KICKED_OUT_USERSIG_EXPIRED, 4003: 'banned', 4029: TYPES.KICKED_OUT_MULT_ACCOUNT };

  var REQUEST_TIMEOUT_MS = 15000;
  var MAX_BACKOFF_MS = 30000;
  var RESYNC_REQUIRED = 2290; // the server cannot serve a cursor: fetch everything again
  // A socket can die without a close (a laptop sleeps, a network changes): a ping every
  // HEARTBEAT_MS that gets no answer in PING_TIMEOUT_MS reconnects (and so syncs). Every
  // SYNC_EVERY_BEATS beats the SDK also syncs, for a change whose event was lost with no
  // later change in its conversation to reveal the gap.
  var HEARTBEAT_MS = 25000;
  var PING_TIMEOUT_MS = 10000;
  var SYNC_EVERY_BEATS = 12;

  function Message(fields) {
    for (var key in fields) {
      if (Object.prototype.hasOwnProperty.call(fields, key)) this[key] = fields[key];
    }
  }

  function wrapMessage(data) {
    return data instanceof Message ? data : new Message(data);
  }

  function ok(data) {
    return { code: 0, data: data };
  }

  function chatError(code, message) {
    return { code: code, message: message };
  }

  function withData(error, data) {
    // An error reply that carries data, e.g. modifyMessage's conflict: {message} (the current version).
    error.data = data;
    return error;
  }

  function randomInt() {
    return Math.floor(Math.random() * 4294967295);
  }

  function conversationIDOf(type, to) {
    return type === TYPES.CONV_GROUP ? 'GROUP' + to : 'C2C' + to;
  }

  function compareConversations(a, b) {
    if (!!a.isPinned !== !!b.isPinned) return a.isPinned ? -1 : 1;
    var at = (a.lastMessage && a.lastMessage.lastTime) || 0;
    var bt = (b.lastMessage && b.lastMessage.lastTime) || 0;
    if (at !== bt) return bt - at;
    var as = (a.lastMessage && a.lastMessage.lastSequence) || 0;
    var bs = (b.lastMessage && b.lastMessage.lastSequence) || 0;
    return bs - as;
  }

  function lastMessageOf(message) {
    return {
      ID: message.ID,
      nick: message.nick,
      nameCard: message.nameCard,
      lastTime: message.time,
      lastSequence: message.sequence,
      fromAccount: message.from,
      isRevoked: message.isRevoked,
      revoker: message.revoker || null,
      isPeerRead: message.isPeerRead,
      messageForShow: message.messageForShow,
      type: message.type,
      payload: message.payload,
      cloudCustomData: message.cloudCustomData
    };
  }

  function Chat(options) {
    this.options = options || {};
    this._handlers = {};
    this._pending = {};
    this._queue = [];  // sends waiting for the socket: {message, resolve, reject}, in order
    this._flushing = false;
    this._outbox = new Outbox(memoryStorage(), '');
    this._nextRequestID = 1;
    this._socket = null;
    this._state = TYPES.NET_STATE_DISCONNECTED;
    this._ready = false;
    this._userID = '';
    this._profile = null;
    this._rules = null;
    this._conversations = {};
    this._totalUnread = 0;
    this._sentIDs = {};
    this._cursors = {}; // conversationID -> the last change applied (docs/PROTOCOL.md §8)
    this._syncing = null; // the running sync's promise
    this._buffered = null; // pushes that arrived during it
    this._backoff = 0;
    this._reconnectTimer = null;
    this._loggedOut = true;
    this._loginWaiter = null;
    this._friends = null; // the friend list once fetched (getFriendList), kept by FRIEND_LIST_UPDATED
    this._relationLists = {}; // which of the friend requests and block list the page has read
    this._statusFollowed = {}; // userIDs this page follows (subscribeUserStatus), for reconnects
  }

  // --- events ---------------------------------------------------------------

  Chat.prototype.on = function (name, handler, context) {
    if (typeof handler !== 'function') return;
    (this._handlers[name] = this._handlers[name] || []).push({ fn: handler, ctx: context });
  };

  Chat.prototype.off = function (name, handler) {
    var list = this._handlers[name];
    if (!list) return;
    this._handlers[name] = list.filter(function (h) { return h.fn !== handler; });
  };

  Chat.prototype._emit = function (name, data) {
    var list = (this._handlers[name] || []).slice();
    for (var i = 0; i < list.length; i++) {
      try {
        list[i].fn.call(list[i].ctx, { name: name, data: data });
      } catch (e) {
        if (global.console) console.error('TIM event handler failed', name, e);
      }
    }
  };

  // --- connection -------------------------------------------------------------

  Chat.prototype.login = function (options) {
    var self = this;
    var userID = options && options.userID;
    if (this._ready && this._userID === userID) return Promise.resolve(ok({ repeatLogin: true }));
    this._loggedOut = false;
    return new Promise(function (resolve, reject) {
      self._loginWaiter = { userID: userID, resolve: resolve, reject: reject };
      self._connect();
    });
  };

  Chat.prototype.logout = function () {
    this._loggedOut = true;
    this._statusFollowed = {};
    this._teardown(TYPES.NET_STATE_DISCONNECTED);
    this._failQueued();
    var wasReady = this._ready;
    this._ready = false;
    this._friends = null;
    if (wasReady) this._emit(EVENT.SDK_NOT_READY);
    return Promise.resolve(ok({}));
  };

  Chat.prototype.destroy = function () {
    var self = this;
    return this.logout().then(function () {
      self._emit(EVENT.SDK_DESTROY);
      delete instances.page;
      return ok({});
    });
  };

  Chat.prototype.isReady = function () {
    return this._ready;
  };

  Chat.prototype._url = function () {
    if (this.options.url) return this.options.url;
    var loc = global.location;
    return (loc.protocol === 'https:' ? 'wss://' : 'ws://') + loc.host + '/ws/chat/';
  };

  Chat.prototype._setState = function (state) {
    if (this._state === state) return;
    this._state = state;
    this._emit(EVENT.NET_STATE_CHANGE, { state: state });
  };

  Chat.prototype._connect = function () {
    var self = this;
    clearTimeout(this._reconnectTimer);
    this._setState(TYPES.NET_STATE_CONNECTING);
    var socket;
    try {
      socket = new global.WebSocket(this._url());
    } catch (e) {
      // A URL the browser refuses outright (a bad scheme, a page policy): retry later,
      // as after a lost connection, instead of ending the reconnect loop.
      this._onClose(1006);
      return;
    }
    this._socket = socket;
    socket.onmessage = function (e) {
      if (self._socket === socket) self._onFrame(e.data);
    };
    socket.onclose = function (e) {
      if (self._socket !== socket) return;
      self._onClose(e.code);
    };
    // A connection the page's Content-Security-Policy refuses fires 'error' and no
    // 'close' (Chromium): treat a socket that is closed after an error as lost.
    socket.onerror = function () {
      setTimeout(function () {
        if (self._socket === socket && socket.readyState === 3) self._onClose(1006);
      }, 0);
    };
  };

  Chat.prototype._startHeartbeat = function () {
    var self = this;
    var socket = this._socket;
    var beats = 0;
    clearInterval(this._heartbeat);
    this._heartbeat = setInterval(function () {
      if (self._socket !== socket) return clearInterval(self._heartbeat);
      beats += 1;
      var alive = false;
      self._request('ping', {}).then(function () { alive = true; }, function () { /* closed meanwhile */ });
      setTimeout(function () {
        if (!alive && self._socket === socket) {
          try { socket.close(); } catch (e) { /* already closed */ }
          self._onClose(1006);
        }
      }, PING_TIMEOUT_MS);
      if (beats % SYNC_EVERY_BEATS === 0 && self._ready) self._sync();
    }, HEARTBEAT_MS);
  };

  Chat.prototype._teardown = function (state) {
    clearTimeout(this._reconnectTimer);
    clearInterval(this._heartbeat);
    var socket = this._socket;
    this._socket = null;
    if (socket) {
      try { socket.close(); } catch (e) { /* already closed */ }
    }
    this._failPending(chatError(ERR.SEND_FAILED, 'the connection was closed'));
    this._setState(state);
  };

  Chat.prototype._onClose = function (code) {
    this._socket = null;
    clearInterval(this._heartbeat);
    this._failPending(chatError(ERR.SEND_FAILED, 'the connection was lost'));
    if (code === 4001 || code === 4003 || code === 4029) {
      // Session gone (logged out elsewhere), the account is banned, or it has too many
      // connections open (4029, after a KICKED_OUT 'multipleAccount' push): do not retry.
      this._loggedOut = true;
      this._failQueued();
      this._setState(TYPES.NET_STATE_DISCONNECTED);
      if (this._loginWaiter) {
        this._loginWaiter.reject(code === 4029
          ? chatError(ERR.FREQUENCY_LIMIT, 'this account has too many connections open')
          : chatError(ERR.NOT_READY, 'not logged in'));
        this._loginWaiter = null;
      }
      var wasReady = this._ready;
      this._ready = false;
      // A ban is announced by a KICKED_OUT push before the 4003 close: say it once.
      if (!this._kicked) this._emit(EVENT.KICKED_OUT, { type: KICK_TYPES[code] });
      this._kicked = false;
      if (wasReady) this._emit(EVENT.SDK_NOT_READY);
      return;
    }
    if (this._loggedOut) {
      this._setState(TYPES.NET_STATE_DISCONNECTED);
      return;
    }
    this._setState(TYPES.NET_STATE_CONNECTING);
    var self = this;
    this._backoff = Math.min(this._backoff ? this._backoff * 2 : 500, MAX_BACKOFF_MS);
    var delay = this._backoff / 2 + Math.random() * this._backoff / 2;
    this._reconnectTimer = setTimeout(function () { self._connect(); }, delay);
  };

  Chat.prototype._onFrame = function (text) {
    var frame;
    try {
      frame = JSON.parse(text);
    } catch (e) {
      return;
    }
    if (frame.event) {
      if (this._buffered && frame.event !== 'hello' && frame.event !== 'KICKED_OUT') this._buffered.push(frame);
      else this._onPush(frame.event, frame.data, frame);
      return;
    }
    var pending = this._pending[frame.id];
    if (!pending) return;
    delete this._pending[frame.id];
    clearTimeout(pending.timer);
    if (frame.ok) pending.resolve(frame.data);
    else pending.reject(frame.data === undefined ? chatError(frame.code, frame.message) : withData(chatError(frame.code, frame.message), frame.data));
  };

  Chat.prototype._failPending = function (error) {
    var pending = this._pending;
    this._pending = {};
    for (var id in pending) {
      clearTimeout(pending[id].timer);
      pending[id].reject(error);
    }
  };

  Chat.prototype._request = function (op, args) {
    var self = this;
    return new Promise(function (resolve, reject) {
      var socket = self._socket;
      if (!socket || socket.readyState !== 1) {
        reject(chatError(ERR.SEND_FAILED, 'not connected'));
        return;
      }
      var id = self._nextRequestID++;
      var timer = setTimeout(function () {
        if (self._pending[id]) {
          delete self._pending[id];
          reject(chatError(ERR.SEND_FAILED, 'the server did not answer in time'));
        }
      }, REQUEST_TIMEOUT_MS);
      self._pending[id] = { resolve: resolve, reject: reject, timer: timer };
      socket.send(JSON.stringify({ id: id, op: op, args: args || {} }));
    });
  };

  Chat.prototype._call = function (op, args) {
    if (!this._ready) return Promise.reject(chatError(ERR.NOT_READY, 'the SDK is not ready; call login and wait for SDK_READY'));
    return this._request(op, args).then(ok);
  };

  // --- pushes -------------------------------------------------------------------------

  Chat.prototype._onPush = function (event, data, frame) {
    switch (event) {
      case 'hello':
        this._onHello(data);
        break;
      case 'MESSAGE_RECEIVED':
        // One frame per delivery: the messages, then their conversation's patch and
        // the new total, fired in that order as three SDK events. An onlineUserOnly
        // message comes alone: it changes no conversation and no count.
        this._onMessages(data.map(wrapMessage));
        this._applyFramePatch(frame);
        break;
      case 'MESSAGE_REVOKED':
        // Laid out as MESSAGE_RECEIVED: the recalled messages, their conversation's patch,
        // the new total. The messages this SDK handed out are marked in place.
        this._onRevoked(data);
        this._applyFramePatch(frame);
        break;
      case 'MESSAGE_MODIFIED':
        // Laid out as MESSAGE_REVOKED: the edited messages (the held ones updated in place),
        // then their conversation's patch (the new lastMessage when it is the last one).
        this._onModified(data, false);
        this._applyFramePatch(frame);
        break;
      case 'GROUP_LIST_UPDATED':
        // Membership changed: a group joined brings history and unread counts of its own,
        // and messages sent before this socket followed it. Sync fetches both.
        this._groups = data;
        this._emit(EVENT.GROUP_LIST_UPDATED, data);
        this._sync();
        break;
      case 'MESSAGE_READ_BY_PEER':
        this._onPeerRead(data.map(wrapMessage));
        break;
      case 'MESSAGE_READ_RECEIPT_RECEIVED':
        // Absolute counts, batched by the server: set them on the messages held here.
        data.forEach(function (item) {
          this._setReceiptInfo(item.conversationID, item.messageID, item);
        }, this);
        this._emit(EVENT.MESSAGE_READ_RECEIPT_RECEIVED, data);
        break;
      case 'CONVERSATION_LIST_UPDATED':
        this._applyConversationPatches(data);
        break;
      case 'MESSAGE_DELETED':
        this._onDeleted(data);
        break;
      case 'CONVERSATION_GROUP_LIST_UPDATED':
        this._conversationGroups = data;
        if (this._ready) this._emit(EVENT.CONVERSATION_GROUP_LIST_UPDATED, data);
        break;
      case 'MESSAGE_REACTIONS_UPDATED':
        this._onReactions(data);
        break;
      case 'TOTAL_UNREAD_MESSAGE_COUNT_UPDATED':
        if (this._totalUnread !== data) {
          this._totalUnread = data;
          if (this._ready) this._emit(EVENT.TOTAL_UNREAD_MESSAGE_COUNT_UPDATED, data);
        }
        break;
      case 'KICKED_OUT':
        this._kicked = true;
        this._emit(EVENT.KICKED_OUT, data);
        break;
      case 'FRIEND_LIST_UPDATED':
        this._onFriendListChange(data);
        break;
      default:
        if (EVENT[event]) this._emit(EVENT[event], data);
    }
  };

  Chat.prototype._onHello = function (hello) {
    var self = this;
    var waiter = this._loginWaiter;
    if (waiter && waiter.userID && waiter.userID !== hello.userID) {
      this._loginWaiter = null;
      this._loggedOut = true;
      this._teardown(TYPES.NET_STATE_DISCONNECTED);
      waiter.reject(chatError(ERR.NOT_READY, 'this page is logged in as ' + hello.userID + ', not ' + waiter.userID));
      return;
    }
    this._userID = hello.userID;
    this._profile = hello.profile;
    this._openOutbox(hello.userID);
    if (hello.rules) this._rules = hello.rules;
    this._backoff = 0;
    this._setState(TYPES.NET_STATE_CONNECTED);
    this._startHeartbeat();
    this._sendQueued();  // what was sent while the socket was down, in order
    if (this._ready) {
      this._sync(); // a reconnect: fetch what changed while the socket was down
      // The relationship chain has no change numbers: what was missed is fetched again
      // (the lists this page has asked for), and announced as the events would have.
      if (this._friends) this._onFriendListChange(null);
      this._refetchRelationLists();
      this._followStatusAgain();
      return;
    }
    this._request('getConversationList', {}).then(function (data) {
      self._replaceConversations(data.conversationList);
      if (!self._ready) {
        self._ready = true;
        if (waiter) {
          self._loginWaiter = null;
          waiter.resolve(ok({ repeatLogin: false }));
        }
        self._emit(EVENT.SDK_READY);
      }
      self._emitConversations();
      self._emit(EVENT.TOTAL_UNREAD_MESSAGE_COUNT_UPDATED, self._totalUnread);
    }, function (error) {
      if (waiter) {
        self._loginWaiter = null;
        waiter.reject(error);
      }
    });
  };

  // --- sync (docs/PROTOCOL.md §5.21, §8) ----------------------------------------------

  Chat.prototype._sync = function () {
    // One sync at a time; a request for another while it runs makes it go once more.
    var self = this;
    if (this._syncing) {
      this._syncAgain = true;
      return this._syncing;
    }
    this._buffered = this._buffered || [];
    this._syncing = this._syncPages().then(function (last) {
      var readBefore = {};
      for (var id in self._conversations) readBefore[id] = self._conversations[id].peerReadSequence || 0;
      self._replaceConversations(last.conversationList);
      self._groups = last.groupList;
      self._emit(EVENT.GROUP_LIST_UPDATED, last.groupList);
      self._emitConversations();
      self._emitMissedPeerReads(readBefore);
    }, function (error) {
      if (error && error.code === RESYNC_REQUIRED) return self._resync();
      // Offline again: the next hello syncs. Anything else: the next gap or reconnect does.
    }).then(function () {
      var buffered = self._buffered || [];
      self._buffered = null;
      self._syncing = null;
      for (var i = 0; i < buffered.length; i++) self._onPush(buffered[i].event, buffered[i].data, buffered[i]);
      if (self._syncAgain) {
        self._syncAgain = false;
        self._sync();
      }
    });
    return this._syncing;
  };

  Chat.prototype._syncPages = function () {
    var self = this;
    return this._request('sync', { cursors: this._cursors }).then(function (page) {
      page.conversations.forEach(self._applySyncEntry, self);
      return page.isSyncCompleted ? page : self._syncPages();
    });
  };

  Chat.prototype._applySyncEntry = function (entry) {
    var self = this;
    var reactions = {};
    (entry.reactions || []).forEach(function (item) { reactions[item.messageID] = item.reactionList; });
    var fresh = entry.messageList.filter(function (m) { return !self._sentIDs[m.ID]; });
    fresh.forEach(function (m) { if (reactions[m.ID]) m.reactionList = reactions[m.ID]; });
    if (fresh.length) this._onMessages(fresh.map(wrapMessage));
    if (entry.changedList.length) {
      this._onRevoked(entry.changedList.filter(function (m) { return m.isRevoked; }));
      this._onModified(entry.changedList.filter(function (m) { return !m.isRevoked; }), true);
    }
    (entry.reactions || []).forEach(function (item) {
      if (!fresh.some(function (m) { return m.ID === item.messageID; })) self._onSyncedReactions(entry.conversationID, item);
    });
    if (entry.deletedList) {
      this._onDeleted({ conversationID: entry.conversationID, messageIDList: entry.deletedList, clearedSequence: entry.clearedSequence });
    }
    this._cursors[entry.conversationID] = entry.syncCursor;
  };

  Chat.prototype._emitMissedPeerReads = function (readBefore) {
    // A C2C peer read while we were away: our held messages up to their new read cursor
    // are read, told as MESSAGE_READ_BY_PEER as if it had come live.
    var read = [];
    var self = this;
    (this._held || new Map()).forEach(function (message) {
      var conv = self._conversations[message.conversationID];
      var upTo = conv && conv.type === TYPES.CONV_C2C ? conv.peerReadSequence || 0 : 0;
      if (message.flow === 'out' && !message.isPeerRead && message.sequence <= upTo && upTo > (readBefore[message.conversationID] || 0)) {
        message.isPeerRead = true;
        read.push(message);
      }
    });
    if (read.length) this._emit(EVENT.MESSAGE_READ_BY_PEER, read);
  };

  Chat.prototype._resync = function () {
    // The server cannot tell what changed since our cursors (its data was restored, or we
    // were away too long): start over as after a login, so that the application reloads.
    var self = this;
    this._cursors = {};
    this._ready = false;
    this._emit(EVENT.SDK_NOT_READY);
    return this._request('getConversationList', {}).then(function (data) {
      self._replaceConversations(data.conversationList);
      self._ready = true;
      self._emit(EVENT.SDK_READY);
      self._emitConversations();
    });
  };

  Chat.prototype._isStale = function (patch) {
    // A patch of a change already applied (a sync brought it, and newer state with it).
    var cursor = this._cursors[patch.conversationID];
    return patch.syncCursor !== undefined && cursor !== undefined && patch.syncCursor <= cursor;
  };

  Chat.prototype._followCursor = function (conversationID, change) {
    // A live change numbered `change`: the next one moves the cursor; a skipped number
    // means a change was missed (the channel layer is at-most-once), so sync.
    var cursor = this._cursors[conversationID];
    if (cursor === undefined || change <= cursor) return;
    if (change === cursor + 1) this._cursors[conversationID] = change;
    else this._sync();
  };

  Chat.prototype._applyFramePatch = function (frame) {
    // A delivery's conversation patch and total, unless a sync already brought newer ones.
    if (!frame || !frame.conversation || this._isStale(frame.conversation)) return;
    this._applyConversationPatches([frame.conversation]);
    if (frame.totalUnreadCount !== undefined) this._onPush('TOTAL_UNREAD_MESSAGE_COUNT_UPDATED', frame.totalUnreadCount);
  };

  // The Message objects handed to the application (history, live, sent), by conversation
  // and ID, so that a recall marks the very objects the application holds, as the
  // vendor's SDK does with its message cache. Bounded: the oldest are forgotten.
  var HELD_LIMIT = 5000;

  Chat.prototype._hold = function (message) {
    var held = this._held || (this._held = new Map());
    var key = message.conversationID + '/' + message.ID;
    held.delete(key);
    held.set(key, message);
    if (held.size > HELD_LIMIT) held.delete(held.keys().next().value);
    return message;
  };

  Chat.prototype._onRevoked = function (list) {
    // Recalls, live or from a sync: the held messages marked in place, each recall told once.
    var self = this;
    var news = list.filter(function (data) {
      var held = self._held && self._held.get(data.conversationID + '/' + data.ID);
      return !(held && held.isRevoked);
    });
    if (news.length) this._emit(EVENT.MESSAGE_REVOKED, news.map(this._markRevoked, this));
  };

  Chat.prototype._onModified = function (list, heldOnly) {
    // Edits, live or from a sync (heldOnly: a changed message only matters to whoever holds
    // it): the held messages updated in place, each version told once.
    var self = this;
    var news = list.filter(function (data) {
      var held = self._held && self._held.get(data.conversationID + '/' + data.ID);
      return held ? !held.isRevoked && (held.version || 0) < data.version : !heldOnly;
    });
    if (news.length) this._emit(EVENT.MESSAGE_MODIFIED, news.map(this._markRevoked, this));
  };

  Chat.prototype._markRevoked = function (data) {
    // The held Message updated in place with a newer state of it (recalled or edited).
    var key = data.conversationID + '/' + data.ID;
    var held = this._held && this._held.get(key);
    if (!held) return this._hold(wrapMessage(data));
    for (var name in data) {
      // A recall does not read the sender's group name card: the held message keeps its own.
      if (name === 'nameCard' && !data[name]) continue;
      if (Object.prototype.hasOwnProperty.call(data, name)) held[name] = data[name];
    }
    return held;
  };

  Chat.prototype._onMessages = function (messages) {
    // A message can come twice (a live push and a reconnect's replay): once is enough.
    var seen = this._seen || (this._seen = { order: [], ids: {} });
    var fresh = messages.filter(function (m) {
      var key = m.conversationID + '/' + m.ID;
      if (seen.ids[key]) return false;
      seen.ids[key] = true;
      seen.order.push(key);
      if (seen.order.length > 2000) delete seen.ids[seen.order.shift()];
      return true;
    });
    fresh.forEach(this._hold, this);
    if (fresh.length) this._emit(EVENT.MESSAGE_RECEIVED, fresh);
    this._emitLegacyNotices(fresh);
    this._applyMemberCounts(fresh);
    this._applyNameCards(fresh);
  };

  // The v2 SDK's GROUP_SYSTEM_NOTICE_RECEIVED, still fired for code written against it:
  // {type: the notice's operationType, message} for each group system notice, after
  // MESSAGE_RECEIVED has carried it (docs/PROTOCOL.md §6.15).
  Chat.prototype._emitLegacyNotices = function (messages) {
    messages.forEach(function (m) {
      if (m.type !== TYPES.MSG_GRP_SYS_NOTICE || m.conversationType !== TYPES.CONV_SYSTEM) return;
      this._emit(EVENT.GROUP_SYSTEM_NOTICE_RECEIVED, { type: m.payload && m.payload.operationType, message: m });
    }, this);
  };

  // A name-card tip (operationType 7 with memberList[].nameCard, docs/PROTOCOL.md §5.30):
  // the held messages of that member in that group show the new card, as a refetch would.
  Chat.prototype._applyNameCards = function (messages) {
    var held = this._held;
    if (!held) return;
    messages.forEach(function (m) {
      if (m.type !== TYPES.MSG_GRP_TIP || !m.payload || m.payload.operationType !== 7) return;
      (m.payload.memberList || []).forEach(function (entry) {
        if (!entry || typeof entry.nameCard !== 'string') return;
        held.forEach(function (message) {
          if (message.conversationID === m.conversationID && message.from === entry.userID) message.nameCard = entry.nameCard;
        });
      });
    });
  };

  // A join, quit or removal tip carries the group's new memberCount (docs/PROTOCOL.md
  // §4.3): the group list held here takes it and GROUP_LIST_UPDATED tells the page. A
  // tip older than the list (sequence below its nextMessageSeq) is already in it.
  Chat.prototype._applyMemberCounts = function (messages) {
    var groups = this._groups;
    var changed = false;
    if (!groups) return;
    messages.forEach(function (m) {
      if (m.conversationType !== TYPES.CONV_GROUP) return;
      groups.forEach(function (g) {
        if (g.groupID !== m.to || m.sequence < g.nextMessageSeq) return;
        g.nextMessageSeq = m.sequence + 1;
        var count = m.type === TYPES.MSG_GRP_TIP && m.payload ? m.payload.memberCount : undefined;
        if (typeof count === 'number' && count !== g.memberCount) {
          g.memberCount = count;
          changed = true;
        }
      });
    });
    if (changed) this._emit(EVENT.GROUP_LIST_UPDATED, groups);
  };

  Chat.prototype._onPeerRead = function (messages) {
    var changed = false;
    for (var i = 0; i < messages.length; i++) {
      var conv = this._conversations[messages[i].conversationID];
      if (conv && conv.lastMessage && conv.lastMessage.lastSequence <= messages[i].sequence && !conv.lastMessage.isPeerRead) {
        conv.lastMessage.isPeerRead = true;
        changed = true;
      }
    }
    if (messages.length) this._emit(EVENT.MESSAGE_READ_BY_PEER, messages);
    if (changed) this._emitConversations();
  };

  Chat.prototype._replaceConversations = function (list) {
    // The server's list is the truth. A conversation new to us starts its cursor where the
    // list was read; the others keep theirs (a sync moved them, live patches follow), also
    // those the list leaves out (past its 100 entries): a sync names them, so their unread
    // messages are not handed over again.
    this._conversations = {};
    for (var i = 0; i < list.length; i++) {
      var id = list[i].conversationID;
      this._conversations[id] = list[i];
      if (this._cursors[id] === undefined) this._cursors[id] = list[i].syncCursor || 0;
    }
  };

  Chat.prototype._applyConversationPatches = function (patches) {
    var self = this;
    var missing = [];
    for (var i = 0; i < patches.length; i++) {
      var patch = patches[i];
      var id = patch.conversationID;
      if (patch.deleted) {
        delete this._conversations[id];
        continue;
      }
      if (this._isStale(patch)) continue;
      // A read made before a change this SDK has applied (it came late, or a sync brought
      // the newer count): its unreadCount is old.
      if (patch.seenCursor !== undefined && this._cursors[id] > patch.seenCursor) continue;
      if (patch.syncCursor !== undefined) this._followCursor(id, patch.syncCursor);
      var conv = this._conversations[id];
      if (!conv) {
        // Only a new message brings a conversation (back) into the list; a read or
        // pin of a deleted conversation does not.
        if (patch.lastMessage) missing.push(id);
        continue;
      }
      for (var key in patch) {
        if (key === 'groupAtInfoAdded') {
          conv.groupAtInfoList = (conv.groupAtInfoList || []).concat([patch[key]]);
        } else if (key === 'groupAtInfoRemoved') {
          var removedID = patch[key].messageID;
          conv.groupAtInfoList = (conv.groupAtInfoList || []).filter(function (info) { return info.messageID !== removedID; });
        } else if (key !== 'conversationID' && key !== 'syncCursor' && key !== 'seenCursor') {
          conv[key] = patch[key];
        }
      }
    }
    if (!missing.length) {
      this._emitConversations();
      return;
    }
    Promise.all(missing.map(function (missingID) {
      return self._request('getConversationProfile', { conversationID: missingID }).then(function (data) {
        self._conversations[missingID] = data.conversation;
        if (self._cursors[missingID] === undefined) self._cursors[missingID] = data.conversation.syncCursor || 0;
      }, function () { /* gone again */ });
    })).then(function () { self._emitConversations(); });
  };

  Chat.prototype._sortedConversations = function () {
    var list = [];
    for (var id in this._conversations) list.push(this._conversations[id]);
    return list.sort(compareConversations);
  };

  Chat.prototype._emitConversations = function () {
    if (this._ready) this._emit(EVENT.CONVERSATION_LIST_UPDATED, this._sortedConversations());
  };

  // --- the outbox ------------------------------------------------------------------
  // A message this page sends is kept until the server has stored it, so that a failed
  // one (lost socket, server error, page closed while offline) survives a reload:
  // getMessageList then returns it with status 'fail' at its place in the history, for
  // resendMessage or deleteMessage. Text, custom, face and location messages are kept in
  // localStorage (per user, the newest OUTBOX_LIMIT). Media messages (image, audio, video,
  // file) are kept with their File in IndexedDB (MediaBox, below), and only once they
  // wait for the socket or have failed: writing every File sent online would cost more
  // than it saves. A forward or a merged message needs the originals' references, which
  // a reload loses: those stay failed in the page that sent them, where resendMessage works.
  var OUTBOX_LIMIT = 100;
  var OUTBOX_TYPES = [TYPES.MSG_TEXT, TYPES.MSG_CUSTOM, TYPES.MSG_FACE, TYPES.MSG_LOCATION];

  function memoryStorage() {
    var items = {};
    return {
      getItem: function (key) { return Object.prototype.hasOwnProperty.call(items, key) ? items[key] : null; },
      setItem: function (key, value) { items[key] = String(value); },
      removeItem: function (key) { delete items[key]; }
    };
  }

  function browserStorage() {
    try {
      if (global.localStorage) return global.localStorage;
    } catch (e) { /* storage disabled (e.g. blocked cookies): keep the outbox in memory */ }
    return memoryStorage();
  }

  function Outbox(storage, userID) {
    this.storage = storage;
    this.userID = userID;
    this.key = 'TIM_outbox_' + userID;
    this.media = new MediaBox(userID);
  }

  /** The kept messages as stored: plain objects, with the send options under `options`. */
  Outbox.prototype.entries = function () {
    return this._texts().concat(this.media.entries());
  };

  /** Those in localStorage, oldest first. */
  Outbox.prototype._texts = function () {
    try {
      var list = JSON.parse(this.storage.getItem(this.key) || '[]');
      return Array.isArray(list) ? list : [];
    } catch (e) {
      return [];
    }
  };

  Outbox.prototype._save = function (list) {
    try {
      if (list.length) this.storage.setItem(this.key, JSON.stringify(list.slice(-OUTBOX_LIMIT)));
      else this.storage.removeItem(this.key);
    } catch (e) { /* storage full or gone: the page still has its Message objects */ }
  };

  Outbox.prototype.keep = function (message) {
    if (message._forward || message._merged) return;
    if (message._sendOptions && message._sendOptions.onlineUserOnly) return;  // "typing…" is worthless later
    var entry = JSON.parse(JSON.stringify(message));
    for (var field in entry) {
      if (field.charAt(0) === '_') delete entry[field];  // what an application hung on the object
    }
    entry.options = message._sendOptions || {};
    if (message._upload) {
      this.media.keep(message, entry);
      return;
    }
    if (OUTBOX_TYPES.indexOf(message.type) === -1) return;
    // Read again before each write: another tab of this user may have changed the list.
    this._save(this._texts().filter(function (e) { return e.ID !== message.ID; }).concat([entry]));
  };

  Outbox.prototype.drop = function (ids) {
    this.media.drop(ids);
    var list = this._texts();
    var kept = list.filter(function (e) { return ids.indexOf(e.ID) === -1; });
    if (kept.length !== list.length) this._save(kept);
  };

  // Media messages with their File, in the user's IndexedDB database TIM_outbox_<userID>
  // (structured clone stores Blobs): the newest MEDIA_LIMIT, at most MEDIA_BYTES of files
  // in all, the oldest dropped first. The list is read once when the outbox opens (at
  // login; getMessageList waits for it) and cached; changes are written through. Without
  // IndexedDB, or when a write fails (full, private mode), a media message that failed is
  // kept in the page only, where resendMessage still works.
  var MEDIA_LIMIT = 20;
  var MEDIA_BYTES = 100 * 1024 * 1024;
  var MEDIA_STORE = 'media';

  function openMediaDB(userID) {
    return new Promise(function (resolve) {
      var factory = null;
      try { factory = global.indexedDB; } catch (e) { /* blocked by the browser's settings */ }
      if (!factory || !userID) { resolve(null); return; }
      var request;
      try { request = factory.open('TIM_outbox_' + userID, 1); } catch (e) { resolve(null); return; }
      request.onupgradeneeded = function () { request.result.createObjectStore(MEDIA_STORE, { keyPath: 'ID' }); };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = request.onblocked = function () { resolve(null); };
    });
  }

  /** Runs `work(store)` in one transaction; resolves what `work` returned when it commits, null if it failed. */
  function mediaTransaction(db, mode, work) {
    return new Promise(function (resolve) {
      var transaction;
      var result;
      try {
        transaction = db.transaction(MEDIA_STORE, mode);
        result = work(transaction.objectStore(MEDIA_STORE));
      } catch (e) { resolve(null); return; }
      transaction.oncomplete = function () { resolve(result ? result.result : true); };
      transaction.onerror = transaction.onabort = function () { resolve(null); };
    });
  }

  function MediaBox(userID) {
    var self = this;
    this.records = [];  // {ID, kind, file, size, entry}, oldest first
    this.db = openMediaDB(userID);
    this.loaded = this.db.then(function (db) {
      return db && mediaTransaction(db, 'readonly', function (store) { return store.getAll(); });
    }).then(function (records) {
      // Kept before this page loaded, in the order they were kept (the entry's time is the send's).
      var found = (records || []).filter(function (r) { return r && r.entry && r.file; });
      found.sort(function (a, b) { return a.kept - b.kept; });
      self.records = found.concat(self.records.filter(function (r) {
        return !found.some(function (f) { return f.ID === r.ID; });
      }));
    });
  }

  MediaBox.prototype._write = function (work) {
    return this.db.then(function (db) { return db && mediaTransaction(db, 'readwrite', work); });
  };

  MediaBox.prototype.entries = function () {
    return this.records.map(function (r) { return JSON.parse(JSON.stringify(r.entry)); });
  };

  MediaBox.prototype.record = function (ID) {
    for (var i = 0; i < this.records.length; i++) if (this.records[i].ID === ID) return this.records[i];
    return null;
  };

  MediaBox.prototype.keep = function (message, entry) {
    var file = message._upload.file;
    var size = (file && file.size) || 0;
    if (!file || size > MEDIA_BYTES) return;
    var record = { ID: message.ID, kind: message._upload.kind, file: file, size: size, entry: entry, kept: Date.now() };
    var list = this.records.filter(function (r) { return r.ID !== record.ID; }).concat([record]);
    var total = 0;
    var evicted = [];
    for (var i = list.length - 1; i >= 0; i--) {
      total += list[i].size;
      if (list.length - i > MEDIA_LIMIT || total > MEDIA_BYTES) evicted.push(list[i].ID);
    }
    this.records = list.filter(function (r) { return evicted.indexOf(r.ID) === -1; });
    this._write(function (store) {
      evicted.forEach(function (ID) { store.delete(ID); });
      store.put(record);
    });
  };

  MediaBox.prototype.drop = function (ids) {
    var gone = this.records.filter(function (r) { return ids.indexOf(r.ID) !== -1; });
    if (!gone.length) return;
    this.records = this.records.filter(function (r) { return ids.indexOf(r.ID) === -1; });
    this._write(function (store) { gone.forEach(function (r) { store.delete(r.ID); }); });
  };

  /** A media message from an earlier page load gets its File back, and a local preview of it. */
  MediaBox.prototype.restore = function (message) {
    var record = this.record(message.ID);
    if (!record) return;
    Object.defineProperty(message, '_upload', {
      value: { file: record.file, kind: record.kind, uuid: '', extra: {} }, enumerable: false, writable: true
    });
    message.progress = 0;
    var url = blobURL(record.file);
    var payload = message.payload || {};
    if (record.kind === 'image') (payload.imageInfoArray || []).forEach(function (info) { info.url = url; });
    if (record.kind === 'audio') payload.url = url;
    if (record.kind === 'video') payload.videoUrl = url;
  };

  Chat.prototype._openOutbox = function (userID) {
    if (this._outbox.userID !== userID) this._outbox = new Outbox(browserStorage(), userID);
  };

  Chat.prototype._connected = function () {
    return !!this._socket && this._socket.readyState === 1 && this._state === TYPES.NET_STATE_CONNECTED;
  };

  Chat.prototype._enqueue = function (message) {
    var self = this;
    return new Promise(function (resolve, reject) {
      self._queue.push({ message: message, resolve: resolve, reject: reject });
    });
  };

  /** Sends what was queued while the socket was down, one at a time and in order (after hello). */
  Chat.prototype._sendQueued = function () {
    var self = this;
    if (this._flushing || !this._queue.length || !this._connected()) return;
    var next = this._queue.shift();
    this._flushing = true;
    var done = function () {
      self._flushing = false;
      self._sendQueued();
    };
    this._transmit(next.message).then(function (result) {
      next.resolve(result);
      done();
    }, function (error) {
      next.reject(error);
      done();
    });
  };

  /** Logged out or signed out by the server: what waits for the socket fails (the outbox keeps it). */
  Chat.prototype._failQueued = function () {
    var queued = this._queue;
    this._queue = [];
    queued.forEach(function (item) {
      item.message.status = 'fail';
      item.reject(chatError(ERR.SEND_FAILED, 'logged out before the message could be sent'));
    });
  };

  /**
   * A getMessageList page with the conversation's unsent messages merged in by time: those
   * of this page's span (from its oldest message, or from the start when it is the last
   * page, up to the message the request paged back from). One the server has stored
   * after all leaves the outbox. The page's Message objects are the held ones.
   */
  Chat.prototype._withUnsent = function (conversationID, cursor, page, stored) {
    var self = this;
    var storedIDs = stored.map(function (m) { return m.ID; });
    this._outbox.drop(storedIDs);
    var from = page.isCompleted || !stored.length ? -Infinity : stored[0].time;
    var newer = cursor && this._held && this._held.get(conversationID + '/' + cursor);
    var until = newer ? newer.time : Infinity;
    var unsent = this._outbox.entries().filter(function (e) {
      return e.conversationID === conversationID && e.time >= from && e.time < until;
    }).map(function (entry) {
      var held = self._held && self._held.get(conversationID + '/' + entry.ID);
      if (held) return held;
      var options = entry.options;
      delete entry.options;
      entry.status = 'fail';  // from an earlier page load: nothing is sending it now
      var message = new Message(entry);
      Object.defineProperty(message, '_sendOptions', { value: options || {}, enumerable: false });
      self._outbox.media.restore(message);
      return self._hold(message);
    });
    var merged = stored.slice();
    unsent.forEach(function (m) {
      var at = 0;
      while (at < merged.length && merged[at].time <= m.time) at++;
      merged.splice(at, 0, m);
    });
    return merged;
  };

  // --- messages -----------------------------------------------------------------

  Chat.prototype._createMessage = function (type, options, payload) {
    options = options || {};
    var now = Date.now();
    var clientTime = Math.floor(now / 1000);
    var random = randomInt();
    var conversationType = options.conversationType;
    var profile = this._profile || {};
    var message = new Message({
      ID: this._userID + '-' + clientTime + '-' + random,
      type: type,
      payload: payload,
      conversationID: conversationIDOf(conversationType, options.to),
      conversationType: conversationType,
      to: options.to,
      from: this._userID,
      flow: 'out',
      time: clientTime,
      clientTime: clientTime,
      random: random,
      sequence: 0,
      status: 'unSend',
      priority: options.priority || TYPES.MSG_PRIORITY_NORMAL,
      cloudCustomData: options.cloudCustomData || '',
      needReadReceipt: !!options.needReadReceipt,
      nick: profile.nick || '',
      avatar: profile.avatar || '',
      nameCard: '',
      isPeerRead: false,
      isRevoked: false,
      isDeleted: false,
      isModified: false,
      atUserList: [],
      progress: 0,
      messageForShow: ''
    });
    // A targeted group message (the SDK's receiverList, up to 50 members).
    if (options.receiverList && options.receiverList.length) message.receiverList = options.receiverList.slice();
    return message;
  };

  Chat.prototype.createTextMessage = function (options) {
    var text = options && options.payload ? options.payload.text : '';
    var message = this._createMessage(TYPES.MSG_TEXT, options, { text: text });
    message.messageForShow = text;
    return message;
  };

  Chat.prototype.createTextAtMessage = function (options) {
    var payload = (options && options.payload) || {};
    var message = this._createMessage(TYPES.MSG_TEXT, options, { text: payload.text, atUserList: payload.atUserList || [] });
    message.atUserList = (payload.atUserList || []).slice();
    message.messageForShow = payload.text || '';
    return message;
  };

  Chat.prototype.createCustomMessage = function (options) {
    var p = (options && options.payload) || {};
    var message = this._createMessage(TYPES.MSG_CUSTOM, options, {
      data: p.data || '', description: p.description || '', extension: p.extension || ''
    });
    message.messageForShow = '[Custom Message]';
    return message;
  };

  Chat.prototype.createFaceMessage = function (options) {
    var p = (options && options.payload) || {};
    var message = this._createMessage(TYPES.MSG_FACE, options, { index: p.index, data: p.data || '' });
    message.messageForShow = '[Emoji]';
    return message;
  };

  Chat.prototype.createLocationMessage = function (options) {
    var p = (options && options.payload) || {};
    var message = this._createMessage(TYPES.MSG_LOCATION, options, {
      description: p.description || '', longitude: p.longitude, latitude: p.latitude
    });
    message.messageForShow = '[Location]';
    return message;
  };

  // Upload types: the message shows at once with a local preview; sendMessage
  // uploads the file (onProgress gets a fraction 0..1, message.progress follows),
  // then sends the message naming the checked upload.
  function pickFile(payload) {
    var file = payload && payload.file;
    if (file && file.files) file = file.files[0];  // an <input type="file">
    if (file && file.tempFiles) file = file.tempFiles[0];  // a mini-program result
    return file || null;
  }

  function blobURL(file) {
    try { return global.URL && file ? global.URL.createObjectURL(file) : ''; } catch (e) { return ''; }
  }

  Chat.prototype._createUploadMessage = function (type, kind, options, payload, forShow) {
    var file = pickFile(options && options.payload);
    var message = this._createMessage(type, options, payload);
    message.messageForShow = forShow;
    Object.defineProperty(message, '_upload', {
      value: { file: file, kind: kind, onProgress: options && options.onProgress, uuid: '', extra: {} },
      enumerable: false, writable: true
    });
    return message;
  };

  Chat.prototype.createImageMessage = function (options) {
    var file = pickFile(options && options.payload);
    var url = blobURL(file);
    var size = file ? file.size : 0;
    return this._createUploadMessage(TYPES.MSG_IMAGE, 'image', options, {
      uuid: '', imageFormat: 255,
      imageInfoArray: [0, 1, 2].map(function (t) { return { type: t, width: 0, height: 0, size: size, url: url }; })
    }, '[Image]');
  };

  Chat.prototype.createAudioMessage = function (options) {
    var file = pickFile(options && options.payload);
    var p = (options && options.payload) || {};
    return this._createUploadMessage(TYPES.MSG_AUDIO, 'audio', options, {
      uuid: '', url: blobURL(file), size: file ? file.size : 0, second: p.second || 0, downloadFlag: 2
    }, '[Voice]');
  };

  Chat.prototype.createVideoMessage = function (options) {
    var file = pickFile(options && options.payload);
    return this._createUploadMessage(TYPES.MSG_VIDEO, 'video', options, {
      videoUUID: '', videoUrl: blobURL(file), videoSize: file ? file.size : 0, videoSecond: 0, videoFormat: '',
      snapshotUUID: '', snapshotUrl: '', snapshotWidth: 0, snapshotHeight: 0
    }, '[Video]');
  };

  Chat.prototype.createFileMessage = function (options) {
    var file = pickFile(options && options.payload);
    return this._createUploadMessage(TYPES.MSG_FILE, 'file', options, {
      uuid: '', fileName: file ? file.name : '', fileUrl: '', fileSize: file ? file.size : 0
    }, '[File]');
  };

  Chat.prototype.createMergerMessage = function (options) {
    var p = (options && options.payload) || {};
    var list = p.messageList || [];
    var message = this._createMessage(TYPES.MSG_MERGER, options, {
      title: p.title || '', abstractList: p.abstractList || [], compatibleText: p.compatibleText || '',
      layersOverLimit: false, downloadKey: '',
      messageList: list.map(function (m) {
        return { ID: m.ID, type: m.type, payload: m.payload, from: m.from, nick: m.nick, avatar: m.avatar, time: m.time, sequence: m.sequence, messageForShow: m.messageForShow };
      })
    });
    message.messageForShow = '[Chat History]';
    Object.defineProperty(message, '_merged', {
      value: list.map(function (m) { return { ID: m.ID, conversationID: m.conversationID }; }), enumerable: false
    });
    return message;
  };

  Chat.prototype.createForwardMessage = function (options) {
    var original = options && options.payload;
    var message = this._createMessage(original ? original.type : '', options, original ? JSON.parse(JSON.stringify(original.payload)) : {});
    message.messageForShow = original ? original.messageForShow : '';
    Object.defineProperty(message, '_forward', {
      value: original ? { ID: original.ID, conversationID: original.conversationID } : null, enumerable: false
    });
    return message;
  };

  Chat.prototype.downloadMergerMessage = function (message) {
    if (!message || message.type !== TYPES.MSG_MERGER) return Promise.reject(chatError(2450, 'not a merged message'));
    // A merged message inside another one is opened through the outer message the
    // user can see (its root), which references the inner one's stored list.
    var root = message._mergerRoot || { ID: message.ID, conversationID: message.conversationID };
    var markNested = function (list) {
      (list || []).forEach(function (item) {
        if (item && item.type === TYPES.MSG_MERGER) {
          Object.defineProperty(item, '_mergerRoot', { value: root, enumerable: false, configurable: true });
        }
      });
      return list;
    };
    if (!message.payload.downloadKey) {
      markNested(message.payload.messageList);
      return Promise.resolve(ok(message));
    }
    var args = { message: root };
    if (message._mergerRoot) args.downloadKey = message.payload.downloadKey;
    return this._call('downloadMergerMessage', args).then(function (response) {
      message.payload.messageList = markNested(response.data.messageList);
      return ok(message);
    });
  };

  // --- uploads (HTTP: /api/uploads/) ----------------------------------------------

  function csrfToken() {
    var match = global.document && global.document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : '';
  }

  function uploadFailure(kind) {
    return { image: 2251, audio: 2300, video: 2350, file: 2400 }[kind] || 2400;
  }

  function xhr(method, url, body, headers, onProgress) {
    return new Promise(function (resolve, reject) {
      var request = new global.XMLHttpRequest();
      request.open(method, url);
      for (var name in headers || {}) request.setRequestHeader(name, headers[name]);
      if (onProgress && request.upload) {
        request.upload.onprogress = function (e) { if (e.lengthComputable) onProgress(e.loaded); };
      }
      request.onload = function () {
        var data;
        try { data = JSON.parse(request.responseText || 'null'); } catch (e) { data = null; }
        resolve({ status: request.status, data: data });
      };
      request.onerror = function () { reject(chatError(ERR.SEND_FAILED, 'the upload was interrupted')); };
      request.send(body);
    });
  }

  function apiJSON(method, url, body) {
    return xhr(method, url, body ? JSON.stringify(body) : null, { 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken() });
  }

  Chat.prototype._uploadFile = function (file, kind, onProgress) {
    var failure = uploadFailure(kind);
    if (!file) return Promise.reject(chatError(kind === 'image' ? 2251 : 2401, 'no file selected'));
    var size = file.size;
    var report = function (done) { if (onProgress) onProgress(size ? Math.min(1, done / size) : 1); };
    return apiJSON('POST', '/api/uploads/', { kind: kind, name: file.name || kind, size: size }).then(function (created) {
      if (created.status !== 201) throw created.data || chatError(failure, 'the upload was refused');
      var upload = created.data.upload;
      var target = created.data.target;
      var sent;
      if (target.method === 'POST') {
        var form = new global.FormData();
        for (var field in target.fields) form.append(field, target.fields[field]);
        form.append('file', file);
        sent = xhr('POST', target.url, form, {}, report).then(function (r) {
          if (r.status < 200 || r.status >= 300) throw chatError(failure, 'the storage refused the file');
        });
      } else {
        var chunk = target.chunkSize || 4194304;
        var put = function (offset) {
          if (offset >= size) return Promise.resolve();
          var piece = file.slice(offset, Math.min(size, offset + chunk));
          return xhr('PUT', target.url + '?offset=' + offset, piece, { 'X-CSRFToken': csrfToken(), 'Content-Type': 'application/octet-stream' },
            function (loaded) { report(offset + loaded); }).then(function (r) {
            if (r.status !== 200) throw r.data || chatError(failure, 'the upload failed');
            return put(r.data.received);
          });
        };
        sent = put(0);
      }
      return sent.then(function () {
        return apiJSON('POST', '/api/uploads/' + upload.uuid + '/complete');
      }).then(function (completed) {
        if (completed.status !== 200) throw completed.data || chatError(failure, 'the file could not be checked');
        report(size);
        return completed.data.upload;
      });
    });
  };

  function mediaInfo(file, kind) {
    // Duration (and for video a poster frame) read by the browser from the file.
    return new Promise(function (resolve) {
      var doc = global.document;
      if (!doc || !file || !global.URL) { resolve({ second: 0 }); return; }
      var element = doc.createElement(kind === 'video' ? 'video' : 'audio');
      var url = global.URL.createObjectURL(file);
      var done = false;
      var finish = function (info) { if (!done) { done = true; resolve(info); } };
      setTimeout(function () { finish({ second: 0 }); }, 5000);
      element.preload = 'metadata';
      element.muted = true;
      element.onerror = function () { finish({ second: 0 }); };
      element.onloadedmetadata = function () {
        if (!isFinite(element.duration) && !element._probing) {
          // MediaRecorder's WebM has no duration in its header: seeking far past
          // the end makes the browser work it out, then come back.
          element._probing = true;
          element.ondurationchange = function () {
            if (!isFinite(element.duration)) return;
            element.ondurationchange = null;
            element.currentTime = 0;
            element.onloadedmetadata();
          };
          element.currentTime = 1e101;
          return;
        }
        var second = isFinite(element.duration) ? Math.round(element.duration) : 0;
        if (kind !== 'video') { finish({ second: second }); return; }
        element.onseeked = function () {
          try {
            var canvas = doc.createElement('canvas');
            canvas.width = element.videoWidth || 320;
            canvas.height = element.videoHeight || 180;
            canvas.getContext('2d').drawImage(element, 0, 0, canvas.width, canvas.height);
            canvas.toBlob(function (blob) { finish({ second: second, poster: blob }); }, 'image/jpeg', 0.85);
          } catch (e) { finish({ second: second }); }
        };
        try { element.currentTime = Math.min(0.1, element.duration || 0); } catch (e) { finish({ second: second }); }
      };
      element.src = url;
    });
  }

  Chat.prototype._prepareUpload = function (message) {
    var self = this;
    var job = message._upload;
    if (job.uuid) return Promise.resolve();  // a resend: the file is already stored
    var progress = function (fraction) {
      message.progress = fraction;
      if (job.onProgress) {
        try { job.onProgress(fraction); } catch (e) { /* the caller's callback */ }
      }
    };
    var infoFor = job.kind === 'audio' || job.kind === 'video' ? mediaInfo(job.file, job.kind) : Promise.resolve({});
    return infoFor.then(function (info) {
      var poster = info.poster ? self._uploadFile(new global.File([info.poster], 'poster.jpg', { type: 'image/jpeg' }), 'image') : Promise.resolve(null);
      return poster.then(function (snapshot) {
        return self._uploadFile(job.file, job.kind, progress).then(function (upload) {
          job.uuid = upload.uuid;
          var declared = job.file && job.file.duration ? Math.round(job.file.duration / 1000) : 0;  // the 2023 doc: ms
          if (job.kind === 'audio') job.extra = { second: message.payload.second || declared || info.second || 0 };
          if (job.kind === 'video') job.extra = { videoSecond: info.second || 0, snapshotUUID: snapshot ? snapshot.uuid : '' };
        });
      });
    });
  };

  Chat.prototype._wirePayload = function (message) {
    var job = message._upload;
    if (!job) return message.payload;
    var payload = { uuid: job.uuid };
    if (job.kind === 'video') payload = { videoUUID: job.uuid };
    for (var key in job.extra) payload[key] = job.extra[key];
    return payload;
  };

  // sendMessage's options (the SDK's): an onlineUserOnly message is not stored and an
  // excludedFromLastMessage one is not the conversation's lastMessage, for anyone.
  function becomesLastMessage(options) {
    if (!options) return true;
    return !options.onlineUserOnly && !(options.messageControlInfo && options.messageControlInfo.excludedFromLastMessage);
  }

  Chat.prototype.sendMessage = function (message, options) {
    if (!(message instanceof Message)) return Promise.reject(chatError(ERR.MESSAGE_REQUIRED, 'a Message instance is required'));
    if (!this._ready) {
      message.status = 'fail';
      return Promise.reject(chatError(ERR.NOT_READY, 'the SDK is not ready; call login and wait for SDK_READY'));
    }
    if (message.conversationType !== TYPES.CONV_C2C && message.conversationType !== TYPES.CONV_GROUP) {
      message.status = 'fail';
      return Promise.reject(chatError(ERR.BAD_CONVERSATION_TYPE, 'conversationType must be "C2C" or "GROUP"'));
    }
    message.status = 'unSend';
    this._sentIDs[message.ID] = true;
    if (options && !message._sendOptions) Object.defineProperty(message, '_sendOptions', { value: options, enumerable: false });
    if (options && options.onlineUserOnly) return this._transmit(message);  // never queued: see Outbox.keep
    var waits = this._flushing || this._queue.length || !this._connected();
    if (waits || !message._upload) this._outbox.keep(message);  // a File is written only when it waits or fails
    this._hold(message);  // a history page fetched meanwhile returns this object, not a copy from the outbox
    if (waits) return this._enqueue(message);
    return this._transmit(message);
  };

  Chat.prototype._transmit = function (message) {
    var self = this;
    var options = message._sendOptions;
    var prepared = message._upload ? this._prepareUpload(message) : Promise.resolve();
    return prepared.then(function () {
      var wire = {
        ID: message.ID,
        to: message.to,
        conversationType: message.conversationType,
        type: message.type,
        payload: self._wirePayload(message),
        priority: message.priority,
        cloudCustomData: message.cloudCustomData,
        random: message.random,
        clientTime: message.clientTime
      };
      if (message.atUserList && message.atUserList.length) wire.atUserList = message.atUserList;
      if (message.receiverList) wire.receiverList = message.receiverList;
      if (message.needReadReceipt) wire.needReadReceipt = true;
      if (message._forward) wire.forward = message._forward;
      if (message._merged) wire.payload = {
        messageList: message._merged, title: message.payload.title,
        abstractList: message.payload.abstractList, compatibleText: message.payload.compatibleText
      };
      return self._request('sendMessage', { message: wire, options: options || {} });
    }).then(function (data) {
      var stored = data.message;
      for (var key in stored) {
        if (Object.prototype.hasOwnProperty.call(stored, key)) message[key] = stored[key];
      }
      message.status = 'success';
      message.progress = 1;
      self._sentIDs[message.ID] = true;
      self._outbox.drop([message.ID]);
      self._hold(message);
      var conv = self._conversations[message.conversationID];
      if (conv && becomesLastMessage(options)) {
        conv.lastMessage = lastMessageOf(message);
        self._emitConversations();
      }
      return ok({ message: message });
    }, function (error) {
      message.status = 'fail';
      self._hold(message);
      self._outbox.keep(message);
      throw (error && error.code !== undefined) ? chatError(error.code, error.message) : chatError(ERR.SEND_FAILED, String(error));
    });
  };

  /**
   * The vendor's resendMessage(message): sends again a message whose status is 'fail'
   * (this page's, or one the outbox kept from an earlier page load), with the same ID:
   * if the first attempt was stored after all, the server returns that message and
   * stores nothing. Resolves {code: 0, data: {message}}.
   */
  Chat.prototype.resendMessage = function (message) {
    if (!(message instanceof Message)) return Promise.reject(chatError(ERR.MESSAGE_REQUIRED, 'a Message instance is required'));
    if (message.status !== 'fail') return Promise.reject(chatError(ERR.INVALID_PARAMETERS, 'only a message whose status is fail can be resent'));
    return this.sendMessage(message, message._sendOptions);
  };

  /**
   * The vendor's deleteMessage(messageList): delete up to 30 messages of one conversation
   * for yourself (docs/PROTOCOL.md §5.46). Stored ones are deleted on the server, from
   * your history, your conversation's lastMessage and your unread count, on every device
   * of yours (your other tabs get MESSAGE_DELETED); nobody else's view changes. Messages
   * that were never stored (status 'fail') just leave the outbox. Resolves
   * {code: 0, data: {messageList}}, the same Message objects marked isDeleted, or rejects
   * with {code, message} (2111 more than 30 or several conversations, 10030 not a message
   * you can see, 10035 AVChatRoom, 2116 system notices).
   */
  Chat.prototype.deleteMessage = function (messageList) {
    var self = this;
    var list = Array.isArray(messageList) ? messageList : [];
    if (!list.length || list.some(function (m) { return !(m instanceof Message); })) {
      return Promise.reject(chatError(ERR.MESSAGE_REQUIRED, 'a list of Message instances is required'));
    }
    var stored = list.filter(function (m) { return m.status !== 'fail'; });
    var unsent = list.filter(function (m) { return stored.indexOf(m) < 0; });
    var done = function () {
      self._outbox.drop(unsent.map(function (m) { return m.ID; }));
      list.forEach(function (m) { m.isDeleted = true; });
      return ok({ messageList: list });
    };
    if (!stored.length) return Promise.resolve(done());
    var refs = stored.map(function (m) { return { ID: m.ID, conversationID: m.conversationID }; });
    return this._call('deleteMessage', { messageList: refs }).then(done);
  };

  /**
   * The vendor's clearHistoryMessage(conversationID): clear the conversation's messages for
   * yourself on every device of yours; the conversation stays, its unreadCount becomes 0 and
   * its lastMessage empty (docs/PROTOCOL.md §5.47). Resolves {code: 0, data: {}}.
   */
  Chat.prototype.clearHistoryMessage = function (conversationID) {
    var self = this;
    return this._call('clearHistoryMessage', { conversationID: conversationID }).then(function () {
      var conv = self._conversations[conversationID];
      if (conv) {
        conv.unreadCount = 0;
        conv.lastMessage = {};
        conv.groupAtInfoList = [];
        self._emitConversations();
      }
      return ok({});
    });
  };

  /**
   * The vendor's setAllMessageRead({scope}): every conversation of the scope read
   * (TYPES.READ_ALL_MSG, the default: C2C and group; READ_ALL_C2C_MSG; READ_ALL_GROUP_MSG).
   * Resolves {code: 0, data: {}}; 2112 for an unknown scope (docs/PROTOCOL.md §5.48).
   */
  Chat.prototype.setAllMessageRead = function (options) {
    var self = this;
    var args = options && options.scope !== undefined ? { scope: options.scope } : {};
    return this._call('setAllMessageRead', args).then(function (response) {
      (response.data.conversationIDList || []).forEach(function (id) {
        if (self._conversations[id]) self._conversations[id].unreadCount = 0;
      });
      self._emitConversations();
      return ok({});
    });
  };

  Chat.prototype._onDeleted = function (data) {
    // Deletions for me, live (MESSAGE_DELETED) or from a sync: the held messages of the
    // conversation marked isDeleted (by ID, or up to the cleared sequence) and forgotten.
    var held = this._held || new Map();
    var prefix = data.conversationID + '/';
    var ids = data.messageIDList || [];
    var upTo = data.clearedSequence || 0;
    var deleted = [];
    held.forEach(function (message, key) {
      if (key.indexOf(prefix) !== 0) return;
      if (ids.indexOf(message.ID) >= 0 || (upTo && message.sequence <= upTo)) {
        message.isDeleted = true;
        deleted.push(message);
        held.delete(key);
      }
    });
    if (ids.length || upTo) {
      this._emit(EVENT.MESSAGE_DELETED, {
        conversationID: data.conversationID,
        messageIDList: ids,
        clearedSequence: upTo,
        messageList: deleted
      });
    }
  };

  /**
   * The vendor's revokeMessage(message): resolves {code: 0, data: {message}} with the same
   * Message object marked recalled (isRevoked, revoker, revokerInfo; its content emptied),
   * or rejects with {code, message} (20016 / 10031 after the window, 10007 not yours).
   * Like the vendor's SDK, this instance gets the promise, not MESSAGE_REVOKED; its other
   * tabs and every other viewer get the event.
   */
  Chat.prototype.revokeMessage = function (message) {
    var self = this;
    if (!message || !message.ID || !message.conversationID) {
      return Promise.reject(chatError(ERR.MESSAGE_REQUIRED, 'a Message instance is required'));
    }
    return this._call('revokeMessage', { message: { ID: message.ID, conversationID: message.conversationID } }).then(function (response) {
      return ok({ message: self._updateHeld(message, response.data.message) });
    });
  };

  /**
   * The vendor's modifyMessage(message): the message with its new content (payload.text,
   * a custom message's payload.data/description/extension, cloudCustomData), as held.
   * Resolves {code: 0, data: {message}} with the held Message updated (isModified, the
   * new version); rejects with {code, message}: 2480 when someone edited it first, with
   * data.message the current version (the held Message, brought up to it), 2481 when it
   * cannot be edited (type, recalled, after chat.getServerRules().modify.window seconds),
   * 10007 not yours, 80001 a banned word. Like revokeMessage, this instance gets the
   * promise; its other tabs and every other viewer get MESSAGE_MODIFIED.
   */
  Chat.prototype.modifyMessage = function (message) {
    var self = this;
    if (!message || !message.ID || !message.conversationID) {
      return Promise.reject(chatError(ERR.MESSAGE_REQUIRED, 'a Message instance is required'));
    }
    var args = {
      ID: message.ID,
      conversationID: message.conversationID,
      version: message.version || 0,
      payload: message.payload || {},
      cloudCustomData: typeof message.cloudCustomData === 'string' ? message.cloudCustomData : null
    };
    return this._call('modifyMessage', { message: args }).then(
      function (response) {
        return ok({ message: self._updateHeld(message, response.data.message) });
      },
      function (error) {
        if (error.data && error.data.message) error.data.message = self._updateHeld(message, error.data.message);
        throw error;
      }
    );
  };

  Chat.prototype._updateHeld = function (target, data) {
    // The server's state of a message this instance asked about: into the held object and
    // into `target` (when the application passed a copy), and the conversation's lastMessage.
    var held = this._markRevoked(data);
    if (held !== target) {
      for (var key in data) {
        if (Object.prototype.hasOwnProperty.call(data, key)) target[key] = data[key];
      }
    }
    var conv = this._conversations[target.conversationID];
    if (conv && conv.lastMessage && conv.lastMessage.ID === target.ID) {
      conv.lastMessage = lastMessageOf(target);
      this._emitConversations();
    }
    return target;
  };

  /**
   * Our extension (the vendor's SDK has no report call; docs/PROTOCOL.md §5.45):
   * reportMessage({message, reason, description}) reports a message you can see, sent by
   * someone else, to the site's moderators. reason: 'spam', 'abuse', 'illegal' or 'other'
   * (chat.getServerRules().report.reasons); description: optional words, at most
   * report.maxDescription characters. Resolves {code: 0, data: {report, isUpdate}}
   * (isUpdate: your open report of it was replaced), or rejects with {code, message}
   * (10030 not a message you can see, 10004 your own message, 10006 too many reports).
   */
  Chat.prototype.reportMessage = function (options) {
    options = options || {};
    var message = options.message;
    if (!message || !message.ID || !message.conversationID) {
      return Promise.reject(chatError(ERR.MESSAGE_REQUIRED, 'a Message instance is required'));
    }
    var args = { message: { ID: message.ID, conversationID: message.conversationID }, reason: options.reason };
    if (options.description) args.description = options.description;
    return this._call('reportMessage', args);
  };

  // --- read receipts (docs/PROTOCOL.md §5.22–5.24, §6.10) ------------------------------

  function receiptInfoOf(item) {
    return { readCount: item.readCount, unreadCount: item.unreadCount, isPeerRead: item.isPeerRead, timestamp: item.timestamp };
  }

  function messageRefs(messageList) {
    if (!Array.isArray(messageList) || !messageList.length) return null;
    return messageList.map(function (m) { return { ID: m && m.ID, conversationID: m && m.conversationID }; });
  }

  Chat.prototype._setReceiptInfo = function (conversationID, messageID, item) {
    var held = this._held && this._held.get(conversationID + '/' + messageID);
    if (held) held.readReceiptInfo = receiptInfoOf(item);
    return held;
  };

  /**
   * The vendor's sendMessageReadReceipt(messageList): 1–30 messages of one conversation
   * that asked for receipts (needReadReceipt). Resolves {code: 0, data: {}}; rejects with
   * 2114 when none did. The senders get MESSAGE_READ_RECEIPT_RECEIVED.
   */
  Chat.prototype.sendMessageReadReceipt = function (messageList) {
    var refs = messageRefs(messageList);
    if (!refs) return Promise.reject(chatError(ERR.INVALID_PARAMETERS, 'messageList must be a non-empty array of messages'));
    return this._call('sendMessageReadReceipt', { messageList: refs });
  };

  /**
   * The vendor's getMessageReadReceiptList(messageList): resolves {code: 0, data:
   * {messageList}} with the same Message objects, their readReceiptInfo filled in
   * ({readCount, unreadCount} in a group; {isPeerRead, timestamp} in C2C).
   */
  Chat.prototype.getMessageReadReceiptList = function (messageList) {
    var self = this;
    var refs = messageRefs(messageList);
    if (!refs) return Promise.reject(chatError(ERR.INVALID_PARAMETERS, 'messageList must be a non-empty array of messages'));
    return this._call('getMessageReadReceiptList', { messageList: refs }).then(function (response) {
      var byID = {};
      response.data.messageList.forEach(function (item) { byID[item.ID] = item.readReceiptInfo; });
      messageList.forEach(function (message) {
        var info = byID[message.ID];
        if (!info) return;
        message.readReceiptInfo = receiptInfoOf(info);
        self._setReceiptInfo(message.conversationID, message.ID, info);
      });
      return ok({ messageList: messageList });
    });
  };

  /**
   * The vendor's getGroupMessageReadMemberList({message, filter, cursor, count}): filter 0
   * lists who read a group message, 1 who has not, a page (≤ 100) at a time. Resolves
   * {code: 0, data: {isCompleted, cursor, messageID, readUserIDList | unreadUserIDList}}.
   */
  Chat.prototype.getGroupMessageReadMemberList = function (options) {
    options = options || {};
    var message = options.message;
    if (!message || !message.ID) return Promise.reject(chatError(ERR.MESSAGE_REQUIRED, 'a Message instance is required'));
    var args = { message: { ID: message.ID, conversationID: message.conversationID }, filter: options.filter || 0 };
    if (options.cursor) args.cursor = options.cursor;
    if (options.count !== undefined) args.count = options.count;
    return this._call('getGroupMessageReadMemberList', args);
  };

  // --- reactions (docs/PROTOCOL.md §5.54–5.57, §6.19) ---------------------------------

  /**
   * A message's reactionList after one reaction changed: replaced where it was, appended
   * when new, dropped at totalUserCount 0. reactedByMyself: `mine` when given (the change
   * is this user's), else what the list said.
   */
  function withReaction(list, change, mine) {
    var next = (list || []).slice();
    var index = -1;
    next.forEach(function (item, i) { if (item.reactionID === change.reactionID) index = i; });
    var before = index >= 0 ? next[index] : null;
    var item = {
      reactionID: change.reactionID,
      totalUserCount: change.totalUserCount,
      partialUserList: change.partialUserList || [],
      reactedByMyself: mine === undefined ? Boolean(before && before.reactedByMyself) : mine
    };
    if (change.totalUserCount <= 0) {
      if (index >= 0) next.splice(index, 1);
    } else if (index >= 0) {
      next[index] = item;
    } else {
      next.push(item);
    }
    return next;
  }

  Chat.prototype._setReactions = function (conversationID, messageID, apply) {
    var held = this._held && this._held.get(conversationID + '/' + messageID);
    if (held) held.reactionList = apply(held.reactionList);
    return held;
  };

  /**
   * A sync's reactions of a message (docs/PROTOCOL.md §5.21: its whole list, empty when the
   * last reaction went) replace what the held message had; the changes are told as one
   * MESSAGE_REACTIONS_UPDATED (a reaction gone at totalUserCount 0), as if they had come live.
   */
  Chat.prototype._onSyncedReactions = function (conversationID, item) {
    var changes = [];
    this._setReactions(conversationID, item.messageID, function (list) {
      var now = {};
      item.reactionList.forEach(function (r) { now[r.reactionID] = r; });
      (list || []).forEach(function (r) {
        if (!now[r.reactionID]) changes.push({ reactionID: r.reactionID, totalUserCount: 0, partialUserList: [] });
      });
      item.reactionList.forEach(function (r) {
        var before = (list || []).filter(function (x) { return x.reactionID === r.reactionID; })[0];
        if (!before || JSON.stringify(before) !== JSON.stringify(r)) changes.push(r);
      });
      return item.reactionList;
    });
    if (changes.length) {
      this._emit(EVENT.MESSAGE_REACTIONS_UPDATED, { conversationID: conversationID, messageID: item.messageID, operatorID: '', operation: 'sync', reactionList: changes });
    }
  };

  Chat.prototype._onReactions = function (data) {
    var mine = data.operatorID === this._userID ? data.operation === 'add' : undefined;
    this._setReactions(data.conversationID, data.messageID, function (list) {
      return data.reactionList.reduce(function (acc, change) { return withReaction(acc, change, mine); }, list);
    });
    this._emit(EVENT.MESSAGE_REACTIONS_UPDATED, data);
  };

  function reactionArgs(options) {
    options = options || {};
    var message = options.message;
    if (!message || !message.ID || !message.conversationID) return null;
    return { message: { ID: message.ID, conversationID: message.conversationID }, reactionID: options.reactionID };
  }

  Chat.prototype._changeReaction = function (op, options) {
    var self = this;
    var args = reactionArgs(options);
    if (!args) return Promise.reject(chatError(ERR.MESSAGE_REQUIRED, 'a Message instance is required'));
    return this._call(op, args).then(function (response) {
      var data = response.data;
      var apply = function (list) {
        return data.reactionList.reduce(function (acc, change) { return withReaction(acc, change, change.reactedByMyself); }, list);
      };
      if (!self._setReactions(data.conversationID, data.messageID, apply)) options.message.reactionList = apply(options.message.reactionList);
      return response;
    });
  };

  /**
   * The vendor's addMessageReaction({message, reactionID}): reactionID is one emoji (a
   * Unicode emoji or a code of the site's set, '[微笑]'). Resolves {code: 0, data:
   * {conversationID, messageID, reactionList}} (the changed reaction); rejects with 23007
   * (already), 23005 (too many kinds), 10030 (not a message you can see), 10004.
   */
  Chat.prototype.addMessageReaction = function (options) {
    return this._changeReaction('addMessageReaction', options);
  };

  /** The vendor's removeMessageReaction({message, reactionID}); 23008 when you had not reacted. */
  Chat.prototype.removeMessageReaction = function (options) {
    return this._changeReaction('removeMessageReaction', options);
  };

  /**
   * The vendor's getMessageReactions({messageList, maxUserCountPerReaction}): 1–20 messages
   * of one conversation. Resolves {code: 0, data: {resultList: [{messageID, reactionList}]}}
   * and sets reactionList on the messages given (and on the ones this SDK holds).
   */
  Chat.prototype.getMessageReactions = function (options) {
    var self = this;
    options = options || {};
    var refs = messageRefs(options.messageList);
    if (!refs) return Promise.reject(chatError(ERR.INVALID_PARAMETERS, 'messageList must be a non-empty array of messages'));
    var args = { messageList: refs };
    if (options.maxUserCountPerReaction !== undefined) args.maxUserCountPerReaction = options.maxUserCountPerReaction;
    return this._call('getMessageReactions', args).then(function (response) {
      var byID = {};
      response.data.resultList.forEach(function (item) { byID[item.messageID] = item.reactionList; });
      options.messageList.forEach(function (message) {
        var list = byID[message.ID];
        if (!list) return;
        message.reactionList = list;
        self._setReactions(message.conversationID, message.ID, function () { return list; });
      });
      return response;
    });
  };

  /**
   * The vendor's getAllUserListOfMessageReaction({message, reactionID, nextSeq, count}):
   * resolves {code: 0, data: {userList, nextSeq, isCompleted}}; pass nextSeq back for more.
   */
  Chat.prototype.getAllUserListOfMessageReaction = function (options) {
    var args = reactionArgs(options);
    if (!args) return Promise.reject(chatError(ERR.MESSAGE_REQUIRED, 'a Message instance is required'));
    if (options.nextSeq !== undefined) args.nextSeq = options.nextSeq;
    if (options.count !== undefined) args.count = options.count;
    return this._call('getAllUserListOfMessageReaction', args);
  };

  Chat.prototype.getMessageList = function (options) {
    var self = this;
    options = options || {};
    var args = { conversationID: options.conversationID };
    if (options.nextReqMessageID) args.nextReqMessageID = options.nextReqMessageID;
    if (options.count !== undefined) args.count = options.count;
    // The media outbox is read once, at login: the merge waits for it.
    return Promise.all([this._call('getMessageList', args), this._outbox.media.loaded]).then(function (results) {
      var response = results[0];
      var stored = response.data.messageList.map(function (data) { return self._hold(wrapMessage(data)); });
      response.data.messageList = self._withUnsent(options.conversationID, options.nextReqMessageID, response.data, stored);
      return response;
    });
  };

  // getMessageListHopping({conversationID, sequence | time, count?, direction?}): a page from
  // a position (direction 0 older, 1 newer; the message at the position included), to
  // open a chat at an old message. Resolves {messageList, isCompleted, nextMessageSeq,
  // nextMessageTime} (docs/PROTOCOL.md §5.52); the messages are held like getMessageList's.
  Chat.prototype.getMessageListHopping = function (options) {
    var self = this;
    options = options || {};
    var args = { conversationID: options.conversationID };
    ['sequence', 'time', 'count', 'direction'].forEach(function (name) {
      if (options[name] !== undefined && options[name] !== null) args[name] = options[name];
    });
    return this._call('getMessageListHopping', args).then(function (response) {
      response.data.messageList = response.data.messageList.map(function (data) { return self._hold(wrapMessage(data)); });
      return response;
    });
  };

  // findMessage(messageID): as the vendor's, a look in what this SDK holds (messages it
  // returned or received): the Message, or null. Synchronous.
  Chat.prototype.findMessage = function (messageID) {
    var found = null;
    (this._held || new Map()).forEach(function (message) {
      if (message.ID === messageID) found = message;
    });
    return found;
  };

  // findCloudMessage({conversationID, messageID}): the server's findMessage (docs/PROTOCOL.md
  // §5.53): the message as the user may see it, with its sequence to hop to; 10030 when
  // the user may not read it. Resolves {code: 0, data: {message}}.
  Chat.prototype.findCloudMessage = function (options) {
    var self = this;
    options = options || {};
    var args = { conversationID: options.conversationID, messageID: options.messageID };
    return this._call('findMessage', args).then(function (response) {
      response.data.message = self._hold(wrapMessage(response.data.message));
      return response;
    });
  };

  Chat.prototype.setMessageRead = function (options) {
    var self = this;
    var id = options && options.conversationID;
    return this._call('setMessageRead', { conversationID: id }).then(function (response) {
      var conv = self._conversations[id];
      if (conv && conv.unreadCount) {
        conv.unreadCount = 0;
        self._emitConversations();
      }
      return response;
    });
  };

  // --- conversations ---------------------------------------------------------------

  Chat.prototype.getConversationList = function (ids) {
    var self = this;
    return this._call('getConversationList', {}).then(function (response) {
      self._replaceConversations(response.data.conversationList);
      if (Array.isArray(ids)) {
        response.data.conversationList = response.data.conversationList.filter(function (c) {
          return ids.indexOf(c.conversationID) !== -1;
        });
      }
      return response;
    });
  };

  Chat.prototype.getConversationProfile = function (conversationID) {
    return this._call('getConversationProfile', { conversationID: conversationID });
  };

  Chat.prototype.deleteConversation = function (conversationID) {
    var self = this;
    return this._call('deleteConversation', { conversationID: conversationID }).then(function (response) {
      if (self._conversations[conversationID]) {
        delete self._conversations[conversationID];
        self._emitConversations();
      }
      return response;
    });
  };

  Chat.prototype.pinConversation = function (options) {
    return this._call('pinConversation', { conversationID: options.conversationID, isPinned: !!options.isPinned });
  };

  // --- conversation management (docs/PROTOCOL.md §5.49) ---------------------------------
  // Each change comes back to every tab of the user, this one included, as
  // CONVERSATION_LIST_UPDATED patches (and CONVERSATION_GROUP_LIST_UPDATED): the list
  // held here is updated by them, not by the replies.

  /** setConversationDraft({conversationID, draftText}): '' clears the draft. */
  Chat.prototype.setConversationDraft = function (options) {
    options = options || {};
    return this._call('setConversationDraft', { conversationID: options.conversationID, draftText: options.draftText || '' });
  };

  /** markConversation({conversationIDList, markType, enableMark}): resolves
   *  {successConversationIDList, failureConversationIDList}. */
  Chat.prototype.markConversation = function (options) {
    options = options || {};
    return this._call('markConversation', {
      conversationIDList: options.conversationIDList,
      markType: options.markType,
      enableMark: options.enableMark
    });
  };

  /** setMessageRemindType({groupID | userIDList, messageRemindType}). */
  Chat.prototype.setMessageRemindType = function (options) {
    options = options || {};
    var args = { messageRemindType: options.messageRemindType };
    if (options.groupID !== undefined) args.groupID = options.groupID;
    if (options.userIDList !== undefined) args.userIDList = options.userIDList;
    return this._call('setMessageRemindType', args);
  };

  /** getConversationGroupList(): resolves {code: 0, data: [name, ...]}, as the SDK. */
  Chat.prototype.getConversationGroupList = function () {
    var self = this;
    return this._call('getConversationGroupList', {}).then(function (response) {
      self._conversationGroups = response.data.groupList;
      response.data = response.data.groupList.slice();
      return response;
    });
  };

  Chat.prototype.createConversationGroup = function (options) {
    options = options || {};
    return this._call('createConversationGroup', { groupName: options.groupName, conversationIDList: options.conversationIDList });
  };

  Chat.prototype.deleteConversationGroup = function (groupName) {
    return this._call('deleteConversationGroup', { groupName: groupName });
  };

  Chat.prototype.renameConversationGroup = function (options) {
    options = options || {};
    return this._call('renameConversationGroup', { oldName: options.oldName, newName: options.newName });
  };

  Chat.prototype.addConversationsToGroup = function (options) {
    options = options || {};
    return this._call('addConversationsToGroup', { groupName: options.groupName, conversationIDList: options.conversationIDList });
  };

  Chat.prototype.deleteConversationsFromGroup = function (options) {
    options = options || {};
    return this._call('deleteConversationsFromGroup', { groupName: options.groupName, conversationIDList: options.conversationIDList });
  };

  Chat.prototype.getTotalUnreadMessageCount = function () {
    return this._totalUnread;
  };

  // --- groups and profiles ------------------------------------------------------------

  Chat.prototype.createGroup = function (options) {
    return this._call('createGroup', options || {});
  };

  /** The SDK's joinGroup({groupID, applyMessage?}): resolves {status, group}; status is
   *  TYPES.JOIN_STATUS_WAIT_APPROVAL for a NeedPermission group (an application was made). */
  Chat.prototype.joinGroup = function (options) {
    options = options || {};
    var args = { groupID: options.groupID };
    if (options.applyMessage) args.applyMessage = options.applyMessage;
    return this._call('joinGroup', args);
  };

  Chat.prototype.quitGroup = function (groupID) {
    return this._call('quitGroup', { groupID: groupID });
  };

  Chat.prototype.addGroupMember = function (options) {
    return this._call('addGroupMember', { groupID: options.groupID, userIDList: options.userIDList });
  };

  Chat.prototype.deleteGroupMember = function (options) {
    return this._call('deleteGroupMember', { groupID: options.groupID, userIDList: options.userIDList, reason: options.reason || '' });
  };

  Chat.prototype.getGroupList = function () {
    var self = this;
    return this._call('getGroupList', {}).then(function (response) {
      self._groups = response.data.groupList;
      return response;
    });
  };

  Chat.prototype.getGroupProfile = function (options) {
    return this._call('getGroupProfile', { groupID: options && options.groupID });
  };

  Chat.prototype.getGroupMemberList = function (options) {
    options = options || {};
    return this._call('getGroupMemberList', { groupID: options.groupID, count: options.count || 100, offset: options.offset || 0 });
  };

  // Group administration (docs/PROTOCOL.md §5.25–5.27). A field left undefined is not
  // sent (the server keeps it); a key the server does not know is refused with 10004.
  Chat.prototype.updateGroupProfile = function (options) {
    options = options || {};
    return this._call('updateGroupProfile', {
      groupID: options.groupID,
      name: options.name,
      introduction: options.introduction,
      notification: options.notification,
      avatar: options.avatar,
      joinOption: options.joinOption,
      muteAllMembers: options.muteAllMembers,
      groupCustomField: options.groupCustomField
    });
  };

  Chat.prototype.setGroupMemberRole = function (options) {
    options = options || {};
    return this._call('setGroupMemberRole', { groupID: options.groupID, userID: options.userID, role: options.role });
  };

  Chat.prototype.setGroupMemberMuteTime = function (options) {
    options = options || {};
    return this._call('setGroupMemberMuteTime', { groupID: options.groupID, userID: options.userID, muteTime: options.muteTime });
  };

  Chat.prototype.changeGroupOwner = function (options) {
    options = options || {};
    return this._call('changeGroupOwner', { groupID: options.groupID, newOwnerID: options.newOwnerID });
  };

  Chat.prototype.dismissGroup = function (groupID) {
    return this._call('dismissGroup', { groupID: groupID });
  };

  /** The SDK's setGroupMemberNameCard({groupID, userID?, nameCard}): resolves {group, member}. */
  Chat.prototype.setGroupMemberNameCard = function (options) {
    options = options || {};
    var args = { groupID: options.groupID, nameCard: options.nameCard };
    if (options.userID) args.userID = options.userID;
    return this._call('setGroupMemberNameCard', args);
  };

  /** The SDK's setGroupMemberCustomField({groupID, userID?, memberCustomField: [{key, value}]}):
   * resolves {group, member}; a value "" removes the key (docs/PROTOCOL.md). */
  Chat.prototype.setGroupMemberCustomField = function (options) {
    options = options || {};
    var args = { groupID: options.groupID, memberCustomField: options.memberCustomField };
    if (options.userID) args.userID = options.userID;
    return this._call('setGroupMemberCustomField', args);
  };

  /** The SDK's getGroupMemberProfile({groupID, userIDList}): resolves {memberList}. */
  Chat.prototype.getGroupMemberProfile = function (options) {
    options = options || {};
    return this._call('getGroupMemberProfile', { groupID: options.groupID, userIDList: options.userIDList || [] });
  };

  /** The SDK's searchGroupByID(groupID): resolves {group} (a Work group: 10010). */
  Chat.prototype.searchGroupByID = function (groupID) {
    return this._call('searchGroupByID', { groupID: groupID });
  };

  // --- user status (docs/PROTOCOL.md §5.35–5.39, §6.14) --------------------------------

  /** The SDK's getUserStatus({userIDList}): resolves {successUserList, failureUserList};
   * each user {userID, statusType, customStatus} (and our lastSeen, epoch seconds, for contacts). */
  Chat.prototype.getUserStatus = function (options) {
    return this._call('getUserStatus', { userIDList: (options && options.userIDList) || [] });
  };

  /** The SDK's setSelfStatus({customStatus}): resolves {userID, statusType, customStatus}. */
  Chat.prototype.setSelfStatus = function (options) {
    return this._call('setSelfStatus', { customStatus: options && options.customStatus !== undefined ? options.customStatus : '' });
  };

  /** The SDK's subscribeUserStatus({userIDList}): USER_STATUS_UPDATED for these users from now
   * on (also after a reconnect: the SDK subscribes again). Resolves {failureUserList}. */
  Chat.prototype.subscribeUserStatus = function (options) {
    var self = this;
    var ids = (options && options.userIDList) || [];
    return this._call('subscribeUserStatus', { userIDList: ids }).then(function (response) {
      var failed = {};
      (response.data.failureUserList || []).forEach(function (f) { failed[f.userID] = true; });
      ids.forEach(function (id) {
        if (!failed[id]) {
          delete self._statusFollowed[id]; // re-inserted last: the newest subscription
          self._statusFollowed[id] = true;
        }
      });
      return response;
    });
  };

  /** The SDK's unsubscribeUserStatus({userIDList}); no list (or []): every subscription. */
  Chat.prototype.unsubscribeUserStatus = function (options) {
    var self = this;
    var ids = (options && options.userIDList) || [];
    return this._call('unsubscribeUserStatus', { userIDList: ids }).then(function (response) {
      if (ids.length) ids.forEach(function (id) { delete self._statusFollowed[id]; });
      else self._statusFollowed = {};
      return response;
    });
  };

  /** The SDK's getGroupOnlineMemberCount(groupID): resolves {memberCount} (here for any group
   * you are a member of, not only AVChatRoom). */
  Chat.prototype.getGroupOnlineMemberCount = function (groupID) {
    if (groupID && typeof groupID === 'object') groupID = groupID.groupID;
    return this._call('getGroupOnlineMemberCount', { groupID: groupID });
  };

  /** After a reconnect: follow the same users again (subscriptions belong to a socket), and
   * tell the page their status now (changes while the socket was down were not pushed). */
  Chat.prototype._followStatusAgain = function () {
    var self = this;
    var ids = Object.keys(this._statusFollowed).slice(-200);
    if (!ids.length) return;
    var chunks = [];
    for (var i = 0; i < ids.length; i += 100) chunks.push(ids.slice(i, i + 100));
    Promise.all(chunks.map(function (chunk) {
      return self._request('subscribeUserStatus', { userIDList: chunk });
    })).then(function () {
      return self._request('getUserStatus', { userIDList: ids });
    }).then(function (data) {
      if (data.successUserList.length) self._emit(EVENT.USER_STATUS_UPDATED, data.successUserList);
    }, function () { /* offline again: the next reconnect tries again */ });
  };

  /** The SDK's handleGroupApplication({handleAction: 'Agree'|'Reject', handleMessage?, message}):
   *  `message` is the join-application notice (MSG_GRP_SYS_NOTICE, operationType 1) from the
   *  system conversation. Resolves {group}. 10024: already handled; 10007: not owner or admin. */
  Chat.prototype.handleGroupApplication = function (options) {
    options = options || {};
    var message = options.message || {};
    return this._call('handleGroupApplication', {
      handleAction: options.handleAction,
      handleMessage: options.handleMessage || '',
      message: { ID: message.ID, conversationID: TYPES.CONV_SYSTEM }
    });
  };

  /** The join applications waiting for this user's answer (the native SDKs' getGroupApplicationList):
   *  resolves {applicationList: [{groupID, groupName, fromUser, requestMsg, addTime, message, ...}], unreadCount}. */
  Chat.prototype.getGroupApplicationList = function () {
    return this._call('getGroupApplicationList', {});
  };

  Chat.prototype.getUserProfile = function (options) {
    return this._call('getUserProfile', { userIDList: (options && options.userIDList) || [] });
  };

  Chat.prototype.getMyProfile = function () {
    return this._call('getMyProfile', {});
  };

  // Profiles and the directory (docs/PROTOCOL.md §5.40–5.42, §10.4).

  /** The SDK's updateMyProfile(options): a field left undefined is not sent (kept). Resolves the new Profile. */
  Chat.prototype.updateMyProfile = function (options) {
    options = options || {};
    var args = {};
    for (var key in options) if (options[key] !== undefined) args[key] = options[key];
    return this._call('updateMyProfile', args);
  };

  /** The SDK's searchCloudUsers({keywordList, ...}): {totalCount, searchResultList, cursor}. */
  Chat.prototype.searchCloudUsers = function (options) {
    options = options || {};
    var args = {};
    for (var key in options) if (options[key] !== undefined) args[key] = options[key];
    return this._call('searchCloudUsers', args);
  };

  /** The SDK's searchCloudMessages({keywordList, keywordListMatchType, senderUserIDList, messageTypeList,
   * conversationID, timePosition, timePeriod, cursor}): {totalCount, searchResultList, cursor} (§5.50). */
  Chat.prototype.searchCloudMessages = function (options) {
    options = options || {};
    var args = {};
    for (var key in options) if (options[key] !== undefined) args[key] = options[key];
    return this._call('searchCloudMessages', args);
  };

  /** Our extension: Public and Meeting groups one may join, a page at a time: {groupList, cursor}. */
  Chat.prototype.getPublicGroupList = function (options) {
    options = options || {};
    var args = {};
    if (options.cursor) args.cursor = options.cursor;
    if (options.count) args.count = options.count;
    return this._call('getPublicGroupList', args);
  };

  /**
   * Our extension: upload an image and make it a 256 × 256 avatar on this site.
   * options.onProgress(fraction 0..1) follows the upload. Resolves {code: 0, data:
   * {avatar: url, width, height}}; set it with updateMyProfile or updateGroupProfile.
   */
  Chat.prototype.uploadAvatar = function (file, options) {
    var onProgress = options && options.onProgress;
    return this._uploadFile(file, 'image', onProgress).then(function (upload) {
      return apiJSON('POST', '/api/uploads/' + upload.uuid + '/avatar');
    }).then(function (made) {
      if (made.status !== 201) throw made.data || chatError(2251, 'the avatar could not be made');
      return { code: 0, data: made.data };
    });
  };

  // --- the relationship chain (docs/PROTOCOL.md §5.34) -----------------------------------
  // The friend list is held here, as the SDK holds it: the server pushes what changed
  // ({upsert, remove}) and FRIEND_LIST_UPDATED fires with the whole Friend[].

  /** The SDK's friend-list change applied to `friends` (pure; a new array). A friend
   * upserted keeps its place; a new one goes to the end; removed ones leave. */
  function applyFriendListChange(friends, change) {
    var removed = {};
    (change.remove || []).forEach(function (userID) { removed[userID] = true; });
    var upserts = {};
    var order = [];
    (change.upsert || []).forEach(function (friend) {
      if (!upserts[friend.userID]) order.push(friend.userID);
      upserts[friend.userID] = friend;
    });
    var next = [];
    (friends || []).forEach(function (friend) {
      if (removed[friend.userID] && !upserts[friend.userID]) return;
      if (upserts[friend.userID]) {
        next.push(upserts[friend.userID]);
        delete upserts[friend.userID];
      } else {
        next.push(friend);
      }
    });
    order.forEach(function (userID) { if (upserts[userID]) next.push(upserts[userID]); });
    return next;
  }

  Chat.prototype._onFriendListChange = function (change) {
    var self = this;
    if (this._friends && change) {
      this._friends = applyFriendListChange(this._friends, change);
      this._emit(EVENT.FRIEND_LIST_UPDATED, this._friends.slice());
      return;
    }
    // Nothing held yet: the whole list, fetched now, already includes the change.
    this._request('getFriendList', {}).then(function (friends) {
      self._friends = friends;
      self._emit(EVENT.FRIEND_LIST_UPDATED, friends.slice());
    }, function () { /* offline: the next getFriendList fetches it */ });
  };

  /** The SDK's getFriendList(): resolves {code: 0, data: Friend[]}. */
  Chat.prototype.getFriendList = function () {
    var self = this;
    return this._call('getFriendList', {}).then(function (response) {
      self._friends = response.data.slice();
      return response;
    });
  };

  /** The SDK's addFriend({to, source, wording, type, remark, groupName}): resolves
   * {code: 0, data: {userID, code}}, data.code 0 (friends now) or 30539 (pending). */
  Chat.prototype.addFriend = function (options) {
    options = options || {};
    return this._call('addFriend', {
      to: options.to,
      source: options.source,
      wording: options.wording,
      type: options.type,
      remark: options.remark,
      groupName: options.groupName
    });
  };

  /** The SDK's deleteFriend({userIDList, type}): resolves {successUserIDList, failureUserIDList}. */
  Chat.prototype.deleteFriend = function (options) {
    options = options || {};
    return this._call('deleteFriend', { userIDList: options.userIDList || [], type: options.type });
  };

  /** The SDK's getFriendProfile({userIDList}): resolves {friendList, failureUserIDList}. */
  Chat.prototype.getFriendProfile = function (options) {
    return this._call('getFriendProfile', { userIDList: (options && options.userIDList) || [] });
  };

  /** The SDK's updateFriend({userID, remark}): resolves the Friend. */
  Chat.prototype.updateFriend = function (options) {
    options = options || {};
    return this._call('updateFriend', { userID: options.userID, remark: options.remark, friendCustomField: options.friendCustomField });
  };

  /** The SDK's checkFriend({userIDList, type}): resolves {successUserIDList: [{userID, code, relation}], failureUserIDList}. */
  Chat.prototype.checkFriend = function (options) {
    options = options || {};
    return this._call('checkFriend', { userIDList: options.userIDList || [], type: options.type });
  };

  /** The SDK's getFriendApplicationList(): resolves {friendApplicationList, unreadCount}. */
  Chat.prototype.getFriendApplicationList = function () {
    this._relationLists.applications = true;
    return this._call('getFriendApplicationList', {});
  };

  /** The SDK's acceptFriendApplication({userID, remark, type}). */
  Chat.prototype.acceptFriendApplication = function (options) {
    options = options || {};
    return this._call('acceptFriendApplication', { userID: options.userID, remark: options.remark, type: options.type });
  };

  /** The SDK's refuseFriendApplication({userID}). */
  Chat.prototype.refuseFriendApplication = function (options) {
    return this._call('refuseFriendApplication', { userID: options && options.userID });
  };

  /** The SDK's deleteFriendApplication({userID, type}). */
  Chat.prototype.deleteFriendApplication = function (options) {
    options = options || {};
    return this._call('deleteFriendApplication', { userID: options.userID, type: options.type });
  };

  /** The SDK's setFriendApplicationRead(): every received request read. */
  Chat.prototype.setFriendApplicationRead = function () {
    return this._call('setFriendApplicationRead', {});
  };

  /** The SDK's addToBlacklist({userIDList}): resolves the userIDs added. */
  Chat.prototype.addToBlacklist = function (options) {
    return this._call('addToBlacklist', { userIDList: (options && options.userIDList) || [] });
  };

  /** The SDK's removeFromBlacklist({userIDList}): resolves the userIDs removed. */
  Chat.prototype.removeFromBlacklist = function (options) {
    return this._call('removeFromBlacklist', { userIDList: (options && options.userIDList) || [] });
  };

  /** The SDK's getBlacklist(): resolves your block list (userID[]). */
  Chat.prototype.getBlacklist = function () {
    this._relationLists.blacklist = true;
    return this._call('getBlacklist', {});
  };

  /** After a reconnect: the friend requests and the block list, if the page has read them,
   * fetched again and emitted (their events may have been missed while the socket was down). */
  Chat.prototype._refetchRelationLists = function () {
    var self = this;
    var offline = function () { /* down again: the next reconnect fetches them */ };
    if (this._relationLists.applications) {
      this._request('getFriendApplicationList', {}).then(function (data) {
        self._emit(EVENT.FRIEND_APPLICATION_LIST_UPDATED, data);
      }, offline);
    }
    if (this._relationLists.blacklist) {
      this._request('getBlacklist', {}).then(function (data) {
        self._emit(EVENT.BLACKLIST_UPDATED, data);
      }, offline);
    }
  };

  Chat.prototype.getLoginUser = function () {
    return this._userID;
  };

  // Our extension: the server's rules from its hello frame (see the header), or null.
  Chat.prototype.getServerRules = function () {
    return this._rules;
  };

  Chat.prototype.setLogLevel = function () {};

  Chat.prototype.registerPlugin = function () {};

  var instances = {};

  var TIM = {
    TYPES: TYPES,
    EVENT: EVENT,
    VERSION: '2.0.0-django',
    // Our extension, for tests: how a FRIEND_LIST_UPDATED change is applied.
    _applyFriendListChange: applyFriendListChange,
    Message: Message,
    create: function (options) {
      // One server, one instance per page: TIM.create() pasted in the console (with
      // any SDKAppID) returns the page's logged-in instance, as the SDK's
      // one-instance-per-SDKAppID rule does for the page's own app.
      if (!instances.page) instances.page = new Chat(options || {});
      return instances.page;
    }
  };

  global.TIM = TIM;
  global.TencentCloudChat = TIM;
})(typeof window !== 'undefined' ? window : this);
