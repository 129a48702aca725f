// The header's disclosures (templates/base.html: "My account", "Staff"). <details> opens and closes
// them without JavaScript; this adds what people expect of a menu button: Escape closes the open
// one and gives the focus back to its summary, and a click or focus elsewhere closes it.
(function () {
  "use strict";

  function openMenus() {
    return Array.prototype.slice.call(document.querySelectorAll("details.menu[open]"));
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    openMenus().forEach(function (menu) {
      var hadFocus = menu.contains(document.activeElement);
      menu.open = false;
      if (hadFocus) menu.querySelector("summary").focus();
    });
  });

  function closeOthers(target) {
    openMenus().forEach(function (menu) {
      if (!menu.contains(target)) menu.open = false;
    });
  }
  document.addEventListener("click", function (event) { closeOthers(event.target); });
  document.addEventListener("focusin", function (event) { closeOthers(event.target); });
})();
