// Tells the server the browser's time zone, so dates can be shown in the reader's zone
// beside the call's own. Nothing else runs here; every page works without JavaScript.
(function () {
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + zone) === -1) {
      document.cookie = "tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* old browser: the server's default zone is used */ }
})();
