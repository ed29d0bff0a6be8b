// Upvote buttons without a page reload. Progressive enhancement: every vote button is a
// plain POST form that works without this script; with it, the form is sent with fetch()
// and the count and button are updated in place. A file, not inline script: the site's
// Content-Security-Policy allows scripts from 'self' only.
(function () {
  "use strict";

  // What a reader is told when the server did not answer with the vote's JSON: a stale
  // CSRF token (signed in or out in another tab) gets Django's HTML 403 page, a crash a
  // 500 page, a proxy its own page. None of them is JSON, so none is parsed as such.
  var STALE = "Your session changed since this page was loaded (for example, you signed in " +
    "or out in another tab). Reload the page and vote again.";
  var FAILED = "The vote was not saved; please try again.";

  function countFor(form) {
    var selector = form.getAttribute("data-count");
    if (selector) return document.querySelector(selector);
    var box = form.closest(".votes");
    return box ? box.querySelector(".count") : null;
  }

  function show(form, voted, upvotes) {
    var button = form.querySelector("button");
    form.querySelector("input[name=vote]").value = voted ? "0" : "1";
    button.setAttribute("aria-pressed", voted ? "true" : "false");
    var label = button.querySelector(".vote-label");
    if (label) label.textContent = voted ? "Upvoted" : "Upvote";
    var named = button.getAttribute("aria-label");
    if (named) {
      button.setAttribute("aria-label", named.replace(/^(Upvote|Remove your upvote):/,
        voted ? "Remove your upvote:" : "Upvote:"));
    }
    var count = countFor(form);
    if (count && typeof upvotes === "number") count.textContent = upvotes.toLocaleString("en-US");
  }

  // The message sits next to the button (role=alert), not in a window.alert() box.
  function tell(form, message) {
    var note = form.querySelector(".vote-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "vote-error";
      note.setAttribute("role", "alert");
      form.appendChild(note);
    }
    note.textContent = message;
  }

  function clear(form) {
    var note = form.querySelector(".vote-error");
    if (note) note.remove();
  }

  function refusal(message) {
    var error = new Error(message);
    error.forReader = true;
    return error;
  }

  function isJson(response) {
    return (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-vote-form]")) return;
    event.preventDefault();
    if (form.getAttribute("aria-busy") === "true") return; // a double click sends once
    form.setAttribute("aria-busy", "true");
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        if (response.status === 401) {
          // Signed out (or the session expired): sign in, then come back here.
          var nav = document.querySelector("[data-login-url]");
          var login = nav ? nav.getAttribute("data-login-url") : "/accounts/login/";
          window.location.href = login + "?next=" + encodeURIComponent(
            window.location.pathname + window.location.search);
          return null;
        }
        if (!isJson(response)) {
          throw refusal(response.status === 403 ? STALE : FAILED);
        }
        return response.json().then(function (data) {
          if (!response.ok) throw refusal(data.error || FAILED);
          clear(form);
          show(form, data.voted, data.upvotes);
        });
      })
      .catch(function (error) {
        // A network error's or a parser's message ("Failed to fetch", "Unexpected
        // token") means nothing to a reader: only our own refusals are shown as they are.
        tell(form, error && error.forReader ? error.message : FAILED);
      })
      .finally(function () {
        form.removeAttribute("aria-busy");
      });
  });
})();
