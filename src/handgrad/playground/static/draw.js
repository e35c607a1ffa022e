// handgrad playground: drawing the output (regions, heat map, curve) and the network, with
// hovering a unit and clicking a weight. Text from the data is set with textContent only.
"use strict";

function classColor(k) { return Charts.PALETTE[k % Charts.PALETTE.length]; }
const BINARY_COLORS = ["#e8743b", "#1f77b4"];

const BANDS = 8;  // regression, discretized: the prediction in 8 equal bands of the target's range

// The output plane as pixels (grid × grid). Continuous: the binary probability, or each
// class's colour shaded by its confidence, or the predicted value. Discretized: the predicted
// class in its full colour (binary and multi-class alike), or for regression the prediction's
// band, so the picture shows where the answer changes rather than how sure the network is.
function regionImage(f, d, discrete) {
  const g = f.grid, img = new ImageData(g, g);
  if (d.task === "classification") {
    const cls = Charts.decode(f.region_class), conf = Charts.decode(f.region_conf);
    const p1 = f.region_p1 ? Charts.decode(f.region_p1) : null;
    for (let i = 0; i < g * g; i++) {
      let rgb;
      if (p1) rgb = Charts.diverging(discrete ? (cls[i] ? 0.5 : -0.5) : (p1[i] / 255 - 0.5) * 2 * 0.5);
      else {
        const c = Charts.hexToRgb(classColor(cls[i])), a = discrete ? 0.5 : 0.1 + 0.4 * (conf[i] / 255);
        rgb = c.map((x) => 255 + (x - 255) * a);
      }
      img.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
    }
  } else {
    const v = Charts.decode(f.region_value);
    for (let i = 0; i < g * g; i++) {
      const u = discrete ? (Math.min(BANDS - 1, Math.floor(v[i] / 255 * BANDS)) + 0.5) / BANDS : v[i] / 255;
      img.data.set([...Charts.diverging((u - 0.5) * 2 * 0.8), 255], i * 4);
    }
  }
  return img;
}

// Whether frame f carries the pictures (a hidden tab is sent its scores only).
function pictured(f) { return Boolean(f && state.dataset && !f.diverged && !f.stopping && f.weights); }

function drawRegion(f) {
  const canvas = $("region"), d = state.dataset, view = state.view;
  const { ctx, w, h } = Charts.context(canvas);
  ctx.clearRect(0, 0, w, h);
  if (d.curve) return drawCurve(ctx, w, h, f, d);
  // a hovered hidden unit takes the big picture (its output, with the data over it)
  const hovered = state.hovered && f.units && f.units[state.hovered[0] - 1] && f.units[state.hovered[0] - 1][state.hovered[1]] ? state.hovered : null;
  const g = hovered ? f.unit_grid : f.grid, off = document.createElement("canvas");
  off.width = g; off.height = g;
  off.getContext("2d").putImageData(hovered ? unitImage(f, hovered[0], hovered[1]) : regionImage(f, d, view.discrete), 0, 0);
  ctx.imageSmoothingEnabled = !view.discrete;  // hard edges between the regions when discretized
  ctx.drawImage(off, 0, 0, w, h);
  const [x0, x1, y0, y1] = d.bounds;
  const at = ([x, y]) => [(x - x0) / (x1 - x0) * w, (1 - (y - y0) / (y1 - y0)) * h];
  if (d.task === "regression") drawResiduals(ctx, f, d, at, h, view.showTest);
  else drawPoints(ctx, d, at, view.showTest);
  ctx.fillStyle = "#3a4150"; ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(`${d.plane[0]} →`, w - 50, h - 6);
  ctx.save(); ctx.translate(12, 46); ctx.rotate(-Math.PI / 2); ctx.fillText(`${d.plane[1]} →`, 0, 0); ctx.restore();
  regionLegend(d, view, hovered);
}

// Redraw the big picture from the last frame (after a hover starts or ends).
function redrawRegion() {
  if (pictured(state.frame)) drawRegion(state.frame);
}

function drawPoints(ctx, d, at, showTest) {
  d.points.forEach((p, i) => {
    const [X, Y] = at(p), test = d.test[i] === 1;
    if (test && !showTest) return;
    const color = d.classes.length === 2 ? BINARY_COLORS[d.labels[i]] : classColor(d.labels[i]);
    ctx.beginPath(); ctx.arc(X, Y, test ? 3.2 : 2.8, 0, 2 * Math.PI);
    ctx.fillStyle = test ? "#fff" : color; ctx.fill();
    ctx.lineWidth = test ? 1.6 : 0.8; ctx.strokeStyle = test ? color : "#fff"; ctx.stroke();
  });
}

// Regression: each point coloured by its target on the heat map's scale, with its residual
// (target − prediction) as a black tick: up when the network predicts too little.
function drawResiduals(ctx, f, d, at, h, showTest) {
  const [lo, hi] = f.value_range, span = hi - lo || 1;
  d.points.forEach((p, i) => {
    const [X, Y] = at(p), test = d.test[i] === 1, y = d.values[i];
    if (test && !showTest) return;
    const rgb = Charts.diverging(((y - lo) / span - 0.5) * 2 * 0.8).map((c) => c | 0);
    if (f.fitted) {
      const r = (y - f.fitted[i]) / span * h * 0.25;
      ctx.strokeStyle = "rgba(20,20,20,0.7)"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(X, Y); ctx.lineTo(X, Y - r); ctx.stroke();
    }
    ctx.beginPath(); ctx.arc(X, Y, test ? 3.2 : 2.8, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`; ctx.fill();
    ctx.lineWidth = test ? 1.2 : 0.8; ctx.strokeStyle = test ? "#4a5060" : "#fff"; ctx.stroke();
  });
}

function regionLegend(d, view, hovered) {
  const box = $("region-legend");
  box.replaceChildren();
  if (hovered) {
    box.append(el("b", { text: `layer ${hovered[0]}, unit ${hovered[1] + 1}` }), view.discrete
      ? ": blue where it is switched on (z > 0), orange where not"
      : ": its output over the plane (orange negative, blue positive, scaled to its largest)",
    " · move off the unit to see the network's output again");
    return;
  }
  if (d.task === "classification") {
    d.classes.forEach((c, k) => {
      const dot = el("i");
      dot.style.background = d.classes.length === 2 ? BINARY_COLORS[k] : classColor(k);
      box.append(dot, `${d.target} ${c}`);
    });
    box.append(view.showTest ? " · filled: train, ringed: test" : " · training points only");
    box.append(view.discrete ? " · regions: the predicted class" : " · shade: the network's confidence");
  } else {
    box.append(view.discrete ? `colour: the prediction in ${BANDS} bands of the target's range` : "colour: the network's prediction",
      " (points: their target on the same scale); ticks: residuals y − ŷ",
      view.showTest ? " · grey ring: test" : " · training points only");
  }
}

function drawCurve(ctx, w, h, f, d) {
  const [x0, x1] = d.bounds, ys = d.points.map((p) => p[1]).concat(f.curve);
  const y0 = Math.min(...ys), y1 = Math.max(...ys), pad = 0.08 * (y1 - y0 || 1);
  const px = (x) => 30 + (x - x0) / (x1 - x0) * (w - 40), py = (y) => 10 + (1 - (y - y0 + pad) / (y1 - y0 + 2 * pad)) * (h - 36);
  ctx.strokeStyle = "#dde1e8"; ctx.strokeRect(30, 10, w - 40, h - 36);
  d.points.forEach(([x, y], i) => {
    if (d.test[i] && !state.view.showTest) return;
    ctx.beginPath(); ctx.arc(px(x), py(y), 2.6, 0, 2 * Math.PI);
    if (d.test[i]) { ctx.strokeStyle = "#e8743b"; ctx.stroke(); } else { ctx.fillStyle = "#1f77b4"; ctx.fill(); }
  });
  ctx.strokeStyle = "#222"; ctx.lineWidth = 2; ctx.beginPath();
  f.curve.forEach((y, i) => { const X = px(x0 + (x1 - x0) * i / (f.curve.length - 1)); i ? ctx.lineTo(X, py(y)) : ctx.moveTo(X, py(y)); });
  ctx.stroke(); ctx.lineWidth = 1;
  ctx.fillStyle = "#3a4150"; ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(`${d.features[0]} →`, w - 50, h - 8); ctx.fillText(`${d.target}`, 4, 20);
  $("region-legend").textContent = `line: the network's prediction · ${state.view.showTest ? "filled: train, ringed: test" : "training points only"}`;
}

// A data set drawn small on its button: its points coloured by class (or target value).
function drawPreview(canvas, p) {
  canvas.width = canvas.height = 80;
  const ctx = canvas.getContext("2d"), w = 80, h = 80;
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, w, h);
  const classes = p.labels ? Math.max(...p.labels) + 1 : 0;
  p.points.forEach(([u, v], i) => {
    if (p.labels) ctx.fillStyle = classes === 2 ? BINARY_COLORS[p.labels[i]] : classColor(p.labels[i]);
    else if (p.values) { const c = Charts.diverging(p.values[i] * 0.9); ctx.fillStyle = `rgb(${c[0] | 0},${c[1] | 0},${c[2] | 0})`; }
    else ctx.fillStyle = "#1f77b4";
    ctx.beginPath(); ctx.arc((u * 0.44 + 0.5) * w, (0.5 - v * 0.44) * h, 2.4, 0, 2 * Math.PI); ctx.fill();
  });
}

// --- the network drawing -----------------------------------------------------------------

// Where each node sits. cols[l][u]: unit u of layer l (layer 0: the network's inputs, in
// the order of its first weight matrix's rows). For the plane's sets every input the page
// offers gets a slot (`slots`, in the offered order), the unused ones drawn greyed, as in
// TensorFlow Playground; cols[0] then holds the slots of the inputs in use.
function layout() {
  const box = $("netdraw"), d = state.dataset;
  const W = box.clientWidth, H = box.clientHeight;
  const offered = d.feature_pictures ? Object.keys(d.feature_pictures) : null;
  const sizes = offered ? [offered.length, ...d.sizes.slice(1)] : d.sizes;
  const maxUnits = Math.max(...sizes), spacing = (W - 72) / (sizes.length - 1);
  const node = Math.max(10, Math.min(56, (H - 20) / maxUnits - 6, spacing / 2));
  const cols = sizes.map((n, l) => {
    const x = 52 + l * (W - 72 - node) / (sizes.length - 1);  // room for the input names
    const gap = Math.min(node + 8, (H - 20) / n);
    const top = (H - gap * n) / 2 + (gap - node) / 2;
    return Array.from({ length: n }, (_, u) => ({ x, y: top + u * gap }));
  });
  const slots = offered ? offered.map((key, k) => ({ key, p: cols[0][k], on: d.inputs.includes(key) })) : null;
  if (slots) cols[0] = d.inputs.map((key) => slots[offered.indexOf(key)].p);
  return { W, H, node, cols, slots };
}

// An input's node clicked: it is switched on or off (a new run: the first layer changes).
function toggleInput(key) {
  if (state.hide.includes("inputs")) return;  // a lesson fixed the inputs
  const on = state.inputs.includes(key);
  if (on && state.inputs.length === 1) return showMessage("the network needs at least one input");
  const order = Object.keys(state.limits.features);
  state.inputs = order.filter((f) => (f === key ? !on : state.inputs.includes(f)));
  for (const box of $("inputs").querySelectorAll("input")) box.checked = state.inputs.includes(box.value);
  configure();
}

function drawNetworkLayout() {
  const box = $("netdraw");
  for (const c of box.querySelectorAll("canvas.unit, canvas.input, .io-label")) c.remove();
  state.hovered = null; $("unit-detail").hidden = true; $("weight-hover").hidden = true;  // their units are gone
  const { node, cols, slots } = layout(), d = state.dataset;
  $("sizes").textContent = d.sizes.join(" – ");
  const label = (text, p, l) => {
    const tag = el("div", { class: "io-label", text: l === 0 && text.length > 8 ? `${text.slice(0, 7)}…` : text });
    tag.title = text;
    Object.assign(tag.style, l === 0 ? { right: `${box.clientWidth - p.x + 3}px`, top: `${p.y + node / 2 - 8}px` }
      : { left: `${p.x}px`, top: `${p.y - 16}px` });  // input names to the left, outputs' above
    box.appendChild(tag);
  };
  const square = (cls, p, picture) => {
    const c = el("canvas", { class: cls });
    c.width = c.height = d.unit_grid;
    Object.assign(c.style, { left: `${p.x}px`, top: `${p.y}px`, width: `${node}px`, height: `${node}px` });
    if (picture) c.getContext("2d").putImageData(unitPixels(picture, d.unit_grid), 0, 0);
    box.appendChild(c);
    return c;
  };
  if (slots) {  // every input the page offers: click one to switch it on or off
    for (const { key, p, on } of slots) {
      const c = square(on ? "input toggle" : "input toggle off", p, d.feature_pictures[key]);
      const name = state.limits.features[key];
      c.dataset.feature = key; c.dataset.input = on ? d.inputs.indexOf(key) : "";
      c.title = `${name} over the plane · click to switch it ${on ? "off" : "on"}`;
      c.onclick = () => toggleInput(key);
      c.classList.toggle("locked", state.hide.includes("inputs"));  // a lesson fixed them
      label(name, p, 0);
    }
  }
  cols.forEach((col, l) => col.forEach((p, u) => {
    if (l > 0 && l < cols.length - 1) {
      const c = square("unit", p, null);
      c.dataset.layer = l; c.dataset.unit = u;
      c.onmouseenter = () => { showUnit(l, u, p, node); redrawRegion(); };
      c.onclick = () => send({ type: "bias", layer: l - 1, j: u });  // its bias, to read and edit
      c.onmouseleave = unhover;
      return;
    }
    if (l === 0 && slots) return;  // drawn above
    if (l === 0 && d.input_pictures) {  // an input: its values over the plane
      const c = square("input", p, d.input_pictures[u]);
      c.title = `${d.features[u]} over the plane`; c.dataset.input = u;
    }
    const names = l === 0 ? d.features : (d.classes && d.classes.length > 2 ? d.classes : [d.task === "regression" ? "ŷ" : "logit"]);
    label(names[u] !== undefined ? String(names[u]) : "", p, l);
  }));
}

// byte b (0..255, a unit's output scaled to [-1, 1]) -> its RGBA colour, computed once
const UNIT_COLORS = (() => {
  const lut = new Uint8ClampedArray(256 * 4);
  for (let b = 0; b < 256; b++) lut.set([...Charts.diverging((b / 255 - 0.5) * 2), 255], b * 4);
  return lut;
})();

// A picture over the plane (g × g bytes, base64) as pixels. With `on` (base64 bits, the
// discretized view) each cell takes the full colour of its side: blue where the unit is
// switched on (z > 0), orange where it is not.
function unitPixels(pic, g, on) {
  const bytes = Charts.decode(on || pic), img = new ImageData(g, g), px = img.data;
  for (let i = 0; i < g * g; i++) {
    const c = on ? ((bytes[i >> 3] >> (7 - (i & 7))) & 1 ? 255 : 0) * 4 : bytes[i] * 4;
    px[i * 4] = UNIT_COLORS[c]; px[i * 4 + 1] = UNIT_COLORS[c + 1]; px[i * 4 + 2] = UNIT_COLORS[c + 2]; px[i * 4 + 3] = 255;
  }
  return img;
}

// Hidden unit u of layer l (1-based) in frame f, as the view asks: its output, or discretized
function unitImage(f, l, u) {
  const on = state.view.discrete && f.units_on ? f.units_on[l - 1][u] : null;
  return unitPixels(f.units[l - 1][u], f.unit_grid, on);
}

function drawUnitCurve(ctx, pic, size) {
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, size, size);
  ctx.strokeStyle = "#1f77b4"; ctx.lineWidth = size / 30; ctx.beginPath();
  pic.forEach((v, i) => { const X = i / (pic.length - 1) * size, Y = size / 2 - v * size * 0.43; i ? ctx.lineTo(X, Y) : ctx.moveTo(X, Y); });
  ctx.stroke();
}

function drawUnits(f) {
  if (!f.units) return;
  const canvases = {};
  for (const c of $("netdraw").querySelectorAll("canvas.unit")) canvases[`${c.dataset.layer},${c.dataset.unit}`] = c;
  f.units.forEach((layer, l) => layer.forEach((pic, u) => {
    const c = canvases[`${l + 1},${u}`];
    if (!c) return;
    const ctx = c.getContext("2d");
    if (Array.isArray(pic)) drawUnitCurve(ctx, pic, 30);
    else ctx.putImageData(unitImage(f, l + 1, u), 0, 0);
  }));
  if (state.hovered) showUnit(...state.hovered);
}

// Hovering a unit: its picture large, its incoming weights and its bias.
function showUnit(l, u, p, node) {
  const f = state.frame, box = $("unit-detail");
  if (!f || !f.units) return;
  state.hovered = [l, u, p, node];
  const pic = f.units[l - 1][u], big = $("unit-large"), ctx = big.getContext("2d");
  if (Array.isArray(pic)) drawUnitCurve(ctx, pic, big.width);
  else {
    const off = document.createElement("canvas"); off.width = off.height = f.unit_grid;
    off.getContext("2d").putImageData(unitImage(f, l, u), 0, 0);
    ctx.imageSmoothingEnabled = !state.view.discrete; ctx.drawImage(off, 0, 0, big.width, big.height);
  }
  const names = l === 1 ? state.dataset.features : Array.from({ length: f.weights[l - 1].length }, (_, i) => `a${l - 1}[${i + 1}]`);
  const weights = f.weights[l - 1].map((row, i) => `${names[i]}: ${sig(row[u], 3)}`);
  const bias = f.biases[l - 1] ? sig(f.biases[l - 1][u], 3) : "none";
  const shows = Array.isArray(pic) ? [] : [el("div", { class: "note", text: state.view.discrete
    ? "blue: switched on (z > 0), orange: off" : "its output a = f(z) over the plane" })];
  $("unit-text").replaceChildren(el("b", { text: `layer ${l}, unit ${u + 1}` }), ...shows,
    el("div", { text: `bias ${bias}` }), el("div", { text: "incoming weights:" }),
    ...weights.map((t) => el("div", { class: "mono", text: t })));
  const W = $("netdraw").clientWidth;
  box.style.left = `${Math.min(p.x + node + 8, W - 190)}px`;
  box.style.top = `${Math.max(0, p.y - 20)}px`;
  box.hidden = false;
  box.onmouseleave = unhover;
}

function unhover() {
  $("unit-detail").hidden = true;
  if (!state.hovered) return;
  state.hovered = null;
  redrawRegion();
}

// The weights' lines are dashed; the dashes move one pixel along each line (inputs towards
// outputs) per frame of training drawn, so they flow while the network trains and stand
// still when it does not (TensorFlow Playground's links move by its step count the same way).
const FLOW_DASH = [7, 3], FLOW_PERIOD = 10;

// A weight's line width in px: 0.3 for 0 up to 3.8 for the largest |w| of the network
// (relative: the network's structure shows at any size), or with a fixed scale, for
// |w| = FIXED_TOP and more (the weights' growth shows as training goes on).
const FIXED_TOP = 3;
function lineWidth(v, top) {
  return 0.3 + 3.5 * Math.min(1, Math.abs(v) / (state.view.fixedLines ? FIXED_TOP : top));
}

function drawWeights(f) {
  const canvas = $("net-canvas"), box = $("netdraw");
  canvas.style.width = `${box.clientWidth}px`; canvas.style.height = `${box.clientHeight}px`;
  const { ctx, w, h } = Charts.context(canvas);
  ctx.clearRect(0, 0, w, h);
  const { node, cols } = layout();
  let top = 1e-9;
  for (const W of f.weights) for (const row of W) for (const v of row) top = Math.max(top, Math.abs(v));
  // dashes flowing from the inputs to the outputs: one dash length on per frame of training
  ctx.setLineDash(FLOW_DASH); ctx.lineDashOffset = -state.flow;
  canvas.dataset.flow = String(state.flow);
  f.weights.forEach((W, l) => W.forEach((row, i) => row.forEach((v, j) => {
    const a = cols[l][i], b = cols[l + 1][j];
    const chosen = state.weight && state.weight.layer === l && state.weight.i === i && state.weight.j === j;
    ctx.strokeStyle = chosen ? "#111" : v >= 0 ? "rgba(31,119,180,0.75)" : "rgba(232,116,59,0.75)";
    ctx.lineWidth = lineWidth(v, top) + (chosen ? 1.2 : 0);
    ctx.beginPath(); ctx.moveTo(a.x + node, a.y + node / 2); ctx.lineTo(b.x, b.y + node / 2); ctx.stroke();
  })));
  ctx.setLineDash([]);
  $("weight-scale").textContent = state.view.fixedLines
    ? `Fixed scale: a line is thickest at |w| ≥ ${FIXED_TOP}; the largest |w| now is ${sig(top, 3)}.`
    : `Thickest line now: |w| = ${sig(top, 3)} (thickness is relative to the largest weight).`;
  const boxes = state.dataset.input_pictures ? [cols[cols.length - 1]] : [cols[0], cols[cols.length - 1]];
  for (const col of boxes) for (const p of col) {
    ctx.fillStyle = "#eef1f6"; ctx.strokeStyle = "#9aa3b2";
    ctx.fillRect(p.x, p.y, node, node); ctx.strokeRect(p.x, p.y, node, node);
  }
}

// The weight whose line passes nearest to (x, y) in the drawing, within 6 px (or null).
function weightAt(x, y) {
  if (!pictured(state.frame)) return null;
  const { node, cols } = layout();
  let best = null, bestDist = 6;
  state.frame.weights.forEach((W, l) => W.forEach((row, i) => row.forEach((_, j) => {
    const ax = cols[l][i].x + node, ay = cols[l][i].y + node / 2, bx = cols[l + 1][j].x, by = cols[l + 1][j].y + node / 2;
    const dx = bx - ax, dy = by - ay, t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
    const dist = Math.hypot(ax + t * dx - x, ay + t * dy - y);
    if (dist < bestDist) { bestDist = dist; best = { layer: l, i, j }; }
  })));
  return best;
}

// The output unit whose box holds (x, y) in the drawing (or null).
function outputAt(x, y) {
  if (!pictured(state.frame)) return null;
  const { node, cols } = layout(), last = cols[cols.length - 1];
  const u = last.findIndex((p) => x >= p.x && x <= p.x + node && y >= p.y && y <= p.y + node);
  return u < 0 ? null : u;
}

// The name of weight W[layer][i, j]: from which input or unit to which unit or output.
function weightName(layer, i, j) {
  const d = state.dataset, last = layer === state.frame.weights.length - 1;
  const from = layer === 0 ? d.features[i] : `unit ${i + 1} of layer ${layer}`;
  const outs = d.classes && d.classes.length > 2 ? d.classes.map((c) => `output ${c}`) : [d.task === "regression" ? "ŷ" : "the logit"];
  const to = last ? outs[j] : `unit ${j + 1} of layer ${layer + 1}`;
  return `${from} → ${to}`;
}

// Hovering a line shows its weight (the click edits it).
function hoverWeight(event) {
  const tip = $("weight-hover"), r = $("netdraw").getBoundingClientRect();
  const x = event.clientX - r.left, y = event.clientY - r.top;
  const hit = state.frame && state.frame.weights ? weightAt(x, y) : null;
  $("net-canvas").style.cursor = hit || outputAt(x, y) !== null ? "pointer" : "default";
  if (!hit) { tip.hidden = true; return; }
  const v = state.frame.weights[hit.layer][hit.i][hit.j];
  tip.textContent = `weight ${weightName(hit.layer, hit.i, hit.j)}: ${sig(v, 3)} · click to edit`;
  tip.hidden = false;
  tip.style.left = `${Math.max(0, Math.min(x + 12, r.width - 4 - tip.offsetWidth))}px`;
  tip.style.top = `${y + 14}px`;
}

function wireNetworkDrawing() {
  $("net-canvas").addEventListener("mousemove", hoverWeight);
  $("net-canvas").addEventListener("mouseleave", () => ($("weight-hover").hidden = true));
  $("net-canvas").addEventListener("click", (event) => {
    const r = $("netdraw").getBoundingClientRect();
    const x = event.clientX - r.left, y = event.clientY - r.top, hit = weightAt(x, y);
    if (hit) return send({ type: "weight", ...hit });
    const out = outputAt(x, y);  // an output's box: its bias
    if (out !== null) send({ type: "bias", layer: state.frame.weights.length - 1, j: out });
  });
  $("weight-set").onclick = () => {
    const value = Number($("weight-value").value);
    if ($("weight-value").value === "" || !isFinite(value)) return showMessage("type a number for the weight");
    const { layer, i, j } = state.weight;
    send(i === null ? { type: "set_bias", layer, j, value } : { type: "set_weight", layer, i, j, value });
  };
  $("weight-close").onclick = closeWeight;
}

// The weight (or bias) box closed: by its button, or because a new run has other weights.
function closeWeight() {
  $("weight-detail").hidden = true;
  state.weight = null;
  if (pictured(state.frame)) drawWeights(state.frame);
}
