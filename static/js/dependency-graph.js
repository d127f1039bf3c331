// Zoom, fit and search for the server-drawn dependency graph (migrations_app/dependencies/svg.py).
// No inline script (the Content-Security-Policy forbids it): this file finds [data-graph] boxes.
// Zoom changes the drawing's size inside its scrolling box; search marks the nodes whose name or
// group contains the text and scrolls the first one to the middle of the box.
(function () {
  "use strict";
  const STEP = 1.25, MIN = 0.1, MAX = 8;

  function setUp(box) {
    const svg = box.querySelector("svg.dependency-graph");
    const tools = box.previousElementSibling;
    if (!svg || !tools || !tools.hasAttribute("data-graph-tools")) return;
    const view = svg.viewBox.baseVal;
    const width = view.width, height = view.height;
    const status = tools.querySelector('[data-testid="graph-found"]');
    let scale = 1;

    function zoomTo(next, centre) {
      const focus = centre || {x: (box.scrollLeft + box.clientWidth / 2) / scale,
                               y: (box.scrollTop + box.clientHeight / 2) / scale};
      scale = Math.min(MAX, Math.max(MIN, next));
      svg.setAttribute("width", (width * scale).toFixed(1));
      svg.setAttribute("height", (height * scale).toFixed(1));
      box.dataset.scale = scale.toFixed(3);
      box.scrollLeft = focus.x * scale - box.clientWidth / 2;
      box.scrollTop = focus.y * scale - box.clientHeight / 2;
    }

    function fit() {
      const room = parseFloat(getComputedStyle(box).maxHeight) || box.clientHeight;
      zoomTo(Math.min(box.clientWidth / width, room / height), {x: width / 2, y: height / 2});
    }

    tools.addEventListener("click", (event) => {
      const button = event.target.closest("[data-graph-zoom]");
      if (!button) return;
      const how = button.dataset.graphZoom;
      if (how === "fit") fit();
      else zoomTo(how === "in" ? scale * STEP : scale / STEP);
    });

    tools.querySelector("[data-graph-search]").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = event.target.elements.find.value.trim().toLowerCase();
      const nodes = [...svg.querySelectorAll("g.node")];
      nodes.forEach((n) => n.classList.remove("found"));
      if (!text) { status.textContent = ""; return; }
      const found = nodes.filter((n) => (n.dataset.label || "").toLowerCase().includes(text)
                                     || (n.dataset.group || "").toLowerCase().includes(text));
      found.forEach((n) => n.classList.add("found"));
      if (!found.length) { status.textContent = `Nothing named “${event.target.elements.find.value.trim()}” in this graph.`; return; }
      status.textContent = found.length === 1 ? `Found ${found[0].dataset.label}.` : `${found.length} found; the first is in the middle.`;
      const first = found[0];
      zoomTo(Math.max(scale, 1), {x: parseFloat(first.dataset.x), y: parseFloat(first.dataset.y)});
      box.dataset.centred = first.dataset.label;
    });

    tools.hidden = false;
    box.dataset.scale = "1.000";
  }

  function start() { document.querySelectorAll("[data-graph]").forEach(setUp); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
