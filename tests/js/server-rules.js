// The rules the server sends in its hello frame (messaging/rules.py client_rules()),
// asked of the project's Python: the JS tests check the browser code against the
// server's own data, not a copy of it. Needs the dev environment (make install-dev).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function python() {
  if (process.env.CHAT_PYTHON) return process.env.CHAT_PYTHON;
  const venv = ROOT + ".venv/bin/python";
  return existsSync(venv) ? venv : "python3";
}

/** Run Python code in the project with `input` (JSON) on stdin; what it prints to stdout, as JSON. */
function askPython(code, input = null) {
  const env = { ...process.env, DJANGO_SETTINGS_MODULE: "chatsite.settings" };
  for (const name of ["DATABASE_URL", "REDIS_URL", "CHAT_S3_BUCKET"]) delete env[name];
  const done = spawnSync(python(), ["-c", code], { cwd: ROOT, env, encoding: "utf8", input: JSON.stringify(input) });
  if (done.status !== 0) throw new Error(`could not ask the server's code with ${python()} (run make install-dev):\n${done.stderr || done.error}`);
  return JSON.parse(done.stdout);
}

let cached = null;

/** hello.rules, as the server would send it with its default settings. */
export function serverRules() {
  // The deployment defaults: no ChatSettings row is read (messaging/runtime.py).
  if (!cached) cached = askPython("import json; from messaging import runtime; runtime.use_defaults(); from messaging.rules import client_rules; print(json.dumps(client_rules()))");
  return cached;
}

/** messaging.rules.body_bytes of each [payload, cloudCustomData]. */
export function serverBodyBytes(bodies) {
  return askPython("import json, sys; from messaging.rules import body_bytes; print(json.dumps([body_bytes(p, c) for p, c in json.load(sys.stdin)]))", bodies);
}

export const ROOT_DIR = ROOT;

/** messageForShow of a group system notice with this payload, as the server says it. */
export function serverNoticeText(payload) {
  return askPython("import json, sys; from messaging.rules import group_notice_text; print(json.dumps(group_notice_text(json.load(sys.stdin))))", payload);
}
