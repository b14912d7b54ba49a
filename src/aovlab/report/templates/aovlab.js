// Draws the report's figures: each <div data-figure="ID"> from the JSON in <script id="ID">.
// A file of its own (not an inline script), so that the dashboard's Content-Security-Policy
// can forbid inline scripts.
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("div[data-figure]").forEach(function (div) {
      var spec = JSON.parse(document.getElementById(div.dataset.figure).textContent);
      Plotly.newPlot(div, spec.data, spec.layout, {displaylogo: false, responsive: true})
        .then(function () { div.setAttribute("data-drawn", "true"); });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
