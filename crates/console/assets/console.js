// Sluice console: progressive enhancement only. Every page works without this script; it adds
// live updates (server-sent events), live log tails, reading a chosen file into a form, delete
// confirmations and arrow-key movement in the run grid.
"use strict";

// The page's own URL without a one-time notice.
function reloadUrl() {
  const u = new URL(location.href);
  u.searchParams.delete("notice");
  return u.toString();
}

// Log tails: <pre data-tail="URL" data-offset="N"> gets the file's new bytes as they come.
const tails = [];
function startTails(root) {
  for (const pre of root.querySelectorAll("pre[data-tail]")) {
    const url = new URL(pre.dataset.tail, location.href);
    url.searchParams.set("offset", pre.dataset.offset || "0");
    const source = new EventSource(url.toString());
    source.addEventListener("append", (event) => {
      const chunk = JSON.parse(event.data);
      pre.append(document.createTextNode(chunk.text));
      pre.dataset.offset = String(chunk.offset);
    });
    source.addEventListener("done", () => source.close());
    tails.push(source);
  }
}
function stopTails() {
  while (tails.length) tails.pop().close();
}

// Live pages: <main data-live="events URL"> reloads the page's [data-live-part] elements on
// every `changed` event after the first, keeping what the user selected and opened.
function startLive() {
  const main = document.getElementById("main");
  if (!main || !main.dataset.live) return;
  // The state the page was read at: a change before the stream opened reloads at once.
  let seen = main.dataset.seen || null;
  let loading = false;
  let again = false;
  async function reload() {
    if (loading) { again = true; return; }
    loading = true;
    try {
      const checked = new Set(Array.from(document.querySelectorAll("input[type=checkbox][name=ids]:checked"), (c) => c.value));
      const open = new Set(Array.from(document.querySelectorAll("details[id][open]"), (d) => d.id));
      const closed = new Set(Array.from(document.querySelectorAll("details[id]:not([open])"), (d) => d.id));
      const response = await fetch(reloadUrl(), { credentials: "same-origin" });
      if (response.ok && (response.headers.get("content-type") || "").startsWith("text/html")) {
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        stopTails();
        for (const part of document.querySelectorAll("[data-live-part][id]")) {
          const next = fresh.getElementById(part.id);
          if (next) part.innerHTML = next.innerHTML;
        }
        for (const box of document.querySelectorAll("input[type=checkbox][name=ids]")) {
          if (checked.has(box.value)) box.checked = true;
        }
        for (const d of document.querySelectorAll("details[id]")) {
          if (open.has(d.id)) d.open = true;
          if (closed.has(d.id)) d.open = false;
        }
        startTails(document);
        main.dataset.updated = String(Date.now());
      }
    } finally {
      loading = false;
      if (again) { again = false; reload(); }
    }
  }
  const source = new EventSource(main.dataset.live);
  source.addEventListener("changed", (event) => {
    if (seen !== null && seen !== event.data) reload();
    seen = event.data;
  });
}

// <input type=file data-into="textarea id"> reads the chosen file into the textarea.
function fileInputs() {
  for (const input of document.querySelectorAll("input[type=file][data-into]")) {
    input.addEventListener("change", () => {
      const file = input.files && input.files[0];
      const target = document.getElementById(input.dataset.into);
      if (!file || !target) return;
      file.text().then((text) => { target.value = text; });
    });
  }
}

// <form data-confirm="question"> asks first.
function confirmations() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

// Arrow keys move between the grid's cells.
function gridKeys() {
  document.addEventListener("keydown", (event) => {
    const keys = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
    const move = keys[event.key];
    const cell = event.target.closest && event.target.closest("#grid td, #grid th[scope=row]");
    if (!move || !cell) return;
    const row = cell.parentElement;
    const rows = Array.from(row.parentElement.children);
    const r = rows.indexOf(row) + move[0];
    const c = Array.from(row.children).indexOf(cell) + move[1];
    if (r < 0 || r >= rows.length) return;
    const next = rows[r].children[c];
    const focusable = next && next.querySelector("a, input");
    if (focusable) { focusable.focus(); event.preventDefault(); }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  fileInputs();
  confirmations();
  gridKeys();
  startTails(document);
  startLive();
});
