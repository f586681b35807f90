// The progress page of an export being built (templates/review/export.html): asks the JSON
// status every 1.5 s, moves the bar and the count of rows written, and reloads the page once the file is ready or the build
// failed, so that the server shows the download or the reason. Without script the page
// reloads itself every 3 s (a <noscript> meta refresh).
(function () {
  var section = document.querySelector("[data-export-status]");
  if (!section) return;
  var bar = section.querySelector("progress");
  var step = section.querySelector("[data-export-step]");
  var percent = section.querySelector("[data-export-percent]");
  var rows = section.querySelector("[data-export-rows]");
  function count(n) {
    return Number(n).toLocaleString(document.documentElement.lang || undefined);
  }
  function poll() {
    fetch(section.getAttribute("data-export-status"), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (state) {
        if (state.status === "done" || state.status === "failed" || state.stalled) {
          window.location.reload();
          return;
        }
        if (bar) bar.value = state.progress;
        if (step) step.textContent = state.step;
        if (percent) percent.textContent = state.progress;
        if (rows && state.rows_total !== null) {
          rows.hidden = false;
          rows.querySelector("[data-export-rows-done]").textContent = count(state.rows);
          rows.querySelector("[data-export-rows-total]").textContent = count(state.rows_total);
        }
        window.setTimeout(poll, 1500);
      })
      .catch(function () {
        window.setTimeout(poll, 5000); // a restarting server: try again a little later
      });
  }
  window.setTimeout(poll, 1000);
})();
