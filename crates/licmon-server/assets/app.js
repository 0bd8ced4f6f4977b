// licmon's own small script: filtering, sorting and CSV export of every grid (paged ones from
// the API), local times, the dashboard's refresh in place, the server page's tabs and the
// server form's hints.
// No external code; everything comes from this licmon.
"use strict";

// ---------- grids: filter, sort, export ----------

function rowsOf(table) {
  return Array.from(table.tBodies).flatMap((b) => Array.from(b.rows));
}

function filterTable(table) {
  const controls = document.querySelectorAll(`[data-filter-table="${table.id}"]`);
  const words = [];
  const attrs = [];
  for (const c of controls) {
    if (c.dataset.filterAttr) {
      if (c.value) attrs.push([c.dataset.filterAttr, c.value]);
    } else {
      words.push(...c.value.toLowerCase().split(/\s+/).filter(Boolean));
    }
  }
  const groups = isGrouped(table);
  let shown = 0;
  let total = 0;
  const units = groups ? Array.from(table.tBodies) : rowsOf(table);
  for (const unit of units) {
    const data = groups ? unit.rows[0].dataset : unit.dataset;
    const text = unit.textContent.toLowerCase();
    const ok = words.every((w) => text.includes(w)) &&
      attrs.every(([k, v]) => (data[k] || "").split("|").includes(v));
    unit.hidden = !ok;
    total += 1;
    if (ok) shown += 1;
  }
  const count = document.getElementById(`${table.id}-count`);
  if (count) count.textContent = shown === total ? `${total} shown` : `${shown} of ${total} shown`;
}

// A table whose tbodies are groups (a feature row and its sessions) filters and sorts them whole.
function isGrouped(table) {
  return table.tBodies.length > 0 && table.tBodies[0].classList.contains("group");
}

function cellKey(row, index) {
  const cell = row.cells[index];
  if (!cell) return "";
  return (cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent).trim().toLowerCase();
}

function sortBy(th) {
  const ascending = th.getAttribute("aria-sort") !== "ascending";
  for (const other of th.parentNode.children) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  sortRows(th, ascending);
}

function sortRows(th, ascending) {
  const table = th.closest("table");
  const index = Array.from(th.parentNode.children).indexOf(th);
  const compare = (a, b) => {
    const x = cellKey(a, index);
    const y = cellKey(b, index);
    const nx = Number(x);
    const ny = Number(y);
    const r = x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny) ? nx - ny : x.localeCompare(y, undefined, { numeric: true });
    return ascending ? r : -r;
  };
  if (isGrouped(table)) {
    const groups = Array.from(table.tBodies).sort((a, b) => compare(a.rows[0], b.rows[0]));
    for (const g of groups) table.appendChild(g);
  } else {
    const rows = Array.from(table.tBodies[0].rows).sort(compare);
    for (const row of rows) table.tBodies[0].appendChild(row);
  }
}

// After the rows were replaced: sort them again the way the user last chose.
function resort(table) {
  const th = table.querySelector("thead th[aria-sort]");
  if (th) sortRows(th, th.getAttribute("aria-sort") === "ascending");
}

function makeSortable(table) {
  for (const th of table.querySelectorAll("thead th")) {
    if (th.hasAttribute("data-nosort") || th.dataset.sortable) continue;
    th.dataset.sortable = "1";
    th.tabIndex = 0;
    th.title = "Sort by this column";
    th.addEventListener("click", () => sortBy(th));
    th.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(th); }
    });
  }
}

function csvField(value) {
  return /[",\n\r]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function cellText(cell) {
  if (cell.dataset.csv !== undefined) return cell.dataset.csv;
  const time = cell.querySelector("time[datetime]");
  if (time && time.getAttribute("datetime")) return time.getAttribute("datetime");
  return cell.textContent.replace(/\s+/g, " ").trim();
}

// The table as CSV: the header and the rows a user sees (filters apply), times in UTC.
function tableCsv(table) {
  const head = Array.from(table.tHead.rows[0].cells);
  const keep = head.map((th) => !th.hasAttribute("data-csv-skip"));
  const lines = [head.filter((_, i) => keep[i]).map((th) => csvField(th.textContent.trim())).join(",")];
  for (const row of rowsOf(table)) {
    if (row.hidden || row.closest("tbody").hidden || row.hasAttribute("data-csv-skip")) continue;
    const cells = Array.from(row.cells).filter((_, i) => keep[i]);
    lines.push(cells.map((c) => csvField(cellText(c))).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

function exportTable(button) {
  const table = document.getElementById(button.dataset.exportTable);
  download(tableCsv(table), button.dataset.filename || `${table.id}.csv`);
}

function download(text, filename) {
  const blob = new Blob([text], { type: "text/csv;charset=utf-8" });
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
}

// Records in CSV text: line ends outside quotes (a quoted field may hold a line break).
function csvRecords(text) {
  let n = 0;
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    else if (c === "\n" && !quoted) n += 1;
  }
  return n;
}

// Rows per request of an export: the API's largest page.
const EXPORT_PAGE = 10000;

// Paged grids export the whole filtered result, not the page on screen: the API's CSV of the
// same query, fetched a page at a time (`paged`) and joined under one header.
// Failures are shown in the panel's `[data-export-error]`.
async function exportFromApi(button, path, query, paged) {
  const note = button.closest(".tabpanel").querySelector("[data-export-error]");
  const report = (text) => { note.textContent = text; note.hidden = !text; };
  const label = button.textContent;
  button.disabled = true;
  button.textContent = "Exporting…";
  try {
    let header = null;
    let body = "";
    for (let offset = 0; ; offset += EXPORT_PAGE) {
      const q = new URLSearchParams(query);
      q.set("format", "csv");
      q.set("limit", String(EXPORT_PAGE));
      if (paged) q.set("offset", String(offset));
      const r = await fetch(`${path}?${q}`, { credentials: "same-origin", headers: { Accept: "text/csv" } });
      if (!r.ok) {
        let message = `HTTP ${r.status}`;
        try { message = (await r.json()).error || message; } catch (e) { /* not JSON */ }
        throw new Error(message);
      }
      const text = await r.text();
      const end = text.indexOf("\r\n") + 2;
      const rows = text.slice(end);
      if (header === null) header = text.slice(0, end);
      else if (rows && text.slice(0, end) !== header) throw new Error("the columns changed during the export; export again");
      body += rows;
      if (!paged || csvRecords(rows) < EXPORT_PAGE) break;
      button.textContent = `Exporting… ${offset + EXPORT_PAGE} rows`;
    }
    // An empty list's CSV has no columns to name: say so instead of saving an empty file.
    if (!body) report("Nothing to export: nothing matches this selection.");
    else {
      download(header + body, button.dataset.filename || "export.csv");
      report("");
    }
  } catch (e) {
    report(`Export failed: ${e.message}`);
  } finally {
    button.disabled = false;
    button.textContent = label;
  }
}

// ---------- times: the viewer's zone, the server's on hover ----------

function fmt(date, zone) {
  const options = { year: "numeric", month: "short", day: "2-digit", hour: "2-digit", minute: "2-digit" };
  if (zone) options.timeZone = zone;
  try {
    return date.toLocaleString(undefined, options);
  } catch (e) {
    return date.toISOString();
  }
}

function showLocalTimes(root = document) {
  for (const t of root.querySelectorAll("time[datetime]")) {
    const iso = t.getAttribute("datetime");
    if (!iso) continue;
    const when = new Date(iso);
    if (isNaN(when)) continue;
    t.textContent = fmt(when);
    const zoneHolder = t.closest("[data-tz]");
    const zone = t.dataset.tz || (zoneHolder && zoneHolder.dataset.tz);
    t.title = zone ? `${fmt(when, zone)} server time (${zone}) · ${iso}` : iso;
  }
}

// ---------- dashboard: refresh in place ----------

const REFRESH_MS = 15000;

// The rows come from the dashboard page itself, rendered afresh: servers added meanwhile appear,
// deleted ones disappear, and every cell (statuses, reasons, age, utilisation) is exactly what
// a reload would show — without reloading, so filters, sort and scroll position stay.
async function refreshDashboard(table) {
  const state = document.getElementById("refresh-state");
  try {
    const r = await fetch("/", { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!r.ok) throw new Error(r.status);
    const page = new DOMParser().parseFromString(await r.text(), "text/html");
    const fresh = page.querySelector(`#${table.id} tbody`);
    // A login page instead (the session ended): say so rather than emptying the table.
    if (!fresh) throw new Error("not the dashboard");
    table.tBodies[0].replaceWith(document.importNode(fresh, true));
    const empty = document.getElementById("servers-empty");
    if (empty) empty.hidden = table.tBodies[0].rows.length > 0;
    resort(table);
    showLocalTimes(table);
    filterTable(table);
    state.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    table.dataset.refreshed = String(Number(table.dataset.refreshed || 0) + 1);
  } catch (e) {
    state.textContent = "Cannot refresh: licmon did not answer; retrying";
  }
}

// ---------- server page: tabs and what they load ----------

function setupTabs(list) {
  const tabs = Array.from(list.querySelectorAll('[role="tab"]'));
  const enabled = tabs.filter((t) => t.getAttribute("aria-disabled") !== "true");
  const select = (tab, focus) => {
    if (!tab || tab.getAttribute("aria-disabled") === "true") return;
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", on ? "true" : "false");
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
    history.replaceState(null, "", `#${tab.dataset.tab}`);
    const panel = document.getElementById(tab.getAttribute("aria-controls"));
    if (!panel.dataset.loaded) {
      panel.dataset.loaded = "1";
      const loader = PANEL_LOADERS[tab.dataset.tab];
      if (loader) loader(panel, list.dataset.server);
    }
  };
  for (const t of tabs) {
    t.addEventListener("click", () => select(t, false));
    t.addEventListener("keydown", (e) => {
      const i = enabled.indexOf(t);
      let next = null;
      if (e.key === "ArrowRight") next = enabled[(i + 1) % enabled.length];
      else if (e.key === "ArrowLeft") next = enabled[(i - 1 + enabled.length) % enabled.length];
      else if (e.key === "Home") next = enabled[0];
      else if (e.key === "End") next = enabled[enabled.length - 1];
      if (next) { e.preventDefault(); select(next, true); }
    });
  }
  const wanted = tabs.find((t) => `#${t.dataset.tab}` === location.hash);
  // Without live data the usage history is the natural first view.
  const first = enabled.find((t) => t.dataset.tab === "current") || enabled.find((t) => t.dataset.tab === "history") || enabled[0];
  select(wanted && wanted.getAttribute("aria-disabled") !== "true" ? wanted : first, false);
}

function esc(s) {
  return String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

function timeCell(iso) {
  return iso ? `<td data-sort="${esc(iso)}"><time datetime="${esc(iso)}">${esc(iso)}</time></td>` : '<td data-sort=""></td>';
}

function duration(ms) {
  const m = Math.round(ms / 60000);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

async function getJson(url) {
  const r = await fetch(url, { credentials: "same-origin" });
  if (!r.ok) {
    let message = `HTTP ${r.status}`;
    try { message = (await r.json()).error || message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return r.json();
}

function tableMessage(table, text, cls = "empty") {
  const cols = table.tHead.rows[0].cells.length;
  table.tBodies[0].innerHTML = `<tr data-csv-skip><td colspan="${cols}" class="${cls}">${esc(text)}</td></tr>`;
}

const PAGE = 50;

// End-user agents report, per open session, whether the application used CPU time since their
// last scan (`active`) and for how long it has not (`idle_secs`); null when no agent reported.
// Idle seat holders are the ones an administrator reclaims licenses from.
function agentActivity(s) {
  if (s.active === true) return ' <span class="tag" title="An end-user agent saw the application use CPU time">active</span>';
  if (s.active === false && s.idle_secs != null) {
    return ` <span class="tag idle" title="An end-user agent reports the application idle">idle ${duration(s.idle_secs * 1000)}</span>`;
  }
  return "";
}

function loadSessions(panel, id) {
  const form = panel.querySelector("[data-sessions-form]");
  const table = panel.querySelector("table");
  const label = panel.querySelector("[data-page-label]");
  let offset = 0;
  const selection = () => {
    const q = new URLSearchParams();
    for (const name of ["user", "feature"]) if (form.elements[name].value.trim()) q.set(name, form.elements[name].value.trim());
    if (form.elements.open.checked) q.set("open", "true");
    return q;
  };
  const load = async () => {
    const q = selection();
    q.set("limit", String(PAGE + 1));
    q.set("offset", String(offset));
    try {
      const rows = await getJson(`/api/v1/license-servers/${id}/sessions?${q}`);
      const more = rows.length > PAGE;
      const page = rows.slice(0, PAGE);
      if (!page.length) tableMessage(table, offset ? "No older sessions." : "No sessions recorded for this selection.");
      else table.tBodies[0].innerHTML = page.map((s) => {
        const end = s.ended_at ? new Date(s.ended_at) : new Date();
        const ms = end - new Date(s.started_at);
        return `<tr><td>${esc(s.feature)}${s.borrowed ? ' <span class="tag">borrowed</span>' : ""}${agentActivity(s)}</td><td>${esc(s.user)}</td><td>${esc(s.host)}</td><td>${esc(s.ip)}</td><td class="n">${s.count}</td>${timeCell(s.started_at)}${s.ended_at ? timeCell(s.ended_at) : '<td data-sort="~" data-csv=""><span class="badge ok">open</span></td>'}<td class="n" data-sort="${ms}">${duration(ms)}</td><td>${esc(s.source)}</td></tr>`;
      }).join("");
      label.textContent = page.length ? `Sessions ${offset + 1}–${offset + page.length}` : "";
      panel.querySelector('[data-page="prev"]').disabled = offset === 0;
      panel.querySelector('[data-page="next"]').disabled = !more;
      showLocalTimes(table);
    } catch (e) {
      tableMessage(table, `Cannot load sessions: ${e.message}`, "error");
    }
  };
  form.addEventListener("submit", (e) => { e.preventDefault(); offset = 0; load(); });
  panel.querySelector('[data-page="prev"]').addEventListener("click", () => { offset = Math.max(0, offset - PAGE); load(); });
  panel.querySelector('[data-page="next"]').addEventListener("click", () => { offset += PAGE; load(); });
  const exporter = panel.querySelector("[data-export-api]");
  exporter.addEventListener("click", () => exportFromApi(exporter, `/api/v1/license-servers/${id}/sessions`, selection(), true));
  load();
}

const RANGES = {
  day: { ms: 864e5, granularity: "hour" },
  week: { ms: 7 * 864e5, granularity: "hour" },
  month: { ms: 30 * 864e5, granularity: "day" },
  year: { ms: 365 * 864e5, granularity: "day" },
};

function historyRange(form) {
  const range = form.elements.range.value;
  if (range === "custom") {
    const from = form.elements.from.valueAsDate;
    const to = form.elements.to.valueAsDate;
    // Both days are included: a one-day range has From = To.
    if (!from || !to || from > to) return null;
    const end = new Date(to.getTime() + 864e5);
    return { from, to: end, granularity: end - from > 3 * 864e5 ? "day" : "hour" };
  }
  const r = RANGES[range];
  const to = new Date();
  return { from: new Date(to - r.ms), to, granularity: r.granularity };
}

function loadHistory(panel, id) {
  const form = panel.querySelector("[data-history-form]");
  const chart = panel.querySelector("#chart");
  const table = panel.querySelector("#history-table");
  // A server known only from logs that ended days ago opens on the last week of its logs.
  const until = panel.dataset.until ? new Date(panel.dataset.until) : null;
  const end = until || new Date();
  form.elements.to.value = end.toISOString().slice(0, 10);
  form.elements.from.value = new Date(end - 6 * 864e5).toISOString().slice(0, 10);
  if (until) form.elements.range.value = "custom";
  const showCustom = () => panel.classList.toggle("custom-range", form.elements.range.value === "custom");
  const load = async () => {
    showCustom();
    const range = historyRange(form);
    if (!range) { chart.innerHTML = '<p class="error">Choose a start date on or before the end date.</p>'; return; }
    const q = new URLSearchParams({ from: range.from.toISOString(), to: range.to.toISOString(), granularity: range.granularity });
    if (form.elements.feature.value) q.set("feature", form.elements.feature.value);
    try {
      const points = await getJson(`/api/v1/license-servers/${id}/usage-history?${q}`);
      offerFeatures(form.elements.feature, points);
      const buckets = sumBuckets(points);
      window.licmonChart(chart, buckets, { ...range, tz: panel.dataset.tz, feature: form.elements.feature.value });
      if (!buckets.length) tableMessage(table, "No usage recorded in this range.");
      else table.tBodies[0].innerHTML = buckets.map((b) => `<tr>${timeCell(b.start.toISOString())}<td class="n">${b.issued == null ? "" : b.issued}</td><td class="n">${b.max}</td><td class="n">${b.avg.toFixed(2)}</td><td class="n">${b.min}</td></tr>`).join("");
      showLocalTimes(table);
    } catch (e) {
      chart.innerHTML = `<p class="error">Cannot load the usage history: ${esc(e.message)}</p>`;
    }
  };
  form.addEventListener("change", load);
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  load();
}

// Usage points are per feature; the chart shows their sum per bucket (or one feature).
// The feature list comes from the last poll; a server known only from imported logs has
// none, so features seen in the history are offered too.
function offerFeatures(select, points) {
  const known = new Set(Array.from(select.options, (o) => o.value));
  const added = [...new Set(points.map((p) => p.feature))].filter((f) => !known.has(f)).sort();
  for (const f of added) select.add(new Option(f, f));
}

function sumBuckets(points) {
  const byStart = new Map();
  for (const p of points) {
    const key = p.bucket_start;
    const b = byStart.get(key) || { start: new Date(key), min: 0, avg: 0, max: 0, issued: null };
    b.min += p.min_in_use;
    b.avg += p.avg_in_use;
    b.max += p.max_in_use;
    if (p.issued != null) b.issued = (b.issued || 0) + p.issued;
    byStart.set(key, b);
  }
  return Array.from(byStart.values()).sort((a, b) => a.start - b.start);
}

function loadTotals(panel, id) {
  const kind = panel.id.replace("panel-", "");
  const form = panel.querySelector("[data-totals-form]");
  const table = panel.querySelector("table");
  const load = async () => {
    const days = Number(form.elements.range.value);
    const to = new Date();
    const q = new URLSearchParams({ from: new Date(to - days * 864e5).toISOString(), to: to.toISOString() });
    try {
      const rows = await getJson(`/api/v1/license-servers/${id}/${kind}?${q}`);
      if (!rows.length) tableMessage(table, "No sessions in this period.");
      else table.tBodies[0].innerHTML = rows.map((r) => `<tr><td>${esc(r.name)}</td><td class="n">${r.sessions}</td><td class="n">${r.open}</td><td class="n" data-sort="${r.hours}">${r.hours.toFixed(1)}</td><td class="n" data-sort="${r.license_hours}">${r.license_hours.toFixed(1)}</td>${timeCell(r.first_start)}${timeCell(r.last_start)}</tr>`).join("");
      showLocalTimes(table);
    } catch (e) {
      tableMessage(table, `Cannot load: ${e.message}`, "error");
    }
  };
  form.addEventListener("change", load);
  form.addEventListener("submit", (e) => { e.preventDefault(); load(); });
  load();
}

// Denials from imported logs, newest first, filtered by range, feature and user (retries hidden
// unless asked for); above them the counts per feature and per user of the same selection.
function loadDenials(panel, id) {
  const form = panel.querySelector("[data-denials-form]");
  const table = panel.querySelector("#denials-table");
  const label = panel.querySelector("[data-page-label]");
  const error = panel.querySelector("[data-denials-error]");
  const api = `/api/v1/license-servers/${id}`;
  let offset = 0;
  // Answers to older requests that arrive late are dropped, so the tables show the last choice.
  let listAsked = 0;
  let countsAsked = 0;
  // The selection as API parameters (true_only apart); null when the days are the wrong way round.
  const selection = () => {
    const q = new URLSearchParams();
    const from = form.elements.from.valueAsDate;
    const to = form.elements.to.valueAsDate;
    if (from && to && from > to) return null;
    if (from) q.set("from", from.toISOString());
    // The To day is included, as on the usage history.
    if (to) q.set("to", new Date(to.getTime() + 864e5).toISOString());
    for (const name of ["feature", "user"]) {
      const value = form.elements[name].value.trim();
      if (value) q.set(name, value);
    }
    return q;
  };
  const showError = (text) => { error.textContent = text; error.hidden = !text; };
  const loadCounts = async (q) => {
    const asked = ++countsAsked;
    for (const t of panel.querySelectorAll("[data-denial-counts]")) {
      const by = t.dataset.denialCounts;
      const cq = new URLSearchParams(q);
      cq.set("by", by);
      cq.set("limit", "10");
      try {
        const rows = await getJson(`${api}/denial-counts?${cq}`);
        if (asked !== countsAsked) return;
        if (!rows.length) tableMessage(t, "No denials in this selection.");
        else t.tBodies[0].innerHTML = rows.map((r) => `<tr><td>${r.name === "" ? '<span class="reason">(not named: counted by the license server)</span>' : `<button type="button" class="linkish" data-pick="${by}" data-value="${esc(r.name)}" title="Show only ${esc(r.name)}">${esc(r.name)}</button>`}</td><td class="n">${r.true_denials}</td><td class="n">${r.denials}</td><td class="n">${by === "feature" ? r.users : r.features}</td>${timeCell(r.last_at)}</tr>`).join("");
        showLocalTimes(t);
      } catch (e) {
        if (asked === countsAsked) tableMessage(t, `Cannot load the counts: ${e.message}`, "error");
      }
    }
  };
  const loadList = async (q) => {
    const asked = ++listAsked;
    const lq = new URLSearchParams(q);
    if (form.elements.true_only.checked) lq.set("true_only", "true");
    lq.set("limit", String(PAGE + 1));
    lq.set("offset", String(offset));
    try {
      const rows = await getJson(`${api}/denials?${lq}`);
      if (asked !== listAsked) return;
      const more = rows.length > PAGE;
      const page = rows.slice(0, PAGE);
      if (!page.length) tableMessage(table, offset ? "No older denials." : "No denials in this selection (denials come from imported logs, and from polled utilities that count them: LM-X, custom XML).");
      else table.tBodies[0].innerHTML = page.map((d) => `<tr>${timeCell(d.at)}<td>${esc(d.feature)}</td><td>${esc(d.user)}</td><td>${esc(d.host)}</td><td class="n">${d.count}</td><td>${esc(d.reason || "")}</td><td>${d.retry ? "retry" : "true denial"}</td></tr>`).join("");
      label.textContent = page.length ? `Denials ${offset + 1}–${offset + page.length}` : "";
      panel.querySelector('[data-page="prev"]').disabled = offset === 0;
      panel.querySelector('[data-page="next"]').disabled = !more;
      showLocalTimes(table);
    } catch (e) {
      if (asked === listAsked) tableMessage(table, `Cannot load denials: ${e.message}`, "error");
    }
  };
  // `counts`: the selection changed (paging keeps the counts).
  const load = (counts) => {
    const q = selection();
    if (!q) { showError("Choose a From day on or before the To day."); return; }
    showError("");
    if (counts) loadCounts(q);
    loadList(q);
  };
  const reload = () => { offset = 0; load(true); };
  form.addEventListener("change", reload);
  form.addEventListener("submit", (e) => { e.preventDefault(); reload(); });
  // The fields take their defaults after the reset event.
  form.addEventListener("reset", () => setTimeout(reload, 0));
  panel.addEventListener("click", (e) => {
    const pick = e.target.closest("[data-pick]");
    if (!pick) return;
    form.elements[pick.dataset.pick].value = pick.dataset.value;
    reload();
  });
  panel.querySelector('[data-page="prev"]').addEventListener("click", () => { offset = Math.max(0, offset - PAGE); load(false); });
  panel.querySelector('[data-page="next"]').addEventListener("click", () => { offset += PAGE; load(false); });
  for (const button of panel.querySelectorAll("[data-export-api]")) {
    button.addEventListener("click", () => {
      const q = selection();
      if (!q) { showError("Choose a From day on or before the To day."); return; }
      if (button.dataset.exportApi === "denials") {
        if (form.elements.true_only.checked) q.set("true_only", "true");
        exportFromApi(button, `${api}/denials`, q, true);
      } else {
        q.set("by", button.dataset.by);
        exportFromApi(button, `${api}/denial-counts`, q, false);
      }
    });
  }
  load(true);
}

const PANEL_LOADERS = { sessions: loadSessions, history: loadHistory, users: loadTotals, hosts: loadTotals, denials: loadDenials };

// ---------- the server form: what the chosen type supports ----------

function setupServerForm(form) {
  const type = form.querySelector("#f-type");
  const sync = () => {
    const o = type.selectedOptions[0];
    for (const source of ["remote", "import", "end_user"]) {
      const box = form.querySelector(`#f-${source}`);
      const supported = o.dataset[source] === "true";
      box.disabled = !supported;
      box.closest(".check").classList.toggle("na", !supported);
      box.title = supported ? "" : `${o.textContent} has no such data source (N/A)`;
    }
    const address = form.querySelector("#f-address");
    address.disabled = o.dataset.address !== "true" && o.value !== "custom-xml";
    address.placeholder = address.disabled ? `${o.textContent} has no network address` : o.dataset.triad === "true" ? "27000@licsrv1 or three, comma-separated" : "5053@licsrv1";
  };
  type.addEventListener("change", sync);
  sync();
}

// ---------- start ----------

document.addEventListener("DOMContentLoaded", () => {
  for (const a of document.querySelectorAll("[data-nav]")) {
    const p = a.dataset.nav;
    if (p === "/" ? location.pathname === "/" || location.pathname.startsWith("/servers/") : location.pathname.startsWith(p)) {
      a.setAttribute("aria-current", "page");
      const menu = a.closest(".menu");
      if (menu) menu.classList.add("current");
    }
  }
  for (const table of document.querySelectorAll("table.grid")) makeSortable(table);
  for (const control of document.querySelectorAll("[data-filter-table]")) {
    const table = document.getElementById(control.dataset.filterTable);
    control.addEventListener("input", () => filterTable(table));
    control.addEventListener("change", () => filterTable(table));
    filterTable(table);
  }
  for (const b of document.querySelectorAll("[data-export-table]")) b.addEventListener("click", () => exportTable(b));
  for (const b of document.querySelectorAll("button.disclose")) {
    b.addEventListener("click", () => {
      const open = b.getAttribute("aria-expanded") !== "true";
      b.setAttribute("aria-expanded", open ? "true" : "false");
      b.textContent = open ? "▾" : "▸";
      for (const r of b.closest("tbody").querySelectorAll("tr.sub")) r.hidden = !open;
    });
  }
  for (const b of document.querySelectorAll("[data-check-all]")) {
    b.addEventListener("click", () => {
      for (const box of document.querySelectorAll(`#${b.dataset.checkAll} tbody tr:not([hidden]) input[type=checkbox]`)) box.checked = b.dataset.value === "true";
    });
  }
  const dashboard = document.querySelector('table[data-refresh="dashboard"]');
  if (dashboard) setInterval(() => refreshDashboard(dashboard), REFRESH_MS);
  const tabs = document.querySelector('[role="tablist"][data-server]');
  if (tabs) setupTabs(tabs);
  const form = document.getElementById("server-form");
  if (form) setupServerForm(form);
  const importForm = document.getElementById("import-form");
  if (importForm) setupImportForm(importForm);
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

// The server page's log upload: the file goes to the import API as a streamed body, and the
// summary (or the reason it failed) is shown next to the form.
function setupImportForm(form) {
  const result = form.querySelector("#import-result");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.querySelector("#import-file").files[0];
    if (!file) return;
    result.textContent = `Importing ${file.name}…`;
    const url = `/api/v1/license-servers/${form.dataset.server}/imports?filename=${encodeURIComponent(file.name)}`;
    try {
      const response = await licmonFetch(url, {
        method: "POST",
        body: file,
        headers: { "Content-Type": "application/octet-stream" },
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        const run = body.run || {};
        const events = Object.values(run.events || {}).reduce((a, b) => a + b, 0);
        result.textContent = body.already_imported
          ? `${file.name} was imported before: nothing new.`
          : `Imported ${file.name}: ${events} events, ${run.sessions || 0} sessions, ${run.denials || 0} denials.`;
        result.dataset.events = events;
        setTimeout(() => window.location.reload(), 2000);
      } else {
        result.textContent = `Import failed: ${body.error || response.statusText}`;
      }
    } catch (e) {
      result.textContent = `Import failed: ${e}`;
    }
  });
}
