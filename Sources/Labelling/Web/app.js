// Kinema label: place, move and hide keypoints on a project's frames; every change is saved at once.
// Image coordinates follow DeepLabCut and napari: the centre of the top-left pixel is (0, 0).
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const canvas = document.getElementById("view");
const ctx = canvas.getContext("2d");
const statusLine = document.getElementById("status");

const state = {
  project: null,
  video: 0, frame: 0,           // indices into project.videos and its frames (instants in a multi-camera project)
  // One pane per camera view shown (one in single-camera projects), side by side in one "world":
  // {name, frame, image, points, kinds, current, x, y, width, height}; points per keypoint: [x, y] or null;
  // kinds per keypoint: "unset", "placed", "hidden" or "machine".
  panes: [],
  active: 0,                    // the pane being labelled
  view: { scale: 1, x: 0, y: 0 },
  undo: [],                     // {video, frame, pane, points, kinds}, newest last
  pending: 0,                   // saves not yet answered
  loading: false,
  opened: 0,                    // counts openFrame calls: an older one that answers late is dropped
};
// The active pane's frame, points, kinds, selected keypoint and image, as state.points etc.
for (const key of ["points", "kinds", "current", "image"]) {
  Object.defineProperty(state, key, {
    get: () => (state.panes[state.active] || {})[key],
    set: (value) => { state.panes[state.active][key] = value; },
  });
}
const multi = () => state.project.views.length > 1;

// MARK: - Server

async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { "X-Kinema-Token": token, "Content-Type": "application/json" } });
  if (!response.ok) throw new Error((await response.text()).trim() || response.statusText);
  return response.json();
}

let saving = Promise.resolve();

function save(paneIndex = state.active) {
  const pane = state.panes[paneIndex];
  const frame = pane.frame, points = pane.points.map((p) => (p ? [p[0], p[1]] : null));
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

async function openPane(name, viewName) {
  const k = state.project.keypoints.length;
  if (!name) return { name: viewName, frame: null, image: null, points: Array(k).fill(null), kinds: Array(k).fill("unset"), current: 0 };
  const [labels, image] = await Promise.all([
    api("/api/labels?frame=" + encodeURIComponent(name)),
    loadImage("/api/image?frame=" + encodeURIComponent(name) + "&token=" + encodeURIComponent(token)),
  ]);
  let saved = labels.points;
  const machine = labels.machine;
  // A view's row that holds nothing was added when another view of the instant was saved: still to label.
  if (saved && multi() && saved.every((p) => !p)) saved = null;
  const points = Array.from({ length: k }, (_, i) => (saved ? saved[i] : machine ? machine[i] : null) || null);
  const kinds = points.map((p) => (p ? (saved ? "placed" : "machine") : saved ? "hidden" : "unset"));
  return { name: viewName, frame: name, image, points, kinds, current: Math.max(0, kinds.indexOf("unset")), machine: !!(machine && !saved) };
}

async function openFrame(video, frame) {
  const opened = ++state.opened;
  state.loading = true;
  const entry = state.project.videos[video];
  const names = multi() ? entry.views[frame] : [entry.frames[frame]];
  const panes = await Promise.all(names.map((name, v) => openPane(name, multi() ? state.project.views[v] : "")));
  if (opened !== state.opened) return; // another frame was asked for meanwhile
  state.video = video;
  state.frame = frame;
  state.panes = panes;
  if (!panes[state.active] || !panes[state.active].image) state.active = Math.max(0, panes.findIndex((p) => p.image));
  arrange();
  state.loading = false;
  fit();
  renderLists();
  const missing = panes.filter((p) => !p.frame).map((p) => p.name);
  const name = multi() ? (entry.name ? entry.name + " " : "") + entry.frames[frame].split("/").pop() : entry.frames[frame];
  document.getElementById("where").textContent = name +
    (missing.length ? " (no frame in view " + missing.join(", ") + ": extract it to label this instant)" : "") +
    (panes.some((p) => p.machine) ? " (machine labels: move them, Enter keeps them)" : "");
}

// Panes side by side (two rows from four views on), each at its image's size, in one world of image pixels.
function arrange() {
  const sized = state.panes.filter((p) => p.image);
  const width = Math.max(1, ...sized.map((p) => p.image.width)), height = Math.max(1, ...sized.map((p) => p.image.height));
  const columns = state.panes.length <= 3 ? state.panes.length : 2, gap = state.panes.length > 1 ? Math.round(width * 0.08) : 0;
  state.panes.forEach((pane, i) => {
    pane.width = pane.image ? pane.image.width : width;
    pane.height = pane.image ? pane.image.height : height;
    pane.x = (i % columns) * (width + gap);
    pane.y = Math.floor(i / columns) * (height + gap);
  });
  state.world = { width: columns * (width + gap) - gap, height: Math.ceil(state.panes.length / columns) * (height + gap) - gap };
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

function activate(pane) {
  if (pane === state.active || !state.panes[pane] || !state.panes[pane].image) return;
  state.active = pane;
  renderLists();
  draw();
}

// MARK: - Changes

function change(keypoint, point, kind, paneIndex = state.active) {
  const pane = state.panes[paneIndex];
  state.undo.push({ video: state.video, frame: state.frame, pane: paneIndex, points: pane.points.map((p) => p && [...p]), kinds: [...pane.kinds] });
  if (state.undo.length > 500) state.undo.shift();
  // A frame shown with machine labels becomes a human-labelled frame: its other machine points are kept as placed.
  pane.kinds = pane.kinds.map((k) => (k === "machine" ? "placed" : k));
  pane.points[keypoint] = point;
  pane.kinds[keypoint] = kind;
  draw();
  return save(paneIndex);
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
  const pane = state.panes[last.pane];
  pane.points = last.points;
  pane.kinds = last.kinds;
  state.active = last.pane;
  draw();
  renderLists();
  save(last.pane);
}

// MARK: - View: image coordinates ↔ canvas pixels

function fit() {
  if (!state.world) return;
  const label = state.panes.length > 1 ? 18 : 0; // room for the views' names above them
  const w = canvas.clientWidth, h = canvas.clientHeight - label;
  const scale = Math.min(w / state.world.width, h / state.world.height) * 0.96;
  state.view = { scale, x: (w - state.world.width * scale) / 2, y: label + (h - state.world.height * scale) / 2 };
  draw();
}

function toScreen(x, y, pane = state.panes[state.active]) {
  const v = state.view;
  return [v.x + (pane.x + x + 0.5) * v.scale, v.y + (pane.y + y + 0.5) * v.scale];
}

function toImage(sx, sy, pane = state.panes[state.active]) {
  const v = state.view;
  return [(sx - v.x) / v.scale - pane.x - 0.5, (sy - v.y) / v.scale - pane.y - 0.5];
}

// The pane under a canvas point (the only one in a single-camera project), -1 between panes.
function paneAt(sx, sy) {
  if (state.panes.length === 1) return 0;
  const wx = (sx - state.view.x) / state.view.scale, wy = (sy - state.view.y) / state.view.scale;
  return state.panes.findIndex((p) => wx >= p.x && wx < p.x + p.width && wy >= p.y && wy < p.y + p.height);
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
  state.panes.forEach((pane, i) => drawPane(pane, i === state.active));
}

function drawPane(pane, active) {
  const v = state.view;
  const [left, top] = [v.x + pane.x * v.scale, v.y + pane.y * v.scale];
  if (state.panes.length > 1) {
    ctx.fillStyle = active ? "#fff" : "#99a";
    ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(pane.name + (active ? " (labelling)" : ""), left, top - 4);
    if (active) {
      ctx.lineWidth = 2;
      ctx.strokeStyle = "#8ab4f8";
      ctx.strokeRect(left - 2, top - 2, pane.width * v.scale + 4, pane.height * v.scale + 4);
    }
  }
  if (!pane.image) {
    ctx.fillStyle = "#2a2d33";
    ctx.fillRect(left, top, pane.width * v.scale, pane.height * v.scale);
    ctx.fillStyle = "#f77";
    ctx.fillText("no frame of view " + pane.name + " at this instant", left + 8, top + 20);
    return;
  }
  ctx.imageSmoothingEnabled = v.scale < 3;
  ctx.drawImage(pane.image, left, top, pane.image.width * v.scale, pane.image.height * v.scale);
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = "rgba(255,255,255,0.6)";
  for (const [a, b] of state.project.skeleton) {
    const p = pane.points[a], q = pane.points[b];
    if (!p || !q) continue;
    ctx.beginPath();
    ctx.moveTo(...toScreen(...p, pane));
    ctx.lineTo(...toScreen(...q, pane));
    ctx.stroke();
  }
  pane.points.forEach((p, k) => {
    if (!p) return;
    const [x, y] = toScreen(...p, pane);
    const selected = active && k === pane.current;
    ctx.beginPath();
    ctx.arc(x, y, selected ? 7 : 5, 0, 2 * Math.PI);
    if (pane.kinds[k] === "machine") {
      ctx.setLineDash([3, 2]);
      ctx.lineWidth = 2.5;
      ctx.strokeStyle = colour(k);
      ctx.stroke();
      ctx.setLineDash([]);
    } else {
      ctx.fillStyle = colour(k);
      ctx.fill();
      ctx.lineWidth = selected ? 2.5 : 1;
      ctx.strokeStyle = selected ? "#fff" : "#000";
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
  if (multi()) {
    const views = document.getElementById("views");
    views.replaceChildren();
    state.panes.forEach((pane, i) => {
      const done = pane.kinds.filter((k) => k !== "unset").length;
      item(views, [span((i + 1) + " " + pane.name), span(pane.frame ? done + "/" + pane.kinds.length : "missing", "count")],
        i === state.active, () => activate(i), pane.frame ? "" : "missing");
    });
  }
  keypoints.replaceChildren();
  const words = { unset: "", placed: "", hidden: "not visible", machine: "machine" };
  p.keypoints.forEach((name, k) => {
    item(keypoints, [span("", "dot", { background: colour(k) }), span(name), span(words[state.kinds[k]] || "", "state")],
      k === state.current, () => { state.current = k; renderLists(); draw(); });
  });
}

// MARK: - Pointer: click places, drag moves a point, right drag or Space+drag pans

let drag = null, spaceHeld = false;

// The point nearest a canvas position, within 10 px, in any pane: {pane, keypoint}, or null.
function nearest(sx, sy) {
  let best = null, bestDistance = 10;
  state.panes.forEach((pane, i) => pane.points.forEach((p, k) => {
    if (!p || !pane.image) return;
    const [x, y] = toScreen(...p, pane);
    const d = Math.hypot(x - sx, y - sy);
    if (d < bestDistance) { best = { pane: i, keypoint: k }; bestDistance = d; }
  }));
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
    const hit = nearest(sx, sy);
    if (hit) {
      state.active = hit.pane;
      state.current = hit.keypoint;
      drag = { keypoint: hit.keypoint, sx, sy, moved: false, from: state.points[hit.keypoint] };
      renderLists();
      draw();
    } else {
      const pane = paneAt(sx, sy);
      if (pane >= 0 && state.panes[pane].image) { activate(pane); drag = { place: true, sx, sy }; }
    }
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
    Enter: () => {
      state.panes.forEach((pane, i) => {
        if (!pane.frame) return;
        pane.kinds = pane.kinds.map((k) => (k === "machine" ? "placed" : k));
        save(i);
      });
      draw();
      renderLists();
    },
    1: () => activate(0), 2: () => activate(1), 3: () => activate(2), 4: () => activate(3),
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
  imageToClient(x, y, pane = state.active) {
    const r = canvas.getBoundingClientRect(), [sx, sy] = toScreen(x, y, state.panes[pane]);
    return [r.left + sx, r.top + sy];
  },
  idle: () => state.panes.some((p) => p.image) && !state.loading && state.pending === 0,
};

(async () => {
  try {
    state.project = await api("/api/project");
    document.getElementById("title").textContent = state.project.name;
    document.title = state.project.name + " · Kinema label";
    // One hue per colour group (matching keypoints of mirrored views share one).
    const groups = [...new Set(state.project.colours)];
    state.project.colours.forEach((g, k) => { palette[k] = `hsl(${Math.round((360 * groups.indexOf(g)) / groups.length)}, 85%, 58%)`; });
    if (multi()) {
      document.getElementById("views-section").hidden = false;
      const unmatched = state.project.unmatched;
      if (unmatched.length) {
        const line = document.getElementById("unmatched");
        line.textContent = unmatched.length + " not matched across views: " + unmatched.join("; ");
        line.hidden = false;
      }
    }
    const first = Math.max(0, state.project.videos.findIndex((v) => v.labelled.includes(false)));
    const frame = Math.max(0, state.project.videos[first].labelled.indexOf(false));
    await openFrame(first, frame);
    show("ready");
  } catch (error) {
    show(error.message, true);
  }
})();
