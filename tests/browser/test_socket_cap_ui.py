"""The per-user socket cap in the browser (docs/PROTOCOL.md §1.2, close code 4029): a page
opened while the account already holds MAX_SOCKETS_PER_USER sockets is told so in words,
with a way to reload, and the SDK does not retry."""

import pytest
from playwright.sync_api import expect

from messaging import conf

pytestmark = pytest.mark.browser


def test_the_tab_over_the_cap_says_so_and_does_not_retry(open_as):
    dave = open_as("dave")
    page = dave.page
    cap = conf.get("MAX_SOCKETS_PER_USER")
    # The page's own socket and cap - 1 more from the same session: the account is at its cap.
    opened = page.evaluate(
        """(n) => new Promise((resolve) => {
            window.__extra = [];
            let open = 0;
            for (let i = 0; i < n; i++) {
                const ws = new WebSocket(location.origin.replace('http', 'ws') + '/ws/chat/');
                ws.onmessage = (e) => { if (JSON.parse(e.data).event === 'hello' && ++open === n) resolve(open); };
                window.__extra.push(ws);
            }
            setTimeout(() => resolve(open), 15000);
        })""",
        cap - 1,
    )
    assert opened == cap - 1

    second = dave.page.context.new_page()
    frames = []
    second.on("websocket", lambda ws: frames.append(ws))
    second.goto("/")
    blocker = second.get_by_test_id("blocker")
    expect(blocker).to_be_visible()
    expect(blocker).to_contain_text("Too many open tabs")
    expect(blocker).to_contain_text(f"at most {cap}")
    second.wait_for_timeout(3000)
    assert len(frames) == 1, "the SDK must not retry after 4029"
    # Closing the extra sockets makes room: a reload gets in.
    page.evaluate("() => window.__extra.forEach((ws) => ws.close())")
    page.wait_for_timeout(1000)
    second.reload()
    second.wait_for_function("() => window.chat && window.chat.isReady()")
    expect(second.get_by_test_id("blocker")).to_be_hidden()
    second.close()
