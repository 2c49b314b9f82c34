// Progressive enhancement only: every page works without this file (and without htmx, which
// swaps in the parts of a page a form changes instead of reloading it).
function scrollThreadsToEnd(root) {
  // A thread opens on its newest message, as in any messaging app.
  for (const thread of root.querySelectorAll("[data-scroll-to-end]")) {
    thread.scrollTop = thread.scrollHeight;
  }
}

document.addEventListener("DOMContentLoaded", () => scrollThreadsToEnd(document));
document.addEventListener("htmx:afterSettle", () => scrollThreadsToEnd(document));
