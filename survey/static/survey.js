// Progressive enhancement of the survey page; everything works without it.
(function () {
  "use strict";
  var form = document.querySelector(".survey-form");
  if (!form) return;

  // Show the "why?" box of a rating only for a low rating (or when it already holds text).
  function syncFollowUp(scale) {
    var box = document.getElementById(scale.dataset.followUp + "-box");
    if (!box) return;
    var checked = scale.querySelector("input:checked");
    var low = checked && Number(checked.value) <= Number(scale.dataset.lowMax);
    var text = box.querySelector("textarea");
    box.hidden = !low && !(text && text.value.trim());
  }
  var scales = form.querySelectorAll(".scale[data-follow-up]");
  scales.forEach(function (scale) {
    syncFollowUp(scale);
    scale.addEventListener("change", function () { syncFollowUp(scale); });
  });

  // Live progress: count questions with an answer.
  var questions = form.querySelectorAll(".question");
  var count = document.getElementById("progress-count");
  var bar = document.getElementById("progress-bar");
  function answered(q) {
    var inputs = q.querySelectorAll(".scale__input, .option__input");
    if (inputs.length) {
      return Array.prototype.some.call(inputs, function (i) { return i.checked; });
    }
    var text = q.querySelector("textarea");
    return !!(text && text.value.trim());
  }
  var total = document.getElementById("progress-total");
  // A question hidden by a condition (conditions.js) is neither counted nor asked.
  function asked(q) { return !q.closest("[hidden]"); }
  function syncProgress() {
    var shown = Array.prototype.filter.call(questions, asked);
    var n = shown.filter(answered).length;
    if (count) count.textContent = n;
    if (bar) bar.value = n;
    if (total) total.textContent = shown.length;
    if (bar) bar.max = shown.length;
  }
  syncProgress();
  form.addEventListener("change", syncProgress);
  form.addEventListener("input", syncProgress);
  form.addEventListener("conditions-synced", syncProgress);

  // Move focus to the error summary so that screen readers announce it.
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  // A second click while the first submit is on its way would only show "already submitted".
  form.addEventListener("submit", function () {
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
})();
