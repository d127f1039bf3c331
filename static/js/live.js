// Following a page's live stream (core/live/stream.py), the one way pages follow changes.
//
// <div data-live-url="/jobs/5/live/" data-live-seq="12" [data-live-renderer="name"]> is followed from
// change 12: server-sent events while the server keeps a stream; when it refuses one (past the caps:
// 429; served by WSGI: 503) or the stream breaks for good, polling the same URL's JSON (?format=json&since=N) every few
// seconds. Each message goes to the element's renderer once, in order: a message whose number the
// page has already seen is dropped. The default renderer, "fragments", replaces the elements named
// in `replace` ({id: html}) and appends to those in `append`. A page with its own renderer registers
// it first: window.AvsLive.renderers.name = (element, message) => {...}.
// After each message the element fires "live:change" (detail: the message); "done" ends the follow.
(function () {
  "use strict";
  if (window.AvsLive) return; // included twice on one page: follow once
  const POLL_MS = 2000;

  function fragments(element, message) {
    Object.entries(message.replace || {}).forEach(([id, html]) => {
      const old = document.getElementById(id);
      if (old) old.outerHTML = html;
    });
    Object.entries(message.append || {}).forEach(([id, html]) => {
      const list = document.getElementById(id);
      if (list) list.insertAdjacentHTML("beforeend", html);
    });
  }

  const renderers = { fragments: fragments };

  function follow(element) {
    const url = element.dataset.liveUrl;
    const join = url.includes("?") ? "&" : "?";
    let seq = Number(element.dataset.liveSeq || 0);
    let source = null;
    let polling = false;
    let done = false;

    function handle(message) {
      if (done || message.seq < seq || (message.seq === seq && !message.done)) return;
      seq = message.seq;
      element.dataset.liveSeq = String(seq);
      (renderers[element.dataset.liveRenderer || "fragments"] || fragments)(element, message);
      element.dispatchEvent(new CustomEvent("live:change", { detail: message }));
      if (message.done) {
        done = true;
        if (source) source.close();
      }
    }

    function poll() {
      if (done) return;
      fetch(`${url}${join}format=json&since=${seq}`, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : null))
        .then((message) => { if (message) handle(message); })
        .catch(() => {})
        .finally(() => { if (!done) window.setTimeout(poll, POLL_MS); });
    }

    function startPolling() {
      if (polling || done) return;
      polling = true;
      element.dataset.liveMode = "polling";
      poll();
    }

    if (!window.EventSource) { startPolling(); return; }
    source = new EventSource(`${url}${join}since=${seq}`);
    element.dataset.liveMode = "stream";
    source.addEventListener("change", (event) => handle(JSON.parse(event.data)));
    // The browser reconnects by itself (sending Last-Event-ID) unless the answer was an error such as
    // 429: then the stream is CLOSED for good and the page polls.
    source.addEventListener("error", () => {
      if (source.readyState === EventSource.CLOSED) startPolling();
    });
  }

  window.AvsLive = { renderers: renderers, follow: follow };
  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-live-url]").forEach(follow);
  });
})();
