// occ: the only script of the dashboard. It polls a running refresh and reloads the page
// when the refresh has finished; everything else works without it.
(function () {
  "use strict";
  var banner = document.getElementById("refresh-status");
  if (!banner) { return; }
  var url = banner.getAttribute("data-poll");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (state.status === "running") { setTimeout(poll, 1000); }
        else { window.location.reload(); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
