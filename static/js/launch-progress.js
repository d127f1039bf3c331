// Live progress pages (templates/launch/progress.html): follow the server-sent events stream, or poll
// the API every 2 s when EventSource is missing or the stream cannot open, and update the table's
// cells, the badges and the bars in place. Both send the same message (migrations_app/launch/progress.py).
// Rows may come more than once: a row is only taken when its `updated` is newer than what the page has.
(function () {
  "use strict";
  const root = document.querySelector("[data-live-progress]");
  if (!root) return;
  const POLL_MS = 2000;
  const HEALTH = { healthy: "success", lagging: "warning", failed: "danger" };
  const status = root.querySelector("[data-live-status]");
  let cursor = root.dataset.cursor || "";
  let newRows = new Set();
  let poller = null;

  function withSince(url) {
    return url + (url.indexOf("?") >= 0 ? "&" : "?") + "since=" + encodeURIComponent(cursor);
  }
  function gb(bytes) { return ((bytes || 0) / 1e9).toFixed(1) + " GB"; }
  function bytesText(done, total) { return total ? gb(done) + " / " + gb(total) : gb(done); }
  function throughputText(mbps) { return mbps === null || mbps === undefined ? "—" : Math.round(mbps) + " Mbit/s"; }
  function durationText(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    seconds = Math.floor(seconds);
    const h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    const two = (n) => String(n).padStart(2, "0");
    if (h) return h + "h " + two(m) + "m";
    return m ? m + "m " + two(s) + "s" : s + "s";
  }
  function setText(el, text) { if (el && el.textContent !== String(text)) el.textContent = text; }
  function recolor(el, prefix, color) {
    if (!el) return;
    el.className = el.className.split(" ").filter((c) => c.indexOf(prefix) !== 0).concat(prefix + color).join(" ");
  }
  function setMode(text) { setText(status, text); status.dataset.mode = text; }

  function updateRow(r) {
    const tr = document.querySelector('tr[data-migration-id="' + r.id + '"]');
    if (!tr) {
      newRows.add(r.id);
      const note = root.querySelector("[data-new-rows]");
      if (note) { note.classList.remove("d-none"); setText(note.querySelector("[data-new-count]"), newRows.size); }
      return;
    }
    if (tr.dataset.updated && tr.dataset.updated >= r.updated) return;
    tr.dataset.updated = r.updated;
    const cell = (name) => tr.querySelector('[data-field="' + name + '"]');
    const state = cell("state");
    if (state) { recolor(state, "text-bg-", r.color); setText(state, r.state_label); state.dataset.state = r.state; }
    const bar = cell("percent-bar");
    if (bar) {
      bar.setAttribute("aria-valuenow", r.percent);
      bar.firstElementChild.style.width = r.percent + "%";
      recolor(bar.firstElementChild, "bg-", r.color);
    }
    setText(cell("percent"), r.percent + "%");
    setText(cell("bytes"), bytesText(r.bytes_transferred, r.bytes_total));
    setText(cell("throughput"), throughputText(r.throughput_mbps));
    setText(cell("eta"), durationText(r.eta_seconds));
    setText(cell("message"), r.message);
    setText(cell("attempt"), r.attempt);
  }

  function updateRollup(el, r) {
    if (!el || !r) return;
    const field = (name) => el.querySelector('[data-rollup-field="' + name + '"]');
    const color = HEALTH[r.health] || "secondary";
    const health = field("health");
    if (health) { recolor(health, "text-bg-", color); setText(health, r.health); }
    const bar = field("bar");
    if (bar) {
      bar.setAttribute("aria-valuenow", r.percent);
      bar.firstElementChild.style.width = r.percent + "%";
      recolor(bar.firstElementChild, "bg-", color);
    }
    setText(field("percent"), r.percent + "%");
    ["done", "failed", "in_flight", "waiting", "lagging"].forEach((k) => { if (k in r) setText(field(k), r[k]); });
    setText(field("bytes"), bytesText(r.bytes_done, r.bytes_total));
  }

  function addEvents(events) {
    const list = root.querySelector('[data-testid="events"]');
    if (!list || !events || !events.length) return;
    // Newest first in the message; prepend the oldest first so that the newest ends on top.
    events.slice().reverse().forEach((e) => {
      if (list.querySelector('[data-event-id="' + e.id + '"]')) return;
      const item = document.createElement("li");
      item.dataset.eventId = e.id;
      const at = document.createElement("span");
      at.className = "text-muted";
      at.textContent = e.at;
      const link = document.createElement("a");
      link.href = e.url;
      link.textContent = e.vm;
      item.append(at, " ", link, ": " + e.message);
      if (e.user) {
        const who = document.createElement("span");
        who.className = "text-muted";
        who.textContent = "(" + e.user + ")";
        item.append(" ", who);
      }
      list.prepend(item);
    });
    const empty = list.querySelector("[data-no-events]");
    if (empty) empty.remove();
    const max = Number(list.dataset.eventsMax || 20);
    while (list.children.length > max) list.lastElementChild.remove();
  }

  function apply(message) {
    if (message.cursor && (!cursor || message.cursor > cursor)) cursor = message.cursor;
    (message.migrations || []).forEach(updateRow);
    addEvents(message.events);
    updateRollup(root.querySelector('[data-rollup="main"]'), message.rollup);
    Object.keys(message.batches || {}).forEach((id) => {
      updateRollup(root.querySelector('[data-batch-rollup="' + id + '"]'), message.batches[id]);
    });
  }

  function poll() {
    fetch(withSince(root.dataset.pollUrl), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((message) => { setMode("polling"); apply(message); })
      .catch(() => setMode("offline"));
  }
  function startPolling() {
    if (poller) return;
    setMode("polling");
    poll();
    poller = setInterval(poll, POLL_MS);
  }
  function startStream() {
    if (!window.EventSource || root.dataset.mode === "poll") { startPolling(); return; }
    const source = new EventSource(withSince(root.dataset.streamUrl));
    let opened = false;
    source.addEventListener("open", () => { opened = true; setMode("live"); });
    source.addEventListener("progress", (event) => apply(JSON.parse(event.data)));
    source.addEventListener("error", () => {
      // After a drop EventSource reconnects by itself (sending the last event id); a stream that never
      // opened, or that the server refused, will not: poll instead.
      if (!opened || source.readyState === EventSource.CLOSED) { source.close(); startPolling(); }
      else setMode("reconnecting");
    });
  }

  document.querySelectorAll("[data-select-all]").forEach((box) => {
    box.addEventListener("change", () => {
      document.querySelectorAll('input[name="' + box.dataset.selectAll + '"]').forEach((b) => { b.checked = box.checked; });
    });
  });
  startStream();
})();
