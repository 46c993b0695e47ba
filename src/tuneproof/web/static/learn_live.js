// The learning modules (LoRA, tokens, evaluation plan): slider read-outs, and htmx swapping a
// 422 fragment in (it carries the reason the input was refused) instead of ignoring it.
// textContent only: nothing typed becomes markup.
"use strict";
(function () {
  document.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr && e.detail.xhr.status === 422) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  });
  document.addEventListener("input", function (e) {
    const el = e.target;
    if (!el || !el.id) return;
    const out = document.querySelector('output[for="' + el.id + '"]');
    if (out) out.textContent = el.value;
  });
})();
