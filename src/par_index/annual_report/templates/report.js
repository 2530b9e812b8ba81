(function () {
  "use strict";
  var status = document.getElementById("report-status");
  var errors = 0;
  window.addEventListener("error", function () {
    errors += 1;
    status.setAttribute("data-errors", String(errors));
    status.setAttribute("data-js", "error");
  });
  var lang = document.documentElement.lang || "vi";
  function key(cell) {
    var raw = cell.getAttribute("data-sort");
    if (raw === null) { return cell.textContent.trim(); }
    if (raw === "") { return null; }
    var number = Number(raw);
    return isNaN(number) ? raw : number;
  }
  function sortBy(table, th, index) {
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(th.parentNode.cells, function (other) {
      other.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[index]), y = key(b.cells[index]);
      if (x === null || y === null) { return (x === null) - (y === null); }
      var order = (typeof x === "number" && typeof y === "number")
        ? x - y : String(x).localeCompare(String(y), lang);
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      th.tabIndex = 0;
      th.classList.add("sort");
      th.addEventListener("click", function () { sortBy(table, th, index); });
      th.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") { event.preventDefault(); sortBy(table, th, index); }
      });
    });
  });
  // ?focus=<profile id> shows that unit's profile alone (to print or share one unit)
  var match = /[?&]focus=([^&#]+)/.exec(window.location.search);
  if (match) {
    var target = document.getElementById(decodeURIComponent(match[1]));
    if (target && target.classList.contains("profile")) {
      document.documentElement.classList.add("focus");
      target.classList.add("is-focus");
      status.setAttribute("data-focus", target.id);
    }
  }
  var resources = window.performance && performance.getEntriesByType
    ? performance.getEntriesByType("resource").length : 0;
  status.setAttribute("data-tables", String(tables.length));
  status.setAttribute("data-resources", String(resources));
  status.setAttribute("data-profiles", String(document.querySelectorAll("article.profile").length));
  if (!errors) { status.setAttribute("data-js", "ok"); }
})();
