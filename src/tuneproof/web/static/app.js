// Live progress on the run page: server-sent events from /runs/NAME/events update the numbers
// (textContent only: nothing from the server becomes markup); "done" reloads to show the results.
"use strict";
(function () {
  function fmt(v, d) { return typeof v === "number" ? v.toFixed(d) : "–"; }
  function dur(s) {
    if (typeof s !== "number") return "–";
    s = Math.round(s);
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    const mm = h ? String(m).padStart(2, "0") : String(m);
    return (h ? h + ":" : "") + mm + ":" + String(r).padStart(2, "0");
  }
  function set(box, field, text) {
    const el = box.querySelector('[data-field="' + field + '"]');
    if (el) el.textContent = text;
  }
  function start() {
    const box = document.getElementById("live");
    if (!box || !box.dataset.events || !window.EventSource) return;
    const es = new EventSource(box.dataset.events);
    es.addEventListener("progress", function (e) {
      const d = JSON.parse(e.data), p = d.progress;
      set(box, "status", d.status);
      const head = document.getElementById("run-status");
      if (head) head.textContent = d.status;
      if (!p) return;
      set(box, "phase", p.phase);
      set(box, "step", p.step + " / " + p.max_steps);
      set(box, "epoch", fmt(p.epoch, 2));
      set(box, "loss", fmt(p.loss, 4));
      const ev = Object.entries(p.eval || {}).map(function (kv) { return kv[0] + " " + fmt(kv[1], 4); });
      set(box, "eval", ev.length ? ev.join(", ") : "–");
      set(box, "eta", dur(p.eta_s));
      set(box, "updated", p.updated || "–");
      const bar = box.querySelector('[data-field="bar"]');
      if (bar) { bar.max = p.max_steps || 1; bar.value = p.step; }
    });
    es.addEventListener("done", function () { es.close(); window.location.reload(); });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
