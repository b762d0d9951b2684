// Progressive enhancement only: every page works without this script.
// 1. "Select all" box for the bulk-close form.
// 2. Confirmation before closing cases in bulk and re-running the whole quarantine.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=ids]").forEach(function (b) { b.checked = all.checked; });
    });
  }
  // The question comes from the button pressed (the queue's bulk form has several) or the form.
  document.querySelectorAll("form").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      var b = e.submitter;
      var q = (b && b.getAttribute("data-confirm")) || f.getAttribute("data-confirm");
      if (q && !window.confirm(q)) { e.preventDefault(); }
    });
  });
});
