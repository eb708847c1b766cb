/*
 * Web-chat widget: no third-party code. The conversation lives in sessionStorage so a
 * reload in the same tab keeps it. Each message carries its own random id, so sending it
 * again after a network error or a 503 can never store it twice.
 */
(function () {
  "use strict";

  var STORE = "triage-chat";
  var main = document.querySelector(".chat");
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var box = document.getElementById("message");
  var counter = document.getElementById("counter");
  var statusLine = document.getElementById("status");
  var council = main.dataset.council;
  var maxChars = parseInt(main.dataset.maxChars, 10);
  var pollAfter = 2000;
  var state = load();

  function load() {
    try {
      var saved = JSON.parse(sessionStorage.getItem(STORE));
      if (saved && Array.isArray(saved.items)) return saved;
    } catch (e) { /* storage unavailable or corrupt: start afresh */ }
    return { token: null, after: 0, items: [] };
  }

  function save() {
    try { sessionStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode: keep in memory */ }
  }

  function newId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function wait(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function say(text, isError) {
    statusLine.textContent = text;
    statusLine.classList.toggle("composer__status--error", Boolean(isError));
  }

  function appendText(node, text, withLinks) {
    if (!withLinks) { node.textContent = text; return; }
    var pattern = /https?:\/\/[^\s<>"]+/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      var url = match[0].replace(/[.,;:!?)]+$/, "");
      node.append(text.slice(last, match.index));
      var link = document.createElement("a");
      link.href = url;
      link.textContent = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      node.append(link);
      last = match.index + url.length;
      pattern.lastIndex = last;
    }
    node.append(text.slice(last));
  }

  var STATE_TEXT = { sending: "Sending\u2026", sent: "Sent", failed: "Not sent" };

  function render(item) {
    var li = document.getElementById("m-" + item.id);
    if (!li) {
      li = document.createElement("li");
      li.id = "m-" + item.id;
      var who = document.createElement("span");
      who.className = "msg__who";
      who.textContent = item.who === "resident" ? "You" : council;
      var text = document.createElement("p");
      text.className = "msg__text";
      appendText(text, item.text, item.who === "council");
      li.append(who, text);
      if (item.who === "resident") {
        var mark = document.createElement("span");
        mark.className = "msg__state";
        li.append(mark);
      }
      log.append(li);
      log.scrollTop = log.scrollHeight;
    }
    li.className = "msg msg--" + item.who + (item.state === "failed" ? " msg--failed" : "");
    var stateMark = li.querySelector(".msg__state");
    if (stateMark) stateMark.textContent = STATE_TEXT[item.state] || "";
  }

  async function startSession() {
    var response = await fetch("api/sessions", { method: "POST" });
    if (!response.ok) throw new Error("session " + response.status);
    var body = await response.json();
    state.token = body.token;
    state.after = 0;
    save();
  }

  /* One API call with the session token; a new session when the old one is unknown (401). */
  async function call(method, path, payload) {
    for (var attempt = 0; attempt < 2; attempt++) {
      if (!state.token) await startSession();
      var options = { method: method, headers: { Authorization: "Bearer " + state.token } };
      if (payload !== undefined) {
        options.headers["Content-Type"] = "application/json";
        options.body = JSON.stringify(payload);
      }
      var response = await fetch(path, options);
      if (response.status !== 401) return response;
      state.token = null;
    }
    return response;
  }

  async function deliver(item) {
    var delay = 2000;
    for (;;) {
      var response = null;
      try {
        response = await call("POST", "api/messages", { text: item.text, client_message_id: item.id });
      } catch (e) { /* offline or server unreachable: try again below */ }
      if (response && response.ok) {
        item.state = "sent";
        save();
        render(item);
        say("Message sent.");
        return;
      }
      if (response && (response.status === 400 || response.status === 413)) {
        var problem = await response.json().catch(function () { return {}; });
        item.state = "failed";
        save();
        render(item);
        say("Your message was not sent: " + (problem.detail || "it could not be accepted") + ".", true);
        return;
      }
      if (response && response.status === 429) {
        var seconds = parseInt(response.headers.get("Retry-After") || "10", 10);
        say("You have sent a lot of messages. Yours will be sent in " + seconds + " seconds.");
        await wait(seconds * 1000);
      } else {
        say("We could not reach the server. Trying again\u2026");
        await wait(delay);
        delay = Math.min(delay * 2, 30000);
      }
    }
  }

  async function poll() {
    if (!state.token) {  /* nothing sent yet: no session, nothing to fetch */
      setTimeout(poll, pollAfter);
      return;
    }
    try {
      var response = await call("GET", "api/replies?after=" + encodeURIComponent(state.after));
      if (response.ok) {
        var body = await response.json();
        pollAfter = body.poll_after_ms || pollAfter;
        body.replies.forEach(function (reply) {
          var item = { id: "r" + reply.id, who: "council", text: reply.text };
          state.items.push(item);
          state.after = Math.max(state.after, reply.id);
          render(item);
        });
        save();
      }
    } catch (e) { /* keep polling: the next attempt may succeed */ }
    setTimeout(poll, pollAfter);
  }

  function updateCounter() {
    var length = box.value.length;
    counter.textContent = length.toLocaleString("en-GB") + " of " + maxChars.toLocaleString("en-GB") + " characters";
    counter.classList.toggle("composer__counter--over", length > maxChars);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = box.value.trim();
    if (!text) {
      say("Type a message first.", true);
      box.focus();
      return;
    }
    if (text.length > maxChars) {
      say("Your message is too long. Please keep it under " + maxChars.toLocaleString("en-GB") + " characters.", true);
      box.focus();
      return;
    }
    var item = { id: newId(), who: "resident", text: text, state: "sending" };
    state.items.push(item);
    save();
    render(item);
    box.value = "";
    updateCounter();
    say("Sending\u2026");
    box.focus();
    deliver(item);
  });

  box.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  box.addEventListener("input", updateCounter);

  state.items.forEach(render);
  state.items.forEach(function (item) { if (item.state === "sending") deliver(item); });
  updateCounter();
  poll();
}());
