// Tells the server the browser's time zone, so dates can be shown in the reader's zone
// beside the call's own; folds the menu behind a button on narrow screens; moves the focus
// to a refused form's error summary. Every page works without JavaScript.
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* old browser: the server's default zone is used */ }
})();

// The compact menu: a disclosure button (WAI-ARIA pattern); CSS hides the list on narrow
// screens only while the button says it is collapsed.
(function () {
  var toggle = document.querySelector(".menu-toggle");
  var nav = toggle && toggle.closest(".main-nav");
  if (!nav) { return; }
  nav.classList.add("collapsible");
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    }
  });
})();

// After a refused form (an error summary, or an error message of the last action) the focus
// goes to what says what to fix, and the title begins with "Error:" (translated, from
// <html data-error-title>), so a screen reader announces both first.
(function () {
  var summary = document.querySelector(".error-summary, .row-error, .messages .message-error");
  if (!summary) { return; }
  var prefix = document.documentElement.getAttribute("data-error-title") || "Error:";
  if (document.title.indexOf(prefix) !== 0) {
    document.title = prefix + " " + document.title;
  }
  if (!summary.hasAttribute("tabindex")) { summary.setAttribute("tabindex", "-1"); }
  summary.focus({ preventScroll: false });
})();
