// handgrad playground: the page's state, the connection and the settings. It draws and sends
// settings; all training happens on the server, on handgrad's engine. No neural-network code.
// Data-derived text is always set with textContent, never parsed as markup.
"use strict";

const TOKEN = new URLSearchParams(location.search).get("token") || "";
const state = {
  ws: null, session: null, limits: null, dataset: null, frame: null, playing: false,
  ready: false, queue: [], ended: false, retries: 0, configuring: false, again: false,
  settling: false, stepping: false, moreSteps: 0, pressed: 0, answered: 0,  // Play/Pause presses sent and answered  // Step clicks held while one is answered  // a new session's default run, not drawn until the page's own settings land
  flow: 0,  // how far the weights' dashes have moved (one pixel a frame of training)
  data: "moons", draw: 0, hidden: [8, 8], activations: ["tanh", "tanh"], inputs: ["x1", "x2"], csv: null,
  history: { step: [], trainLoss: [], testLoss: [], trainScore: [], testScore: [], grads: [], dead: [] },
  marks: [],
  view: { showTest: true, discrete: false, fixedLines: false, pauseHidden: false },  // how it is drawn (no retraining)
  hide: [],  // control groups hidden for a lesson (kept in the link)
};
const LRS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const BATCHES = [1, 4, 8, 16, 32, 64, 128, 512];
const RATES = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_LABELS = { none: "none", l1: "L1", l2: "L2" };
const SPEEDS = [1, 2, 5, 10, 20, 50];
const DECAYS = [0.5, 0.8, 0.9, 0.95, 0.99];
const DECAY_LABELS = { momentum: "momentum μ", adam: "β₁ (Adam)", rmsprop: "ρ (RMSProp)" };
const ACT_LABELS = { relu: "ReLU", leaky_relu: "leaky ReLU", tanh: "tanh", sigmoid: "sigmoid", identity: "identity" };
const DATA_LABELS = { xor: "XOR", moons: "moons", circles: "circles", spirals: "spirals", blobs: "blobs",
  linear: "linear", sine: "sine", plane: "plane", bump: "bump", gaussians: "bumps" };
const LESSON_GROUPS = { data: "data sets", points: "points", noise: "noise", regenerate: "regenerate",
  test: "test part", inputs: "feature inputs", csv: "your own CSV", layers: "layers", init: "init",
  optimizer: "optimizer", lr: "learning rate", batch: "batch size", regularization: "regularization",
  speed: "steps / frame", seed: "seed", view: "show test data, discretize", inside: "inside one step", export: "export" };
const FEATURE_LABELS = { x1: "x₁", x2: "x₂", x1sq: "x₁²", x2sq: "x₂²", x1x2: "x₁x₂", sinx1: "sin x₁", sinx2: "sin x₂" };

function fillSelect(select, values, chosen, label) {
  select.replaceChildren(...values.map((v) => {
    const o = el("option", { text: label ? label(v) : String(v) });
    o.value = v; o.selected = String(v) === String(chosen);
    return o;
  }));
}

function showMessage(text, sticky) {
  const m = $("message");
  m.textContent = text; m.hidden = !text;
  clearTimeout(showMessage.timer);
  if (text && !sticky) showMessage.timer = setTimeout(() => (m.hidden = true), 12000);
}

// --- the connection: messages wait in a queue until the session is ready ------------------

function setConnection(text, ready) {
  state.ready = ready;
  $("connection").textContent = text;
  document.body.classList.toggle("connecting", !ready);
}

function connect() {
  const query = new URLSearchParams({ token: TOKEN });
  if (state.session) query.set("session", state.session);
  const ws = new WebSocket(`ws://${location.host}/ws?${query}`);
  state.ws = ws;
  ws.onmessage = (event) => handle(JSON.parse(event.data));
  ws.onclose = (event) => {
    if (state.ws !== ws) return;
    state.playing = false; updatePlay();
    if (state.ended) return;
    if (event.code === 4001) {  // every session slot is taken: retrying would not help
      state.ended = true; setConnection("too many tabs", false);
      showMessage("Too many playground tabs are open on this server: close one, then reload this tab.", true);
      return;
    }
    if (event.code === 4003 || event.code === 1008 || state.retries >= 8) {
      state.ended = true; setConnection("session ended", false);
      showMessage("The playground server has stopped or restarted: this session ended. Start `handgrad playground` again and open the URL it prints.", true);
      return;
    }
    state.retries += 1;
    setConnection("reconnecting…", false);
    setTimeout(connect, Math.min(4000, 250 * 2 ** state.retries));
  };
}

function send(message) {
  // an action (play, step, reset, ...) goes after the settings chosen before it
  if (message.type !== "configure" && state.again) sendSettings(true);
  if (message.type !== "step" && state.moreSteps) sendSteps();
  if (state.ready && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
  else state.queue.push(message);
}

// The server sends a playing session's next frame only once the page has drawn the last:
// a page slower than the server never queues frames, so a click is answered at once. The
// player's frames are numbered; the answer names the frame drawn (no other frame counts).
function drawn(f) {
  if (f.seq && state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(`{"type":"drawn","seq":${f.seq}}`);
}

function flushQueue() {
  const waiting = state.queue; state.queue = [];
  for (const m of waiting) send(m);
}

function handle(msg) {
  switch (msg.type) {
    case "hello": onHello(msg); break;
    case "dataset": state.dataset = msg; state.frame = null; if (!msg.keep_history) { clearHistory(); closeWeight(); }
      if (!state.settling) { drawNetworkLayout(); markView(); } break;
    case "frame": try { onFrame(msg); } finally { drawn(msg); } break;
    case "inspect": renderInspect(msg); stepped(); break;
    case "gradcheck": checking(false); renderGradcheck(msg); break;
    case "weight": showWeight(msg); break;
    case "changed": settled(); markChange(msg); configured(); break;
    case "status": onStatus(msg); break;
    case "reset": state.settling = false; configured(); clearHistory(); $("tensors").replaceChildren(); $("inspect-summary").textContent = ""; break;
    case "error": if (msg.message.startsWith("gradcheck:")) checking(false);
      if (msg.message.startsWith("step:")) stepped();
      if (/^(play|pause):/.test(msg.message)) state.answered = state.pressed;  // no answer comes
      if (msg.message.startsWith("configure:")) { settled(); configured(); }
      showMessage(msg.message); break;
  }
}

// The first reply to the page's settings on a new session: what it kept of the default run
// (the same data set, say) is drawn now.
function settled() {
  if (!state.settling) return;
  state.settling = false;
  if (!state.dataset) return;
  drawNetworkLayout(); markView();
  if (state.frame) onFrame(state.frame);
}

function onHello(msg) {
  const first = !state.limits;
  state.session = msg.session; state.limits = msg.limits; state.retries = 0;
  if (first) { buildDatasetButtons(); buildInputs(); }
  setConnection("connected", true);
  if (msg.ended) showMessage("The previous session ended (the server restarted, or newer tabs needed its place); this is a new one with your settings.");
  state.configuring = state.stepping = false;  // what was on its way went with the old connection
  const queuedPress = state.queue.find((m) => m.id);  // earlier presses went with it too
  state.answered = queuedPress ? queuedPress.id - 1 : state.pressed;
  // a new session starts on the server's default run: the page's own settings replace it
  // before anything of it is drawn (a link opened shows the link's run from the first picture)
  if (!msg.restored) state.settling = true;
  if (!msg.restored || state.again) { state.again = false; state.ws.send(JSON.stringify(settings())); }
  if (document.hidden) state.ws.send('{"type":"view","hidden":true}');
  // a check the old connection was running is lost with it: ask again
  if ($("gradcheck").disabled && !state.queue.some((m) => m.type === "gradcheck")) state.queue.push({ type: "gradcheck" });
  flushQueue();
  if (state.pendingCsv) { const file = state.pendingCsv; state.pendingCsv = null; uploadCsv(file); }
}

// --- settings -> server (the URL that holds them: link.js) ------------------------------

function settings() {
  const seed = Math.max(0, Math.floor(Number($("seed").value) || 0));
  const data = { name: state.data, n: Number($("n").value), noise: Number($("noise").value),
    classes: Number($("classes").value), test_fraction: Number($("test-fraction").value), seed,
    draw: state.draw, inputs: state.inputs.slice() };
  if (state.data === "csv" && state.csv) Object.assign(data, state.csv.choice);
  return {
    type: "configure", data,
    network: { hidden: state.hidden.slice(), activations: state.activations.slice(), init: $("init").value,
      optimizer: $("optimizer").value, lr: Number($("lr").value), batch_size: Number($("batch-size").value),
      regularization: $("reg").value, reg_rate: Number($("reg-rate").value), seed, decay: Number($("decay").value) },
    steps_per_frame: Number($("speed").value),
  };
}

function configure() {
  sendSettings();
  saveToUrl(true);
}

// One set of settings on its way at a time: changes made before the server answered are
// sent together, as the latest settings, once it has (or at once when an action follows
// them: the order of settings and actions is kept). A burst (regenerate clicked 30 times,
// Back pressed 20 times) so costs the server two configurations, not one per click, and
// the Pause pressed after it is answered at once.
function sendSettings(now) {
  if (state.configuring && !now) { state.again = true; return; }
  state.again = false;
  state.configuring = state.ready;  // before the session is ready, the queue keeps order
  send(settings());
}

// Step clicks, like settings, go one message at a time: clicks made while a step is answered
// are sent as one message of that many steps (each click is still one training step; the
// last is the one shown inside), so 20 clicks on a large network cost two round trips.
function sendSteps() {
  const steps = state.moreSteps;
  state.moreSteps = 0;
  state.stepping = state.ready;  // before the session is ready, the queue keeps order
  send(steps === 1 ? { type: "step" } : { type: "step", steps });
}

function stepped() {
  state.stepping = false;
  if (state.moreSteps) sendSteps();
}

function configured() {
  state.configuring = false;
  if (state.again) sendSettings();
}

// --- the data panel ----------------------------------------------------------------------

function buildDatasetButtons() {
  const box = $("datasets"), regression = state.limits.regression;
  box.replaceChildren();
  const sets = Object.entries(state.limits.datasets);  // the task's name above its sets
  sets.sort(([a], [b]) => regression.includes(a) - regression.includes(b));
  for (const [key, about] of sets) {
    const task = regression.includes(key) ? "regression" : "classification";
    if (!box.querySelector(`.task.${task}`)) box.appendChild(el("div", { class: `task ${task}`, text: task }));
    const preview = state.limits.previews && state.limits.previews[key];
    const picture = el("canvas", { class: "preview" });
    const b = el("button", {}, [picture, el("span", { text: DATA_LABELS[key] || key })]);
    b.title = about; b.dataset.name = key; b.id = `data-${key}`;
    if (preview) drawPreview(picture, preview); else picture.remove();
    b.onclick = () => { if (key !== state.data) state.draw = 0; state.data = key; markDataset(); configure(); };
    box.appendChild(b);
  }
  markDataset();
}

function buildInputs() {
  const box = $("inputs");
  box.replaceChildren();
  for (const [key, label] of Object.entries(state.limits.features)) {
    const input = el("input"); input.type = "checkbox"; input.value = key; input.id = `input-${key}`;
    input.checked = state.inputs.includes(key);
    input.onchange = () => {
      const chosen = [...box.querySelectorAll("input:checked")].map((i) => i.value);
      if (!chosen.length) { input.checked = true; return showMessage("the network needs at least one input"); }
      state.inputs = chosen; configure();
    };
    box.appendChild(el("label", {}, [input, ` ${label}`]));
  }
}

function markDataset() {
  for (const b of $("datasets").querySelectorAll("button")) b.classList.toggle("chosen", b.dataset.name === state.data);
  const csv = state.data === "csv";
  $("draw-note").textContent = state.draw ? `draw ${state.draw}: new points, same network` : "new points, same network";
  $("classes-row").hidden = state.data !== "blobs";
  $("generator").hidden = csv;  // a table has no generator settings
  $("inputs-box").hidden = csv || state.data === "sine";
  const about = state.limits && state.limits.datasets[state.data];
  $("data-note").textContent = about ? about : csv && state.csv ? `your table: ${state.csv.filename}` : "";
}

function renderLayers() {
  const box = $("layers");
  box.replaceChildren();
  state.hidden.forEach((width, i) => {
    const fewer = el("button", { text: "−" }), more = el("button", { text: "+" });
    fewer.setAttribute("aria-label", "fewer units"); more.setAttribute("aria-label", "more units");
    const change = (d) => () => {
      const max = state.limits ? state.limits.max_units : 32;
      state.hidden[i] = Math.min(max, Math.max(1, width + d));
      renderLayers(); configure();
    };
    fewer.onclick = change(-1); more.onclick = change(1);
    const sel = el("select");
    fillSelect(sel, Object.keys(ACT_LABELS), state.activations[i], (v) => ACT_LABELS[v]);
    sel.onchange = () => { state.activations[i] = sel.value; configure(); };
    box.appendChild(el("div", { class: "layer" }, [el("span", { class: "name", text: `hidden ${i + 1}` }),
      fewer, el("span", { class: "width", text: String(width) }), more, sel]));
  });
  if (!state.hidden.length) box.appendChild(el("div", { class: "note", text: "no hidden layer: a linear model of the inputs" }));
}

// --- frames and curves -------------------------------------------------------------------

function clearHistory() {
  for (const k of Object.keys(state.history)) state.history[k] = [];
  state.marks = []; $("changes").replaceChildren();
}

function pushHistory(f) {
  const h = state.history, cls = state.dataset.task === "classification";
  if (h.step.length && h.step[h.step.length - 1] === f.step) return;
  h.step.push(f.step); h.trainLoss.push(f.train_loss); h.testLoss.push(f.test_loss);
  h.trainScore.push(cls ? f.train_acc : f.train_r2); h.testScore.push(cls ? f.test_acc : f.test_r2);
  h.grads.push(f.grad_norms); h.dead.push(f.dead);
  if (h.step.length > 1500) for (const k of Object.keys(h)) h[k] = h[k].filter((_, i) => i % 2 === 0);
}

function markChange(msg) {
  const names = { lr: "learning rate", decay: "momentum / β₁ / ρ", optimizer: "optimizer",
    regularization: "regularization", reg_rate: "regularization rate", batch_size: "batch size", noise: "noise",
    draw: "new points: draw" };
  const parts = Object.entries(msg.changes).filter(([k]) => names[k])
    .map(([k, v]) => `${names[k]} → ${k === "regularization" ? REG_LABELS[v] : v}`);
  if (!parts.length || msg.step === 0) return;  // before the first step: just the settings
  state.marks.push({ step: msg.step, label: parts.join(", ") });
  $("changes").appendChild(el("div", { class: "change", text: `step ${msg.step}: ${parts.join(", ")}` }));
  if (state.frame) drawCharts();
}

const fixed = (v, d = 4) => (v === undefined || v === null || !isFinite(v) ? "–" : Number(v).toFixed(d));

function onFrame(f) {
  if (f.stopping) return;  // the server is shutting down
  if (state.frame && f.step !== state.frame.step && !document.hidden) state.flow = (state.flow + 1) % FLOW_PERIOD;
  state.frame = f;
  if (state.settling) return;  // the default run of a new session: never shown
  $("step-count").textContent = f.step; $("epoch-count").textContent = f.epoch;
  if (f.diverged) { showMessage("The run diverged: its numbers are no longer finite (the loss or the gradients overflowed). Lower the learning rate or the regularization rate and press Reset."); return; }
  if (!state.dataset) return;
  const cls = state.dataset.task === "classification";
  $("train-loss").textContent = fixed(f.train_loss); $("test-loss").textContent = fixed(f.test_loss);
  $("train-acc").textContent = fixed(cls ? f.train_acc : f.train_r2, 3);
  $("test-acc").textContent = fixed(cls ? f.test_acc : f.test_r2, 3);
  $("train-score-name").textContent = cls ? "train accuracy" : "train R²";
  $("test-score-name").textContent = cls ? "test accuracy" : "test R²";
  pushHistory(f);
  if (document.hidden) return;  // a hidden tab draws nothing; shown again, it draws the last frame
  drawCharts();
  if (pictured(f)) { drawRegion(f); drawUnits(f); drawWeights(f); }
}

// A hidden tab trains on (the run is the learner's, as a job left running) but draws
// nothing and is sent no pictures: the server builds only the scores for the curves, and
// its next frame still waits for the page's "drawn", so nothing piles up. Shown again, the
// page draws the last frame at once, or asks for one when that had no pictures.
function onVisibility() {
  send({ type: "view", hidden: document.hidden });
  pauseWhileHidden();
  if (document.hidden || !state.frame || !state.dataset || state.settling) return;
  if (pictured(state.frame)) onFrame(state.frame);
  else if (!state.frame.diverged && !state.playing) send({ type: "frame" });
}

// TensorFlow Playground's way, when ticked (kept in the link): a hidden tab pauses (the
// server trains nothing for it) and plays on when shown again.
function pauseWhileHidden() {
  if (document.hidden && state.view.pauseHidden && state.playing) { state.resumeOnShow = true; press("pause"); }
  if (!document.hidden && state.resumeOnShow) { state.resumeOnShow = false; if (!state.playing) press("play"); }
}

// --- wiring ------------------------------------------------------------------------------

// The drawing's box changed size (the window, or the panels beside it grew): laid out anew.
function redrawNetwork() {
  if (state.dataset && !state.settling) { drawNetworkLayout(); if (state.frame) onFrame(state.frame); }
}

function markOptimizer() {
  const kind = $("optimizer").value;
  $("decay-box").hidden = !DECAY_LABELS[kind];
  $("decay-label").textContent = DECAY_LABELS[kind] || "";
}

// The output's look (test points shown, regions discretized): redrawn from the last frame,
// nothing is sent to the server and the training is not touched.
function setView(change) {
  Object.assign(state.view, change);
  markView();
  saveToUrl(true);
  if (pictured(state.frame)) { drawRegion(state.frame); drawUnits(state.frame); drawWeights(state.frame); }
}

function markView() {
  $("show-test").checked = state.view.showTest;
  $("discretize").checked = state.view.discrete;
  $("fixed-lines").checked = state.view.fixedLines;
  $("pause-hidden").checked = state.view.pauseHidden;
  $("discretize-box").hidden = Boolean(state.dataset && state.dataset.curve);  // a curve has no regions
}

// One gradient check at a time: the button waits for the verdict (or an error).
function checking(on) {
  $("gradcheck").disabled = on;
  if (on) { $("gradcheck-verdict").textContent = "checking …"; $("gradcheck-verdict").className = "verdict"; }
}

function updatePlay() {
  $("play").textContent = state.playing ? "❚❚ Pause" : "▶ Play";
  $("play").dataset.does = state.playing ? "pause" : "play";
}

// Play/Pause does what its label said when it was pressed (pointer down), never "the
// opposite of now": a status arriving between the press and the click (a Reset's pause,
// say) cannot turn a Pause into a Play. The server takes "pause" when paused, "play" when
// playing, as nothing. Statuses older than the last press's answer do not flip the label.
function pressPlay(event) {  // a key or a script clicks with detail 0: no pointer pressed
  const does = (event && event.detail && state.pressIntent) || $("play").dataset.does;
  state.pressIntent = null;
  press(does);
}

function press(does) {
  state.playing = does === "play"; updatePlay();
  state.pressed += 1;
  send({ type: does, id: state.pressed });
}

function onStatus(msg) {
  if (Number.isInteger(msg.id)) state.answered = msg.id;
  if (state.answered < state.pressed) return;  // the answer to the last press is on its way
  state.playing = msg.playing; updatePlay();
}

function init() {
  fillSelect($("lr"), LRS, 0.03); fillSelect($("batch-size"), BATCHES, 16);
  fillSelect($("reg-rate"), RATES, 0.001); fillSelect($("speed"), SPEEDS, 5); fillSelect($("decay"), DECAYS, 0.9);
  const outputs = { n: (v) => v, noise: (v) => Number(v).toFixed(2), "test-fraction": (v) => `${Math.round(v * 100)}%`, classes: (v) => v };
  for (const [id, show] of Object.entries(outputs)) {
    $(id).oninput = () => ($(`${id}-out`).textContent = show($(id).value));
    $(id).onchange = configure;
  }
  loadFromUrl();
  buildLesson(); markLesson();
  renderLayers();
  for (const id of ["init", "lr", "decay", "batch-size", "reg", "reg-rate", "speed"]) $(id).onchange = configure;
  $("seed").onchange = () => { state.draw = 0; markDataset(); configure(); };  // the new seed's own points
  $("show-test").onchange = () => setView({ showTest: $("show-test").checked });
  $("discretize").onchange = () => setView({ discrete: $("discretize").checked });
  $("fixed-lines").onchange = () => setView({ fixedLines: $("fixed-lines").checked });
  $("pause-hidden").onchange = () => setView({ pauseHidden: $("pause-hidden").checked });
  markView();
  $("optimizer").onchange = () => { markOptimizer(); configure(); };
  markOptimizer();
  $("add-layer").onclick = () => {
    if (state.hidden.length >= (state.limits ? state.limits.max_layers : 6)) return showMessage("that is the most hidden layers the page offers");
    state.hidden.push(4); state.activations.push(state.activations[state.activations.length - 1] || "tanh");
    renderLayers(); configure();
  };
  $("remove-layer").onclick = () => { state.hidden.pop(); state.activations.pop(); renderLayers(); configure(); };
  $("play").onpointerdown = () => { state.pressIntent = $("play").dataset.does; };
  $("play").onclick = pressPlay;
  $("step").onclick = () => { state.moreSteps += 1; if (!state.stepping) sendSteps(); };
  $("reset").onclick = () => send({ type: "reset" });
  $("regenerate").onclick = () => { state.draw += 1; markDataset(); configure(); };
  $("gradcheck").onclick = () => { checking(true); send({ type: "gradcheck" }); };
  $("export-model").onclick = () => download("model", "playground-model.npz");
  $("export-script").onclick = () => download("script", "playground_run.py");
  $("export-png").onclick = exportFigures;
  $("copy-link").onclick = copyLink;
  $("csv-file").onchange = (e) => e.target.files[0] && uploadCsv(e.target.files[0]);
  $("csv-target").onchange = renderCsvFeatures;
  $("csv-use").onclick = useCsv;
  wireNetworkDrawing();
  new ResizeObserver(redrawNetwork).observe($("netdraw"));  // the window, or the row's height
  document.addEventListener("visibilitychange", onVisibility);
  saveToUrl(false);
  window.addEventListener("popstate", onHistory);
  // closed or reloaded (not kept in the back-forward cache): the server may drop the run now;
  // a page that goes without this (a laptop asleep) finds its run again when it is back
  window.addEventListener("pagehide", (e) => { if (!e.persisted && state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send('{"type":"bye"}'); });
  connect();
  playEarlyClicks();
}

// Buttons clicked before this script ran (early.js kept them): pressed now, in order.
function playEarlyClicks() {
  document.removeEventListener("click", window.keepEarlyClick, true);
  for (const id of (window.earlyClicks || []).splice(0)) if ($(id)) $(id).click();
}

init();
