// Learning progress of the learning modules, kept in this browser only (localStorage):
// the learning path's steps, the concepts covered and the quiz answers. No server state, and
// nothing from storage becomes markup (textContent and properties only).
"use strict";
(function () {
  const KEY = "tuneproof.learn.v1";
  function load() {
    try {
      const s = JSON.parse(window.localStorage.getItem(KEY) || "{}");
      return s && typeof s === "object" ? s : {};
    } catch (e) { return {}; }
  }
  function save(s) {
    try { window.localStorage.setItem(KEY, JSON.stringify(s)); } catch (e) { /* private mode */ }
  }
  function group(s, name) {
    if (!s[name] || typeof s[name] !== "object") s[name] = {};
    return s[name];
  }
  function counts() {
    const s = load();
    document.querySelectorAll("[data-learn-count]").forEach(function (el) {
      const g = group(s, el.dataset.learnCount);
      const total = parseInt(el.dataset.learnTotal || "0", 10);
      const n = Object.keys(g).filter(function (k) { return g[k]; }).length;
      el.textContent = String(total ? Math.min(n, total) : n);
    });
    document.querySelectorAll("[data-learn-right]").forEach(function (el) {
      const g = group(s, el.dataset.learnRight);
      el.textContent = String(Object.keys(g).filter(function (k) { return g[k] && g[k].right; }).length);
    });
  }
  function verdict(form, choice, right) {
    const out = form.querySelector("[data-verdict]");
    if (!out) return;
    out.hidden = false;
    out.textContent = right ? "Right." : "Not quite: open the answer below.";
    out.className = "verdict " + (right ? "ok" : "error");
    const box = form.querySelector('input[value="' + choice + '"]');
    if (box) box.checked = true;
  }
  function start() {
    const s = load();
    document.querySelectorAll("input[type=checkbox][data-learn]").forEach(function (box) {
      box.checked = Boolean(group(s, box.dataset.learn)[box.dataset.item]);
      box.addEventListener("change", function () {
        const now = load();
        const g = group(now, box.dataset.learn);
        if (box.checked) g[box.dataset.item] = true; else delete g[box.dataset.item];
        save(now);
        counts();
      });
    });
    document.querySelectorAll("form[data-learn-quiz]").forEach(function (form) {
      const id = form.dataset.learnQuiz, answer = form.dataset.answer;
      const seen = group(s, "quiz")[id];
      if (seen && typeof seen === "object") verdict(form, seen.choice, seen.right);
      form.addEventListener("submit", function (e) { e.preventDefault(); });
      form.querySelectorAll("input[type=radio]").forEach(function (radio) {
        radio.addEventListener("change", function () {
          const now = load();
          const right = radio.value === answer;
          group(now, "quiz")[id] = { choice: radio.value, right: right };
          save(now);
          verdict(form, radio.value, right);
          counts();
        });
      });
    });
    document.querySelectorAll("[data-learn-reset]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        const now = load();
        btn.dataset.learnReset.split(" ").forEach(function (g) { delete now[g]; });
        save(now);
        window.location.reload();
      });
    });
    counts();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
