/* 产融通 — small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  // Charts: <div class="chart" data-chart="ID"> with its option in <script id="ID" type="application/json">.
  function renderCharts(root) {
    if (typeof window.echarts === "undefined") { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.chartReady) { return; }
      var source = document.getElementById(el.dataset.chart);
      if (!source) { return; }
      var option;
      try { option = JSON.parse(source.textContent); } catch (e) { return; }
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option);
      el.dataset.chartReady = "1";
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  // Forms that re-fetch part of themselves with htmx need no "refresh" button.
  function hideNoJsButtons(root) {
    root.querySelectorAll("[data-nojs-only]").forEach(function (el) { el.hidden = true; });
  }

  function enhance(root) {
    renderCharts(root);
    if (window.htmx) { hideNoJsButtons(root); }
  }

  // Irreversible steps ask first, saying what will happen: a submit button (or
  // its form) with data-confirm="…". Captured at the document, before htmx's
  // own submit handler on the form, so a "no" stops both.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var message = (button && button.dataset.confirm) || event.target.dataset.confirm;
    if (message && !window.confirm(message)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("DOMContentLoaded", function () { enhance(document); });
  document.addEventListener("htmx:afterSwap", function (event) { enhance(event.target); });
})();
