// Progressive enhancement for the console. Every page works without it:
// dialogs fall back to confirmation pages, the copy button stays hidden and the
// status needs a reload.
"use strict";

(function () {
  function openDialog(dialog, opener) {
    dialog.returnFocusTo = opener || document.activeElement;
    if (dialog.open) dialog.close();
    dialog.showModal();
  }

  function setUpDialogs() {
    document.querySelectorAll("[data-dialog-open]").forEach(function (opener) {
      var dialog = document.getElementById(opener.dataset.dialogOpen);
      if (!dialog || typeof dialog.showModal !== "function") return;
      opener.addEventListener("click", function (event) {
        event.preventDefault();
        openDialog(dialog, opener);
      });
    });
    document.querySelectorAll("dialog").forEach(function (dialog) {
      dialog.addEventListener("close", function () {
        var target = dialog.returnFocusTo;
        if (target && document.contains(target)) target.focus();
      });
    });
    document.querySelectorAll("[data-dialog-close]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        var dialog = button.closest("dialog");
        if (!dialog) return;
        event.preventDefault();
        dialog.close();
      });
    });
    document.querySelectorAll("dialog[data-dialog-autoshow]").forEach(function (dialog) {
      // One-time secrets: once the dialog is closed they leave the page too. The
      // close event of the switch to modal below comes later, while it is open again.
      dialog.addEventListener("close", function () {
        if (!dialog.open) dialog.remove();
      });
      // Shown non-modally by the open attribute without JavaScript; make it modal.
      var heading = document.querySelector("main h1");
      // A heading cannot take the focus back by itself: tabindex -1 lets it,
      // without adding it to the Tab order.
      if (heading) heading.tabIndex = -1;
      openDialog(dialog, heading);
    });
  }

  function setUpCopyButtons() {
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      var source = document.getElementById(button.dataset.copyTarget);
      if (!source || !navigator.clipboard) return;
      button.hidden = false;
      var result = button.parentElement.querySelector(".copy-result");
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(source.textContent).then(
          function () { if (result) result.textContent = button.dataset.copied; },
          function () { if (result) result.textContent = button.dataset.copyFailed; }
        );
      });
    });
  }

  function setUpSubmitOnce() {
    document.querySelectorAll("form[data-submit-once]").forEach(function (form) {
      form.addEventListener("submit", function () {
        form.querySelectorAll("button[type=submit]").forEach(function (button) {
          // After this event, so the button's own value is still submitted.
          setTimeout(function () { button.disabled = true; }, 0);
        });
      });
    });
  }

  function setUpStatusPolling() {
    var url = document.body.dataset.statusUrl;
    var interval = parseInt(document.body.dataset.pollMs, 10) || 2000;
    function pending() {
      return Array.prototype.filter.call(
        document.querySelectorAll("[data-status-id]"),
        function (badge) { return badge.dataset.status !== "ready"; }
      );
    }
    function poll() {
      var badges = pending();
      if (!badges.length || !url) return;
      var ids = Array.from(new Set(badges.map(function (b) { return b.dataset.statusId; })));
      fetch(url + "?ids=" + encodeURIComponent(ids.join(",")), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (data) {
            badges.forEach(function (badge) {
              var state = data.statuses[badge.dataset.statusId];
              if (!state || state.status === badge.dataset.status) return;
              badge.dataset.status = state.status;
              badge.querySelector(".status-label").textContent = state.label;
              var ready = state.status === "ready";
              badge.querySelector(".status-symbol").textContent = ready ? "✓" : "…";
              badge.classList.toggle("text-bg-success", ready);
              badge.classList.toggle("text-bg-warning", !ready);
            });
          }
        })
        .catch(function () { /* the console is unreachable: try again later */ })
        .finally(function () { if (pending().length) setTimeout(poll, interval); });
    }
    if (pending().length) setTimeout(poll, interval);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpDialogs();
    setUpCopyButtons();
    setUpSubmitOnce();
    setUpStatusPolling();
  });
})();
