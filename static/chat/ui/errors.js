/*
 * Error texts with the server's limits in them (static/chat/errors.js, hello.rules.limits).
 */

import * as words from "../errors.js";
import { limits } from "./state.js";

/** {code, message} from the SDK in words a person understands. */
export const errorText = (error, fallback) => words.errorText(error, fallback, limits());

/** The UI's own words for an error code, or "". */
export const knownErrorText = (code) => words.knownErrorText(code, limits());
