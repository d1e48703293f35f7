"""The HTML, CSS and script of `AttentionExplorer`'s page (private).

`%TITLE%` is replaced by the escaped title and `%DATA%` by the JSON data.
The script puts text into the page only through `textContent`, never as
markup, and fetches nothing: the maps are inflated with the browser's own
`DecompressionStream`.
"""

PAGE = r"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>%TITLE%</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; margin: 0 0 0.5em; }
h2 { font-size: 1.1em; margin: 1.2em 0 0.4em; }
.controls { display: flex; flex-wrap: wrap; gap: 1.2em; align-items: center;
  padding: 0.6em; background: #f3f4f6; border-radius: 0.4em; }
.controls select { max-width: 40em; font-size: 1em; }
#caption { font-size: 1.1em; margin: 0.8em 0 0.2em; }
#translation { margin: 0.2em 0; }
.strip { line-height: 2.1em; margin: 0.3em 0; max-height: 12.6em;
  overflow-y: auto; }
.strip-label { display: inline-block; min-width: 6em; color: #555; }
.token { padding: 0.15em 0.25em; border-radius: 0.25em; cursor: pointer;
  border: 1px solid transparent; white-space: pre; }
.token:hover { border-color: #888; }
.token.selected { border-color: #c0392b; outline: 1px solid #c0392b; }
#grid { border-collapse: collapse; }
#grid th { font-weight: normal; color: #555; font-size: 0.85em;
  padding: 0 0.3em; }
.cell { padding: 3px; cursor: pointer; vertical-align: top;
  border: 2px solid transparent; }
.cell.picked { border-color: #c0392b; }
.cell .stack { position: relative; }
.cell canvas.map, .cell canvas.overlay { width: var(--cell); height: var(--cell);
  image-rendering: pixelated; display: block; }
.cell canvas.map { border: 1px solid #ccc; }
.cell canvas.overlay { position: absolute; left: 1px; top: 1px; }
.cell canvas.bar { width: var(--cell); height: 7px; display: block;
  margin-top: 2px; image-rendering: pixelated; border: 1px solid #ddd; }
.cell .peak { font-size: 0.72em; color: #444; width: var(--cell);
  height: 1.3em; /* the same with and without text: no jumps on hover */
  overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
#detail-table td, #detail-table th { height: 1.4em; }
#detail-table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
#detail-table td, #detail-table th { padding: 0.1em 0.7em; text-align: right;
  border-bottom: 1px solid #eee; }
#detail-table td.tok { text-align: left; white-space: pre; }
.note { color: #666; font-size: 0.85em; max-width: 60em; }
#status { color: #a00; }
</style>
</head>
<body>
<h1 id="title"></h1>
<div class="controls">
  <label>Text <select id="entry-select"></select></label>
  <span>View
    <label><input type="radio" name="level" value="words"> words</label>
    <label><input type="radio" name="level" value="pieces"> pieces</label>
  </span>
  <span id="direction-control">Colour the text by the attention
    <label><input type="radio" name="direction" value="paid" checked> paid</label>
    <label><input type="radio" name="direction" value="received"> received</label>
  </span>
</div>
<p id="status"></p>
<p id="caption"></p>
<div id="text-panel"></div>
<h2 id="grid-title"></h2>
<table id="grid"></table>
<div id="detail">
<h2 id="detail-title"></h2>
<table id="detail-table"></table>
</div>
<p class="note" id="note"></p>
<script type="application/json" id="explorer-data">%DATA%</script>
<script>
"use strict";
const DATA = JSON.parse(document.getElementById("explorer-data").textContent);
const state = {entry: 0, level: DATA.level, layer: 0, head: 0,
               pinned: null, hover: null, direction: "paid"};
const cache = new Map();
let view = null;  // the decoded maps of the current entry and level
document.getElementById("title").textContent = DATA.title;
document.title = DATA.title;
const $ = (id) => document.getElementById(id);
function el(tag, attrs, text) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

async function inflate(b64) {
  const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream()
    .pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// A map block: {shape: [..., rows, cols], data: Float32Array}.
async function decode(packed) {
  if (!packed) return null;
  const steps = await inflate(packed.steps);
  const data = new Float32Array(steps.length);
  for (let i = 0; i < steps.length; i++) data[i] = steps[i] / DATA.levels;
  return {shape: packed.shape, data};
}

function groups(wordOf) {
  const out = [];
  wordOf.forEach((w, i) => { (out[w] = out[w] || []).push(i); });
  return out;
}

// Words: a word pays the mean of its pieces' rows and receives the sum of
// their columns (merge_subwords in Python).
function mergeMaps(block, rowGroups, colGroups) {
  if (!block) return null;
  const shape = block.shape.slice();
  const rows = shape[shape.length - 2], cols = shape[shape.length - 1];
  const count = block.data.length / (rows * cols);
  const R = rowGroups.length, C = colGroups.length;
  const data = new Float32Array(count * R * C);
  for (let m = 0; m < count; m++) {
    const base = m * rows * cols;
    for (let a = 0; a < R; a++) {
      for (let b = 0; b < C; b++) {
        let total = 0;
        for (const i of rowGroups[a]) {
          for (const j of colGroups[b]) total += block.data[base + i * cols + j];
        }
        data[m * R * C + a * C + b] = total / rowGroups[a].length;
      }
    }
  }
  shape[shape.length - 2] = R; shape[shape.length - 1] = C;
  return {shape, data};
}

function mergeVector(values, wordGroups) {
  if (!values) return null;
  return wordGroups.map((g) => g.reduce((s, i) => s + values[i], 0));
}

async function load(index, level) {
  const key = index + ":" + level;
  if (cache.has(key)) return cache.get(key);
  const e = DATA.entries[index];
  const words = level === "words";
  let v;
  if (e.kind === "classification") {
    const g = groups(e.word_of_piece);
    const attention = await decode(e.attention);
    const rollout = await decode(e.rollout);
    v = {kind: e.kind,
         tokens: words ? e.words : e.tokens,
         attention: words ? mergeMaps(attention, g, g) : attention,
         rollout: words ? mergeMaps(rollout, g, g) : rollout,
         importance: words ? mergeVector(e.importance, g) : e.importance,
         pooling: words ? mergeVector(e.pooling, g) : e.pooling};
  } else {
    const gs = groups(e.source_word_of_piece);
    const gt = groups(e.target_word_of_piece);
    const attention = await decode(e.attention);
    v = {kind: e.kind,
         source: words ? e.source_words : e.source,
         target: words ? e.target_words : e.target,
         attention: words ? mergeMaps(attention, gt, gs) : attention};
  }
  if (v.attention) {
    [v.layers, v.heads, v.rows, v.cols] = v.attention.shape;
  } else {
    v.layers = 0; v.heads = 0;
  }
  v.means = new Map();
  cache.set(key, v);
  return v;
}

// The map of one layer and head; "mean" averages heads and/or layers.
function getMap(v, layer, head) {
  if (layer === "rollout") return v.rollout.data;
  const key = layer + "/" + head;
  if (typeof layer === "number" && typeof head === "number") {
    const size = v.rows * v.cols;
    const start = (layer * v.heads + head) * size;
    return v.attention.data.subarray(start, start + size);
  }
  if (v.means.has(key)) return v.means.get(key);
  const size = v.rows * v.cols;
  const out = new Float32Array(size);
  const layers = layer === "mean" ? [...Array(v.layers).keys()] : [layer];
  const heads = head === "mean" ? [...Array(v.heads).keys()] : [head];
  for (const l of layers) for (const h of heads) {
    const start = (l * v.heads + h) * size;
    for (let i = 0; i < size; i++) out[i] += v.attention.data[start + i];
  }
  const n = layers.length * heads.length;
  for (let i = 0; i < size; i++) out[i] /= n;
  v.means.set(key, out);
  return out;
}

function mapSize(v, layer) {
  if (layer === "rollout") return [v.rollout.shape[0], v.rollout.shape[1]];
  return [v.rows, v.cols];
}

// White to dark blue on a square-root scale of the weight itself, so a
// uniform map looks pale and a peaked one shows its peaks.
function colour(value) {
  const t = Math.sqrt(Math.max(0, Math.min(1, value)));
  return [255 - t * 247, 255 - t * 207, 255 - t * 148];
}

function drawMap(canvas, map, rows, cols) {
  canvas.width = Math.max(cols, 1); canvas.height = Math.max(rows, 1);
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(canvas.width, canvas.height);
  for (let i = 0; i < rows * cols; i++) {
    const [r, g, b] = colour(map[i]);
    image.data[4 * i] = r; image.data[4 * i + 1] = g;
    image.data[4 * i + 2] = b; image.data[4 * i + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
}

function drawBar(canvas, values) {
  canvas.width = Math.max(values.length, 1); canvas.height = 1;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(canvas.width, 1);
  values.forEach((value, i) => {
    const [r, g, b] = colour(value);
    image.data.set([r, g, b, 255], 4 * i);
  });
  ctx.putImageData(image, 0, 0);
}

function selection() { return state.hover || state.pinned; }

function row(map, cols, i) { return Array.from(map.subarray(i * cols, (i + 1) * cols)); }
function column(map, rows, cols, j) {
  const out = [];
  for (let i = 0; i < rows; i++) out.push(map[i * cols + j]);
  return out;
}
function fmt(x) { return x.toFixed(3); }
function argmax(values) {
  let best = 0;
  values.forEach((x, i) => { if (x > values[best]) best = i; });
  return best;
}

function headName(layer, head) {
  if (layer === "rollout") return "attention rollout";
  if (layer === "mean" && head === "mean") return "the average of all layers and heads";
  if (head === "mean") return `layer ${layer}, mean of the heads`;
  return `layer ${layer}, head ${head}`;
}

// ---- The text strips ----
function renderText(v) {
  const panel = $("text-panel");
  panel.textContent = "";
  if (v.kind === "classification") {
    panel.appendChild(strip("tokens", "text", v.tokens, "text"));
  } else {
    panel.appendChild(strip("source-tokens", "source", v.source, "source"));
    panel.appendChild(strip("target-tokens", "generated", v.target, "target"));
  }
}

function strip(id, label, tokens, side) {
  const div = el("div", {class: "strip", id});
  div.appendChild(el("span", {class: "strip-label"}, label));
  tokens.forEach((token, i) => {
    const span = el("span", {class: "token", "data-side": side, "data-index": i}, token);
    span.addEventListener("mouseenter", () => { state.hover = {side, index: i}; update(); });
    span.addEventListener("mouseleave", () => { state.hover = null; update(); });
    span.addEventListener("click", () => {
      const p = state.pinned;
      state.pinned = p && p.side === side && p.index === i ? null : {side, index: i};
      update();
    });
    div.appendChild(span);
    div.appendChild(document.createTextNode(" "));
  });
  if (!tokens.length) div.appendChild(el("span", {class: "empty"}, "(no tokens)"));
  return div;
}

// What the text strips are coloured by: the attention of the selection in
// the picked map, else the pooling weights (or importance) of a classifier.
function colourText(v) {
  const sel = selection();
  document.querySelectorAll(".token").forEach((span) => {
    const side = span.dataset.side, i = Number(span.dataset.index);
    span.classList.toggle("selected", !!sel && sel.side === side && sel.index === i);
    span.style.backgroundColor = "";
  });
  let values = null, side = null;
  if (v.kind === "classification") {
    side = "text";
    if (sel && (v.attention || state.layer === "rollout") && (v.attention || v.rollout)) {
      const map = getMap(v, state.layer, state.head);
      const [rows, cols] = mapSize(v, state.layer);
      values = state.direction === "paid" ? row(map, cols, sel.index)
        : column(map, rows, cols, sel.index);
    } else {
      values = v.pooling || v.importance;
    }
  } else if (sel && v.attention) {
    const map = getMap(v, state.layer, state.head);
    if (sel.side === "target") { side = "source"; values = row(map, v.cols, sel.index); }
    else { side = "target"; values = column(map, v.rows, v.cols, sel.index); }
  }
  if (!values) return;
  const top = Math.max(0, ...values);
  document.querySelectorAll(`.token[data-side="${side}"]`).forEach((span) => {
    const x = values[Number(span.dataset.index)];
    const alpha = top > 0 ? x / top : 0;
    span.style.backgroundColor = `rgba(255, 140, 0, ${alpha.toFixed(3)})`;
    span.title = fmt(x);
  });
}

// ---- The grid of maps ----
function renderGrid(v) {
  const grid = $("grid");
  grid.textContent = "";
  if (!v.attention && !v.rollout) {
    $("grid-title").textContent = "This model has no attention maps to show (e.g. an RNN classifier): the text is coloured by its pooling weights.";
    return;
  }
  const cross = v.kind === "translation";
  $("grid-title").textContent = (cross ? "Cross-attention of each decoder layer and head"
    : "Self-attention of each layer and head") + " (click a map to pick it)";
  const cellPx = Math.max(70, Math.min(150, Math.floor(900 / (v.heads + 1.5))));
  grid.style.setProperty("--cell", cellPx + "px");
  if (v.attention) {
    const headRow = el("tr");
    headRow.appendChild(el("th"));
    for (let h = 0; h < v.heads; h++) headRow.appendChild(el("th", {}, `head ${h}`));
    headRow.appendChild(el("th", {}, "mean"));
    grid.appendChild(headRow);
    for (let l = 0; l < v.layers; l++) {
      const tr = el("tr");
      tr.appendChild(el("th", {}, `layer ${l}`));
      for (let h = 0; h < v.heads; h++) tr.appendChild(cell(v, l, h));
      tr.appendChild(cell(v, l, "mean"));
      grid.appendChild(tr);
    }
    const tr = el("tr");
    tr.appendChild(el("th", {}, "all layers"));
    for (let h = 0; h < v.heads; h++) tr.appendChild(el("td"));
    tr.appendChild(cell(v, "mean", "mean"));
    grid.appendChild(tr);
  }
  if (v.rollout) {
    const tr = el("tr");
    tr.appendChild(el("th", {}, "rollout"));
    tr.appendChild(cell(v, "rollout", "rollout"));
    grid.appendChild(tr);
  }
}

function cell(v, layer, head) {
  const td = el("td", {class: "cell", "data-layer": layer, "data-head": head});
  const stack = el("div", {class: "stack"});
  const canvas = el("canvas", {class: "map"});
  const overlay = el("canvas", {class: "overlay"});
  const [rows, cols] = mapSize(v, layer);
  drawMap(canvas, getMap(v, layer, head), rows, cols);
  stack.appendChild(canvas); stack.appendChild(overlay);
  td.appendChild(stack);
  if (v.kind === "classification") {
    td.appendChild(el("canvas", {class: "bar", "data-bar": "paid"}));
    td.appendChild(el("canvas", {class: "bar", "data-bar": "received"}));
  } else {
    td.appendChild(el("canvas", {class: "bar", "data-bar": "selected"}));
  }
  td.appendChild(el("div", {class: "peak"}, ""));
  td.title = headName(layer, head);
  canvas.addEventListener("mousemove", (event) => {
    const box = canvas.getBoundingClientRect();
    const i = Math.min(rows - 1, Math.floor((event.clientY - box.top) / box.height * rows));
    const j = Math.min(cols - 1, Math.floor((event.clientX - box.left) / box.width * cols));
    const [from, to] = v.kind === "classification" ? [v.tokens, v.tokens] : [v.target, v.source];
    td.title = `${headName(layer, head)}: ${from[i]} \u2192 ${to[j]} ${fmt(getMap(v, layer, head)[i * cols + j])}`;
  });
  td.addEventListener("click", () => { state.layer = layer; state.head = head; update(); });
  return td;
}

// Highlights the selection's row and column in every map, with its bars.
function markGrid(v) {
  const sel = selection();
  document.querySelectorAll(".cell").forEach((td) => {
    const layer = parseKey(td.dataset.layer), head = parseKey(td.dataset.head);
    td.classList.toggle("picked", layer === state.layer && head === state.head);
    const overlay = td.querySelector("canvas.overlay");
    const [rows, cols] = mapSize(v, layer);
    // Drawn finer than the map, so the outlines stay thin.
    const k = Math.max(2, Math.ceil(300 / Math.max(rows, cols, 1)));
    overlay.width = Math.max(cols, 1) * k; overlay.height = Math.max(rows, 1) * k;
    const ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    const peak = td.querySelector(".peak");
    const bars = td.querySelectorAll("canvas.bar");
    bars.forEach((bar) => { bar.style.visibility = sel ? "visible" : "hidden"; });
    peak.textContent = "";
    if (!sel) return;
    const map = getMap(v, layer, head);
    ctx.strokeStyle = "rgba(192, 57, 43, 0.9)"; ctx.lineWidth = 1.5;
    if (v.kind === "classification") {
      const i = sel.index;
      ctx.strokeRect(0, i * k, cols * k, k);
      ctx.strokeRect(i * k, 0, k, rows * k);
      const paid = row(map, cols, i), received = column(map, rows, cols, i);
      drawBar(bars[0], paid); drawBar(bars[1], received);
      const a = argmax(paid), b = argmax(received);
      peak.textContent = `\u2192 ${v.tokens[a]} ${fmt(paid[a])} \u2190 ${v.tokens[b]} ${fmt(received[b])}`;
      bars[0].title = "paid"; bars[1].title = "received";
    } else if (sel.side === "target") {
      ctx.strokeRect(0, sel.index * k, cols * k, k);
      const values = row(map, cols, sel.index);
      drawBar(bars[0], values);
      const a = argmax(values);
      peak.textContent = `\u2192 ${v.source[a]} ${fmt(values[a])}`;
    } else {
      ctx.strokeRect(sel.index * k, 0, k, rows * k);
      const values = column(map, rows, cols, sel.index);
      drawBar(bars[0], values);
      const a = argmax(values);
      peak.textContent = `\u2190 ${v.target[a]} ${fmt(values[a])}`;
    }
  });
}

function parseKey(text) {
  return text === "mean" || text === "rollout" ? text : Number(text);
}

// ---- The numbers of the picked map ----
function renderDetail(v) {
  const table = $("detail-table");
  table.textContent = "";
  const sel = selection();
  const head = el("tr");
  const addRow = (cells) => {
    const tr = el("tr");
    cells.forEach(([cls, text, value], k) => {
      const td = el(k === 0 ? "td" : "td", {class: cls}, text);
      if (value !== undefined) td.dataset.value = String(value);
      tr.appendChild(td);
    });
    table.appendChild(tr);
  };
  const hasMaps = v.attention || v.rollout;
  if (v.kind === "classification") {
    if (sel && hasMaps) {
      const map = getMap(v, state.layer, state.head);
      const [rows, cols] = mapSize(v, state.layer);
      $("detail-title").textContent = `\u201c${v.tokens[sel.index]}\u201d in ${headName(state.layer, state.head)}`;
      ["token", "paid to it", "received from it"].forEach((t) => head.appendChild(el("th", {}, t)));
      table.appendChild(head);
      v.tokens.forEach((token, j) => {
        const paid = map[sel.index * cols + j], received = map[j * cols + sel.index];
        addRow([["tok", token], ["paid", fmt(paid), paid], ["received", fmt(received), received]]);
      });
    } else {
      $("detail-title").textContent = hasMaps ? "Token weights (hover or click a token for its attention)" : "Token weights";
      const cols = [["importance", v.importance]];
      if (v.pooling) cols.push(["pooling", v.pooling]);
      ["token", ...cols.map((c) => c[0])].forEach((t) => head.appendChild(el("th", {}, t)));
      table.appendChild(head);
      v.tokens.forEach((token, j) => {
        addRow([["tok", token], ...cols.map(([name, values]) => [name, fmt(values[j]), values[j]])]);
      });
    }
    return;
  }
  if (!sel || !v.attention) {
    $("detail-title").textContent = "Hover or click a source or generated token for its alignment";
    return;
  }
  const map = getMap(v, state.layer, state.head);
  const target = sel.side === "target";
  const tokens = target ? v.source : v.target;
  const name = target ? v.target[sel.index] : v.source[sel.index];
  $("detail-title").textContent = target
    ? `Generated \u201c${name}\u201d attends to, in ${headName(state.layer, state.head)}`
    : `Source \u201c${name}\u201d is attended by, in ${headName(state.layer, state.head)}`;
  [target ? "source token" : "generated token", "weight"].forEach((t) => head.appendChild(el("th", {}, t)));
  table.appendChild(head);
  tokens.forEach((token, j) => {
    const x = target ? map[sel.index * v.cols + j] : map[j * v.cols + sel.index];
    addRow([["tok", token], ["weight", fmt(x), x]]);
  });
}

function update() {
  const v = view;
  if (!v) return;
  colourText(v);
  markGrid(v);
  renderDetail(v);
}

let shown = 0;
async function show() {
  const e = DATA.entries[state.entry];
  const call = ++shown;
  let v;
  try {
    v = await load(state.entry, state.level);
  } catch (error) {
    $("status").textContent = "Cannot read the attention maps in this browser: " + error;
    return;
  }
  if (call !== shown) return;  // a later choice came while this one loaded
  view = v;
  if (state.layer !== "rollout" || !v.rollout) {
    if (!(typeof state.layer === "number" && state.layer < v.layers)) state.layer = v.layers ? 0 : "rollout";
    if (!(typeof state.head === "number" && state.head < v.heads) && state.head !== "mean") state.head = 0;
  }
  if (state.layer === "rollout" && !v.rollout) { state.layer = 0; state.head = 0; }
  state.pinned = null; state.hover = null;
  const clip = (text) => text.length > 400 ? text.slice(0, 400) + "\u2026" : text;
  $("caption").textContent = e.kind === "classification"
    ? (e.caption ? e.caption + ": " : "") + clip(e.text)
    : `${clip(e.text)} \u2192 ${clip(e.translation)}` + (e.caption ? ` (${e.caption})` : "");
  $("direction-control").style.display = e.kind === "classification" ? "" : "none";
  // Room for the longest table, so the page keeps its height (and what is
  // under the mouse stays put) whatever is hovered.
  const longest = v.kind === "classification" ? v.tokens.length
    : Math.max(v.source.length, v.target.length);
  $("detail").style.minHeight = `calc(${longest + 1} * 1.6em + 4em)`;
  renderText(v);
  renderGrid(v);
  update();
  document.body.dataset.ready = "true";
}

const select = $("entry-select");
DATA.entries.forEach((e, i) => {
  const short = e.text.length > 60 ? e.text.slice(0, 57) + "..." : e.text;
  const what = e.kind === "classification" ? e.caption : e.caption || "translation";
  select.appendChild(el("option", {value: i}, `${i + 1}. ${short}` + (what ? ` \u2014 ${what}` : "")));
});
select.addEventListener("change", () => { state.entry = Number(select.value); show(); });
document.querySelectorAll('input[name="level"]').forEach((input) => {
  input.checked = input.value === state.level;
  input.addEventListener("change", () => { state.level = input.value; show(); });
});
document.querySelectorAll('input[name="direction"]').forEach((input) => {
  input.addEventListener("change", () => { state.direction = input.value; update(); });
});
$("note").textContent = "Each map: rows are the tokens that attend, columns the tokens attended to " +
  "(for a translator: generated tokens by source tokens), darker for larger weights (square-root scale, " +
  "white 0, dark blue 1). The text is coloured relative to its largest weight. " +
  "Under each map, with a token picked: the attention it pays (upper bar) and receives (lower bar). " +
  "Words: a word pays the mean of its pieces' attention and receives the sum. " +
  "Weights are stored in steps of 1/" + DATA.levels + ".";
if (typeof DecompressionStream === "undefined") {
  $("status").textContent = "This browser cannot inflate the maps (no DecompressionStream): use a current Chromium, Firefox or Safari.";
} else {
  show();
}
</script>
</body>
</html>
"""
