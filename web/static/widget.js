/* Shopkeeper chat widget: embedded with one script tag.
 *
 *   <script src="/static/widget.js" data-server="http://127.0.0.1:5005" data-title="Shopkeeper"></script>
 *
 * Talks to Rasa's REST channel. Every piece of text is inserted with
 * textContent, never as HTML, so a message containing markup shows as text.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var server = (script && script.dataset.server || "").replace(/\/$/, "");
  var title = (script && script.dataset.title) || "Shopkeeper";
  var base = script ? new URL(script.src, location.href).origin : location.origin;
  var storageKey = "shopkeeper.sender";
  var sender = localStorage.getItem(storageKey);
  if (!sender) {
    sender = "web-" + (crypto.randomUUID ? crypto.randomUUID() : String(Math.random()).slice(2));
    localStorage.setItem(storageKey, sender);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  var css = el("link"); css.rel = "stylesheet"; css.href = base + "/static/widget.css";
  document.head.appendChild(css);

  var root = el("section", "skw"); root.setAttribute("aria-label", title + " chat");
  var head = el("header", "skw-head", title);
  var log = el("div", "skw-log"); log.setAttribute("role", "log"); log.setAttribute("aria-live", "polite");
  var form = el("form", "skw-form");
  var input = el("input", "skw-input"); input.type = "text"; input.placeholder = "Type a message…";
  input.setAttribute("aria-label", "Message"); input.autocomplete = "off"; input.maxLength = 2000;
  var send = el("button", "skw-send", "Send"); send.type = "submit";
  form.appendChild(input); form.appendChild(send);
  root.appendChild(head); root.appendChild(log); root.appendChild(form);
  document.body.appendChild(root);

  function scroll() { log.scrollTop = log.scrollHeight; }
  function bubble(who, text) { log.appendChild(el("div", "skw-msg skw-" + who, text)); scroll(); }

  function price(amount, currency) {
    try { return new Intl.NumberFormat(undefined, { style: "currency", currency: currency }).format(amount); }
    catch (e) { return amount + " " + currency; }
  }

  function cards(payload) {
    var row = el("div", "skw-cards");
    (payload.items || []).forEach(function (item) {
      var card = el("article", "skw-card");
      if (item.image_url) {
        var img = el("img"); img.alt = ""; img.loading = "lazy";
        img.src = new URL(item.image_url, base).href; card.appendChild(img);
      }
      card.appendChild(el("h3", null, item.title));
      card.appendChild(el("p", "skw-price", price(item.price, item.currency)
        + (item.rating ? " · ★ " + Number(item.rating).toFixed(1) : "")));
      card.appendChild(el("p", "skw-reason", item.reason));
      var actions = el("div", "skw-card-actions");
      [["like", "👍", "I like this"], ["dislike", "👎", "Not for me"]].forEach(function (f) {
        var btn = el("button", "skw-vote", f[1]); btn.type = "button";
        btn.setAttribute("aria-label", f[2] + ": " + item.title);
        btn.addEventListener("click", function () {
          say("/feedback" + JSON.stringify({ item_id: item.id, sentiment: f[0] }), f[1] + " " + item.title);
        });
        actions.appendChild(btn);
      });
      card.appendChild(actions);
      row.appendChild(card);
    });
    log.appendChild(row); scroll();
  }

  function buttons(list) {
    var row = el("div", "skw-buttons");
    list.forEach(function (b) {
      var btn = el("button", "skw-button", b.title); btn.type = "button";
      btn.addEventListener("click", function () { say(b.payload, b.title); });
      row.appendChild(btn);
    });
    log.appendChild(row); scroll();
  }

  function show(message) {
    if (message.text) bubble("bot", message.text);
    var custom = message.custom && (message.custom.data || message.custom);
    if (custom && custom.type === "recommendations") cards(custom);
    if (message.buttons && message.buttons.length) buttons(message.buttons);
  }

  function say(text, shown) {
    bubble("user", shown || text);
    return fetch(server + "/webhooks/rest/webhook", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sender, message: text })
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (messages) { messages.forEach(show); })
      .catch(function () { bubble("bot", "Sorry, I can't reach the shop right now. Please try again."); });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    say(text);
  });
  bubble("bot", script && script.dataset.initial || "Hi! What are you looking for today?");
})();
