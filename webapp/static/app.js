/* Movie Roulette: autocomplete (ARIA combobox), genre auto-filter, the roulette spin.
   No dependencies; everything degrades to plain forms and links without JavaScript. */
(function () {
  "use strict";

  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text; // never innerHTML
    return node;
  }

  /* ---------------------------------------------------------------- autocomplete */
  function Autocomplete(form) {
    this.form = form;
    this.input = form.querySelector("input[role=combobox]");
    this.list = form.querySelector("[role=listbox]");
    this.live = form.querySelector("[data-live]");
    this.url = form.getAttribute("data-suggest-url");
    this.items = [];
    this.active = -1;
    this.seq = 0;
    this.timer = null;
    this.controller = null;
    var self = this;
    this.input.addEventListener("input", function () { self.schedule(); });
    this.input.addEventListener("keydown", function (e) { self.onKey(e); });
    this.input.addEventListener("blur", function () { setTimeout(function () { self.close(); }, 150); });
    this.input.addEventListener("focus", function () { if (self.items.length) self.open(); });
    this.list.addEventListener("mousedown", function (e) {
      var option = e.target.closest("[role=option]");
      if (!option) return;
      e.preventDefault();
      self.choose(Number(option.getAttribute("data-index")));
    });
  }

  Autocomplete.prototype.schedule = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.fetch(); }, 90);
  };

  Autocomplete.prototype.fetch = function () {
    var query = this.input.value.trim();
    var seq = ++this.seq;
    var self = this;
    if (this.controller) this.controller.abort();
    if (!query) { this.render([]); return; }
    this.controller = window.AbortController ? new AbortController() : null;
    fetch(this.url + "?q=" + encodeURIComponent(query), {
      headers: { "Accept": "application/json" },
      signal: this.controller ? this.controller.signal : undefined
    }).then(function (r) { return r.ok ? r.json() : { suggestions: [] }; })
      .then(function (data) { if (seq === self.seq) self.render(data.suggestions || []); })
      .catch(function () { /* aborted or offline: keep the plain search form working */ });
  };

  Autocomplete.prototype.render = function (items) {
    var self = this;
    this.items = items;
    this.active = -1;
    this.list.textContent = "";
    this.input.removeAttribute("aria-activedescendant");
    items.forEach(function (item, i) {
      var li = el("li", "suggestion");
      li.id = self.list.id + "-opt-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.setAttribute("data-index", String(i));
      li.appendChild(el("span", "s-title", item.title));
      if (item.year) li.appendChild(el("span", "s-year", String(item.year)));
      if (item.genres && item.genres.length) li.appendChild(el("span", "s-genres", item.genres.slice(0, 3).join(" · ")));
      self.list.appendChild(li);
    });
    if (this.live) {
      this.live.textContent = items.length
        ? items.length + (items.length === 1 ? " suggestion" : " suggestions") + " available."
        : (this.input.value.trim() ? "No suggestions." : "");
    }
    if (items.length && document.activeElement === this.input) this.open(); else this.close();
  };

  Autocomplete.prototype.open = function () {
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  };

  Autocomplete.prototype.close = function () {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
    Array.prototype.forEach.call(this.list.children, function (li) { li.setAttribute("aria-selected", "false"); });
  };

  Autocomplete.prototype.highlight = function (index) {
    var options = this.list.children;
    if (!options.length) return;
    this.open();
    if (this.active >= 0 && options[this.active]) options[this.active].setAttribute("aria-selected", "false");
    this.active = (index + options.length) % options.length;
    var option = options[this.active];
    option.setAttribute("aria-selected", "true");
    this.input.setAttribute("aria-activedescendant", option.id);
    if (option.scrollIntoView) option.scrollIntoView({ block: "nearest" });
  };

  Autocomplete.prototype.choose = function (index) {
    var item = this.items[index];
    if (!item) return;
    this.input.value = item.title;
    this.close();
    window.location.assign(item.url);
  };

  Autocomplete.prototype.onKey = function (e) {
    var expanded = !this.list.hidden;
    switch (e.key) {
      case "ArrowDown":
        e.preventDefault();
        if (!this.items.length) { this.fetch(); return; }
        this.highlight(this.active + 1);
        break;
      case "ArrowUp":
        e.preventDefault();
        if (this.items.length) this.highlight(this.active < 0 ? this.items.length - 1 : this.active - 1);
        break;
      case "Enter":
        if (expanded && this.active >= 0) { e.preventDefault(); this.choose(this.active); }
        break;
      case "Escape":
        if (expanded) { e.preventDefault(); this.close(); }
        else if (this.input.value) { e.preventDefault(); this.input.value = ""; this.render([]); }
        break;
      case "Tab":
        this.close();
        break;
      default:
        break;
    }
  };

  /* ---------------------------------------------------------------- genre filter */
  function autoSubmit(select) {
    select.addEventListener("change", function () { select.form.submit(); });
  }

  /* ---------------------------------------------------------------- the roulette */
  function Roulette(form) {
    this.form = form;
    this.api = form.getAttribute("data-spin-api");
    this.section = document.querySelector("[data-roulette]");
    if (!this.section) return;
    this.reel = this.section.querySelector(".reel");
    this.reelTitle = this.section.querySelector(".reel-title");
    this.result = this.section.querySelector(".roulette-result");
    this.error = this.section.querySelector(".roulette-error");
    this.button = form.querySelector("button");
    this.again = this.section.querySelector("[data-spin-again]");
    this.titles = Array.prototype.map.call(
      document.querySelectorAll(".cards-ranked .card"), function (c) { return c.getAttribute("data-title"); });
    this.busy = false;
    var self = this;
    form.addEventListener("submit", function (e) { e.preventDefault(); self.spin(); });
    this.again.addEventListener("click", function () { self.spin(); });
  }

  Roulette.prototype.spin = function () {
    if (this.busy) return;
    this.busy = true;
    var self = this;
    this.section.hidden = false;
    this.result.hidden = true;
    this.error.hidden = true;
    this.reel.hidden = false;
    this.reel.classList.add("spinning");
    this.button.disabled = true;
    this.again.disabled = true;
    this.section.setAttribute("aria-busy", "true");
    if (this.section.scrollIntoView) this.section.scrollIntoView({ behavior: reducedMotion ? "auto" : "smooth", block: "nearest" });

    var answer = fetch(this.api, { headers: { "Accept": "application/json" } })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (body) {
          if (!r.ok || body.error) throw new Error(body.error || ("HTTP " + r.status));
          return body;
        });
      });
    var animation = this.animate();
    Promise.all([answer, animation]).then(function (values) {
      self.land(values[0]);
    }).catch(function (err) {
      self.reel.classList.remove("spinning");
      self.reel.hidden = true;
      self.error.textContent = err && err.message ? err.message : "The roulette could not spin.";
      self.error.hidden = false;
    }).then(function () {
      self.busy = false;
      self.button.disabled = false;
      self.again.disabled = false;
      self.section.removeAttribute("aria-busy");
    });
  };

  Roulette.prototype.animate = function () {
    var self = this;
    var titles = this.titles.length ? this.titles : ["…"];
    var steps = reducedMotion ? 1 : 22;
    return new Promise(function (resolve) {
      var i = 0;
      function tick() {
        self.reelTitle.textContent = titles[Math.floor(Math.random() * titles.length)];
        i += 1;
        if (i >= steps) { resolve(); return; }
        var t = i / steps;
        setTimeout(tick, 40 + 260 * t * t); // ease out: the reel slows down before it stops
      }
      tick();
    });
  };

  Roulette.prototype.land = function (data) {
    var item = data.item;
    this.reelTitle.textContent = item.title;
    this.reel.classList.remove("spinning");
    this.reel.hidden = true;
    var link = this.result.querySelector(".roulette-link");
    link.textContent = item.title + (item.year ? " (" + item.year + ")" : "");
    link.setAttribute("href", item.url);
    var img = this.result.querySelector("img");
    img.setAttribute("src", item.poster);
    this.result.querySelector(".roulette-genres").textContent = (item.genres || []).join(" · ");
    var accept = this.result.querySelector("form[data-accept]");
    if (accept) {
      accept.querySelector("input[name=movie_id]").value = String(item.movie_id);
      accept.hidden = !data.acceptable;  // only the picked user's own spin can be accepted
    }
    var reasons = this.result.querySelector(".roulette-reasons");
    reasons.textContent = "";
    (item.reasons || []).forEach(function (r) { reasons.appendChild(el("li", "", r)); });
    this.result.hidden = false;
    this.result.classList.remove("landed");
    void this.result.offsetWidth; // restart the landing animation
    this.result.classList.add("landed");
  };

  /* ---------------------------------------------------------------- start */
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-autocomplete]"), function (f) { new Autocomplete(f); });
    Array.prototype.forEach.call(document.querySelectorAll("select[data-autosubmit]"), autoSubmit);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-spin]"), function (f) { new Roulette(f); });
  });
})();
