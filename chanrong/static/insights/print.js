/* The print button of the printable 定量指标统计表 (no inline script: CSP-friendly). */
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) { window.print(); }
  });
})();
