// The dataset page: tabs that show one section at a time, and copy buttons. Without this script
// the tab bar is a list of links to sections shown one below the other, and hashes show whole on hover.
(function () {
  "use strict";
  var bar = document.querySelector("[data-tabs]");
  if (bar) {
    var links = Array.prototype.slice.call(bar.querySelectorAll("a[data-tab]"));
    var names = links.map(function (link) { return link.dataset.tab; });
    var show = function (name, focus) {
      links.forEach(function (link) {
        var on = link.dataset.tab === name;
        link.setAttribute("aria-current", on ? "true" : "false");
        var panel = document.getElementById(link.dataset.tab);
        if (panel) { panel.hidden = !on; }
      });
      if (focus) { bar.scrollIntoView({ block: "nearest" }); }
    };
    // The tab that holds an anchor (#license is in the card, #changelog in the versions).
    var tabOf = function (hash) {
      var target = hash && document.getElementById(hash.slice(1));
      var panel = target && target.closest(".tab-panel");
      return panel && names.indexOf(panel.id) >= 0 ? panel.id : null;
    };
    bar.classList.add("enhanced");
    show(tabOf(location.hash) || names[0], false);
    links.forEach(function (link) {
      link.addEventListener("click", function (event) {
        event.preventDefault();
        history.replaceState(null, "", "#" + link.dataset.tab);
        show(link.dataset.tab, true);
      });
    });
    window.addEventListener("hashchange", function () {
      var name = tabOf(location.hash);
      if (name) { show(name, false); }
    });
  }
  document.querySelectorAll("button.copy").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var source = button.dataset.copyFrom && document.getElementById(button.dataset.copyFrom);
      var text = source ? source.textContent : button.dataset.copy;
      navigator.clipboard.writeText(text).then(function () {
        var label = button.textContent;
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = label; }, 1500);
      });
    });
  });
})();
