/* Shopkeeper chat widget, embedded with one script tag:
 *
 *   <script src="https://shop.example/static/widget.js"
 *           data-server="https://bot.example"        Rasa server (socket.io and REST channels)
 *           data-api="https://shop.example"          web app: chat sessions and history (default: where this file is served from)
 *           data-title="Shopkeeper"                  header and accessible name
 *           data-initial="Hi! What are you looking for today?"
 *           data-colour="#243b53" data-accent="#b45309"   header/customer bubbles and buttons
 *           data-transport="socketio"                "socketio" (falls back to REST) or "rest"
 *           defer></script>
 *
 * The conversation id and the token that unlocks its history are kept in
 * localStorage, so a reload continues the same conversation and redraws it from
 * Rasa's tracker store. After a reconnect the log is redrawn from the store too,
 * so a reply sent while the connection was down is not lost, and nothing shows
 * twice. Every piece of text is inserted with textContent, never as HTML, and a card links only
 * to web addresses (http or https).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var data = (script && script.dataset) || {};
  var base = script ? new URL(script.src, location.href).origin : location.origin;
  var server = (data.server || "").replace(/\/$/, "");
  var api = (data.api || base).replace(/\/$/, "");
  var title = data.title || "Shopkeeper";
  var initial = data.initial || "Hi! What are you looking for today?";
  var storageKey = "shopkeeper.session";
  var REPLY_TIMEOUT_MS = 20000;

  var state = {
    session: null,        // {sender_id, token}
    transport: null,      // "socketio" | "rest"
    socket: null,
    confirmed: false,     // socket.io session confirmed (joined the conversation's room)
    everConfirmed: false,
    queue: [],            // messages waiting for the connection
    syncing: false,
    arrivedDuringSync: [],
    askingAbout: null,    // the card "Ask about this" was pressed on: the next message asks about it
    restChain: Promise.resolve()
  };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // ---- layout ------------------------------------------------------------
  var css = el("link"); css.rel = "stylesheet"; css.href = base + "/static/widget.css";
  document.head.appendChild(css);

  var root = el("section", "skw"); root.setAttribute("aria-label", title + " chat");
  if (data.colour) root.style.setProperty("--skw-colour", data.colour);
  if (data.accent) root.style.setProperty("--skw-accent", data.accent);
  var head = el("header", "skw-head");
  var heading = el("h2", "skw-title", title);
  var toggle = el("button", "skw-toggle", "–"); toggle.type = "button";
  toggle.setAttribute("aria-expanded", "true"); toggle.setAttribute("aria-label", "Minimise the chat");
  head.appendChild(heading); head.appendChild(toggle);
  var body = el("div", "skw-body");
  var log = el("div", "skw-log");
  log.setAttribute("role", "log"); log.setAttribute("aria-live", "polite"); log.setAttribute("aria-relevant", "additions");
  log.setAttribute("tabindex", "0"); log.setAttribute("aria-label", "Conversation");
  var typing = el("div", "skw-typing"); typing.setAttribute("role", "status"); typing.hidden = true;
  typing.appendChild(el("span", "skw-sr", title + " is typing"));
  for (var d = 0; d < 3; d++) typing.appendChild(el("span", "skw-dot"));
  var status = el("p", "skw-status"); status.setAttribute("role", "status"); status.hidden = true;
  var form = el("form", "skw-form");
  // "Ask about this" on a card: the next message is a question about that item (sent with its id).
  var about = el("p", "skw-about"); about.hidden = true;
  var aboutText = el("span", "skw-about-text");
  var aboutClear = el("button", "skw-about-clear", "×"); aboutClear.type = "button";
  aboutClear.setAttribute("aria-label", "Stop asking about this item");
  about.appendChild(aboutText); about.appendChild(aboutClear);
  var input = el("input", "skw-input"); input.type = "text"; input.placeholder = "Type a message…";
  input.setAttribute("aria-label", "Message to " + title); input.autocomplete = "off"; input.maxLength = 2000;
  var send = el("button", "skw-send", "Send"); send.type = "submit";
  form.appendChild(input); form.appendChild(send);
  body.appendChild(log); body.appendChild(typing); body.appendChild(status); body.appendChild(about);
  body.appendChild(form);
  root.appendChild(head); root.appendChild(body);
  document.body.appendChild(root);

  toggle.addEventListener("click", function () {
    var open = body.hidden;
    body.hidden = !open;
    toggle.textContent = open ? "–" : "+";
    toggle.setAttribute("aria-expanded", String(open));
    toggle.setAttribute("aria-label", open ? "Minimise the chat" : "Open the chat");
    if (open) input.focus();
  });

  function scroll() { log.scrollTop = log.scrollHeight; }
  function bubble(who, text) { log.appendChild(el("div", "skw-msg skw-" + who, text)); scroll(); }
  function setStatus(text) { status.textContent = text || ""; status.hidden = !text; }

  var typingTimer = null;
  function showTyping() {
    typing.hidden = false; scroll();
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, REPLY_TIMEOUT_MS);
  }
  function hideTyping() { typing.hidden = true; clearTimeout(typingTimer); }

  // ---- rendering -----------------------------------------------------------
  function price(amount, currency) {
    try { return new Intl.NumberFormat(undefined, { style: "currency", currency: currency }).format(amount); }
    catch (e) { return amount + " " + currency; }
  }

  // A catalog's link or picture as an absolute web address, or null: a "javascript:" link would run
  // its code when clicked on a shop page whose policy allows inline script.
  function webAddress(value, against) {
    try {
      var url = new URL(value, against);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) { return null; }
  }

  function cards(payload) {
    var row = el("div", "skw-cards"); row.setAttribute("role", "list");
    row.setAttribute("aria-label", "Suggestions");
    (payload.items || []).forEach(function (item) {
      var card = el("article", "skw-card"); card.setAttribute("role", "listitem");
      card.setAttribute("aria-label", item.title);
      card.dataset.itemId = item.id;
      // A neat tile stands in for a missing picture or one that does not load.
      var placeholder = el("div", "skw-img-placeholder", (item.category || item.title || "?").charAt(0).toUpperCase());
      placeholder.setAttribute("aria-hidden", "true");
      var picture = item.image_url ? webAddress(item.image_url, base) : null;
      if (picture) {
        var img = el("img"); img.alt = "";
        img.addEventListener("load", scroll);  // the card grows when its image arrives
        img.addEventListener("error", function () { if (img.parentNode) img.parentNode.replaceChild(placeholder, img); });
        img.src = picture; card.appendChild(img);
      } else {
        card.appendChild(placeholder);
      }
      var name = el("h3", "skw-card-title");
      var page = item.url ? webAddress(item.url, location.href) : null;
      if (page) {
        var link = el("a", null, item.title); link.href = page; link.target = "_blank"; link.rel = "noopener";
        name.appendChild(link);
      } else {
        name.textContent = item.title;
      }
      card.appendChild(name);
      card.appendChild(el("p", "skw-price", (item.price_from ? "from " : "") + price(item.price, item.currency)
        + (item.rating ? " · ★ " + Number(item.rating).toFixed(1) : "")));
      if (item.reason) card.appendChild(el("p", "skw-reason", item.reason));
      var actions = el("div", "skw-card-actions");
      [["like", "👍", "I like this"], ["dislike", "👎", "Not for me"]].forEach(function (f) {
        var btn = el("button", "skw-vote skw-" + f[0], f[1]); btn.type = "button";
        btn.setAttribute("aria-label", f[2] + ": " + item.title);
        btn.addEventListener("click", function () {
          say("/feedback" + JSON.stringify({ item_id: item.id, sentiment: f[0] }), f[1] + " " + item.title);
        });
        actions.appendChild(btn);
      });
      var more = el("button", "skw-more", "More like this"); more.type = "button";
      more.setAttribute("aria-label", "More like this: " + item.title);
      more.addEventListener("click", function () {
        say("/more_like" + JSON.stringify({ item_id: item.id }), "More like " + item.title);
      });
      actions.appendChild(more);
      var ask = el("button", "skw-ask", "Ask about this"); ask.type = "button";
      ask.setAttribute("aria-label", "Ask about " + item.title);
      ask.addEventListener("click", function () { askAbout(item); });
      actions.appendChild(ask);
      card.appendChild(actions);
      row.appendChild(card);
    });
    log.appendChild(row); scroll();
  }

  function askAbout(item) {
    state.askingAbout = item;
    aboutText.textContent = "Asking about: " + item.title;
    about.hidden = false;
    input.placeholder = "Ask about the " + item.title + "…";
    input.focus();
  }
  function stopAsking() {
    state.askingAbout = null;
    about.hidden = true;
    input.placeholder = "Type a message…";
  }
  aboutClear.addEventListener("click", function () { stopAsking(); input.focus(); });

  function buttons(list) {
    var row = el("div", "skw-buttons"); row.setAttribute("role", "group");
    row.setAttribute("aria-label", "Quick replies");
    list.forEach(function (b) {
      var btn = el("button", "skw-button", b.title); btn.type = "button";
      btn.addEventListener("click", function () { say(b.payload, b.title); });
      row.appendChild(btn);
    });
    log.appendChild(row); scroll();
  }

  // "Download my data": fetch the export with the conversation's token and save it as a file.
  function exportButton(payload) {
    var row = el("div", "skw-buttons"); row.setAttribute("role", "group");
    row.setAttribute("aria-label", "Your data");
    var btn = el("button", "skw-button", payload.title || "Download my data"); btn.type = "button";
    btn.addEventListener("click", function () {
      if (!state.session || !state.session.token) { bubble("bot", "Sorry, I can't find this chat's key to fetch your data."); return; }
      fetch(api + "/api/chat/export?sender_id=" + encodeURIComponent(state.session.sender_id), {
        headers: { Authorization: "Bearer " + state.session.token }
      }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.blob();
      }).then(function (blob) {
        var link = el("a"); link.href = URL.createObjectURL(blob);
        link.download = "shopkeeper-data.json"; document.body.appendChild(link); link.click();
        setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
      }).catch(function () { bubble("bot", "Sorry, your data couldn't be downloaded just now. Please try again."); });
    });
    row.appendChild(btn);
    log.appendChild(row); scroll();
  }

  // One bot message, in the socket.io channel's shape ({text, quick_replies} or a custom payload)
  // or the REST channel's ({text, buttons, custom: {data}}).
  function show(message) {
    if (!message || typeof message !== "object") return;
    if (message.text) bubble("bot", message.text);
    var custom = message.custom ? (message.custom.data || message.custom) : message;
    if (custom && custom.type === "recommendations") cards(custom);
    if (custom && custom.type === "data_export") exportButton(custom);
    var replies = message.quick_replies || message.buttons;
    if (replies && replies.length) buttons(replies);
  }

  function redraw(history) {
    log.textContent = "";
    bubble("bot", initial);
    history.forEach(function (entry) {
      if (entry.from === "user") bubble("user", entry.message.text);
      else show(entry.message);
    });
    state.queue.forEach(function (item) { bubble("user", item.shown); });  // typed while offline, not sent yet
  }

  // ---- session and history -------------------------------------------------
  function randomHex() {
    var bytes = new Uint8Array(16); crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function loadSession() {
    try {
      var saved = JSON.parse(localStorage.getItem(storageKey) || "null");
      if (saved && saved.sender_id) return Promise.resolve(saved);
    } catch (e) { /* a damaged entry: start a new conversation */ }
    return fetch(api + "/api/chat/sessions", { method: "POST" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .catch(function () { return { sender_id: "web-" + randomHex(), token: null }; })  // no history without the web app
      .then(function (session) { localStorage.setItem(storageKey, JSON.stringify(session)); return session; });
  }

  function fetchHistory() {
    if (!state.session.token) return Promise.resolve(null);
    return fetch(api + "/api/chat/history?sender_id=" + encodeURIComponent(state.session.sender_id), {
      headers: { Authorization: "Bearer " + state.session.token }
    }).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { return body ? body.messages : null; })
      .catch(function () { return null; });
  }

  function sameMessage(a, b) { return JSON.stringify(a) === JSON.stringify(b); }

  // Redraw from the tracker store; live messages that arrived meanwhile are shown only if the store
  // did not have them yet. If the last stored message is the customer's, its reply may still be on
  // its way (Rasa stores a turn when it ends): look again shortly.
  function resync(attempt) {
    state.syncing = true; state.arrivedDuringSync = [];
    return fetchHistory().then(function (history) {
      state.syncing = false;
      var live = state.arrivedDuringSync; state.arrivedDuringSync = [];
      if (!history) { live.forEach(show); return; }
      redraw(history);
      var tail = [];
      for (var i = history.length - 1; i >= 0 && history[i].from === "bot"; i--) tail.unshift(history[i].message);
      live.forEach(function (message) {
        var at = -1;
        for (var j = 0; j < tail.length; j++) if (sameMessage(tail[j], message)) { at = j; break; }
        if (at >= 0) tail.splice(at, 1); else show(message);
      });
      var last = history[history.length - 1];
      if (last && last.from === "user" && live.length === 0 && (attempt || 0) < 3) {
        setTimeout(function () { if (!state.syncing) resync((attempt || 0) + 1); }, 1500);
      }
    });
  }

  // ---- transports ------------------------------------------------------------
  function metadataOf(item) {
    var metadata = { display: item.shown };
    if (item.askAbout) metadata.ask_about = item.askAbout;
    return metadata;
  }

  function deliver(item) {
    if (state.transport === "socketio") {
      state.socket.emit("user_uttered", {
        message: item.text, session_id: state.session.sender_id, metadata: metadataOf(item)
      });
      return;
    }
    state.restChain = state.restChain.then(function () {
      return fetch(server + "/webhooks/rest/webhook", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ sender: state.session.sender_id, message: item.text, metadata: metadataOf(item) })
      }).then(function (r) {
        // A gateway in front of Rasa answers 413 / 429 / 503 with messages of its own ("slow down").
        return r.json().catch(function () { return null; }).then(function (body) {
          if (Array.isArray(body) && (r.ok || body.length)) return body;
          throw new Error("HTTP " + r.status);
        });
      }).then(function (messages) { hideTyping(); messages.forEach(show); })
        .catch(function () {
          hideTyping();
          bubble("bot", "Sorry, I can't reach the shop right now. Please try again.");
        });
    });
  }

  function flush() {
    if (state.transport === null || (state.transport === "socketio" && !state.confirmed)) return;
    var pending = state.queue; state.queue = [];
    pending.forEach(deliver);
  }

  function say(text, shown, askAbout) {
    bubble("user", shown || text);
    showTyping();
    state.queue.push({ text: text, shown: shown || text, askAbout: askAbout || null });
    flush();
  }

  function useRest() {
    if (state.socket) { state.socket.close(); state.socket = null; }
    state.transport = "rest"; state.confirmed = false;
    setStatus("");
    root.dataset.transport = "rest";
    flush();
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      if (window.io) { resolve(); return; }
      var tag = document.createElement("script");
      tag.src = src; tag.async = true; tag.onload = resolve; tag.onerror = reject;
      document.head.appendChild(tag);
    });
  }

  function useSocket() {
    return loadScript(base + "/static/vendor/socket.io.min.js").then(function () {
      var socket = window.io(server, { transports: ["websocket"], reconnectionDelayMax: 5000, timeout: 5000 });
      state.socket = socket;
      var fallback = setTimeout(function () { if (!state.everConfirmed) useRest(); }, 6000);
      socket.on("connect", function () {
        socket.emit("session_request", { session_id: state.session.sender_id });
      });
      socket.on("session_confirm", function () {
        var again = state.everConfirmed;
        clearTimeout(fallback);
        state.transport = "socketio"; state.confirmed = true; state.everConfirmed = true;
        root.dataset.transport = "socketio";
        setStatus("");
        if (again) resync().then(flush); else flush();
      });
      socket.on("disconnect", function () {
        state.confirmed = false;
        if (state.everConfirmed) setStatus("Connection lost — reconnecting…");
      });
      socket.on("connect_error", function () {
        if (!state.everConfirmed) { clearTimeout(fallback); useRest(); }
      });
      socket.on("bot_uttered", function (message) {
        hideTyping();
        if (state.syncing) state.arrivedDuringSync.push(message); else show(message);
      });
    }).catch(useRest);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    var asking = state.askingAbout;
    stopAsking();
    say(text, asking ? text + " (" + asking.title + ")" : text, asking ? asking.id : null);
  });

  bubble("bot", initial);
  input.disabled = true; send.disabled = true;  // until the conversation so far is drawn
  loadSession().then(function (session) {
    state.session = session;
    root.dataset.sender = session.sender_id;
    return resync();
  }).then(function () {
    input.disabled = false; send.disabled = false;
    root.dataset.ready = "true";
    if ((data.transport || "socketio") === "rest" || !server) useRest(); else useSocket();
  });

  // For tests and for pages that want to drive the widget.
  window.shopkeeperWidget = {
    state: state,
    say: say,
    disconnect: function () { if (state.socket) state.socket.io.engine.close(); }
  };
})();
