// Keyboard shortcuts for the console shell. Pages work without this file.
(function () {
  "use strict";
  const help = () => document.getElementById("help");
  const urls = () => {
    const node = document.getElementById("shortcut-urls");
    return node ? JSON.parse(node.textContent) : {};
  };
  const typing = (el) =>
    el && (el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName));

  let pendingG = null;

  document.addEventListener("keydown", (event) => {
    if (event.metaKey || event.ctrlKey || event.altKey) return;
    if (typing(event.target)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    const dialog = help();
    if (event.key === "?") {
      if (dialog && !dialog.open) dialog.showModal();
      event.preventDefault();
      return;
    }
    if (event.key === "/") {
      const search = document.getElementById("global-search");
      if (search) {
        search.focus();
        event.preventDefault();
      }
      return;
    }
    if (pendingG) {
      clearTimeout(pendingG);
      pendingG = null;
      const target = urls()[event.key];
      if (target) window.location.assign(target);
      return;
    }
    if (event.key === "g") {
      pendingG = setTimeout(() => (pendingG = null), 1200);
    }
  });

  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-open-help]")) {
      const dialog = help();
      if (dialog) dialog.showModal();
    }
  });
})();
