// licmon's own small script: table filtering and sorting, local times. No external code.
"use strict";

function filterTable(input) {
  const table = document.getElementById(input.dataset.filterTable);
  const words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
  for (const row of table.tBodies[0].rows) {
    const text = row.textContent.toLowerCase();
    row.hidden = !words.every((w) => text.includes(w));
  }
}

function sortBy(th) {
  const table = th.closest("table");
  const index = Array.from(th.parentNode.children).indexOf(th);
  const ascending = th.dataset.sort !== "asc";
  for (const other of th.parentNode.children) delete other.dataset.sort;
  th.dataset.sort = ascending ? "asc" : "desc";
  const rows = Array.from(table.tBodies[0].rows);
  const key = (row) => row.cells[index].textContent.trim().toLowerCase();
  rows.sort((a, b) => key(a).localeCompare(key(b), undefined, { numeric: true }) * (ascending ? 1 : -1));
  for (const row of rows) table.tBodies[0].appendChild(row);
}

function showLocalTimes() {
  for (const t of document.querySelectorAll("time[datetime]")) {
    const when = new Date(t.getAttribute("datetime"));
    if (!isNaN(when)) {
      t.title = t.getAttribute("datetime");
      t.textContent = when.toLocaleString();
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  for (const input of document.querySelectorAll("[data-filter-table]")) {
    input.addEventListener("input", () => filterTable(input));
  }
  for (const th of document.querySelectorAll("table.grid th")) {
    th.tabIndex = 0;
    th.addEventListener("click", () => sortBy(th));
    th.addEventListener("keydown", (e) => { if (e.key === "Enter") sortBy(th); });
  }
  showLocalTimes();
});

// State-changing requests from scripts carry the session's CSRF token (the licmon_csrf cookie)
// in the X-CSRF-Token header; the server compares it with the one stored for the session.
function csrfToken() {
  const m = document.cookie.match(/(?:^|;\s*)licmon_csrf=([^;]*)/);
  return m ? decodeURIComponent(m[1]) : "";
}

function licmonFetch(url, options = {}) {
  const headers = new Headers(options.headers || {});
  const method = (options.method || "GET").toUpperCase();
  if (!["GET", "HEAD", "OPTIONS"].includes(method)) headers.set("X-CSRF-Token", csrfToken());
  return fetch(url, { ...options, headers, credentials: "same-origin" });
}
window.licmonFetch = licmonFetch;
