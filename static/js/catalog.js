// The catalog's search form (no inline script: the Content Security Policy allows none).
(function () {
  var form = document.getElementById("catalog-form");
  if (!form) return;
  // Empty fields are left out of the URL htmx pushes, so a shared link reads ?q=speech&task=ASR.
  form.addEventListener("htmx:configRequest", function (event) {
    var data = event.detail.formData;
    Array.from(data.entries()).forEach(function (entry) {
      if (entry[1] === "") data.delete(entry[0]);
    });
  });
  // On a phone the filters fold away, results first in sight, unless one is set. Without JS they stay open.
  var panel = document.getElementById("filter-panel");
  if (panel && matchMedia("(max-width: 49.99rem)").matches &&
      !panel.querySelector("input:checked, option:checked:not([value=''])")) {
    panel.open = false;
  }
})();
