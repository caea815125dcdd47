// camblur review: cameras -> days -> a day's grid -> one picture, routed by the URL's hash.
// Images come from this server only (/image/<id>), which serves the blurred copies.
"use strict";

const TOKEN = document.querySelector('meta[name="review-token"]').content;
const KINDS = ["person", "plate", "model", "zone", "manual"];
const POLL_MS = 1000;
const POLL_LIMIT = 180; // about three minutes of waiting for the pipeline to republish

const state = { camera: null, day: null, pictures: [], selected: 0, picture: null,
                hidden: new Set(), draft: null, polling: null };

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: { "Content-Type": "application/json", "X-Review-Token": TOKEN, ...(options.headers || {}) },
  });
  if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
  return response.json();
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function show(view) {
  for (const id of ["cameras-view", "days-view", "day-view", "picture-view"]) $(id).hidden = id !== view;
}

function crumbs(parts) {
  const nav = $("crumbs");
  nav.replaceChildren(...parts.map(([text, href]) => href ? el("a", { href, text }) : el("span", { text })));
}

const dayHref = (camera, day) => `#/camera/${enc(camera)}/day/${day}`;

// ------------------------------------------------------------------------ routes

async function route() {
  stopPolling();
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  try {
    if (parts[0] === "camera" && parts[2] === "day" && parts[4] === "picture") {
      await openPicture(parts[1], parts[3], parts[5]);
    } else if (parts[0] === "camera" && parts[2] === "day") {
      await openDay(parts[1], parts[3]);
    } else if (parts[0] === "camera" && parts[1]) {
      await openCamera(parts[1]);
    } else {
      await openCameras();
    }
  } catch (error) {
    message(String(error), "error");
  }
}

async function openCameras() {
  crumbs([]);
  const cameras = await api("/api/cameras");
  $("cameras").replaceChildren(...cameras.map((row) => el("tr", {},
    el("td", {}, el("a", { href: `#/camera/${enc(row.camera)}`, text: row.camera })),
    el("td", { text: row.pictures }), el("td", { text: row.days }), el("td", { text: row.last_day }))));
  show("cameras-view");
}

async function openCamera(camera) {
  crumbs([["cameras", "#/"], [camera]]);
  $("days-camera").textContent = camera;
  const days = await api(`/api/cameras/${enc(camera)}/days`);
  $("days").replaceChildren(...days.map((row) => el("tr", {},
    el("td", {}, el("a", { href: dayHref(camera, row.day), text: row.day })),
    el("td", { text: row.pictures }),
    el("td", { text: Object.entries(row.counts).map(([s, n]) => `${s} ${n}`).join(", ") }))));
  show("days-view");
}

async function loadDay(camera, day) {
  if (state.camera !== camera || state.day !== day || !state.pictures.length) {
    state.pictures = await api(`/api/cameras/${enc(camera)}/days/${day}`);
    state.camera = camera; state.day = day; state.selected = 0;
  }
}

async function openDay(camera, day) {
  state.pictures = []; // fresh marks and statuses each time the grid is opened
  await loadDay(camera, day);
  crumbs([["cameras", "#/"], [camera, `#/camera/${enc(camera)}`], [day]]);
  $("day-title").textContent = `${camera}, ${day}`;
  renderGrid();
  show("day-view");
}

function renderGrid() {
  const reviewed = state.pictures.filter((p) => p.reviewed).length;
  $("day-summary").textContent = `${state.pictures.length} pictures, ${reviewed} reviewed`;
  $("grid").replaceChildren(...state.pictures.map((p, index) => {
    const image = p.published
      ? el("img", { src: `/image/${p.id}?size=thumb&v=${enc(p.updated_at || "")}`, alt: p.key, loading: "lazy" })
      : el("div", { class: "missing", text: "no blurred copy" });
    const card = el("div", { class: `card${p.reviewed ? " reviewed" : ""}${index === state.selected ? " selected" : ""}`,
                             role: "listitem", "data-id": p.id, "data-index": index, tabindex: "-1" },
      image, el("div", { class: "caption" }, el("span", { text: (p.captured_at || "").slice(11, 19) }),
                                              el("span", { class: `badge ${p.status}`, text: p.status })));
    card.addEventListener("click", () => { location.hash = pictureHref(index); });
    return card;
  }));
}

const pictureHref = (index) => `${dayHref(state.camera, state.day)}/picture/${state.pictures[index].id}`;

function select(index) {
  if (!state.pictures.length) return;
  state.selected = Math.max(0, Math.min(state.pictures.length - 1, index));
  for (const card of $("grid").children) card.classList.toggle("selected", Number(card.dataset.index) === state.selected);
  $("grid").children[state.selected].scrollIntoView({ block: "nearest" });
}

function gridColumns() {
  const cards = [...$("grid").children];
  if (cards.length < 2) return 1;
  const top = cards[0].offsetTop;
  const count = cards.findIndex((card) => card.offsetTop !== top);
  return count < 0 ? cards.length : count;
}

// --------------------------------------------------------------------- one picture

async function openPicture(camera, day, id) {
  await loadDay(camera, day);
  const index = state.pictures.findIndex((p) => p.id === id);
  if (index >= 0) state.selected = index;
  crumbs([["cameras", "#/"], [camera, `#/camera/${enc(camera)}`], [day, dayHref(camera, day)],
          [`picture ${index + 1} of ${state.pictures.length}`]]);
  clearDraft();
  message("", "");
  state.picture = await api(`/api/pictures/${id}`);
  renderPicture();
  show("picture-view");
}

function renderPicture() {
  const p = state.picture;
  $("picture-key").textContent = p.key;
  $("picture-status").textContent = p.status;
  $("picture-captured").textContent = p.captured_at || "";
  $("picture-reviewed").textContent = p.reviewed_at ? `${p.reviewed_at} by ${p.reviewed_by}` : "not yet";
  const large = $("large");
  if (p.published && p.version) {
    const src = `/image/${p.id}?v=${enc(p.version)}`;
    if (large.getAttribute("src") !== src) large.src = src;
    large.dataset.version = p.version;
  } else {
    large.removeAttribute("src");
    large.alt = "no blurred copy: nothing to show";
  }
  renderBoxes();
  renderToggles();
}

function renderBoxes() {
  const overlay = $("overlay");
  const draft = $("draft");
  overlay.replaceChildren(...state.picture.boxes.map((box) => {
    // source: person, plate, model, zone or manual; detector: what recorded it.
    const node = el("div", { class: `box ${box.source}${state.hidden.has(box.source) ? " hidden" : ""}`,
                             "data-source": box.source, "data-detector": box.detector,
                             title: box.added_by ? `added by ${box.added_by} at ${box.added_at}` : box.detector },
      el("span", { text: `${box.source}${box.applied === false ? " (re-blurring)" : ""}` }));
    Object.assign(node.style, { left: pct(box.left), top: pct(box.top), width: pct(box.width), height: pct(box.height) });
    return node;
  }));
  if (draft) overlay.append(draft);
}

const pct = (ratio) => `${(ratio * 100).toFixed(3)}%`;

function renderToggles() {
  const counts = Object.fromEntries(KINDS.map((kind) => [kind, 0]));
  for (const box of state.picture.boxes) counts[box.source] = (counts[box.source] || 0) + 1;
  $("toggles").replaceChildren(el("legend", { text: "boxes by source (1-5)" }), ...KINDS.map((kind, i) => {
    const input = el("input", { type: "checkbox", "data-source": kind, id: `toggle-${kind}` });
    input.checked = !state.hidden.has(kind);
    input.addEventListener("change", () => toggle(kind, !input.checked));
    return el("label", { class: "toggle", for: `toggle-${kind}` }, input, el("span", { class: `swatch ${kind}` }),
              `${i + 1} ${kind} (${counts[kind]})`);
  }));
}

function toggle(kind, hide) {
  if (hide) state.hidden.add(kind); else state.hidden.delete(kind);
  renderBoxes(); renderToggles();
}

// Drawing: the rectangle is kept in ratios of the picture, as every stored box is.
function ratioAt(event) {
  const rect = $("large").getBoundingClientRect();
  return { x: clamp((event.clientX - rect.left) / rect.width), y: clamp((event.clientY - rect.top) / rect.height) };
}
const clamp = (v) => Math.max(0, Math.min(1, v));

function startDraw(event) {
  if (!state.picture || !state.picture.published || event.button !== 0) return;
  event.preventDefault();
  const start = ratioAt(event);
  state.draft = { start, box: null };
  const move = (e) => {
    const end = ratioAt(e);
    const box = { left: Math.min(start.x, end.x), top: Math.min(start.y, end.y),
                  width: Math.abs(end.x - start.x), height: Math.abs(end.y - start.y) };
    state.draft.box = box;
    let draft = $("draft");
    if (!draft) { draft = el("div", { id: "draft" }); $("overlay").append(draft); }
    Object.assign(draft.style, { left: pct(box.left), top: pct(box.top), width: pct(box.width), height: pct(box.height) });
  };
  const up = (e) => {
    move(e);
    window.removeEventListener("pointermove", move);
    window.removeEventListener("pointerup", up);
    const ok = state.draft.box && state.draft.box.width > 0.002 && state.draft.box.height > 0.002;
    if (!ok) clearDraft();
    $("add-box").disabled = !ok; $("cancel-box").disabled = !ok;
  };
  window.addEventListener("pointermove", move);
  window.addEventListener("pointerup", up);
}

function clearDraft() {
  state.draft = null;
  const draft = $("draft");
  if (draft) draft.remove();
  $("add-box").disabled = true; $("cancel-box").disabled = true;
}

async function addBox() {
  if (!state.draft || !state.draft.box) return;
  const p = state.picture;
  const before = p.version;
  const body = { ...state.draft.box, label: $("box-label").value };
  $("add-box").disabled = true;
  try {
    state.picture = await api(`/api/pictures/${p.id}/boxes`, { method: "POST", body: JSON.stringify(body) });
  } catch (error) {
    message(`the box was not added: ${error}`, "error");
    return;
  }
  clearDraft();
  renderPicture();
  if (republished(state.picture, before)) {
    message("box added; the picture is re-blurred", "republished");
    return;
  }
  message("box recorded; waiting for the pipeline to republish the picture...", "waiting");
  waitForRepublish(p.id, before);
}

// Republished: a new blurred copy, and every manual box in it (applied).
const republished = (p, before) =>
  p.version && p.version !== before && p.boxes.every((box) => box.applied !== false);

// Poll the picture until the pipeline has republished it.
function waitForRepublish(id, before) {
  let rounds = 0;
  stopPolling();
  state.polling = setInterval(async () => {
    rounds += 1;
    try {
      const fresh = await api(`/api/pictures/${id}`);
      if (!state.picture || state.picture.id !== id) return stopPolling();
      if (republished(fresh, before)) {
        stopPolling();
        state.picture = fresh;
        renderPicture();
        message("re-blurred picture published", "republished");
      } else if (rounds >= POLL_LIMIT) {
        stopPolling();
        message("not republished yet: check `camblur status` (queues)", "error");
      }
    } catch (error) {
      stopPolling();
      message(String(error), "error");
    }
  }, POLL_MS);
}

function stopPolling() {
  if (state.polling) clearInterval(state.polling);
  state.polling = null;
}

async function markReviewed() {
  const p = state.picture;
  state.picture = await api(`/api/pictures/${p.id}/reviewed`, { method: "POST" });
  const row = state.pictures.find((row) => row.id === p.id);
  if (row) row.reviewed = true;
  renderPicture();
  message("marked reviewed", "reviewed");
}

async function markDayReviewed() {
  state.pictures = await api(`/api/cameras/${enc(state.camera)}/days/${state.day}/reviewed`, { method: "POST" });
  renderGrid();
}

function step(offset) {
  const index = state.selected + offset;
  if (index >= 0 && index < state.pictures.length) location.hash = pictureHref(index);
}

function message(text, kind) {
  const node = $("message");
  node.textContent = text;
  node.dataset.state = kind;
}

// ------------------------------------------------------------------------ keyboard

document.addEventListener("keydown", (event) => {
  if (event.target.matches("input, select, textarea") && event.key !== "Escape") return;
  if (!$("day-view").hidden) {
    const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: gridColumns(), ArrowUp: -gridColumns() };
    if (event.key in moves) { event.preventDefault(); select(state.selected + moves[event.key]); }
    else if (event.key === "Enter" && state.pictures.length) location.hash = pictureHref(state.selected);
  } else if (!$("picture-view").hidden) {
    if (event.key === "ArrowRight" || event.key === "j") step(1);
    else if (event.key === "ArrowLeft" || event.key === "k") step(-1);
    else if (event.key === "Escape") { if (state.draft) clearDraft(); else location.hash = dayHref(state.camera, state.day); }
    else if (event.key === "Enter") addBox();
    else if (event.key === "r") markReviewed();
    else if (/^[1-5]$/.test(event.key)) { const kind = KINDS[Number(event.key) - 1]; toggle(kind, !state.hidden.has(kind)); }
  }
});

$("overlay").addEventListener("pointerdown", startDraw);
$("add-box").addEventListener("click", addBox);
$("cancel-box").addEventListener("click", clearDraft);
$("picture-reviewed-button").addEventListener("click", markReviewed);
$("day-reviewed").addEventListener("click", markDayReviewed);
$("previous").addEventListener("click", () => step(-1));
$("next").addEventListener("click", () => step(1));
window.addEventListener("hashchange", route);
route();
