// Progressive enhancement only: every page works without this file (and without htmx, which
// swaps in the parts of a page a form changes instead of reloading it).
document.documentElement.classList.add("js");

function toggleMenu(event) {
  // The Menu button of a narrow screen opens and closes the navigation; Escape closes it and
  // puts the focus back on the button.
  const button = event.target.closest("[data-menu-toggle]");
  if (!button) return;
  const menu = document.getElementById(button.getAttribute("aria-controls"));
  const open = button.getAttribute("aria-expanded") !== "true";
  button.setAttribute("aria-expanded", String(open));
  menu.classList.toggle("open", open);
  if (open) {
    const first = menu.querySelector("a, button");
    if (first) first.focus();
  }
}

function closeMenuOnEscape(event) {
  if (event.key !== "Escape") return;
  const button = document.querySelector('[data-menu-toggle][aria-expanded="true"]');
  if (!button) return;
  button.setAttribute("aria-expanded", "false");
  document.getElementById(button.getAttribute("aria-controls")).classList.remove("open");
  button.focus();
}
function scrollThreadsToEnd(root) {
  // A thread opens on its newest message, as in any messaging app.
  for (const thread of root.querySelectorAll("[data-scroll-to-end]")) {
    thread.scrollTop = thread.scrollHeight;
  }
}

function openLoadedDialog(event) {
  // Content that htmx loaded into a <dialog> opens it as a modal; closing it (Escape, the
  // Close button) gives the focus back to what opened it.
  const dialog = event.detail.target.closest("dialog");
  if (!dialog || dialog.open) return;
  dialog.opener = event.detail.requestConfig && event.detail.requestConfig.elt;
  dialog.showModal();
}

function reportFailedDialogLoad(event) {
  // A dialog whose content could not be loaded still opens, saying so, instead of nothing.
  const dialog = event.detail.target.closest("dialog");
  if (!dialog) return;
  const message = document.createElement("p");
  message.className = "field-error";
  message.setAttribute("role", "alert");
  message.textContent = `Could not load this (${event.detail.xhr.status || "no connection"}). Try again.`;
  const close = document.createElement("form");
  close.method = "dialog";
  close.innerHTML = '<button type="submit" class="button">Close</button>';
  event.detail.target.replaceChildren(message, close);
  dialog.opener = event.detail.requestConfig && event.detail.requestConfig.elt;
  if (!dialog.open) dialog.showModal();
}

function returnFocus(event) {
  const dialog = event.target;
  if (dialog.opener) {
    dialog.opener.focus();
    dialog.opener = null;
  }
}

function countSms(counter) {
  // The same rule as conversations/segments.py, with its character sets read from the page:
  // placeholders filled in, CRLF sent as one line break, and a two-unit character (GSM-7
  // escape pair, UTF-16 surrogate pair) never split between parts.
  const box = document.getElementById(counter.dataset.smsCounter);
  if (!box) return;
  const basic = new Set(counter.dataset.gsmBasic);
  const extended = new Set(counter.dataset.gsmExtended);
  const text = box.value
    .replace(/\r\n/g, "\n")
    .split("{account}").join(counter.dataset.account || "")
    .split("{help_contact}").join(counter.dataset.helpContact || "");
  const chars = Array.from(text);
  const gsm = chars.every((c) => basic.has(c) || extended.has(c));
  const sizes = chars.map((c) => (gsm ? extended.has(c) : c.codePointAt(0) > 0xffff) ? 2 : 1);
  const units = sizes.reduce((sum, size) => sum + size, 0);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  let parts = units === 0 ? 0 : 1;
  if (units > single) {
    let used = 0;
    for (const size of sizes) {
      if (used + size > part) {
        parts += 1;
        used = 0;
      }
      used += size;
    }
  }
  counter.textContent = `${chars.length} characters, ${parts} SMS part${parts === 1 ? "" : "s"} (${gsm ? "GSM-7" : "UCS-2"})`;
}

function watchSmsCounters(root) {
  for (const counter of root.querySelectorAll("[data-sms-counter]")) {
    const box = document.getElementById(counter.dataset.smsCounter);
    if (box && !box.dataset.counted) {
      box.dataset.counted = "yes";
      box.addEventListener("input", () => countSms(counter));
    }
  }
}

function showDependentFields(root) {
  // A field that only matters when a checkbox is ticked (the direction of an opt in/out
  // keyword) is hidden while it is not; without JavaScript every field shows.
  for (const field of root.querySelectorAll("[data-depends-on]")) {
    const box = document.getElementById(field.dataset.dependsOn);
    if (!box) continue;
    const update = () => { field.hidden = !box.checked; };
    box.addEventListener("change", update);
    update();
  }
}

function sendOnCtrlEnter(event) {
  // Ctrl+Enter (Cmd+Enter on a Mac) in a composer sends, as in mail and chat apps.
  if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
  const form = event.target.closest("form.composer");
  const send = form && form.querySelector("[data-submit-shortcut]");
  if (!send || send.disabled) return;
  event.preventDefault();
  form.requestSubmit(send);
}

function checkOnChange(event) {
  // Choosing another line or recipient shows that contact's status on it right away.
  if (!event.target.matches("[data-check-on-change]")) return;
  const check = event.target.form && event.target.form.querySelector("[data-check-button]");
  if (check) event.target.form.requestSubmit(check);
}

function invokeCommand(event) {
  // Buttons open and close dialogs with the HTML `commandfor` attribute; this does the same
  // for a browser that does not know it yet.
  if ("commandForElement" in HTMLButtonElement.prototype) return;
  const button = event.target.closest("button[commandfor]");
  const dialog = button && document.getElementById(button.getAttribute("commandfor"));
  if (!dialog) return;
  const command = button.getAttribute("command");
  if (command === "show-modal" && !dialog.open) dialog.showModal();
  if (command === "close") dialog.close();
}

function selectOnFocus(event) {
  // A secret shown once is selected whole when focused, ready to copy.
  if (event.target.matches && event.target.matches("[data-select-on-focus]")) event.target.select();
}

document.addEventListener("focusin", selectOnFocus);
document.addEventListener("click", invokeCommand);
document.addEventListener("keydown", sendOnCtrlEnter);
document.addEventListener("keydown", closeMenuOnEscape);
document.addEventListener("click", toggleMenu);
document.addEventListener("change", checkOnChange);
document.addEventListener("DOMContentLoaded", () => showDependentFields(document));
document.addEventListener("DOMContentLoaded", () => scrollThreadsToEnd(document));
document.addEventListener("DOMContentLoaded", () => watchSmsCounters(document));
document.addEventListener("htmx:afterSettle", () => scrollThreadsToEnd(document));
document.addEventListener("htmx:afterSwap", openLoadedDialog);
document.addEventListener("htmx:responseError", reportFailedDialogLoad);
document.addEventListener("htmx:sendError", reportFailedDialogLoad);
document.addEventListener("close", returnFocus, true);
document.addEventListener("click", (event) => {
  // A Print button prints the page (the consent record's print styles hide the rest).
  if (event.target.closest("[data-print]")) window.print();
});
