// policyflow: the public comment form. Selecting words in the draft fills the "words of the draft"
// field; choosing "anonymous" switches off the name and e-mail fields (the server keeps nothing of
// them anyway). The form works the same without this file.
(function () {
  "use strict";

  function setupPassage(article, form) {
    var quote = form.querySelector("[name=quote]");
    var occurrence = form.querySelector("[name=occurrence]");
    if (!quote || !occurrence) { return; }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "button primary comment-selection";
    button.textContent = "Comment on the selected words";
    button.hidden = true;
    var layout = article.closest(".draft-layout") || article;
    layout.parentNode.insertBefore(button, layout);
    var pending = null;
    var capture = function () {
      var selection = window.getSelection();
      if (!selection || selection.isCollapsed || !article.contains(selection.anchorNode)) { return; }
      var text = selection.toString().replace(/\s+/g, " ").trim();
      if (!text) { return; }
      var before = document.createRange();
      before.setStart(article, 0);
      before.setEnd(selection.getRangeAt(0).startContainer, selection.getRangeAt(0).startOffset);
      var preceding = before.toString().replace(/\s+/g, " ");
      var count = 1;
      var index = preceding.indexOf(text);
      while (index !== -1) { count += 1; index = preceding.indexOf(text, index + 1); }
      pending = { quote: text, occurrence: count };
      button.hidden = false;
    };
    article.addEventListener("mouseup", capture);
    article.addEventListener("keyup", capture);
    article.addEventListener("touchend", function () { window.setTimeout(capture, 50); });
    button.addEventListener("click", function () {
      if (!pending) { return; }
      quote.value = pending.quote;
      occurrence.value = String(pending.occurrence);
      button.hidden = true;
      form.scrollIntoView({ block: "start" });
      form.querySelector("[name=body]").focus();
    });
    quote.addEventListener("input", function () { occurrence.value = "1"; });
  }

  function setupIdentity(form) {
    var contact = document.getElementById("contact-fields");
    if (!contact) { return; }
    var update = function () {
      var chosen = form.querySelector("[name=identity]:checked");
      contact.disabled = Boolean(chosen && chosen.value === "anonymous");
    };
    form.querySelectorAll("[name=identity]").forEach(function (radio) { radio.addEventListener("change", update); });
    update();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("comment-form");
    if (!form) { return; }
    var article = document.querySelector("article.policy-text[data-commentable='yes']");
    if (article) { setupPassage(article, form); }
    setupIdentity(form);
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
