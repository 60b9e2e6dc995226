// Kinema label: place, move and hide keypoints on a project's frames; every change is saved at once.
// Image coordinates follow DeepLabCut and napari: the centre of the top-left pixel is (0, 0).
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const canvas = document.getElementById("view");
const ctx = canvas.getContext("2d");
const statusLine = document.getElementById("status");

const state = {
  project: null,
  video: 0, frame: 0,           // indices into project.videos and its frames
  points: [],                   // per keypoint: [x, y] or null
  kinds: [],                    // per keypoint: "unset", "placed", "hidden" or "machine"
  current: 0,                   // the selected keypoint
  image: null,
  view: { scale: 1, x: 0, y: 0 },
  undo: [],                     // {video, frame, points, kinds}, newest last
  pending: 0,                   // saves not yet answered
  loading: false,
};

// MARK: - Server

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { "X-Kinema-Token": token, "Content-Type": "application/json" } });
  if (!response.ok) throw new Error((await response.text()).trim() || response.statusText);
  return response.json();
}

const frameName = () => state.project.videos[state.video].frames[state.frame];
let saving = Promise.resolve();

function save() {
  const frame = frameName(), points = state.points.map((p) => (p ? [p[0], p[1]] : null));
  const video = state.video, index = state.frame;
  state.pending += 1;
  show("saving…");
  saving = saving.then(async () => {
    try {
      await api("/api/labels?frame=" + encodeURIComponent(frame), { method: "PUT", body: JSON.stringify({ points }) });
      state.project.videos[video].labelled[index] = true;
      show("saved " + frame);
    } catch (error) {
      show(error.message, true);
    } finally {
      state.pending -= 1;
      renderLists();
    }
  });
  return saving;
}

function show(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", isError);
}

// MARK: - Frames

async function openFrame(video, frame) {
  state.video = video;
  state.frame = frame;
  state.loading = true;
  const name = frameName();
  const [labels, image] = await Promise.all([
    api("/api/labels?frame=" + encodeURIComponent(name)),
    loadImage("/api/image?frame=" + encodeURIComponent(name) + "&token=" + encodeURIComponent(token)),
  ]);
  if (name !== frameName()) return; // another frame was asked for meanwhile
  const k = state.project.keypoints.length;
  const saved = labels.points, machine = labels.machine;
  state.points = Array.from({ length: k }, (_, i) => (saved ? saved[i] : machine ? machine[i] : null) || null);
  state.kinds = state.points.map((p) => (p ? (saved ? "placed" : "machine") : saved ? "hidden" : "unset"));
  state.current = Math.max(0, state.kinds.indexOf("unset"));
  state.image = image;
  state.loading = false;
  fit();
  renderLists();
  document.getElementById("where").textContent = name + (machine && !saved ? " (machine labels: move them, Enter keeps them)" : "");
}

function loadImage(url) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.onload = () => resolve(image);
    image.onerror = () => reject(new Error("cannot load " + url.split("&token")[0]));
    image.src = url;
  });
}

function step(delta) {
  const videos = state.project.videos;
  let v = state.video, f = state.frame + delta;
  while (f < 0 && v > 0) { v -= 1; f += videos[v].frames.length; }
  while (f >= videos[v].frames.length && v < videos.length - 1) { f -= videos[v].frames.length; v += 1; }
  f = Math.min(Math.max(f, 0), videos[v].frames.length - 1);
  if (v !== state.video || f !== state.frame) openFrame(v, f).catch((e) => show(e.message, true));
}

// MARK: - Changes

function change(keypoint, point, kind) {
  state.undo.push({ video: state.video, frame: state.frame, points: state.points.map((p) => p && [...p]), kinds: [...state.kinds] });
  if (state.undo.length > 500) state.undo.shift();
  // A frame shown with machine labels becomes a human-labelled frame: its other machine points are kept as placed.
  state.kinds = state.kinds.map((k) => (k === "machine" ? "placed" : k));
  state.points[keypoint] = point;
  state.kinds[keypoint] = kind;
  draw();
  return save();
}

function place(point) {
  const k = state.current;
  const done = change(k, point, "placed");
  // Next: the first keypoint after this one still to place, else stay.
  const n = state.kinds.length;
  for (let i = 1; i < n; i++) {
    if (state.kinds[(k + i) % n] === "unset") { state.current = (k + i) % n; break; }
  }
  renderLists();
  return done;
}

async function undo() {
  const last = state.undo.pop();
  if (!last) return show("nothing to undo");
  if (last.video !== state.video || last.frame !== state.frame) await openFrame(last.video, last.frame);
  state.points = last.points;
  state.kinds = last.kinds;
  draw();
  renderLists();
  save();
}

// MARK: - View: image coordinates ↔ canvas pixels

function fit() {
  if (!state.image) return;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  const scale = Math.min(w / state.image.width, h / state.image.height) * 0.96;
  state.view = { scale, x: (w - state.image.width * scale) / 2, y: (h - state.image.height * scale) / 2 };
  draw();
}

function toScreen(x, y) {
  const v = state.view;
  return [v.x + (x + 0.5) * v.scale, v.y + (y + 0.5) * v.scale];
}

function toImage(sx, sy) {
  const v = state.view;
  return [(sx - v.x) / v.scale - 0.5, (sy - v.y) / v.scale - 0.5];
}

function zoom(factor, sx = canvas.clientWidth / 2, sy = canvas.clientHeight / 2) {
  const v = state.view;
  const scale = Math.min(Math.max(v.scale * factor, 0.05), 64);
  v.x = sx - (sx - v.x) * (scale / v.scale);
  v.y = sy - (sy - v.y) * (scale / v.scale);
  v.scale = scale;
  draw();
}

// MARK: - Drawing

const palette = [];
function colour(k) { return palette[k] || "#fff"; }

function draw() {
  const ratio = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * ratio) || canvas.height !== Math.round(h * ratio)) {
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  if (!state.image) return;
  const v = state.view;
  ctx.imageSmoothingEnabled = v.scale < 3;
  ctx.drawImage(state.image, v.x, v.y, state.image.width * v.scale, state.image.height * v.scale);
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "rgba(255,255,255,0.6)";
  for (const [a, b] of state.project.skeleton) {
    const p = state.points[a], q = state.points[b];
    if (!p || !q) continue;
    ctx.beginPath();
    ctx.moveTo(...toScreen(...p));
    ctx.lineTo(...toScreen(...q));
    ctx.stroke();
  }
  state.points.forEach((p, k) => {
    if (!p) return;
    const [x, y] = toScreen(...p);
    ctx.beginPath();
    ctx.arc(x, y, k === state.current ? 7 : 5, 0, 2 * Math.PI);
    if (state.kinds[k] === "machine") {
      ctx.setLineDash([3, 2]);
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = colour(k);
      ctx.stroke();
      ctx.setLineDash([]);
    } else {
      ctx.fillStyle = colour(k);
      ctx.fill();
      ctx.lineWidth = k === state.current ? 2.5 : 1;
      ctx.strokeStyle = k === state.current ? "#fff" : "#000";
      ctx.stroke();
    }
  });
}

// MARK: - Lists (built as DOM nodes: the page's security policy allows no inline styles or markup from data)

function span(text, className = "", style = {}) {
  const element = document.createElement("span");
  element.textContent = text;
  element.className = className;
  Object.assign(element.style, style);
  return element;
}

function item(list, parts, current, onClick, extraClass = "") {
  const li = document.createElement("li");
  li.append(...parts);
  li.className = (current ? "current " : "") + extraClass;
  li.onclick = onClick;
  list.appendChild(li);
  return li;
}

function renderLists() {
  const p = state.project;
  const videos = document.getElementById("videos"), frames = document.getElementById("frames"), keypoints = document.getElementById("keypoints");
  videos.replaceChildren();
  p.videos.forEach((video, v) => {
    const done = video.labelled.filter(Boolean).length, total = video.frames.length;
    const bar = span("", "bar");
    bar.append(span("", "", { width: (100 * done) / total + "%" }));
    item(videos, [span(video.name || "labeled-data"), bar, span(done + "/" + total, "count")], v === state.video, () => openFrame(v, 0));
  });
  frames.replaceChildren();
  p.videos[state.video].frames.forEach((name, f) => {
    const li = item(frames, [span(name.split("/").pop())], f === state.frame, () => openFrame(state.video, f),
      p.videos[state.video].labelled[f] ? "labelled" : "");
    if (f === state.frame) li.scrollIntoView({ block: "nearest" });
  });
  keypoints.replaceChildren();
  const words = { unset: "", placed: "", hidden: "not visible", machine: "machine" };
  p.keypoints.forEach((name, k) => {
    item(keypoints, [span("", "dot", { background: colour(k) }), span(name), span(words[state.kinds[k]] || "", "state")],
      k === state.current, () => { state.current = k; renderLists(); draw(); });
  });
}

// MARK: - Pointer: click places, drag moves a point, right drag or Space+drag pans

let drag = null, spaceHeld = false;

function nearest(sx, sy) {
  let best = -1, bestDistance = 10;
  state.points.forEach((p, k) => {
    if (!p) return;
    const [x, y] = toScreen(...p);
    const d = Math.hypot(x - sx, y - sy);
    if (d < bestDistance) { best = k; bestDistance = d; }
  });
  return best;
}

function local(event) {
  const r = canvas.getBoundingClientRect();
  return [event.clientX - r.left, event.clientY - r.top];
}

canvas.addEventListener("contextmenu", (e) => e.preventDefault());
canvas.addEventListener("pointerdown", (event) => {
  if (!state.image || state.loading) return;
  const [sx, sy] = local(event);
  canvas.setPointerCapture(event.pointerId);
  if (event.button === 2 || event.button === 1 || spaceHeld) {
    drag = { pan: true, sx, sy, x: state.view.x, y: state.view.y };
  } else if (event.button === 0) {
    const k = nearest(sx, sy);
    drag = k >= 0 ? { keypoint: k, sx, sy, moved: false, from: state.points[k] } : { place: true, sx, sy };
    if (k >= 0) { state.current = k; renderLists(); draw(); }
  }
});
canvas.addEventListener("pointermove", (event) => {
  if (!drag) return;
  const [sx, sy] = local(event);
  if (drag.pan) {
    state.view.x = drag.x + sx - drag.sx;
    state.view.y = drag.y + sy - drag.sy;
    draw();
  } else if (drag.keypoint !== undefined) {
    drag.moved = drag.moved || Math.hypot(sx - drag.sx, sy - drag.sy) > 2;
    if (drag.moved) { state.points[drag.keypoint] = toImage(sx, sy); draw(); }
  }
});
canvas.addEventListener("pointerup", (event) => {
  if (!drag) return;
  const [sx, sy] = local(event);
  const d = drag;
  drag = null;
  if (d.place && Math.hypot(sx - d.sx, sy - d.sy) <= 3) {
    place(toImage(sx, sy));
  } else if (d.keypoint !== undefined && d.moved) {
    state.points[d.keypoint] = d.from; // the undo entry holds the point where it was
    change(d.keypoint, toImage(sx, sy), "placed");
  }
});
canvas.addEventListener("wheel", (event) => {
  event.preventDefault();
  const [sx, sy] = local(event);
  zoom(Math.pow(1.0015, -event.deltaY), sx, sy);
}, { passive: false });

// MARK: - Keys

window.addEventListener("keydown", (event) => {
  if (!state.project || state.loading) return;
  const key = event.key, n = state.project.keypoints.length;
  if (key === " ") { spaceHeld = true; event.preventDefault(); return; }
  if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "z") { undo(); event.preventDefault(); return; }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const actions = {
    ArrowRight: () => step(1), d: () => step(1),
    ArrowLeft: () => step(-1), a: () => step(-1),
    ArrowDown: () => select(1), s: () => select(1), Tab: () => select(event.shiftKey ? -1 : 1),
    ArrowUp: () => select(-1), w: () => select(-1),
    v: () => change(state.current, null, "hidden"), x: () => change(state.current, null, "hidden"),
    z: () => undo(),
    Enter: () => { state.kinds = state.kinds.map((k) => (k === "machine" ? "placed" : k)); draw(); renderLists(); save(); },
    "+": () => zoom(1.25), "=": () => zoom(1.25), "-": () => zoom(0.8), 0: () => fit(),
  };
  function select(delta) { state.current = (state.current + delta + n) % n; renderLists(); draw(); }
  const action = actions[key];
  if (action) { action(); event.preventDefault(); }
});
window.addEventListener("keyup", (event) => { if (event.key === " ") spaceHeld = false; });
window.addEventListener("resize", fit);

// MARK: - Start, and what a test (or a curious user) can ask of the page

window.kinema = {
  state,
  imageToClient(x, y) { const r = canvas.getBoundingClientRect(); const [sx, sy] = toScreen(x, y); return [r.left + sx, r.top + sy]; },
  idle: () => !!state.image && !state.loading && state.pending === 0,
};

(async () => {
  try {
    state.project = await api("/api/project");
    document.getElementById("title").textContent = state.project.name;
    document.title = state.project.name + " · Kinema label";
    // One hue per colour group (matching keypoints of mirrored views share one).
    const groups = [...new Set(state.project.colours)];
    state.project.colours.forEach((g, k) => { palette[k] = `hsl(${Math.round((360 * groups.indexOf(g)) / groups.length)}, 85%, 58%)`; });
    const first = Math.max(0, state.project.videos.findIndex((v) => v.labelled.includes(false)));
    const frame = Math.max(0, state.project.videos[first].labelled.indexOf(false));
    await openFrame(first, frame);
    show("ready");
  } catch (error) {
    show(error.message, true);
  }
})();
