// policyflow: small progressive enhancements; every page works without this file.
(function () {
  "use strict";

  function setupChangeNavigation() {
    var toolbar = document.querySelector(".diff-toolbar");
    if (!toolbar) { return; }
    var count = parseInt(toolbar.getAttribute("data-change-count"), 10) || 0;
    var position = toolbar.querySelector(".change-position");
    var current = 0;
    var match = /^#change-(\d+)$/.exec(window.location.hash);
    if (match) { current = parseInt(match[1], 10); }

    function go(index) {
      var target = document.getElementById("change-" + index);
      if (!target) { return; }
      var previous = document.querySelector(".current-change");
      if (previous) { previous.classList.remove("current-change"); }
      target.classList.add("current-change");
      target.setAttribute("tabindex", "-1");
      target.scrollIntoView({ block: "center" });
      target.focus({ preventScroll: true });
      if (history.replaceState) { history.replaceState(null, "", "#change-" + index); }
      current = index;
      if (position) { position.textContent = "Change " + index + " of " + count; }
    }

    toolbar.addEventListener("click", function (event) {
      var link = event.target.closest("[data-change-nav]");
      if (!link || count === 0) { return; }
      event.preventDefault();
      var direction = link.getAttribute("data-change-nav");
      var next = direction === "next" ? current + 1 : current - 1;
      if (next > count) { next = 1; }
      if (next < 1) { next = count; }
      go(next);
    });

    document.addEventListener("keydown", function (event) {
      var tag = (event.target.tagName || "").toLowerCase();
      if (tag === "input" || tag === "textarea" || tag === "select" || event.altKey || event.ctrlKey || event.metaKey) { return; }
      if (event.key === "n" || event.key === "j") { go(current >= count ? 1 : current + 1); }
      if (event.key === "p" || event.key === "k") { go(current <= 1 ? count : current - 1); }
    });
  }

  function warnOnUnsavedEdits() {
    var form = document.querySelector(".editor-form");
    if (!form) { return; }
    var text = form.querySelector("textarea[name=text]");
    var original = text ? text.value : "";
    var submitting = false;
    form.addEventListener("submit", function () { submitting = true; });
    window.addEventListener("beforeunload", function (event) {
      if (!submitting && text && text.value !== original) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupChangeNavigation();
    warnOnUnsavedEdits();
  });
})();
