// The dashboard: polls /v1/dashboard once a second with the API key typed in (kept for this tab
// only) and draws batches, lag and node rates. No library: the page must work without internet.
"use strict";

const COLORS = ["#3a7bd5", "#d9822b", "#2e9e5b", "#9b59b6", "#c0392b", "#16a085", "#7f8c8d", "#f1c40f"];
let apiKey = sessionStorage.getItem("txgw.key") || "";
let timer = null;

document.getElementById("login").addEventListener("submit", (e) => {
  e.preventDefault();
  apiKey = document.getElementById("key").value.trim();
  sessionStorage.setItem("txgw.key", apiKey);
  start();
});

function start() {
  if (timer) clearInterval(timer);
  refresh();
  timer = setInterval(refresh, 1000);
}

async function refresh() {
  const state = document.getElementById("state");
  try {
    const response = await fetch("/v1/dashboard", { headers: { "X-Api-Key": apiKey } });
    if (response.status === 401) {
      state.textContent = "unknown API key";
      return;
    }
    if (!response.ok) {
      state.textContent = "gateway answered " + response.status;
      return;
    }
    const data = await response.json();
    state.textContent = "updated " + new Date(data.at).toLocaleTimeString();
    drawBatches(data.batches);
    drawLag(data.lag);
    drawNodes(data.nodes);
  } catch (err) {
    state.textContent = "gateway unreachable";
  }
}

function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function drawBatches(batches) {
  const body = document.querySelector("#batches tbody");
  body.replaceChildren();
  document.getElementById("no-batches").hidden = batches.length > 0;
  for (const b of batches) {
    const percent = b.total === 0 ? 100 : Math.floor((100 * b.handled) / b.total);
    const failed = (b.counts.FAILED || 0) + (b.counts.UNKNOWN || 0);
    const row = el("tr", { "data-batch": b.batchId });
    row.appendChild(el("td", {}, b.batchId));
    row.appendChild(el("td", {}, b.chain));
    const bar = el("div", { class: "bar", role: "progressbar", "aria-valuenow": percent,
      "aria-valuemin": 0, "aria-valuemax": 100, "data-percent": percent });
    const fill = el("div", { class: "fill" + (b.complete ? (failed ? " failed" : " done") : "") });
    fill.style.width = percent + "%";
    bar.appendChild(fill);
    bar.appendChild(el("span", {}, percent + "%"));
    const cell = el("td");
    cell.appendChild(bar);
    row.appendChild(cell);
    row.appendChild(el("td", {}, b.handled + " / " + b.total));
    row.appendChild(el("td", {}, Object.entries(b.counts).map(([s, n]) => s + " " + n).join(", ")));
    row.appendChild(el("td", {}, b.lastUpdate ? new Date(b.lastUpdate).toLocaleTimeString() : "-"));
    body.appendChild(row);
  }
}

// Lines on an SVG of 800 x 220 user units; y from 0 to the largest value seen.
function lines(svg, series, maxY, limit) {
  const ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) return;
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t), t0 + 1);
  const top = Math.max(maxY, 1);
  const x = (t) => ((t - t0) / (t1 - t0)) * 790 + 5;
  const y = (v) => 215 - (v / top) * 205;
  if (limit !== undefined && limit > 0) {
    const line = document.createElementNS(ns, "line");
    line.setAttribute("x1", 0);
    line.setAttribute("x2", 800);
    line.setAttribute("y1", y(limit));
    line.setAttribute("y2", y(limit));
    line.setAttribute("stroke", "#c0392b");
    line.setAttribute("stroke-dasharray", "6 4");
    svg.appendChild(line);
  }
  series.forEach((s, i) => {
    const path = document.createElementNS(ns, "polyline");
    path.setAttribute("fill", "none");
    path.setAttribute("stroke", s.color || COLORS[i % COLORS.length]);
    path.setAttribute("stroke-width", 2);
    path.setAttribute("points", s.points.map((p) => x(p.t) + "," + y(p.v)).join(" "));
    path.setAttribute("data-series", s.name);
    svg.appendChild(path);
  });
}

function legend(container, names) {
  container.replaceChildren();
  names.forEach((name, i) => {
    const item = el("span");
    const swatch = el("i");
    swatch.style.background = COLORS[i % COLORS.length];
    item.appendChild(swatch);
    item.appendChild(document.createTextNode(name));
    container.appendChild(item);
  });
}

function drawLag(lag) {
  const partitions = new Set();
  lag.history.forEach((h) => Object.keys(h.partitions).forEach((p) => partitions.add(p)));
  const names = [...partitions].sort((a, b) => a - b);
  const series = names.map((p) => ({
    name: "partition " + p,
    points: lag.history.map((h) => ({ t: Date.parse(h.at), v: h.partitions[p] || 0 })),
  }));
  const maxY = Math.max(0, lag.limit || 0, ...series.flatMap((s) => s.points.map((p) => p.v)));
  lines(document.getElementById("lag-chart"), series, maxY, lag.limit);
  legend(document.getElementById("lag-legend"), series.map((s) => s.name));
  const now = document.getElementById("lag-now");
  now.textContent = lag.total === undefined ? "" :
    "now " + lag.total + " waiting, " + lag.members + " consumer(s), " + lag.consumedPerSecond + "/s" +
    (lag.limit > 0 ? ", backpressure above " + lag.limit : "");
}

function drawNodes(nodes) {
  document.getElementById("nodes-off").hidden = nodes.coordinated;
  const container = document.getElementById("nodes");
  const names = new Set();
  nodes.history.forEach((h) => Object.keys(h.nodes).forEach((n) => names.add(n)));
  const existing = new Map([...container.children].map((c) => [c.dataset.node, c]));
  for (const name of [...names].sort()) {
    let box = existing.get(name);
    if (!box) {
      box = el("div", { class: "node", "data-node": name });
      box.appendChild(el("h3", { class: "muted" }, name));
      const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
      svg.setAttribute("class", "chart");
      svg.setAttribute("viewBox", "0 0 800 220");
      svg.setAttribute("preserveAspectRatio", "none");
      box.appendChild(svg);
      container.appendChild(box);
    }
    const points = nodes.history.filter((h) => h.nodes[name]);
    const used = points.map((h) => ({ t: Date.parse(h.at), v: h.nodes[name].used }));
    const limit = points.length ? points[points.length - 1].nodes[name].limit : 0;
    const last = points.length ? points[points.length - 1].nodes[name] : null;
    box.querySelector("h3").textContent = name + (last ?
      ": " + last.used + " of " + last.limit + " req/s, " + last.consumers + " consumer(s)" : "");
    const maxY = Math.max(limit, ...used.map((p) => p.v));
    lines(box.querySelector("svg"), [{ name: "calls/s", points: used }], maxY, limit);
  }
}

if (apiKey) {
  document.getElementById("key").value = apiKey;
  start();
}
