// handgrad playground: the page. It draws and sends settings; all training happens on the
// server, on handgrad's engine. This file holds no neural-network code.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  ws: null, session: null, limits: null, dataset: null, frame: null, playing: false,
  data: "moons", hidden: [8, 8], activations: ["tanh", "tanh"], csv: null,
  history: { step: [], trainLoss: [], testLoss: [], trainScore: [], testScore: [], grads: [], dead: [] },
};
const LRS = [0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const BATCHES = [1, 4, 8, 16, 32, 64, 128, 512];
const L2S = [0, 0.0001, 0.001, 0.01, 0.1];
const SPEEDS = [1, 2, 5, 10, 20, 50];
const ACT_LABELS = { relu: "ReLU", leaky_relu: "leaky ReLU", tanh: "tanh", sigmoid: "sigmoid", identity: "identity" };

function fillSelect(el, values, chosen, label) {
  el.innerHTML = "";
  for (const v of values) {
    const o = document.createElement("option");
    o.value = v; o.textContent = label ? label(v) : v;
    if (String(v) === String(chosen)) o.selected = true;
    el.appendChild(o);
  }
}

function showMessage(text) {
  const m = $("message");
  m.textContent = text; m.hidden = !text;
  if (text) clearTimeout(showMessage.timer), (showMessage.timer = setTimeout(() => (m.hidden = true), 12000));
}

// --- the connection ----------------------------------------------------------------------

function connect() {
  const ws = new WebSocket(`ws://${location.host}/ws`);
  state.ws = ws;
  ws.onmessage = (event) => handle(JSON.parse(event.data));
  ws.onclose = () => {
    state.playing = false; updatePlay();
    if (!state.closedByServer) showMessage("The connection to the playground server is closed (was it stopped?). Reload the page to start again.");
    clearTimeout(showMessage.timer);  // this one stays
  };
}

function send(message) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

function handle(msg) {
  switch (msg.type) {
    case "hello": state.session = msg.session; state.limits = msg.limits; buildDatasetButtons(); configure(); break;
    case "dataset": state.dataset = msg; clearHistory(); drawNetworkLayout(); break;
    case "frame": onFrame(msg); break;
    case "inspect": renderInspect(msg); break;
    case "gradcheck": renderGradcheck(msg); break;
    case "status": state.playing = msg.playing; updatePlay(); break;
    case "reset": clearHistory(); $("tensors").innerHTML = ""; $("inspect-summary").textContent = ""; break;
    case "error": showMessage(msg.message); break;
    case "closed": state.closedByServer = true; showMessage(msg.message); clearTimeout(showMessage.timer); break;
  }
}

// --- settings -> server ------------------------------------------------------------------

function settings() {
  const seed = Math.max(0, Math.floor(Number($("seed").value) || 0));
  const data = { name: state.data, n: Number($("n").value), noise: Number($("noise").value),
    classes: Number($("classes").value), test_fraction: Number($("test-fraction").value), seed };
  if (state.data === "csv" && state.csv) Object.assign(data, state.csv.choice);
  return {
    type: "configure", data,
    network: { hidden: state.hidden.slice(), activations: state.activations.slice(), init: $("init").value,
      optimizer: $("optimizer").value, lr: Number($("lr").value), batch_size: Number($("batch-size").value),
      l2: Number($("l2").value), seed },
    steps_per_frame: Number($("speed").value),
  };
}

function configure() {
  state.playing = false; updatePlay();
  send(settings());
}

function buildDatasetButtons() {
  const box = $("datasets"); box.innerHTML = "";
  const names = { xor: "XOR", moons: "moons", circles: "circles", spirals: "spirals", blobs: "blobs", linear: "linear", sine: "sine" };
  for (const [key, about] of Object.entries(state.limits.datasets)) {
    const b = document.createElement("button");
    b.textContent = names[key] || key; b.title = about; b.dataset.name = key; b.id = `data-${key}`;
    b.onclick = () => { state.data = key; markDataset(); configure(); };
    box.appendChild(b);
  }
  markDataset();
}

function markDataset() {
  for (const b of $("datasets").querySelectorAll("button")) b.classList.toggle("chosen", b.dataset.name === state.data);
  $("classes-row").hidden = state.data !== "blobs";
  const about = state.limits && state.limits.datasets[state.data];
  $("data-note").textContent = about ? about : state.data === "csv" ? `your table: ${state.csv.filename}` : "";
}

function renderLayers() {
  const box = $("layers"); box.innerHTML = "";
  state.hidden.forEach((width, i) => {
    const row = document.createElement("div"); row.className = "layer";
    row.innerHTML = `<span class="name">hidden ${i + 1}</span><button data-d="-1" aria-label="fewer units">−</button>` +
      `<span class="width">${width}</span><button data-d="1" aria-label="more units">+</button>`;
    for (const b of row.querySelectorAll("button")) b.onclick = () => {
      const max = state.limits ? state.limits.max_units : 32;
      state.hidden[i] = Math.min(max, Math.max(1, width + Number(b.dataset.d)));
      renderLayers(); configure();
    };
    const sel = document.createElement("select");
    fillSelect(sel, Object.keys(ACT_LABELS), state.activations[i], (v) => ACT_LABELS[v]);
    sel.onchange = () => { state.activations[i] = sel.value; configure(); };
    row.appendChild(sel);
    box.appendChild(row);
  });
  if (!state.hidden.length) box.innerHTML = '<div class="note">no hidden layer: a linear model of the inputs</div>';
}

// --- frames ------------------------------------------------------------------------------

function clearHistory() {
  for (const k of Object.keys(state.history)) state.history[k] = [];
}

function pushHistory(f) {
  const h = state.history, cls = state.dataset.task === "classification";
  if (h.step.length && h.step[h.step.length - 1] === f.step) return;
  h.step.push(f.step); h.trainLoss.push(f.train_loss); h.testLoss.push(f.test_loss);
  h.trainScore.push(cls ? f.train_acc : f.train_r2); h.testScore.push(cls ? f.test_acc : f.test_r2);
  h.grads.push(f.grad_norms); h.dead.push(f.dead);
  if (h.step.length > 1500) for (const k of Object.keys(h)) h[k] = h[k].filter((_, i) => i % 2 === 0);
}

const fmt = (v, d = 4) => (v === undefined || v === null || !isFinite(v) ? "–" : Number(v).toFixed(d));

function onFrame(f) {
  state.frame = f;
  $("step-count").textContent = f.step; $("epoch-count").textContent = f.epoch;
  if (f.diverged) { showMessage("The loss is no longer finite: the run diverged. Lower the learning rate and press Reset."); return; }
  if (!state.dataset) return;
  const cls = state.dataset.task === "classification";
  $("train-loss").textContent = fmt(f.train_loss); $("test-loss").textContent = fmt(f.test_loss);
  $("train-acc").textContent = fmt(cls ? f.train_acc : f.train_r2, 3);
  $("test-acc").textContent = fmt(cls ? f.test_acc : f.test_r2, 3);
  $("train-score-name").textContent = cls ? "train accuracy" : "train R²";
  $("test-score-name").textContent = cls ? "test accuracy" : "test R²";
  pushHistory(f);
  drawRegion(f); drawUnits(f); drawWeights(f); drawCharts();
}

function drawCharts() {
  const h = state.history, cls = state.dataset.task === "classification";
  Charts.line($("loss-chart"), h.step, [
    { name: "train loss", values: h.trainLoss, color: "#1f77b4" },
    { name: "test loss", values: h.testLoss, color: "#e8743b", dash: true }], { title: "Loss", log: true });
  Charts.line($("acc-chart"), h.step, [
    { name: cls ? "train accuracy" : "train R²", values: h.trainScore, color: "#1f77b4" },
    { name: cls ? "test" : "test R²", values: h.testScore, color: "#e8743b", dash: true }],
    { title: cls ? "Accuracy" : "R²", ymax: 1 });
  const layers = h.grads.length ? h.grads[h.grads.length - 1].length : 0;
  const gs = [];
  for (let l = 0; l < layers; l++) gs.push({ name: `dW${l + 1}`, values: h.grads.map((g) => g[l]) });
  Charts.line($("grad-chart"), h.step, gs, { title: "Gradient norm ‖dW‖", log: true });
  const ds = [];
  const nd = h.dead.length ? h.dead[h.dead.length - 1].length : 0;
  for (let l = 0; l < nd; l++) if (h.dead[h.dead.length - 1][l] !== null) ds.push({ name: `layer ${l + 1}`, values: h.dead.map((d) => d[l]) });
  Charts.line($("dead-chart"), h.step, ds, { title: ds.length ? "Dead ReLUs (share of units)" : "Dead ReLUs (no ReLU layer)", ymin: 0, ymax: 1 });
}

function classColor(k) { return Charts.PALETTE[k % Charts.PALETTE.length]; }

function drawRegion(f) {
  const canvas = $("region"), d = state.dataset;
  const { ctx, w, h } = Charts.context(canvas);
  ctx.clearRect(0, 0, w, h);
  if (d.curve) return drawCurve(ctx, w, h, f, d);
  const g = f.grid, img = ctx.createImageData(g, g);
  if (d.task === "classification") {
    const cls = Charts.decode(f.region_class), conf = Charts.decode(f.region_conf);
    const p1 = f.region_p1 ? Charts.decode(f.region_p1) : null;
    for (let i = 0; i < g * g; i++) {
      let rgb;
      if (p1) rgb = Charts.diverging((p1[i] / 255 - 0.5) * 2 * 0.5);
      else {
        const c = Charts.hexToRgb(classColor(cls[i])), a = 0.1 + 0.4 * (conf[i] / 255);
        rgb = c.map((x) => 255 + (x - 255) * a);
      }
      img.data.set([rgb[0], rgb[1], rgb[2], 255], i * 4);
    }
  } else {
    const v = Charts.decode(f.region_value);
    for (let i = 0; i < g * g; i++) img.data.set([...Charts.diverging((v[i] / 255 - 0.5) * 2 * 0.8), 255], i * 4);
  }
  const off = document.createElement("canvas"); off.width = g; off.height = g;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true; ctx.drawImage(off, 0, 0, w, h);
  const [x0, x1, y0, y1] = d.bounds;
  const binaryColors = ["#e8743b", "#1f77b4"];
  d.points.forEach(([x, y], i) => {
    const X = (x - x0) / (x1 - x0) * w, Y = (1 - (y - y0) / (y1 - y0)) * h;
    const test = d.test[i] === 1;
    let color = "#555";
    if (d.labels) color = d.classes.length === 2 ? binaryColors[d.labels[i]] : classColor(d.labels[i]);
    ctx.beginPath(); ctx.arc(X, Y, test ? 3.2 : 2.8, 0, 2 * Math.PI);
    ctx.fillStyle = test ? "#fff" : color; ctx.fill();
    ctx.lineWidth = test ? 1.6 : 0.8; ctx.strokeStyle = test ? color : "#fff"; ctx.stroke();
  });
  ctx.fillStyle = "#3a4150"; ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(d.plane ? `${d.plane[0]} →` : "", w - 50, h - 6);
  ctx.save(); ctx.translate(12, 46); ctx.rotate(-Math.PI / 2); ctx.fillText(d.plane ? `${d.plane[1]} →` : "", 0, 0); ctx.restore();
  const names = d.classes || [];
  $("region-legend").innerHTML = (d.task === "classification"
    ? names.map((c, k) => `<i style="background:${names.length === 2 ? binaryColors[k] : classColor(k)}"></i>${d.target} ${c}`).join("")
    : "colour: predicted value") + ' · filled: train, ringed: test';
}

function drawCurve(ctx, w, h, f, d) {
  const [x0, x1] = d.bounds, ys = d.points.map((p) => p[1]).concat(f.curve);
  const y0 = Math.min(...ys), y1 = Math.max(...ys), pad = 0.08 * (y1 - y0 || 1);
  const px = (x) => 30 + (x - x0) / (x1 - x0) * (w - 40), py = (y) => 10 + (1 - (y - y0 + pad) / (y1 - y0 + 2 * pad)) * (h - 36);
  ctx.strokeStyle = "#dde1e8"; ctx.strokeRect(30, 10, w - 40, h - 36);
  d.points.forEach(([x, y], i) => {
    ctx.beginPath(); ctx.arc(px(x), py(y), 2.6, 0, 2 * Math.PI);
    if (d.test[i]) { ctx.strokeStyle = "#e8743b"; ctx.stroke(); } else { ctx.fillStyle = "#1f77b4"; ctx.fill(); }
  });
  ctx.strokeStyle = "#222"; ctx.lineWidth = 2; ctx.beginPath();
  f.curve.forEach((y, i) => { const X = px(x0 + (x1 - x0) * i / (f.curve.length - 1)); i ? ctx.lineTo(X, py(y)) : ctx.moveTo(X, py(y)); });
  ctx.stroke(); ctx.lineWidth = 1;
  ctx.fillStyle = "#3a4150"; ctx.font = "11px system-ui, sans-serif";
  ctx.fillText(`${d.features[0]} →`, w - 50, h - 8); ctx.fillText(`${d.target}`, 4, 20);
  $("region-legend").textContent = "line: the network's prediction · filled: train, ringed: test";
}

// --- the network drawing -----------------------------------------------------------------

function layout() {
  const box = $("netdraw"), d = state.dataset;
  const W = box.clientWidth, H = box.clientHeight, sizes = d.sizes;
  const maxUnits = Math.max(...sizes);
  const node = Math.max(10, Math.min(40, (H - 20) / maxUnits - 6));
  const cols = sizes.map((n, l) => {
    const x = 46 + l * (W - 66 - node) / (sizes.length - 1);  // room for the input names
    const gap = Math.min(node + 8, (H - 20) / n);
    const top = (H - gap * n) / 2 + (gap - node) / 2;
    return Array.from({ length: n }, (_, u) => ({ x, y: top + u * gap }));
  });
  return { W, H, node, cols };
}

function drawNetworkLayout() {
  const box = $("netdraw");
  for (const el of box.querySelectorAll("canvas.unit, .io-label")) el.remove();
  const { node, cols } = layout(), d = state.dataset;
  $("sizes").textContent = d.sizes.join(" – ");
  cols.forEach((col, l) => col.forEach((p, u) => {
    if (l > 0 && l < cols.length - 1) {
      const c = document.createElement("canvas");
      c.className = "unit"; c.width = 30; c.height = 30;
      c.dataset.layer = l; c.dataset.unit = u;
      Object.assign(c.style, { left: `${p.x}px`, top: `${p.y}px`, width: `${node}px`, height: `${node}px` });
      box.appendChild(c);
    } else {
      const label = document.createElement("div");
      label.className = "io-label";
      const names = l === 0 ? d.features : (d.classes && d.classes.length > 2 ? d.classes.map((c) => `${c}`) : [d.task === "regression" ? "ŷ" : "logit"]);
      const name = names[u] !== undefined ? String(names[u]) : "";
      label.textContent = l === 0 && name.length > 7 ? `${name.slice(0, 6)}…` : name;
      label.title = name;
      const at = l === 0 ? { right: `${box.clientWidth - p.x + 3}px`, top: `${p.y + node / 2 - 8}px` }
        : { left: `${p.x}px`, top: `${p.y - 16}px` };  // input names to the left, output's above
      Object.assign(label.style, at);
      box.appendChild(label);
    }
  }));
}

function drawUnits(f) {
  if (!f.units) return;
  const box = $("netdraw");
  f.units.forEach((layer, l) => layer.forEach((pic, u) => {
    const c = box.querySelector(`canvas.unit[data-layer="${l + 1}"][data-unit="${u}"]`);
    if (!c) return;
    const ctx = c.getContext("2d");
    if (Array.isArray(pic)) {  // 1-D: a curve of the unit's output over x
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, 30, 30);
      ctx.strokeStyle = "#1f77b4"; ctx.beginPath();
      pic.forEach((v, i) => { const X = i / (pic.length - 1) * 30, Y = 15 - v * 13; i ? ctx.lineTo(X, Y) : ctx.moveTo(X, Y); });
      ctx.stroke(); return;
    }
    const g = f.unit_grid, bytes = Charts.decode(pic), img = ctx.createImageData(g, g);
    for (let i = 0; i < g * g; i++) img.data.set([...Charts.diverging((bytes[i] / 255 - 0.5) * 2), 255], i * 4);
    ctx.putImageData(img, 0, 0);
  }));
}

function drawWeights(f) {
  const canvas = $("net-canvas"), box = $("netdraw");
  canvas.style.width = `${box.clientWidth}px`; canvas.style.height = `${box.clientHeight}px`;
  const { ctx, w, h } = Charts.context(canvas);
  ctx.clearRect(0, 0, w, h);
  const { node, cols } = layout();
  let top = 1e-9;
  for (const W of f.weights) for (const row of W) for (const v of row) top = Math.max(top, Math.abs(v));
  f.weights.forEach((W, l) => W.forEach((row, i) => row.forEach((v, j) => {
    const a = cols[l][i], b = cols[l + 1][j];
    ctx.strokeStyle = v >= 0 ? "rgba(31,119,180,0.75)" : "rgba(232,116,59,0.75)";
    ctx.lineWidth = 0.3 + 3.5 * Math.abs(v) / top;
    ctx.beginPath(); ctx.moveTo(a.x + node, a.y + node / 2); ctx.lineTo(b.x, b.y + node / 2); ctx.stroke();
  })));
  const ends = [cols[0], cols[cols.length - 1]];
  ends.forEach((col) => col.forEach((p) => {
    ctx.fillStyle = "#eef1f6"; ctx.strokeStyle = "#9aa3b2";
    ctx.fillRect(p.x, p.y, node, node); ctx.strokeRect(p.x, p.y, node, node);
  }));
}

// --- inside one step ---------------------------------------------------------------------

function valuesTable(t) {
  if (!Array.isArray(t.values)) return `<div class="formula">${t.values}</div>`;
  if (!t.shape.length) return `<div class="formula">= ${Number(t.values).toFixed(6)}</div>`;
  const rows = t.shape.length === 1 ? [t.values] : t.values;
  const top = Math.max(1e-12, ...rows.flat().map(Math.abs));
  const cells = rows.map((r) => "<tr>" + r.map((v) => {
    const [R, G, B] = Charts.diverging(v / top * 0.6);
    return `<td style="background:rgb(${R | 0},${G | 0},${B | 0})">${v.toFixed(3)}</td>`;
  }).join("") + "</tr>").join("");
  const more = [];
  if (t.shape.length === 2 && t.shape[0] > rows.length) more.push(`${t.shape[0] - rows.length} more rows`);
  const cols = t.shape[t.shape.length - 1];
  if (cols > rows[0].length) more.push(`${cols - rows[0].length} more columns`);
  return `<table>${cells}</table>` + (more.length ? `<div class="more">… ${more.join(", ")}; ‖·‖ = ${Charts.niceNumber(t.norm)}</div>` : `<div class="more">‖·‖ = ${Charts.niceNumber(t.norm)}</div>`);
}

function renderInspect(msg) {
  const opt = { sgd: "SGD", momentum: "SGD with momentum", adam: "Adam", rmsprop: "RMSProp" }[msg.optimizer];
  $("inspect-summary").textContent = `Step ${msg.step}: a minibatch of ${msg.batch} rows, loss ${msg.loss.toFixed(6)}; ` +
    `then ${opt} updated every W and b from dW, db${msg.l2 ? ` (plus L2 ${msg.l2}·W)` : ""}.`;
  $("tensors").innerHTML = msg.tensors.map((t) =>
    `<div class="tensor ${t.phase}" data-name="${t.name}"><div class="head"><span class="tname">${t.name}</span>` +
    `<span class="shape">(${t.shape.join(" × ") || "scalar"})</span></div>` +
    `<div class="formula">${t.formula}</div>${valuesTable(t)}</div>`).join("");
}

function renderGradcheck(msg) {
  const v = $("gradcheck-verdict");
  v.textContent = msg.passed ? "PASSED" : "FAILED";
  v.className = `verdict ${msg.passed ? "pass" : "fail"}`;
  $("gradcheck-table").textContent = `hg.gradcheck on the first ${msg.batch} training rows\n\n${msg.table}`;
}

// --- export ------------------------------------------------------------------------------

async function download(kind, filename) {
  const response = await fetch(`/api/${state.session}/export/${kind}`);
  if (!response.ok) { showMessage((await response.json()).error); return; }
  const blob = await response.blob();
  const loss = response.headers.get("X-Final-Loss"), steps = response.headers.get("X-Steps");
  $("export-status").innerHTML = `${filename}: training loss <b id="export-loss">${loss}</b>` +
    (steps ? ` after <b id="export-steps">${steps}</b> steps` : "");
  save(blob, filename);
}

function save(blob, filename) {
  const a = document.createElement("a");
  a.href = URL.createObjectURL(blob); a.download = filename;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 5000);
}

function exportFigures() {
  const parts = ["region", "loss-chart", "acc-chart", "grad-chart", "dead-chart"].map($);
  const ratio = window.devicePixelRatio || 1, pad = 10 * ratio;
  const width = parts[0].width + parts[1].width + 3 * pad;
  const right = parts.slice(1).reduce((s, c) => s + c.height + pad, pad);
  const out = document.createElement("canvas");
  out.width = width; out.height = Math.max(parts[0].height + 2 * pad, right);
  const ctx = out.getContext("2d");
  ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(parts[0], pad, pad);
  let y = pad;
  for (const c of parts.slice(1)) { ctx.drawImage(c, parts[0].width + 2 * pad, y); y += c.height + pad; }
  out.toBlob((blob) => save(blob, "playground-figures.png"));
}

// --- your own CSV ------------------------------------------------------------------------

async function uploadCsv(file) {
  const status = $("csv-status");
  status.className = "note"; status.textContent = `reading ${file.name} …`;
  const limit = state.limits.max_upload_bytes;
  if (file.size > limit) { status.className = "note bad"; status.textContent = `${file.name} is larger than the ${limit / 1000} kB upload limit`; return; }
  const response = await fetch(`/api/${state.session}/upload?filename=${encodeURIComponent(file.name)}`, { method: "POST", body: file });
  const body = await response.json();
  if (!response.ok || body.error) { status.className = "note bad"; status.textContent = body.error; $("csv-columns").hidden = true; return; }
  status.textContent = `${body.filename}: ${body.rows} rows, ${body.columns.length} columns`;
  state.csv = { filename: body.filename, columns: body.columns, choice: null };
  const cols = body.columns, target = cols[cols.length - 1];
  fillSelect($("csv-target"), cols, target);
  renderCsvFeatures();
  $("csv-columns").hidden = false;
}

function renderCsvFeatures() {
  const cols = state.csv.columns, target = $("csv-target").value;
  const box = $("csv-features"); box.innerHTML = "";
  cols.filter((c) => c !== target).forEach((c) => {
    const label = document.createElement("label");
    label.innerHTML = `<input type="checkbox" value="${c}" checked> ${c}`;
    box.appendChild(label);
  });
  const features = cols.filter((c) => c !== target);
  fillSelect($("csv-plane-x"), features, features[0]);
  fillSelect($("csv-plane-y"), features, features[1] || features[0]);
}

function useCsv() {
  const features = [...$("csv-features").querySelectorAll("input:checked")].map((i) => i.value);
  state.csv.choice = { target: $("csv-target").value, features, plane: [$("csv-plane-x").value, $("csv-plane-y").value] };
  state.data = "csv"; markDataset(); configure();
}

// --- wiring ------------------------------------------------------------------------------

function updatePlay() { $("play").textContent = state.playing ? "❚❚ Pause" : "▶ Play"; }

function init() {
  fillSelect($("lr"), LRS, 0.03); fillSelect($("batch-size"), BATCHES, 16);
  fillSelect($("l2"), L2S, 0); fillSelect($("speed"), SPEEDS, 5);
  renderLayers();
  const outputs = { n: (v) => v, noise: (v) => Number(v).toFixed(2), "test-fraction": (v) => `${Math.round(v * 100)}%`, classes: (v) => v };
  for (const [id, show] of Object.entries(outputs)) {
    $(id).oninput = () => ($(`${id}-out`).textContent = show($(id).value));
    $(id).onchange = configure;
  }
  for (const id of ["init", "optimizer", "lr", "batch-size", "l2", "speed", "seed"]) $(id).onchange = configure;
  $("add-layer").onclick = () => {
    if (state.hidden.length >= (state.limits ? state.limits.max_layers : 6)) return showMessage("that is the most hidden layers the page offers");
    state.hidden.push(4); state.activations.push(state.activations[state.activations.length - 1] || "tanh");
    renderLayers(); configure();
  };
  $("remove-layer").onclick = () => { state.hidden.pop(); state.activations.pop(); renderLayers(); configure(); };
  $("play").onclick = () => send({ type: state.playing ? "pause" : "play" });
  $("step").onclick = () => send({ type: "step" });
  $("reset").onclick = () => send({ type: "reset" });
  $("gradcheck").onclick = () => { $("gradcheck-verdict").textContent = "checking …"; send({ type: "gradcheck" }); };
  $("export-model").onclick = () => download("model", "playground-model.npz");
  $("export-script").onclick = () => download("script", "playground_run.py");
  $("export-png").onclick = exportFigures;
  $("csv-file").onchange = (e) => e.target.files[0] && uploadCsv(e.target.files[0]);
  $("csv-target").onchange = renderCsvFeatures;
  $("csv-use").onclick = useCsv;
  window.addEventListener("resize", () => { if (state.dataset) { drawNetworkLayout(); if (state.frame) onFrame(state.frame); } });
  connect();
}

init();
