// handgrad playground: small canvas drawing helpers (line charts, colours). No library.
"use strict";

const $ = (id) => document.getElementById(id);

// A DOM element: el("div", {class: "x", text: "..."}, [children or strings]). Text is always
// set as text, never parsed as HTML.
function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  if (props.class) node.className = props.class;
  if (props.id) node.id = props.id;
  if (props.text !== undefined) node.textContent = props.text;
  for (const c of children) node.append(c);
  return node;
}

// A number with `digits` significant digits; scientific notation when small or large.
function sig(v, digits = 4) {
  if (v === null || v === undefined || typeof v !== "number") return "–";
  if (!isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a < 1e-3 || a >= 1e5) return v.toExponential(digits - 1);
  return v.toPrecision(digits);
}

const Charts = (() => {
  const PALETTE = ["#e8743b", "#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f", "#e377c2"];

  // A canvas sized for the device's pixel ratio; returns its 2-D context in CSS pixels.
  function context(canvas) {
    const ratio = window.devicePixelRatio || 1;
    const w = canvas.clientWidth || canvas.width, h = canvas.clientHeight || canvas.height;
    if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
      canvas.width = Math.round(w * ratio);
      canvas.height = Math.round(h * ratio);
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    return { ctx, w, h };
  }

  function niceNumber(x) {
    if (!isFinite(x)) return "–";
    const a = Math.abs(x);
    if (a !== 0 && (a < 1e-3 || a >= 1e4)) return x.toExponential(1);
    return a >= 10 ? x.toFixed(0) : a >= 1 ? x.toFixed(1) : x.toFixed(2);
  }

  // series: [{name, values, color, dash}] against xs; opts: {title, ylabel, log, ymin, ymax,
  // marks: [{step, label}] drawn as dashed verticals (a setting changed there)}
  function line(canvas, xs, series, opts) {
    const { ctx, w, h } = context(canvas);
    ctx.clearRect(0, 0, w, h);
    const left = 44, right = 8, bottom = 22;
    ctx.font = "11px system-ui, sans-serif";
    const legendWidth = series.reduce((sum, s) => sum + 21 + ctx.measureText(s.name).width, 0);
    ctx.font = "600 12px system-ui, sans-serif";
    const titleEnd = left + ctx.measureText(opts.title).width + 14;
    const twoLines = titleEnd + legendWidth > w - right;  // the legend goes under the title
    const top = twoLines ? 32 : 18;
    ctx.fillStyle = "#3a4150";
    ctx.fillText(opts.title, left, 12);
    let lo = Infinity, hi = -Infinity;
    const tf = opts.log ? (v) => Math.log10(v) : (v) => v;
    for (const s of series) for (const v of s.values) {
      if (v === null || !isFinite(v) || (opts.log && v <= 0)) continue;
      lo = Math.min(lo, tf(v)); hi = Math.max(hi, tf(v));
    }
    if (opts.ymin !== undefined) lo = tf(opts.ymin);
    if (opts.ymax !== undefined) hi = tf(opts.ymax);
    ctx.strokeStyle = "#dde1e8"; ctx.lineWidth = 1;
    ctx.strokeRect(left, top, w - left - right, h - top - bottom);
    ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#6a7180";
    ctx.fillText(opts.xlabel || "step", w - right - 26, h - 6);
    if (!isFinite(lo) || xs.length < 1) { ctx.fillText("no data yet", left + 8, top + 20); return; }
    if (hi - lo < 1e-9) { hi += 0.5; lo -= 0.5; }
    const x0 = xs[0], x1 = Math.max(xs[xs.length - 1], x0 + 1);
    const px = (x) => left + (x - x0) / (x1 - x0) * (w - left - right);
    const py = (v) => top + (1 - (tf(v) - lo) / (hi - lo)) * (h - top - bottom);
    ctx.textAlign = "right";
    for (const frac of [0, 0.5, 1]) {
      const t = lo + frac * (hi - lo), y = top + (1 - frac) * (h - top - bottom);
      ctx.fillText(niceNumber(opts.log ? Math.pow(10, t) : t), left - 4, y + 4);
      ctx.strokeStyle = "#eef0f4"; ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(w - right, y); ctx.stroke();
    }
    for (const m of opts.marks || []) {
      if (m.step < x0 || m.step > x1) continue;
      const X = px(m.step);
      ctx.strokeStyle = "#7b5ea7"; ctx.setLineDash([3, 3]);
      ctx.beginPath(); ctx.moveTo(X, top); ctx.lineTo(X, h - bottom); ctx.stroke();
      ctx.setLineDash([]);
    }
    ctx.textAlign = "left";
    ctx.fillText(String(Math.round(x0)), left, h - 6);
    ctx.textAlign = "right";
    ctx.fillText(String(Math.round(x1)), w - right - 36, h - 6);
    ctx.textAlign = "left";
    ctx.font = "11px system-ui, sans-serif";
    let lx = twoLines ? left : Math.max(titleEnd, w - right - legendWidth);
    const ly = twoLines ? 26 : 12;
    series.forEach((s, k) => {
      const color = s.color || PALETTE[k % PALETTE.length];
      ctx.strokeStyle = color; ctx.lineWidth = 1.6; ctx.setLineDash(s.dash ? [4, 3] : []);
      ctx.beginPath();
      let pen = false;
      s.values.forEach((v, i) => {
        if (v === null || !isFinite(v) || (opts.log && v <= 0)) { pen = false; return; }
        const X = px(xs[i]), Y = Math.min(Math.max(py(v), top), h - bottom);
        if (pen) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
        pen = true;
      });
      ctx.stroke(); ctx.setLineDash([]);
      ctx.fillStyle = color; ctx.fillRect(lx, ly - 6, 10, 3);
      ctx.fillStyle = "#3a4150"; ctx.fillText(s.name, lx + 13, ly);
      lx += 21 + ctx.measureText(s.name).width;
    });
  }

  // a value in [-1, 1] -> orange (negative) .. white .. blue (positive), as [r, g, b]
  function diverging(t) {
    const a = Math.min(1, Math.abs(t));
    const c = t < 0 ? [232, 116, 59] : [31, 119, 180];
    return [255 + (c[0] - 255) * a, 255 + (c[1] - 255) * a, 255 + (c[2] - 255) * a];
  }

  function hexToRgb(hex) {
    const n = parseInt(hex.slice(1), 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }

  function decode(b64) {
    const s = atob(b64), out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  return { PALETTE, context, line, diverging, hexToRgb, decode, niceNumber };
})();
