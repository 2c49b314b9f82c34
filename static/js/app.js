// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", () => {
  // A thread opens on its newest message, as in any messaging app.
  for (const thread of document.querySelectorAll("[data-scroll-to-end]")) {
    thread.scrollTop = thread.scrollHeight;
  }
});
