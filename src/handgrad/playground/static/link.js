// handgrad playground: the configuration in the URL (the part after #), Back and Forward,
// copy link. Loaded before app.js; uses its state and helpers when called, never at load.
"use strict";

const URL_KEYS = { n: "n", noise: "noise", classes: "classes", "test-fraction": "test", init: "init",
  optimizer: "opt", lr: "lr", decay: "decay", "batch-size": "batch", reg: "reg", "reg-rate": "rate", speed: "speed", seed: "seed" };

// Each change is a new entry of the browser's history (push), so Back and Forward step
// through the configurations; loading the page only rewrites its own entry.
function saveToUrl(push) {
  const p = new URLSearchParams();
  if (state.data !== "csv") p.set("data", state.data);
  if (state.draw) p.set("draw", state.draw);
  for (const [id, key] of Object.entries(URL_KEYS)) p.set(key, $(id).value);
  p.set("layers", state.hidden.map((w, i) => `${w}${state.activations[i]}`).join(","));
  p.set("inputs", state.inputs.join(","));
  if (state.hide.length) p.set("hide", state.hide.join(","));
  p.set("showtest", state.view.showTest ? "1" : "0");
  p.set("discretize", state.view.discrete ? "1" : "0");
  if (state.view.fixedLines) p.set("lines", "fixed");
  if (state.view.pauseHidden) p.set("hiddentab", "pause");
  const url = `${location.pathname}${location.search}#${p}`;
  if (push && `#${p}` !== location.hash) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
  $("share-link").value = location.href;
}

function loadFromUrl() {
  const p = new URLSearchParams(location.hash.slice(1));
  if (!p.has("data")) return false;
  if (DATA_LABELS[p.get("data")]) state.data = p.get("data");
  state.draw = Math.max(0, Math.floor(Number(p.get("draw")) || 0));
  if (p.has("l2") && !p.has("reg")) {  // a link from before L1: l2=λ (0 for none)
    const l2 = Number(p.get("l2"));
    p.set("reg", l2 > 0 ? "l2" : "none");
    if (l2 > 0) p.set("rate", p.get("l2"));
  }
  state.hide = (p.get("hide") || "").split(",").filter((g) => LESSON_GROUPS[g]);
  state.view.showTest = p.get("showtest") !== "0";
  state.view.discrete = p.get("discretize") === "1";
  state.view.fixedLines = p.get("lines") === "fixed";
  state.view.pauseHidden = p.get("hiddentab") === "pause";
  for (const [id, key] of Object.entries(URL_KEYS)) {
    if (!p.has(key)) continue;
    const input = $(id);
    if (input.tagName === "SELECT" && ![...input.options].some((o) => o.value === p.get(key))) {
      input.appendChild(Object.assign(el("option", { text: p.get(key) }), { value: p.get(key) }));
    }
    input.value = p.get(key);
    if ($(`${id}-out`)) input.oninput();
  }
  const layers = (p.get("layers") || "").split(",").filter(Boolean).map((s) => s.match(/^(\d+)([a-z_]+)$/)).filter(Boolean);
  if (p.has("layers")) {  // a hand-edited link: at most the page's limits, known activations
    const kept = layers.filter((m) => ACT_LABELS[m[2]]).slice(0, state.limits ? state.limits.max_layers : 6);
    const most = state.limits ? state.limits.max_units : 32;
    state.hidden = kept.map((m) => Math.min(most, Math.max(1, Number(m[1])))); state.activations = kept.map((m) => m[2]);
  }
  const inputs = (p.get("inputs") || "").split(",").filter((f) => FEATURE_LABELS[f]);
  if (inputs.length) state.inputs = inputs;
  return true;
}

// Back or Forward: the page takes the configuration of that entry and sends it (a setting
// that restarts the run restarts it; the others change the running training, as a click does).
function onHistory() {
  if (!loadFromUrl()) return;
  renderLayers(); markDataset(); markOptimizer(); markView(); markLesson();
  for (const box of $("inputs").querySelectorAll("input")) box.checked = state.inputs.includes(box.value);
  sendSettings();
  if (pictured(state.frame)) { drawRegion(state.frame); drawUnits(state.frame); }
}

function copyLink() {
  saveToUrl(false);
  $("share").hidden = false;
  const link = $("share-link");
  link.select();
  if (navigator.clipboard) navigator.clipboard.writeText(link.value).then(() => showMessage("link copied"), () => {});
}
