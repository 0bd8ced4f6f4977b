// licmon's usage chart: an SVG drawn from usage buckets, in use (max and average) as bars
// against issued as a line, values on hover. Our own code; nothing is fetched from elsewhere.
"use strict";

(function () {
  const NS = "http://www.w3.org/2000/svg";

  function el(name, attrs, parent) {
    const e = document.createElementNS(NS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (parent) parent.appendChild(e);
    return e;
  }

  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function label(date, granularity, zone) {
    const o = granularity === "hour" ? { hour: "2-digit", minute: "2-digit" } : { month: "short", day: "numeric" };
    if (zone) o.timeZone = zone;
    try { return date.toLocaleString(undefined, o); } catch (e) { return date.toISOString().slice(0, 16); }
  }

  function full(date, granularity) {
    const o = granularity === "hour"
      ? { weekday: "short", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }
      : { weekday: "short", year: "numeric", month: "short", day: "numeric" };
    return date.toLocaleString(undefined, o);
  }

  // buckets: [{start: Date, min, avg, max, issued}], sorted; opts: {from, to, granularity, tz}.
  window.licmonChart = function (container, buckets, opts) {
    container.innerHTML = "";
    if (!buckets.length) {
      container.innerHTML = '<p class="empty">No usage recorded in this range. Usage appears after the first successful polls or log imports.</p>';
      return;
    }
    const width = Math.max(600, container.clientWidth || 900);
    const height = 300;
    const m = { left: 48, right: 16, top: 14, bottom: 34 };
    const w = width - m.left - m.right;
    const h = height - m.top - m.bottom;
    const step = opts.granularity === "hour" ? 36e5 : 864e5;
    const t0 = Math.floor(opts.from.getTime() / step) * step;
    const t1 = Math.max(opts.to.getTime(), t0 + step);
    const x = (t) => m.left + ((t - t0) / (t1 - t0)) * w;
    const top = niceMax(Math.max(...buckets.map((b) => Math.max(b.max, b.issued || 0))) * 1.08);
    const y = (v) => m.top + h - (v / top) * h;
    const peak = Math.max(...buckets.map((b) => b.max));
    const issued = buckets.reduce((a, b) => (b.issued != null ? b.issued : a), null);
    const svg = el("svg", {
      viewBox: `0 0 ${width} ${height}`, width: "100%", height, role: "img", class: "usage-chart",
      "aria-label": `Licenses in use${opts.feature ? " of " + opts.feature : ""}: peak ${peak}${issued != null ? " of " + issued + " issued" : ""}, ${buckets.length} ${opts.granularity === "hour" ? "hours" : "days"} with data`,
    });
    // Grid and y axis.
    for (let i = 0; i <= 4; i++) {
      const v = (top / 4) * i;
      el("line", { x1: m.left, x2: width - m.right, y1: y(v), y2: y(v), class: "grid-line" }, svg);
      const t = el("text", { x: m.left - 6, y: y(v) + 4, class: "axis", "text-anchor": "end" }, svg);
      t.textContent = Number.isInteger(v) ? v : v.toFixed(1);
    }
    // X ticks: about eight labels.
    const span = t1 - t0;
    const tickStep = Math.max(step, Math.ceil(span / 8 / step) * step);
    for (let t = t0; t <= t1; t += tickStep) {
      el("line", { x1: x(t), x2: x(t), y1: m.top + h, y2: m.top + h + 4, class: "tick" }, svg);
      const tx = el("text", { x: x(t), y: height - 12, class: "axis", "text-anchor": "middle" }, svg);
      tx.textContent = label(new Date(t), opts.granularity, null);
    }
    el("line", { x1: m.left, x2: width - m.right, y1: m.top + h, y2: m.top + h, class: "baseline" }, svg);
    // Bars: max behind, average in front.
    const bw = Math.max(2, (step / (t1 - t0)) * w * 0.8);
    for (const b of buckets) {
      const cx = x(b.start.getTime() + step / 2);
      el("rect", { x: cx - bw / 2, y: y(b.max), width: bw, height: Math.max(0.5, y(0) - y(b.max)), class: "bar-max" }, svg);
      el("rect", { x: cx - bw * 0.3, y: y(b.avg), width: bw * 0.6, height: Math.max(0.5, y(0) - y(b.avg)), class: "bar-avg" }, svg);
    }
    // Issued: a step line over the buckets that have it.
    let d = "";
    let prevEnd = null;
    for (const b of buckets) {
      if (b.issued == null) { prevEnd = null; continue; }
      const xs = x(b.start.getTime());
      const xe = x(b.start.getTime() + step);
      d += prevEnd === b.start.getTime() ? `L${xs},${y(b.issued)}L${xe},${y(b.issued)}` : `M${xs},${y(b.issued)}L${xe},${y(b.issued)}`;
      prevEnd = b.start.getTime() + step;
    }
    if (d) el("path", { d, class: "issued-line" }, svg);
    // Hover targets: one per bucket, with the values as a tooltip and a <title>.
    const tip = document.createElement("div");
    tip.className = "chart-tip";
    tip.hidden = true;
    const guide = el("line", { y1: m.top, y2: m.top + h, class: "guide", visibility: "hidden" }, svg);
    for (const b of buckets) {
      const xs = x(b.start.getTime());
      const text = `${full(b.start, opts.granularity)}\nIn use: max ${b.max}, avg ${b.avg.toFixed(1)}, min ${b.min}${b.issued != null ? `\nIssued: ${b.issued}` : ""}`;
      const r = el("rect", { x: xs, y: m.top, width: Math.max(2, x(b.start.getTime() + step) - xs), height: h, class: "hover", "data-start": b.start.toISOString() }, svg);
      el("title", {}, r).textContent = text;
      r.addEventListener("mouseenter", () => {
        tip.textContent = text;
        tip.hidden = false;
        const cx = xs + (x(b.start.getTime() + step) - xs) / 2;
        guide.setAttribute("x1", cx);
        guide.setAttribute("x2", cx);
        guide.setAttribute("visibility", "visible");
        const scale = container.clientWidth / width || 1;
        tip.style.left = `${Math.min(cx * scale + 12, container.clientWidth - 220)}px`;
        tip.style.top = `${y(b.max) * scale}px`;
      });
      r.addEventListener("mouseleave", () => { tip.hidden = true; guide.setAttribute("visibility", "hidden"); });
    }
    container.appendChild(svg);
    container.appendChild(tip);
  };
})();
