// policyflow: the equity assessment form. Each answer saves by itself a moment after the last change
// (one request per answer, sent in order), says "Saved" or "Not saved: <reason>" in a live region,
// and choosing a group reveals its follow-up questions. Without this file the form's Save button
// saves everything and the follow-up questions appear after saving.
(function () {
  "use strict";

  var TYPING_DELAY = 800;  // milliseconds after the last keystroke
  var CHOICE_DELAY = 150;

  function read(container) {
    var type = container.getAttribute("data-type");
    if (type === "multi_choice") {
      return Array.prototype.map.call(container.querySelectorAll("input[type=checkbox]:checked"),
        function (box) { return box.value; });
    }
    if (type === "choice") {
      var chosen = container.querySelector("input[type=radio]:checked");
      return chosen && chosen.value ? chosen.value : null;
    }
    return container.querySelector("textarea").value;
  }

  function time() {
    var now = new Date();
    return now.getHours() + ":" + String(now.getMinutes()).padStart(2, "0");
  }

  function setupFollowUps(form) {
    form.querySelectorAll("input[type=checkbox][aria-controls]").forEach(function (box) {
      var target = document.getElementById(box.getAttribute("aria-controls"));
      if (!target) { return; }
      box.addEventListener("change", function () { target.hidden = !box.checked; });
    });
  }

  function setupAutosave(form) {
    var url = form.getAttribute("data-autosave-url");
    var status = document.getElementById("autosave-status");
    var tokenField = form.querySelector("[name=csrf_token]");
    if (!url || !status || !tokenField) { return; }
    var pageRevision = parseInt(form.getAttribute("data-revision"), 10) || 0;
    var bases = {};   // answer key -> the revision its value on this page came from
    var timers = {};
    var unsaved = {};  // answer key -> true while its last save failed
    var queue = Promise.resolve();

    function say(text, failed) {
      status.textContent = text;
      status.classList.toggle("not-saved", Boolean(failed));
    }

    function noteFor(container, text) {
      var id = container.getAttribute("data-answer").replace(/\./g, "-");
      var note = document.getElementById("answer-" + id + "-autosave");
      if (!text) {
        if (note) { note.remove(); }
        return;
      }
      if (!note) {
        note = document.createElement("div");
        note.id = "answer-" + id + "-autosave";
        note.className = "field-conflict";
        var control = container.querySelector("textarea") || container;
        control.parentNode.insertBefore(note, control);
        var described = (control.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        if (described.indexOf(note.id) === -1) { described.push(note.id); }
        control.setAttribute("aria-describedby", described.join(" "));
      }
      note.textContent = text;
    }

    function showMissing(missing) {
      var summary = document.getElementById("missing-summary");
      if (!summary || !missing) { return; }
      summary.textContent = "";
      var lead = document.createElement("p");
      if (!missing.length) {
        lead.textContent = "Every required question is answered.";
        summary.appendChild(lead);
        return;
      }
      lead.textContent = "Still to answer before it can be marked complete (" + missing.length + "):";
      var list = document.createElement("ul");
      list.className = "plain-list";
      list.id = "missing-list";
      missing.forEach(function (item) {
        var entry = document.createElement("li");
        var link = document.createElement("a");
        link.href = "#" + item.field;
        link.textContent = item.label;
        entry.appendChild(link);
        list.appendChild(entry);
      });
      summary.appendChild(lead);
      summary.appendChild(list);
    }

    function handle(container, key, response, body) {
      if (response.ok && body && typeof body.revision === "number") {
        bases[key] = body.revision;
        delete unsaved[key];
        noteFor(container, "");
        say("Saved at " + time() + ".");
        showMissing(body.missing);
        return;
      }
      unsaved[key] = true;
      if (!body || typeof body.detail !== "string") {
        say("Not saved: you may have been signed out. Sign in again in another tab, then change the answer again.", true);
        return;
      }
      if (response.status === 409 && body.conflicts) {
        var conflict = body.conflicts[0];
        var theirs = Array.isArray(conflict.current) ? conflict.current.join(", ") : (conflict.current || "(no answer)");
        // Told what they would replace, the writer may now save over it by changing the answer again.
        bases[key] = body.revision;
        noteFor(container, "Not saved: " + conflict.changed_by + " changed this answer while you were writing. " +
          "Their answer: \u201c" + theirs + "\u201d. Your answer is still in the box; change it again to save it " +
          "over theirs, or reload the page to see all their changes.");
        say("Not saved: " + conflict.changed_by + " changed \u201c" + conflict.label + "\u201d meanwhile.", true);
        return;
      }
      say("Not saved: " + body.detail, true);
    }

    function save(container) {
      var key = container.getAttribute("data-answer");
      delete timers[key];
      say("Saving\u2026");
      queue = queue.then(function () {
        var answers = {};
        answers[key] = read(container);
        return fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": tokenField.value },
          body: JSON.stringify({ answers: answers, revision: key in bases ? bases[key] : pageRevision })
        }).then(function (response) {
          return response.json().catch(function () { return null; }).then(function (body) {
            handle(container, key, response, body);
          });
        }).catch(function () {
          unsaved[key] = true;
          say("Not saved: the server could not be reached. Your answers are still on the page; try again or press Save.", true);
        });
      });
    }

    function later(container, delay) {
      var key = container.getAttribute("data-answer");
      if (timers[key]) { window.clearTimeout(timers[key]); }
      timers[key] = window.setTimeout(function () { save(container); }, delay);
    }

    form.addEventListener("input", function (event) {
      var container = event.target.closest("[data-answer]");
      if (container && event.target.tagName === "TEXTAREA") { later(container, TYPING_DELAY); }
    });
    form.addEventListener("change", function (event) {
      var container = event.target.closest("[data-answer]");
      if (container && event.target.tagName === "INPUT") { later(container, CHOICE_DELAY); }
    });
    form.addEventListener("focusout", function (event) {
      var container = event.target.closest && event.target.closest("[data-answer]");
      var key = container && container.getAttribute("data-answer");
      if (key && timers[key]) {  // leaving a box: save now rather than later
        window.clearTimeout(timers[key]);
        save(container);
      }
    });
    form.addEventListener("submit", function () {  // the Save button sends every answer at once
      Object.keys(timers).forEach(function (key) { window.clearTimeout(timers[key]); delete timers[key]; });
      unsaved = {};
    });
    window.addEventListener("beforeunload", function (event) {
      if (Object.keys(timers).length || Object.keys(unsaved).length) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("equity-form");
    if (!form) { return; }
    setupFollowUps(form);
    setupAutosave(form);
    var summary = document.getElementById("error-summary");
    if (summary) { summary.focus(); }
  });
})();
