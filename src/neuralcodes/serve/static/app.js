// The neuralcodes search page: drop, pick or paste an image -> POST /api/search; click a result ->
// GET /api/search/{id} (kept in the address as #id=N, so Back returns to the previous search).
"use strict";

const $ = (selector) => document.querySelector(selector);
let limits = { max_upload_bytes: Infinity, max_k: 100 };
let latest = 0; // number of the newest request: older answers are dropped
let previewUrl = null;
let lastFile = null; // the uploaded query: searched again when the number of results changes

function k() {
  return Number($("#k-select").value) || 10;
}

function setStatus(state, text) {
  const status = $("#status");
  status.dataset.state = state;
  status.textContent = text;
}

function showQuery(src, caption) {
  $("#query-figure").hidden = false;
  $("#query-preview").src = src;
  $("#query-caption").textContent = caption;
}

function ms(value) {
  return value === null || value === undefined ? null : `${value.toFixed(1)} ms`;
}

function describeTimings(t) {
  const parts = [["decode", t.decode_ms], ["encode", t.encode_ms], ["search", t.search_ms]]
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([name, v]) => `${name} ${ms(v)}`);
  return `in ${ms(t.total_ms)}` + (parts.length ? ` (${parts.join(" · ")})` : "");
}

function resultItem(hit, queryId) {
  const item = document.createElement("li");
  item.className = "result" + (hit.id === queryId ? " is-query" : "");
  item.dataset.id = String(hit.id);
  const button = document.createElement("button");
  button.type = "button";
  button.title = `${hit.path}\nclick to search with this image`;
  const img = document.createElement("img");
  img.className = "thumb";
  img.loading = "lazy";
  img.alt = hit.path;
  img.src = hit.thumbnail_url;
  const meta = document.createElement("div");
  meta.className = "meta";
  const rank = document.createElement("span");
  rank.className = "rank";
  rank.textContent = `#${hit.rank}`;
  const distance = document.createElement("span");
  distance.className = "distance";
  distance.textContent = hit.distance === null ? "–" : hit.distance.toFixed(4);
  distance.title = "Euclidean distance between the neural codes";
  meta.append(rank, distance);
  const path = document.createElement("div");
  path.className = "path";
  path.textContent = hit.path;
  button.append(img, meta, path);
  button.addEventListener("click", () => {
    if (location.hash === `#id=${hit.id}`) searchFromHash();
    else location.hash = `id=${hit.id}`;
  });
  item.append(button);
  return item;
}

function render(data) {
  const queryId = data.query.id;
  const grid = $("#results");
  grid.replaceChildren(...data.results.map((hit) => resultItem(hit, queryId)));
  const n = data.results.length;
  setStatus("done", `${n} nearest image${n === 1 ? "" : "s"} ${describeTimings(data.timings)}`);
  document.body.dataset.searchCount = String(Number(document.body.dataset.searchCount) + 1);
}

async function run(request) {
  const mine = ++latest;
  setStatus("loading", "Searching");
  try {
    const response = await request();
    const data = await response.json().catch(() => ({}));
    if (mine !== latest) return;
    if (!response.ok) {
      const detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
      setStatus("error", `The server refused: ${detail || response.statusText} (${response.status})`);
      return;
    }
    render(data);
  } catch (err) {
    if (mine === latest) setStatus("error", `The server did not answer: ${err.message}`);
  }
}

function searchFile(file) {
  if (!file) return;
  if (file.size > limits.max_upload_bytes) {
    const mib = (n) => `${(n / 1048576).toFixed(1)} MiB`;
    setStatus("error", `${file.name} is ${mib(file.size)}: the limit is ${mib(limits.max_upload_bytes)}`);
    return;
  }
  if (previewUrl) URL.revokeObjectURL(previewUrl);
  previewUrl = URL.createObjectURL(file);
  showQuery(previewUrl, file.name || "pasted image");
  if (location.hash) history.pushState(null, "", location.pathname);
  lastFile = file;
  upload(file);
}

function upload(file) {
  const form = new FormData();
  form.append("file", file, file.name || "upload");
  run(() => fetch(`/api/search?k=${k()}`, { method: "POST", body: form }));
}

// The current search again (after the number of results changed): by id, or the last upload.
function searchAgain() {
  if (/^#id=\d+$/.test(location.hash)) searchFromHash();
  else if (lastFile) upload(lastFile);
}

function searchId(id) {
  showQuery(`/api/images/${id}?thumb=1`, `indexed image #${id}`);
  run(async () => {
    const response = await fetch(`/api/search/${id}?k=${k()}`);
    if (response.ok) {
      const clone = await response.clone().json();
      if (clone.query && clone.query.path) $("#query-caption").textContent = clone.query.path;
    }
    return response;
  });
}

function searchFromHash() {
  const match = /^#id=(\d+)$/.exec(location.hash);
  if (match) searchId(Number(match[1]));
}

function setUpDropZone() {
  const zone = $("#drop-zone");
  const input = $("#file-input");
  input.addEventListener("change", () => { searchFile(input.files[0]); input.value = ""; });
  zone.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); }
  });
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    searchFile(e.dataTransfer.files[0]);
  });
  // A file dropped beside the zone must not make the browser navigate away to it.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());
  document.addEventListener("paste", (e) => {
    const item = [...e.clipboardData.items].find((i) => i.type.startsWith("image/"));
    if (item) searchFile(item.getAsFile());
  });
}

async function loadInfo() {
  try {
    const info = await (await fetch("/api/info")).json();
    limits = info.server || limits;
    const parts = [`${info.images} images`];
    for (const key of ["layer", "dim", "pca"]) {
      if (info[key] !== undefined && info[key] !== null) parts.push(`${key} ${info[key]}`);
    }
    $("#index-info").textContent = parts.join(" · ");
  } catch (err) {
    $("#index-info").textContent = `cannot read the index info: ${err.message}`;
  }
}

window.addEventListener("hashchange", searchFromHash);
$("#k-select").addEventListener("change", searchAgain);
setUpDropZone();
loadInfo();
searchFromHash();
