"""The relationship chain: friends, friend applications and the block list (the SDK's
addFriend, acceptFriendApplication, deleteFriend, updateFriend, addToBlacklist, ...).

The SDK's model, kept as it is: a friend list is one user's (``Friend`` rows are
one-way; the two rows of a pair make the two-way friendship), and whether anyone may
add a user is that user's ``allow_type``:

- ``AllowType_Type_AllowAny``: addFriend adds at once (both ways with
  ``Add_Type_Both``, the default); result code 0, FRIEND_LIST_UPDATED.
- ``AllowType_Type_NeedConfirm`` (the default): addFriend leaves a pending application
  for the target; result code 30539 (a success), FRIEND_APPLICATION_LIST_UPDATED to both.
  The target accepts (acceptFriendApplication), refuses or deletes it. If the target had
  already asked the applicant, the two requests meet and make the friendship at once;
  if the target already has the applicant in their list, no confirmation is needed.
- ``AllowType_Type_DenyAny``: 30516.

Blocking (``Block``) ends the friendship both ways and drops pending applications both
ways, as the SDK does; while either has blocked the other, addFriend is refused (30515
if you blocked them, 30525 if they blocked you), and a blocked user's C2C messages to
the blocker are refused with 20007 (``access.access_c2c_peer``). Group messages are not
affected.

Each change locks the two users' rows (in pk order), so that two requests crossing
each other, or a block racing an accept, are applied one after the other. Events name
their recipients: a user's friend list, applications and block list go to that user's
tabs only. The wire shapes (docs/PROTOCOL.md §5.33–§5.47): FRIEND_LIST_UPDATED carries
``{upsert: Friend[], remove: userID[]}`` (``tim.js`` applies it to its cache and emits
the SDK's full list), FRIEND_APPLICATION_LIST_UPDATED the SDK's
``{friendApplicationList, unreadCount}``, BLACKLIST_UPDATED the SDK's userID[]. A
remark that changes also patches the owner's C2C conversation (``remark``, the
conversation's title) with CONVERSATION_LIST_UPDATED.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from messaging import conf, rules, serialize
from messaging.errors import ChatError, ErrorCode
from messaging.events import publish_on_commit
from messaging.models import Block, Conversation, Friend, FriendApplication, User
from messaging.queries import friends as friend_queries

# --- checks ------------------------------------------------------------------------------------


def _check_text(name, value, limit):
    if not isinstance(value, str) or len(value.encode()) > limit:
        raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, f"{name} must be a string of at most {limit} bytes")


def _lock_pair(user: User, user_id) -> User:
    """The other user, locked with ``user`` (pk order: no deadlock between two requests
    crossing each other). 30001 for yourself, 30003 for no such user. One query."""
    if not isinstance(user_id, str) or not user_id:
        raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, "userID is required")
    if user_id == user.username:
        raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, "that is you")
    rows = list(User.objects.select_for_update().filter(Q(pk=user.pk) | Q(username=user_id, is_active=True)).order_by("pk"))
    other = next((row for row in rows if row.pk != user.pk), None)
    if other is None:
        raise ChatError(ErrorCode.FRIENDSHIP_ACCOUNT_NOT_FOUND, f"user {user_id!r} does not exist")
    return other


def _lock_users(user: User, user_ids) -> dict:
    """userID -> User of the listed others, locked with ``user`` in pk order; 30001 for
    yourself or an empty list, 30003 when one does not exist. One query."""
    wanted = list(dict.fromkeys(user_ids))
    if not wanted or not all(isinstance(u, str) and u for u in wanted):
        raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, "userIDList must list userIDs")
    if user.username in wanted:
        raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, "you cannot list yourself")
    rows = User.objects.select_for_update().filter(Q(pk=user.pk) | Q(username__in=wanted, is_active=True)).order_by("pk")
    found = {row.username: row for row in rows if row.pk != user.pk}
    missing = [u for u in wanted if u not in found]
    if missing:
        raise ChatError(ErrorCode.FRIENDSHIP_ACCOUNT_NOT_FOUND, f"no such user: {', '.join(missing)}")
    return {u: found[u] for u in wanted}


@dataclass
class Pair:
    """What stands between ``a`` and ``b``: their friend rows, blocks and applications."""

    friends: dict = field(default_factory=dict)  # (owner pk, friend pk) -> Friend
    blocks: set = field(default_factory=set)  # (owner pk, blocked pk)
    applications: dict = field(default_factory=dict)  # (applicant pk, target pk) -> FriendApplication


def _pair(a: User, b: User) -> Pair:
    """Three queries."""
    both = Q(owner=a, friend=b) | Q(owner=b, friend=a)
    pair = Pair()
    pair.friends = {(f.owner_id, f.friend_id): f for f in Friend.objects.filter(both)}
    pair.blocks = set(Block.objects.filter(Q(owner=a, blocked=b) | Q(owner=b, blocked=a)).values_list("owner_id", "blocked_id"))
    pair.applications = {
        (x.applicant_id, x.target_id): x
        for x in FriendApplication.objects.filter(Q(applicant=a, target=b) | Q(applicant=b, target=a))
    }
    return pair


# --- events ------------------------------------------------------------------------------------


class Changes:
    """What one action changed, per user, published once at the end: friend rows added or
    updated, friends removed, the users whose application list or block list changed,
    and the remarks whose conversation title changed."""

    def __init__(self):
        self.upsert = {}  # owner pk -> [Friend]
        self.remove = {}  # owner pk -> [userID]
        self.applications = set()  # user pks
        self.blacklists = set()  # user pks
        self.remarks = {}  # owner pk -> {peer pk: remark}

    def added(self, row: Friend):
        self.upsert.setdefault(row.owner_id, []).append(row)
        if row.remark:
            self.remarks.setdefault(row.owner_id, {})[row.friend_id] = row.remark

    def removed(self, row: Friend, friend_user_id):
        self.remove.setdefault(row.owner_id, []).append(friend_user_id)
        if row.remark:
            self.remarks.setdefault(row.owner_id, {})[row.friend_id] = ""

    def publish(self):
        for owner_pk in sorted(set(self.upsert) | set(self.remove)):
            data = {
                "upsert": [serialize.friend(row) for row in self.upsert.get(owner_pk, [])],
                "remove": self.remove.get(owner_pk, []),
            }
            publish_on_commit("FRIEND_LIST_UPDATED", data, [owner_pk])
        # One query each, however many users the change touched (a block list of 1,000).
        if self.applications:
            lists = friend_queries.get_friend_application_lists(self.applications)
            for user_pk in sorted(self.applications):
                publish_on_commit("FRIEND_APPLICATION_LIST_UPDATED", lists[user_pk], [user_pk])
        for user_pk in sorted(self.blacklists):
            publish_on_commit("BLACKLIST_UPDATED", friend_queries.get_blacklist(user_pk), [user_pk])
        if self.remarks:
            peers = {peer_pk for remarks in self.remarks.values() for peer_pk in remarks}
            rows = Conversation.objects.filter(user_id__in=self.remarks, peer_id__in=peers).values_list(
                "user_id", "peer_id", "conversation_id"
            )
            patches = {}
            for owner_pk, peer_pk, conversation_id in rows:
                if peer_pk in self.remarks[owner_pk]:
                    patches.setdefault(owner_pk, []).append(
                        {"conversationID": conversation_id, "remark": self.remarks[owner_pk][peer_pk]}
                    )
            for owner_pk, patch in sorted(patches.items()):
                publish_on_commit("CONVERSATION_LIST_UPDATED", patch, [owner_pk])


def _new_friend(owner: User, friend: User, *, remark="", source="", wording="", now=None) -> Friend:
    row = Friend(owner=owner, friend=friend, remark=remark, source=source, wording=wording, created_at=now or timezone.now())
    row.save(force_insert=True)
    return row


def _check_room(user: User, other: User, pair: Pair, new_edges):
    """30010 / 30014 when a new friend row would take ``user`` / ``other`` over the limit."""
    limit = conf.get("MAX_FRIENDS")
    for owner, code in ((user, ErrorCode.FRIEND_COUNT_LIMIT), (other, ErrorCode.PEER_FRIEND_LIMIT)):
        if any(edge[0] == owner.pk for edge in new_edges) and Friend.objects.filter(owner=owner).count() >= limit:
            raise ChatError(code, f"{owner.username} already has {limit} friends")


def _make_friends(user, other, pair, changes, *, both, remark="", other_remark="", source="", wording=""):
    """Add ``other`` to ``user``'s list (and, ``both``, ``user`` to ``other``'s) where
    missing, and drop the applications between them."""
    wanted = [(user, other, remark)] + ([(other, user, other_remark)] if both else [])
    new = [(a, b, r) for a, b, r in wanted if (a.pk, b.pk) not in pair.friends]
    _check_room(user, other, pair, [(a.pk, b.pk) for a, b, _ in new])
    now = timezone.now()
    for owner, friend, row_remark in new:
        row = _new_friend(owner, friend, remark=row_remark, source=source, wording=wording, now=now)
        pair.friends[(owner.pk, friend.pk)] = row
        changes.added(row)
    _drop_applications(pair, changes)


def _drop_applications(pair: Pair, changes: Changes):
    if pair.applications:
        FriendApplication.objects.filter(pk__in=[x.pk for x in pair.applications.values()]).delete()
        for applicant_pk, target_pk in pair.applications:
            changes.applications.update((applicant_pk, target_pk))
        pair.applications = {}


# --- the ops -----------------------------------------------------------------------------------


def add_friend(user: User, to, *, source="", wording="", remark="", add_type=rules.SNS_ADD_TYPE_BOTH, group_name="") -> dict:
    """The SDK's addFriend: ``{userID, code}`` with code 0 (friends now) or 30539 (a
    pending application; the target confirms). Refused: 30001 yourself, already your
    friend or bad arguments, 30003 no such user, 30515 you blocked them, 30525 they
    blocked you, 30516 they accept no requests, 30010/30014 friend limits, 30012 too
    many pending requests. ``group_name`` (friend groups) is accepted and not kept."""
    _check_text("remark", remark, rules.MAX_REMARK_BYTES)
    _check_text("wording", wording, rules.MAX_WORDING_BYTES)
    _check_text("source", source, 64)
    if add_type not in (rules.SNS_ADD_TYPE_SINGLE, rules.SNS_ADD_TYPE_BOTH):
        raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, f"unknown add type {add_type!r}")
    changes = Changes()
    with transaction.atomic():
        other = _lock_pair(user, to)
        pair = _pair(user, other)
        if (user.pk, other.pk) in pair.blocks:
            raise ChatError(ErrorCode.IN_SELF_BLACKLIST, f"{to} is on your block list: unblock them first")
        if (other.pk, user.pk) in pair.blocks:
            raise ChatError(ErrorCode.IN_PEER_BLACKLIST_ADD, f"{to} does not accept your friend requests")
        if (user.pk, other.pk) in pair.friends:
            raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, f"{to} is already your friend")
        theirs = pair.applications.get((other.pk, user.pk))
        if theirs is not None:
            # Two requests crossing: each wants the other; the friendship is made now.
            _make_friends(
                user, other, pair, changes, both=True, remark=remark, other_remark=theirs.remark, source=source, wording=wording
            )
            code = 0
        elif other.allow_type == rules.DENY_ANY:
            raise ChatError(ErrorCode.ALLOW_TYPE_DENY_ANY, f"{to} does not accept friend requests")
        elif other.allow_type == rules.ALLOW_ANY or (other.pk, user.pk) in pair.friends:
            both = add_type == rules.SNS_ADD_TYPE_BOTH
            _make_friends(user, other, pair, changes, both=both, remark=remark, source=source, wording=wording)
            code = 0
        else:
            _apply(user, other, pair, changes, add_type=add_type, source=source, wording=wording, remark=remark)
            code = int(ErrorCode.ALLOW_TYPE_NEED_CONFIRM)
        changes.publish()
    return {"userID": other.username, "code": code}


def _apply(user, other, pair, changes, **fields):
    """Leave (or renew) ``user``'s pending application to ``other``: unread for them again."""
    mine = pair.applications.get((user.pk, other.pk))
    now = timezone.now()
    if mine is None:
        if FriendApplication.objects.filter(target=other).count() >= conf.get("MAX_FRIEND_APPLICATIONS"):
            raise ChatError(ErrorCode.PENDENCY_LIMIT, f"{other.username} has too many pending friend requests")
        FriendApplication(applicant=user, target=other, created_at=now, **fields).save(force_insert=True)
    else:
        FriendApplication.objects.filter(pk=mine.pk).update(is_read=False, created_at=now, **fields)
    changes.applications.update((user.pk, other.pk))


def accept_friend_application(user: User, user_id, *, remark="", response=rules.SNS_APPLICATION_AGREE_AND_ADD) -> dict:
    """The SDK's acceptFriendApplication: the applicant gets ``user`` in their list (with
    the remark they preset); with ``Response_Action_AgreeAndAdd`` (the default) ``user``
    also adds the applicant, with ``remark``. 30614 when there is no such request, 30001
    for bad arguments. Returns ``{userID}``."""
    _check_text("remark", remark, rules.MAX_REMARK_BYTES)
    if response not in (rules.SNS_APPLICATION_AGREE, rules.SNS_APPLICATION_AGREE_AND_ADD):
        raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, f"unknown accept type {response!r}")
    changes = Changes()
    with transaction.atomic():
        other = _lock_pair(user, user_id)
        pair = _pair(user, other)
        application = pair.applications.get((other.pk, user.pk))
        if application is None:
            raise ChatError(ErrorCode.PENDENCY_NOT_FOUND, f"no friend request from {user_id}")
        _make_friends(
            other,
            user,
            pair,
            changes,
            both=response == rules.SNS_APPLICATION_AGREE_AND_ADD,
            remark=application.remark,
            other_remark=remark,
            source=application.source,
            wording=application.wording,
        )
        changes.publish()
    return {"userID": other.username}


def refuse_friend_application(user: User, user_id) -> dict:
    """The SDK's refuseFriendApplication: the request from ``user_id`` is dropped (both
    sides' lists update). 30614 when there is none. Returns ``{userID}``."""
    return _delete_application(user, user_id, rules.SNS_APPLICATION_SENT_TO_ME)


def delete_friend_application(user: User, user_id, application_type) -> dict:
    """The SDK's deleteFriendApplication: drop the request from ``user_id``
    (``Pendency_Type_ComeIn``) or ``user``'s own to them (``Pendency_Type_SendOut``).
    30614 when there is none."""
    if application_type not in (rules.SNS_APPLICATION_SENT_TO_ME, rules.SNS_APPLICATION_SENT_BY_ME):
        raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, f"unknown application type {application_type!r}")
    return _delete_application(user, user_id, application_type)


def _delete_application(user, user_id, application_type) -> dict:
    changes = Changes()
    with transaction.atomic():
        other = _lock_pair(user, user_id)
        applicant, target = (other, user) if application_type == rules.SNS_APPLICATION_SENT_TO_ME else (user, other)
        deleted, _ = FriendApplication.objects.filter(applicant=applicant, target=target).delete()
        if not deleted:
            raise ChatError(ErrorCode.PENDENCY_NOT_FOUND, f"no such friend request with {user_id}")
        changes.applications.update((user.pk, other.pk))
        changes.publish()
    return {"userID": other.username}


def set_friend_application_read(user: User) -> bool:
    """The SDK's setFriendApplicationRead: every request received so far is read
    (``unreadCount`` 0). Returns whether anything changed; only then the user's tabs get
    FRIEND_APPLICATION_LIST_UPDATED."""
    changes = Changes()
    with transaction.atomic():
        changed = FriendApplication.objects.filter(target=user, is_read=False).update(is_read=True)
        if changed:
            changes.applications.add(user.pk)
            changes.publish()
    return bool(changed)


def delete_friend(user: User, user_ids, delete_type=rules.SNS_DELETE_TYPE_BOTH) -> dict:
    """The SDK's deleteFriend: ``{successUserIDList: [{userID, code: 0}],
    failureUserIDList: [{userID, code: 31704, message}]}`` (31704: not in your friend
    list). ``Delete_Type_Both`` (the default) also removes ``user`` from their lists.
    30003 (nothing deleted) when a userID does not exist."""
    if delete_type not in (rules.SNS_DELETE_TYPE_SINGLE, rules.SNS_DELETE_TYPE_BOTH):
        raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, f"unknown delete type {delete_type!r}")
    changes = Changes()
    success, failure = [], []
    with transaction.atomic():
        others = _lock_users(user, user_ids)
        by_pk = {other.pk: other for other in others.values()}
        pairs = Q(owner=user, friend_id__in=by_pk)
        if delete_type == rules.SNS_DELETE_TYPE_BOTH:
            pairs |= Q(owner_id__in=by_pk, friend=user)
        rows = list(Friend.objects.filter(pairs))
        mine = {row.friend_id for row in rows if row.owner_id == user.pk}
        doomed = [row for row in rows if row.owner_id == user.pk or row.owner_id in mine]
        Friend.objects.filter(pk__in=[row.pk for row in doomed]).delete()
        for row in doomed:
            friend_user_id = user.username if row.friend_id == user.pk else by_pk[row.friend_id].username
            changes.removed(row, friend_user_id)
        for user_id, other in others.items():
            if other.pk in mine:
                success.append({"userID": user_id, "code": 0})
            else:
                message = f"{user_id} is not your friend"
                failure.append({"userID": user_id, "code": int(ErrorCode.DEL_NONFRIEND), "message": message})
        changes.publish()
    return {"successUserIDList": success, "failureUserIDList": failure}


def update_friend(user: User, user_id, *, remark) -> dict:
    """The SDK's updateFriend (the remark): returns the Friend. 30001 when ``user_id`` is
    not in your friend list or the remark is over 96 bytes. The conversation with them
    shows the new remark as its title (a CONVERSATION_LIST_UPDATED patch)."""
    _check_text("remark", remark, rules.MAX_REMARK_BYTES)
    changes = Changes()
    with transaction.atomic():
        other = _lock_pair(user, user_id)
        row = Friend.objects.filter(owner=user, friend=other).first()
        if row is None:
            raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, f"{user_id} is not your friend")
        row.friend = other
        if row.remark != remark:
            Friend.objects.filter(pk=row.pk).update(remark=remark)
            row.remark = remark
            changes.upsert[user.pk] = [row]
            changes.remarks[user.pk] = {other.pk: remark}
            changes.publish()
    return serialize.friend(row)


def add_to_blacklist(user: User, user_ids) -> list:
    """The SDK's addToBlacklist: returns the userIDs added. Blocking ends the friendship
    both ways and drops pending requests both ways. 30001 yourself or already blocked,
    30003 no such user, 30013 over the block list's limit (1,000); nothing changes then."""
    changes = Changes()
    with transaction.atomic():
        others = _lock_users(user, user_ids)
        by_pk = {other.pk: other for other in others.values()}
        already = list(Block.objects.filter(owner=user, blocked_id__in=by_pk).values_list("blocked__username", flat=True))
        if already:
            raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, f"already blocked: {', '.join(sorted(already))}")
        limit = conf.get("MAX_BLACKLIST")
        if Block.objects.filter(owner=user).count() + len(by_pk) > limit:
            raise ChatError(ErrorCode.BLACKLIST_LIMIT, f"a block list holds at most {limit} users")
        now = timezone.now()
        Block.objects.bulk_create([Block(owner=user, blocked=other, created_at=now) for other in others.values()])
        ties = Q(owner=user, friend_id__in=by_pk) | Q(owner_id__in=by_pk, friend=user)
        rows = list(Friend.objects.filter(ties))
        Friend.objects.filter(pk__in=[row.pk for row in rows]).delete()
        for row in rows:
            changes.removed(row, user.username if row.friend_id == user.pk else by_pk[row.friend_id].username)
        requests = Q(applicant=user, target_id__in=by_pk) | Q(applicant_id__in=by_pk, target=user)
        for applicant_pk, target_pk in FriendApplication.objects.filter(requests).values_list("applicant_id", "target_id"):
            changes.applications.update((applicant_pk, target_pk))
        FriendApplication.objects.filter(requests).delete()
        changes.blacklists.add(user.pk)
        changes.publish()
    return list(others)


def remove_from_blacklist(user: User, user_ids) -> list:
    """The SDK's removeFromBlacklist: returns the userIDs removed. 30001 when one is not
    on your block list, 30003 no such user; nothing changes then."""
    changes = Changes()
    with transaction.atomic():
        others = _lock_users(user, user_ids)
        by_pk = {other.pk: other for other in others.values()}
        blocked = set(Block.objects.filter(owner=user, blocked_id__in=by_pk).values_list("blocked_id", flat=True))
        missing = [user_id for user_id, other in others.items() if other.pk not in blocked]
        if missing:
            raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, f"not on your block list: {', '.join(missing)}")
        Block.objects.filter(owner=user, blocked_id__in=by_pk).delete()
        changes.blacklists.add(user.pk)
        changes.publish()
    return list(others)


def set_allow_type(user: User, allow_type) -> User:
    """Who may add ``user`` as a friend (the profile's allowType): one of
    ``rules.ALLOW_TYPES``, else 30001. A profile change like any other (one writer:
    ``update_user_profile``, which announces it with PROFILE_UPDATED)."""
    if allow_type not in rules.ALLOW_TYPES:
        raise ChatError(ErrorCode.FRIENDSHIP_INVALID_PARAMETERS, f"unknown allowType {allow_type!r}")
    from messaging.actions.users import update_user_profile

    return update_user_profile(user, allow_type=allow_type)
