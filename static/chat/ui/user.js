// The signed-in user ID, from the page's json_script (no inline script: the CSP allows none).
window.CHAT_USER_ID = JSON.parse(document.getElementById("chat-user-id").textContent);
