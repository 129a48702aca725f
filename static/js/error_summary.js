// The error summary (templates/_error_summary.html): after a failed form the focus moves to the
// box at the top of the page, so the person (and their screen reader) meets the problems first;
// a link in it moves the focus to its field, not only the scroll position.
(function () {
  "use strict";
  if (window.dcErrorSummary) return; // the include may appear more than once on a page
  window.dcErrorSummary = true;

  function focusSummary() {
    var summary = document.querySelector("[data-error-summary]");
    if (summary) summary.focus();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    if (!link) return;
    var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) return;
    event.preventDefault();
    var details = target.closest("details");
    if (details) details.open = true;
    var field = target.closest(".field, td, fieldset") || target;
    field.scrollIntoView({ block: "center" });
    target.focus({ preventScroll: true });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusSummary);
  } else {
    focusSummary();
  }
})();
