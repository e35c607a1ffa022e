// handgrad playground: inside one step (tensor cards, the gradient check, a weight read and
// edited), the curves, the controls a lesson hides, exports and the CSV upload. Text from the data is set with textContent only.
"use strict";

function valuesTable(t) {
  if (!Array.isArray(t.values)) return [el("div", { class: "formula", text: String(t.values) })];
  if (!t.shape.length) return [el("div", { class: "formula", text: `= ${sig(Number(t.values), 6)}` })];
  const rows = t.shape.length === 1 ? [t.values] : t.values;
  const top = Math.max(1e-300, ...rows.flat().map(Math.abs));
  const table = el("table");
  for (const r of rows) {
    const tr = el("tr");
    for (const v of r) {
      const [R, G, B] = Charts.diverging(v / top * 0.6);
      const td = el("td", { text: sig(v, 3) });
      td.style.background = `rgb(${R | 0},${G | 0},${B | 0})`;
      td.title = String(v);
      tr.appendChild(td);
    }
    table.appendChild(tr);
  }
  const more = [];
  if (t.shape.length === 2 && t.shape[0] > rows.length) more.push(`${t.shape[0] - rows.length} more rows`);
  const cols = t.shape[t.shape.length - 1];
  if (cols > rows[0].length) more.push(`${cols - rows[0].length} more columns`);
  const size = t.shape.reduce((a, b) => a * b, 1);
  const rms = t.norm === null ? null : t.norm / Math.sqrt(size);
  const summary = `‖·‖ = ${sig(t.norm, 3)} · rms ${sig(rms, 3)} · largest |entry| shown ${sig(top, 3)}`;
  return [el("div", { class: "cells" }, [table]),
    el("div", { class: "more", text: (more.length ? `… ${more.join(", ")}; ` : "") + summary })];
}

// What the regularization added to each dW before the update ("" when there is none).
function penaltyTerm(msg) {
  if (msg.regularization === "none" || !(msg.reg_rate > 0)) return "";
  return msg.regularization === "l1" ? ` (plus L1 ${msg.reg_rate}·sign(W))` : ` (plus L2 ${msg.reg_rate}·W)`;
}

function renderInspect(msg) {
  const opt = { sgd: "SGD", momentum: "SGD with momentum", adam: "Adam", rmsprop: "RMSProp" }[msg.optimizer];
  $("inspect-summary").textContent = `Step ${msg.step}: a minibatch of ${msg.batch} rows, loss ${sig(msg.loss, 6)}; ` +
    `then ${opt} updated every W and b from dW, db${penaltyTerm(msg)}.`;
  $("tensors").replaceChildren(...msg.tensors.map((t) => {
    const card = el("div", { class: `tensor ${t.phase}` }, [
      el("div", { class: "head" }, [el("span", { class: "tname", text: t.name }),
        el("span", { class: "shape", text: `(${t.shape.join(" × ") || "scalar"})` })]),
      el("div", { class: "formula", text: t.formula }), ...valuesTable(t)]);
    card.dataset.name = t.name;
    return card;
  }));
}

// The gradient check: gradcheck's rows as they come (one per parameter), the verdict, one
// sentence on what it means, and gradcheck's own summary line.
function renderGradcheck(msg) {
  const v = $("gradcheck-verdict");
  v.textContent = msg.passed ? "PASSED" : "FAILED";
  v.className = `verdict ${msg.passed ? "pass" : "fail"}`;
  $("gradcheck-explanation").textContent = msg.explanation;
  const when = msg.step === undefined ? "" : ` at step ${msg.step}`;
  $("gradcheck-summary").textContent = `hg.gradcheck on the first ${msg.batch} training rows${when}. ${msg.summary}`;
  const keys = msg.rows.length ? Object.keys(msg.rows[0]) : [];
  const head = el("tr", {}, keys.map((k) => el("th", { text: k.replace(/_/g, " ") })));
  const body = msg.rows.map((r) => {
    const tr = el("tr", {}, keys.map((k) => {
      const x = r[k];
      const text = typeof x === "boolean" ? (x ? "yes" : "NO")
        : typeof x === "number" && !Number.isInteger(x) ? x.toExponential(2)
        : x === null || x === undefined ? "–"
        : Array.isArray(x) ? (k === "shape" ? x.join("×") || "scalar" : `[${x.join(", ")}]`) : String(x);
      return el("td", { text });
    }));
    if (r.passed === false) tr.className = "bad";
    return tr;
  });
  $("gradcheck-rows").replaceChildren(head, ...body);
}

// A weight W[layer][i, j] or, with i null, a bias b[layer][j]: its value, its gradient, an editor.
function showWeight(msg) {
  state.weight = { layer: msg.layer, i: msg.i, j: msg.j };
  const bias = msg.i === null;
  const from = bias ? "" : msg.layer === 0 ? state.dataset.features[msg.i] : `a${msg.layer}[${msg.i + 1}]`;
  $("weight-text").replaceChildren(
    el("b", { text: bias ? `b${msg.layer + 1}[${msg.j + 1}]` : `W${msg.layer + 1}[${msg.i + 1}, ${msg.j + 1}]` }),
    el("div", { text: bias ? `the bias of unit ${msg.j + 1} of layer ${msg.layer + 1}` : `from ${from} to unit ${msg.j + 1} of layer ${msg.layer + 1}` }),
    el("div", { class: "mono", id: "weight-read", text: `value ${sig(msg.value, 6)}` }),
    el("div", { class: "mono", text: `gradient dL/d${bias ? "b" : "W"} (last step) ${sig(msg.grad, 4)}` }),
    el("div", { class: "note", text: msg.edited ? "set: the training goes on from this value" : "" }));
  $("weight-read").dataset.value = String(msg.value);
  $("weight-read").dataset.grad = String(msg.grad);
  $("weight-value").value = String(msg.value);
  $("weight-detail").hidden = false;
  if (state.frame) drawWeights(state.frame);
}

// --- the curves ---------------------------------------------------------------------------

function drawCharts() {
  const h = state.history, cls = state.dataset.task === "classification", marks = state.marks;
  Charts.line($("loss-chart"), h.step, [
    { name: "train loss", values: h.trainLoss, color: "#1f77b4" },
    { name: "test loss", values: h.testLoss, color: "#e8743b", dash: true }], { title: "Loss", log: true, marks });
  Charts.line($("acc-chart"), h.step, [
    { name: cls ? "train accuracy" : "train R²", values: h.trainScore, color: "#1f77b4" },
    { name: cls ? "test" : "test R²", values: h.testScore, color: "#e8743b", dash: true }],
    { title: cls ? "Accuracy" : "R²", ymax: 1, marks });
  const layers = h.grads.length ? h.grads[h.grads.length - 1].length : 0;
  const gs = [];
  for (let l = 0; l < layers; l++) gs.push({ name: `dW${l + 1}`, values: h.grads.map((g) => g[l]) });
  Charts.line($("grad-chart"), h.step, gs, { title: "Gradient norm ‖dW‖", log: true, marks });
  const ds = [], last = h.dead.length ? h.dead[h.dead.length - 1] : [];
  for (let l = 0; l < last.length; l++) if (last[l] !== null) ds.push({ name: `layer ${l + 1}`, values: h.dead.map((d) => d[l]) });
  Charts.line($("dead-chart"), h.step, ds, { title: ds.length ? "Dead ReLUs (share of units)" : "Dead ReLUs (no ReLU layer)", ymin: 0, ymax: 1, marks });
}

// --- for a lesson -----------------------------------------------------------------------

// For a lesson: the control groups ticked are hidden (the link keeps the choice).
function buildLesson() {
  $("lesson-boxes").replaceChildren(...Object.entries(LESSON_GROUPS).map(([key, label]) => {
    const box = el("input"); box.type = "checkbox"; box.value = key; box.id = `hide-${key}`;
    box.onchange = () => {
      state.hide = [...$("lesson-boxes").querySelectorAll("input:checked")].map((b) => b.value);
      markLesson(); saveToUrl(true);
    };
    return el("label", {}, [box, ` ${label}`]);
  }));
}

function markLesson() {
  for (const node of document.querySelectorAll("[data-hide]")) node.classList.toggle("lesson-hidden", state.hide.includes(node.dataset.hide));
  for (const box of $("lesson-boxes").querySelectorAll("input")) box.checked = state.hide.includes(box.value);
  for (const node of document.querySelectorAll("canvas.input.toggle")) node.classList.toggle("locked", state.hide.includes("inputs"));
}

// --- export ------------------------------------------------------------------------------

const CONNECTING = "the page is still connecting to its session; try again in a moment";

async function download(kind, filename) {
  if (!state.session) return showMessage(CONNECTING);
  if (state.frame && state.frame.diverged) return showMessage("the run has diverged; press Reset first");
  const response = await fetch(`/api/${state.session}/export/${kind}`, { headers: { "X-Handgrad-Token": TOKEN } });
  if (!response.ok) { showMessage((await response.json()).error); return; }
  const blob = await response.blob();
  const loss = response.headers.get("X-Final-Loss"), steps = response.headers.get("X-Steps");
  const parts = [`${filename}: training loss `, el("b", { text: loss })];
  parts[1].id = "export-loss";
  if (steps) { const b = el("b", { text: steps }); b.id = "export-steps"; parts.push(" after ", b, " steps"); }
  $("export-status").replaceChildren(...parts);
  save(blob, filename);
}

function save(blob, filename) {
  const a = el("a");
  a.href = URL.createObjectURL(blob); a.download = filename;
  document.body.appendChild(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 5000);
}

function exportFigures() {
  const parts = ["region", "loss-chart", "acc-chart", "grad-chart", "dead-chart"].map($);
  const ratio = window.devicePixelRatio || 1, pad = 10 * ratio;
  const width = parts[0].width + parts[1].width + 3 * pad;
  const right = parts.slice(1).reduce((s, c) => s + c.height + pad, pad);
  const out = el("canvas");
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
  if (!state.session) {  // chosen before the session exists: read once it does (onHello)
    state.pendingCsv = file; status.className = "note"; status.textContent = `${file.name}: waiting for the connection …`;
    return;
  }
  status.className = "note"; status.textContent = `reading ${file.name} …`;
  const limit = state.limits.max_upload_bytes;
  if (file.size > limit) { status.className = "note bad"; status.textContent = `${file.name} is larger than the ${limit / 1000} kB upload limit`; return; }
  const response = await fetch(`/api/${state.session}/upload?filename=${encodeURIComponent(file.name)}`,
    { method: "POST", body: file, headers: { "X-Handgrad-Token": TOKEN } });
  const body = await response.json();
  if (!response.ok || body.error) { status.className = "note bad"; status.textContent = body.error; $("csv-columns").hidden = true; return; }
  status.textContent = `${body.filename}: ${body.rows} rows, ${body.columns.length} columns`;
  state.csv = { filename: body.filename, columns: body.columns, choice: null };
  const cols = body.columns;
  fillSelect($("csv-target"), cols, cols[cols.length - 1]);
  renderCsvFeatures();
  $("csv-columns").hidden = false;
}

function renderCsvFeatures() {
  const cols = state.csv.columns, target = $("csv-target").value;
  const features = cols.filter((c) => c !== target);
  $("csv-features").replaceChildren(...features.map((c) => {
    const box = el("input"); box.type = "checkbox"; box.value = c; box.checked = true;
    return el("label", {}, [box, ` ${c}`]);
  }));
  fillSelect($("csv-plane-x"), features, features[0]);
  fillSelect($("csv-plane-y"), features, features[1] || features[0]);
}

function useCsv() {
  const features = [...$("csv-features").querySelectorAll("input:checked")].map((i) => i.value);
  state.csv.choice = { target: $("csv-target").value, features, plane: [$("csv-plane-x").value, $("csv-plane-y").value] };
  state.data = "csv"; markDataset(); configure();
}
