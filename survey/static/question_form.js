// The question editor shows only the fields the chosen type uses: choices for one or several
// choices, rows for a grid, a scale and follow-up for ratings and grids, limits for a whole
// number or a text. A field another type uses is hidden and disabled, so that nothing typed
// there before the type changed is posted with the question. Without JavaScript every field
// is shown; their labels say which type each is for, and the loader refuses what does not fit.
(function () {
  "use strict";
  var type = document.querySelector("select[name=type]");
  if (!type) return;
  var parts = document.querySelectorAll("[data-types]");

  function sync() {
    parts.forEach(function (part) {
      var shown = part.getAttribute("data-types").split(" ").indexOf(type.value) !== -1;
      part.hidden = !shown;
      part.querySelectorAll("input, select, textarea").forEach(function (input) {
        input.disabled = !shown;
      });
    });
  }

  type.addEventListener("change", sync);
  sync();
})();
