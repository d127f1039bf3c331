// Live progress pages (templates/launch/progress.html): follow the server-sent events stream, or poll
// the API every 2 s when EventSource is missing or the stream cannot open, and update the table's
// cells, the badges and the bars in place. Both send the same message (migrations_app/launch/progress.py).
// Rows may come more than once: a row is only taken when its `updated` is newer than what the page has.
// Every figure's text (sizes, ETAs in the wave's time zone, the summary) comes written from the server
// (migrations_app/launch/display.py), so the page never writes a figure another way.
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
    setText(cell("bytes"), r.bytes_text);
    setText(cell("throughput"), r.throughput_text);
    setText(cell("eta"), r.eta_text);
    setText(cell("message"), r.message);
    setText(cell("attempt"), r.attempt);
    updateActions();
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
    setText(field("bytes"), r.bytes_text);
    (r.phase_rows || []).forEach((p) => {
      setText(el.querySelector('[data-phase="' + p.key + '"] [data-phase-count]'), p.count);
      const part = el.querySelector('[data-phase-width="' + p.key + '"]');
      if (part) part.style.width = p.width + "%";
    });
  }

  // The header follows the stream too: the wave's status, the summary and the ready callout.
  function updateHeader(message) {
    const s = message.wave_status;
    const badge = root.querySelector("[data-wave-status]");
    if (s && badge) { recolor(badge, "text-bg-", s.color); setText(badge, s.label); }
    const r = message.rollup;
    if (!r) return;
    setText(root.querySelector("[data-summary]"), r.summary);
    const callout = root.querySelector("[data-ready-callout]");
    if (callout) {
      callout.classList.toggle("d-none", !r.ready);
      setText(callout.querySelector("[data-ready-count]"), r.ready);
      setText(callout.querySelector("[data-ready-plural]"), r.ready === 1 ? "" : "s");
    }
  }

  // An action button is enabled when it applies to one of the chosen migrations (forms.py ACTIONS).
  function updateActions() {
    const buttons = document.querySelectorAll("#migration-actions button[data-applies-states]");
    if (!buttons.length) return;
    const chosen = Array.from(document.querySelectorAll('input[name="ids"][form="migration-actions"]:checked'))
      .map((box) => box.closest("tr")).filter(Boolean);
    buttons.forEach((button) => {
      const states = button.dataset.appliesStates.split(" ");
      const types = button.dataset.appliesTypes.split(" ");
      const directions = button.dataset.appliesDirections.split(" ");
      button.disabled = !chosen.some((tr) => {
        const state = tr.querySelector('[data-field="state"]');
        return state && states.includes(state.dataset.state) && types.includes(tr.dataset.type)
          && directions.includes(tr.dataset.direction);
      });
    });
  }

  // Each line is one event or the repeats of one (progress.collapse()): a repeat that arrives raises the
  // count of its line, which moves to the top; an id already counted is not counted again.
  const seenEvents = new Set();
  function repeatsText(count, firstAt) { return count > 1 ? " ×" + count + ", first at " + firstAt : ""; }
  function addEvents(events) {
    const list = root.querySelector('[data-testid="events"]');
    if (!list || !events || !events.length) return;
    // Newest first in the message; prepend the oldest first so that the newest ends on top.
    events.slice().reverse().forEach((e) => {
      const ids = (e.ids || [e.id]).filter((id) => !seenEvents.has(String(id)));
      if (!ids.length) return;
      ids.forEach((id) => seenEvents.add(String(id)));
      let item = e.key ? list.querySelector('[data-event-key="' + CSS.escape(e.key) + '"]') : null;
      if (item) {
        const count = Number(item.dataset.count || 1) + ids.length;
        item.dataset.count = count;
        item.dataset.eventId = e.id;
        setText(item.querySelector("[data-event-at]"), e.at);
        setText(item.querySelector("[data-event-repeats]"), repeatsText(count, item.dataset.firstAt));
        list.prepend(item);
        return;
      }
      item = document.createElement("li");
      item.dataset.eventId = e.id;
      item.dataset.eventKey = e.key || "";
      item.dataset.count = ids.length;
      item.dataset.firstAt = e.first_at || e.at;
      const at = document.createElement("span");
      at.className = "text-muted";
      at.dataset.eventAt = "";
      at.textContent = e.at;
      const link = document.createElement("a");
      link.href = e.url;
      link.textContent = e.vm;
      const repeats = document.createElement("span");
      repeats.dataset.eventRepeats = "";
      repeats.textContent = repeatsText(ids.length, item.dataset.firstAt);
      item.append(at, " ", link, ": " + e.message, repeats);
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
    updateHeader(message);
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
      updateActions();
    });
  });
  document.querySelectorAll('input[name="ids"][form="migration-actions"]').forEach((box) => {
    box.addEventListener("change", updateActions);
  });
  root.querySelectorAll("[data-event-ids]").forEach((item) => {
    item.dataset.eventIds.split(" ").forEach((id) => { if (id) seenEvents.add(id); });
  });
  updateActions();
  startStream();
})();
