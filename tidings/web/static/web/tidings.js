// Small conveniences on top of plain forms and links; every page works without them.
(function () {
  "use strict";

  // Action menus are <details>: close them on a click elsewhere or on Escape.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      if (!menu.contains(event.target)) menu.removeAttribute("open");
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    document.querySelectorAll("details.menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    });
  });

  // Contacts: select all shown, count the selection, ask for a tag only when one is needed.
  function rowBoxes() {
    return Array.from(document.querySelectorAll('input[name="ids"][form="bulk-form"]'));
  }

  function refreshBulk() {
    var form = document.getElementById("bulk-form");
    if (!form) return;
    var boxes = rowBoxes();
    var chosen = boxes.filter(function (box) { return box.checked; }).length;
    var all = document.querySelector("[data-select-all]");
    if (all) {
      all.closest("label").hidden = false;
      all.checked = boxes.length > 0 && chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
    }
    var count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = chosen ? chosen + " selected" : "";
    var action = form.querySelector('select[name="action"]');
    var tag = form.querySelector('select[name="tag"]');
    if (action && tag) tag.hidden = action.value === "delete";
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-select-all]")) {
      rowBoxes().forEach(function (box) { box.checked = target.checked; });
    }
    refreshBulk();
  });
  document.addEventListener("DOMContentLoaded", refreshBulk);
  document.addEventListener("htmx:afterSettle", refreshBulk);

  // Campaign schedules: the time zone starts as the browser's own unless one was chosen (else UTC).
  function browserZone() {
    document.querySelectorAll("select[data-browser-zone]").forEach(function (select) {
      if (select.dataset.zoneSet || select.querySelector("option[selected]")) return;
      select.dataset.zoneSet = "1";
      var zone = "";
      try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
      if (!zone) return;
      var known = Array.prototype.some.call(select.options, function (option) { return option.value === zone; });
      if (!known) select.add(new Option(zone.replace(/_/g, " "), zone));
      select.value = zone;
    });
  }
  document.addEventListener("DOMContentLoaded", browserZone);
  document.addEventListener("htmx:afterSettle", browserZone);
})();
