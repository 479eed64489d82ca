/*
 * The SDK's error codes in words a person understands. The sizes in them are the
 * server's limits (hello.rules.limits), never copies. Pure: no DOM, importable by Node.
 */

import { formatLimit } from "./format.js";
import { t, tlater } from "./i18n.js";

const FIXED = {
  2024: tlater("You're not signed in any more. Reload the page to sign in again."),
  2106: tlater("You can't send messages to this conversation."),
  2500: tlater("That conversation doesn't exist."),
  2503: tlater("That conversation doesn't exist."),
  2251: tlater("Choose an image to send."),
  2252: tlater("That image format isn't supported. Send JPG, PNG, GIF, BMP or WebP."),
  2300: tlater("The voice message couldn't be uploaded."),
  2350: tlater("The video couldn't be uploaded."),
  2352: tlater("Only MP4 videos can be played here. Send it as a file instead."),
  2400: tlater("The file couldn't be uploaded."),
  2401: tlater("Choose a file to send."),
  2600: tlater("Choose a group type."),
  2601: tlater("Work groups are invite-only: ask a member to add you."),
  2602: tlater("That isn't a valid group ID."),
  2603: tlater("There's no group with that ID."),
  2623: tlater("You're not a member of this group."),
  10004: tlater("Something in the request wasn't valid."),
  10030: tlater("That message no longer exists."),
  10031: tlater("The time to recall this message has passed."),
  20016: tlater("The time to recall this message has passed."),
  2480: tlater("This message was changed on another device. Check it and edit it again."),
  2481: tlater("This message can't be edited any more."),
  10007: tlater("You don't have permission to do that here (or you're not a member of this group)."),
  10009: tlater("The owner can't leave this group."),
  10010: tlater("There's no group with that ID, or it was dismissed."),
  10013: tlater("You're already a member of this group."),
  10014: tlater("This group is full."),
  10015: tlater("There's no group with that ID."),
  10017: tlater("You're muted in this group."),
  10019: tlater("There's no user with that ID."),
  10021: tlater("That group ID is already taken. Choose another one."),
  10023: tlater("Too many messages in this group, try again."),
  10006: tlater("You're doing that too fast. Wait a moment, then try again."),
  20003: tlater("There's no user with that ID."),
  20009: tlater("You can only message your friends."),
  20012: tlater("You're muted and can't send messages right now."),
  80001: tlater("The message contains words that aren't allowed."),
  // The relationship chain (docs/PROTOCOL.md §5.34).
  20007: tlater("This person isn't accepting your messages. Your message wasn't sent."),
  30001: tlater("That didn't work: check the user and try again."),
  30003: tlater("There's no user with that ID."),
  30010: tlater("Your friend list is full."),
  30012: tlater("This person has too many friend requests waiting."),
  30013: tlater("Your block list is full."),
  30014: tlater("This person's friend list is full."),
  30515: tlater("You've blocked this person. Unblock them first."),
  30516: tlater("This person doesn't accept friend requests."),
  30525: tlater("This person isn't accepting friend requests from you."),
  30614: tlater("That friend request is no longer there."),
};

/** Texts that name a limit, by code: (limits) => text, or null when the server did not send that limit. */
const SIZED = {
  2253: (l) => l.upload && l.upload.image && t("Images can be up to %(limit)s. Send it as a file instead.", { limit: formatLimit(l.upload.image) }),
  2301: (l) => l.upload && l.upload.audio && t("Voice messages can be up to %(limit)s.", { limit: formatLimit(l.upload.audio) }),
  2351: (l) => l.upload && l.upload.video && t("Videos can be up to %(limit)s.", { limit: formatLimit(l.upload.video) }),
  2402: (l) => l.upload && l.upload.file && t("Files can be up to %(limit)s.", { limit: formatLimit(l.upload.file) }),
  80002: (l) => (l.maxBodyBytes ? t("That message is too long: the limit is %(limit)s.", { limit: formatLimit(l.maxBodyBytes) }) : t("That message is too long.")),
};

/** The words for an error code, or "" when the UI has none. limits: hello.rules.limits. */
export function knownErrorText(code, limits = {}) {
  if (Object.hasOwn(FIXED, code)) return t(FIXED[code]);
  const sized = Object.hasOwn(SIZED, code) && SIZED[code](limits || {});
  return sized || "";
}

const DEFAULT_FALLBACK = tlater("Something went wrong.");
/** The SDK's code for a request the connection lost (any op, not only a send). */
const CONNECTION_LOST = 2100;

/**
 * {code, message} from the SDK in words: ours for a known code, else the server's message
 * as a sentence. A lost connection says what failed (the fallback: "Messages couldn't be
 * loaded.") and what to do.
 */
export function errorText(error, fallback = t(DEFAULT_FALLBACK), limits = {}) {
  if (!error) return fallback;
  if (error.code === CONNECTION_LOST) {
    const what = fallback === t(DEFAULT_FALLBACK) ? t("The server couldn't be reached.") : fallback;
    return t("%(what)s Check your connection, then retry.", { what });
  }
  const known = knownErrorText(error.code, limits);
  if (known) return known;
  if (error.message && typeof error.message === "string") {
    const text = error.message.charAt(0).toUpperCase() + error.message.slice(1);
    return /[.!?]$/.test(text) ? text : text + ".";
  }
  return error.code ? t("%(what)s (error %(code)s)", { what: fallback, code: error.code }) : fallback;
}
