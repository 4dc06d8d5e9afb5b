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

  // Notes: selecting words in the text fills the "Add a note" form (mouse, keyboard or touch);
  // clicking a highlight shows its card. Without this script the form takes a copied quote.
  function setupNotes() {
    var article = document.querySelector("article.policy-text[data-annotatable='yes']");
    var form = document.getElementById("add-note");
    if (article && form) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button primary selection-button";
      button.textContent = "Add a note on the selection";
      button.hidden = true;
      article.parentNode.insertBefore(button, article);
      var pending = null;
      var capture = function () {
        var selection = window.getSelection();
        if (!selection || selection.isCollapsed || !article.contains(selection.anchorNode)) {
          return;
        }
        var quote = selection.toString().replace(/\s+/g, " ").trim();
        if (!quote) { return; }
        var before = document.createRange();
        before.setStart(article, 0);
        before.setEnd(selection.getRangeAt(0).startContainer, selection.getRangeAt(0).startOffset);
        var preceding = before.toString().replace(/\s+/g, " ");
        var occurrence = 1;
        var index = preceding.indexOf(quote);
        while (index !== -1) { occurrence += 1; index = preceding.indexOf(quote, index + 1); }
        pending = { quote: quote, occurrence: occurrence };
        button.hidden = false;
      };
      article.addEventListener("mouseup", capture);
      article.addEventListener("keyup", capture);
      article.addEventListener("touchend", function () { window.setTimeout(capture, 50); });
      document.querySelectorAll(".reattach-form").forEach(function (reattach) {
        reattach.addEventListener("submit", function () {
          var field = reattach.querySelector("[name=quote]");
          if (pending && !field.value) {
            field.value = pending.quote;
            reattach.querySelector("[name=occurrence]").value = String(pending.occurrence);
          }
        });
      });
      button.addEventListener("click", function () {
        if (!pending) { return; }
        form.open = true;
        form.querySelector("[name=quote]").value = pending.quote;
        form.querySelector("[name=occurrence]").value = String(pending.occurrence);
        form.scrollIntoView({ block: "nearest" });
        form.querySelector("[name=body]").focus();
        button.hidden = true;
      });
    }
    document.addEventListener("click", function (event) {
      var mark = event.target.closest && event.target.closest("mark.note-hl");
      if (!mark) { return; }
      var id = (mark.getAttribute("data-notes") || "").split(" ")[0];
      var card = document.getElementById("note-" + id);
      if (!card) { return; }
      var previous = document.querySelector(".current-note");
      if (previous) { previous.classList.remove("current-note"); }
      card.classList.add("current-note");
      card.setAttribute("tabindex", "-1");
      card.scrollIntoView({ block: "nearest" });
      card.focus({ preventScroll: true });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupChangeNavigation();
    warnOnUnsavedEdits();
    setupNotes();
  });
})();
