// Upvote buttons without a page reload. Progressive enhancement: every vote button is a
// plain POST form that works without this script; with it, the form is sent with fetch()
// and the count and button are updated in place.
(function () {
  "use strict";

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
    button.textContent = voted ? "Upvoted" : "Upvote";
    var count = countFor(form);
    if (count && typeof upvotes === "number") count.textContent = upvotes.toLocaleString("en-US");
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
        return response.json().then(function (data) {
          if (!response.ok) throw new Error(data.error || "The vote was not saved.");
          show(form, data.voted, data.upvotes);
        });
      })
      .catch(function (error) {
        window.alert(error.message || "The vote was not saved; please try again.");
      })
      .finally(function () {
        form.removeAttribute("aria-busy");
      });
  });
})();
