// Small conveniences for the header; every part of the page works without this file.
// It is a file, not inline script: the Content-Security-Policy allows scripts from 'self' only.
(function () {
  "use strict";

  // The phone's search icon is a link to #header-search (CSS :target opens the box without
  // script). With script it opens in place, without a jump or a new history entry.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".search-toggle");
    if (!toggle) return;
    var box = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!box) return;
    event.preventDefault();
    var open = !box.classList.contains("is-open");
    box.classList.toggle("is-open", open);
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) box.querySelector("input").focus();
  });

  // Menus (<details>) close on Escape and on a click elsewhere, as menus do.
  function closeMenus(except) {
    document.querySelectorAll("details.header-menu[open]").forEach(function (menu) {
      if (menu !== except) menu.removeAttribute("open");
    });
  }
  document.addEventListener("click", function (event) {
    closeMenus(event.target.closest ? event.target.closest("details.header-menu") : null);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var menu = document.querySelector("details.header-menu[open]");
    if (menu) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    }
    var box = document.querySelector(".header-search.is-open");
    if (box) {
      box.classList.remove("is-open");
      var toggle = document.querySelector(".search-toggle");
      if (toggle) { toggle.setAttribute("aria-expanded", "false"); toggle.focus(); }
    }
  });
})();
