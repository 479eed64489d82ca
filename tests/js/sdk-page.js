// A page with static/chat/tim.js loaded alone (as vendor code loads it), for the SDK's
// node tests: a fake WebSocket that records the frames the SDK sends, and whatever else
// the page should have (a localStorage, timers).
import { readFileSync } from "node:fs";
import vm from "node:vm";

const SOURCE = readFileSync(new URL("../../static/chat/tim.js", import.meta.url), "utf8");

/** {TIM, window, sockets}; `globals` are added to the page (e.g. {localStorage, setTimeout}). */
export function loadSDK(globals = {}) {
  const sockets = [];
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 1;
      this.sent = [];
      sockets.push(this);
    }
    send(text) {
      this.sent.push(JSON.parse(text));
    }
    close() {
      this.readyState = 3;
    }
  }
  const window = { WebSocket: FakeSocket, location: { protocol: "http:", host: "chat.test" }, console, setTimeout, clearTimeout, ...globals };
  window.window = window;
  vm.createContext(window);
  vm.runInContext(SOURCE, window, { filename: "tim.js" });
  return { TIM: window.TIM, window, sockets };
}
