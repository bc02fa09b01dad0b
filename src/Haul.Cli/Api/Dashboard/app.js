// Haul dashboard: plain DOM, the node's REST API with the bearer token kept in sessionStorage,
// live progress from the server-sent event stream read with fetch (EventSource cannot send headers).
"use strict";
const $ = (id) => document.getElementById(id);
const transfers = new Map();
const samples = [];
let token = sessionStorage.getItem("haul.token");
let streamAbort = null;
let refreshTimer = null;

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  Object.assign(e, props || {});
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return e;
}

function bytes(n) {
  const u = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i === 0 ? n.toFixed(0) : n.toFixed(n >= 100 ? 0 : 1)) + " " + u[i];
}

// crypto.randomUUID needs a secure context; getRandomValues does not (an API exposed over plain http).
function newKey() { return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join(""); }

function when(iso) { return iso ? new Date(iso).toLocaleString() : "—"; }

async function api(path, options) {
  const r = await fetch(path, { ...options, headers: { "Authorization": "Bearer " + token, ...(options && options.headers) } });
  if (r.status === 401) { signOut("the token was refused"); throw new Error("unauthorized"); }
  const body = r.status === 204 ? null : await r.json();
  if (!r.ok) throw new Error(body && body.detail ? body.detail + (body.fix ? " — " + body.fix : "") : r.statusText);
  return body;
}

function signOut(message) {
  sessionStorage.removeItem("haul.token");
  token = null;
  if (streamAbort) streamAbort.abort();
  clearInterval(refreshTimer);
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
}

async function signIn(t) {
  token = t;
  try {
    const node = await api("/api/v1/node");
    sessionStorage.setItem("haul.token", t);
    $("login").hidden = true;
    $("app").hidden = false;
    showNode(node);
    await refresh();
    streamEvents();
    refreshTimer = setInterval(refresh, 5000);
  } catch (e) {
    if (e.message !== "unauthorized") $("login-error").textContent = e.message;
  }
}

function showNode(n) {
  $("node-title").textContent = `${n.name} · ${n.id.slice(0, 15)}…`;
  const kv = $("node-info");
  kv.replaceChildren();
  for (const [k, v] of [["Name", n.name], ["Node ID", n.id], ["Version", n.version], ["Peers at", n.listen || "—"], ["API", n.api], ["Health", n.health], ["Up", Math.round(n.uptimeSeconds) + " s"]]) {
    kv.append(el("div", {}, k), el("div", { className: k === "Node ID" ? "mono" : "" }, v));
  }
}

async function refresh() {
  const [node, peers, list, jobs, receipts] = await Promise.all([
    api("/api/v1/node"), api("/api/v1/peers"), api("/api/v1/transfers"), api("/api/v1/jobs"), api("/api/v1/receipts")]);
  showNode(node);
  const sel = $("send-peer");
  const chosen = sel.value;
  sel.replaceChildren(...peers.map((p) => el("option", { value: p.name, selected: p.name === chosen }, p.name)));
  $("peers").replaceChildren(...peers.map((p) => el("tr", {}, el("td", {}, p.name), el("td", { className: "mono" }, p.id), el("td", {}, p.address || "(dials in)"))));
  for (const t of list) transfers.set(t.id, t);
  renderTransfers();
  $("jobs").replaceChildren(...jobs.map((j) => {
    const run = el("button", { className: "secondary", type: "button" }, "Run now");
    run.onclick = async () => { run.disabled = true; try { await api(`/api/v1/jobs/${encodeURIComponent(j.name)}/run`, { method: "POST" }); } finally { run.disabled = false; refresh(); } };
    const last = j.lastExitCode == null ? "—" : (j.lastExitCode === 0 ? "ok" : `exit ${j.lastExitCode}: ${j.lastMessage || ""}`);
    return el("tr", {}, el("td", {}, j.name + (j.paused ? " (paused)" : "")), el("td", { className: "mono" }, j.every || ("watch " + j.watch)), el("td", {}, when(j.nextRun)), el("td", { className: j.lastExitCode ? "state-failed" : "state-done" }, last), el("td", {}, run));
  }));
  $("receipts").replaceChildren(...receipts.slice(0, 50).map((r) => el("tr", {}, el("td", {}, when(r.deliveredAt)), el("td", {}, r.peer), el("td", { className: "num" }, String(r.files)), el("td", { className: "num" }, bytes(r.bytes)), el("td", { className: "mono" }, r.manifestHash.slice(0, 16)))));
}

function renderTransfers() {
  const rows = [...transfers.values()].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  $("transfers").replaceChildren(...rows.map((t) => {
    const pct = Math.max(0, Math.min(100, t.percent));
    const bar = el("div", { className: "bar" }, el("span", { style: `width:${pct}%` }), el("b", {}, pct.toFixed(pct >= 100 || pct === 0 ? 0 : 1) + "%"));
    bar.dataset.transfer = t.id;
    const actions = el("td", {});
    const act = (label, verb) => {
      const b = el("button", { className: "secondary", type: "button" }, label);
      b.onclick = () => api(`/api/v1/transfers/${t.id}/${verb}`, { method: "POST" }).catch((e) => alert(e.message));
      actions.append(b, " ");
    };
    if (t.state === "running") { act("Pause", "pause"); act("Cancel", "cancel"); }
    if (t.state === "paused" || t.state === "failed") act("Resume", "resume");
    const state = el("td", { className: "state-" + t.state, title: t.error ? t.error + (t.fix ? " — " + t.fix : "") : "" }, t.state + (t.state === "running" && t.phase !== "transfer" ? ` (${t.phase})` : ""));
    state.dataset.state = t.state;
    return el("tr", { id: "tr-" + t.id }, el("td", { className: "mono" }, t.id), el("td", {}, t.kind), el("td", {}, t.peer || "—"),
      el("td", { className: "mono" }, t.path), state, el("td", {}, bar, el("div", { className: "muted" }, `${bytes(t.bytesDone)} of ${bytes(t.bytesTotal)}` + (t.etaSeconds != null ? ` · ${Math.ceil(t.etaSeconds)} s left` : ""))),
      el("td", { className: "num" }, t.rateBytesPerSec > 0 ? bytes(t.rateBytesPerSec) + "/s" : ""), actions);
  }));
}

async function streamEvents() {
  streamAbort = new AbortController();
  while (token) {
    try {
      const r = await fetch("/api/v1/events", { headers: { "Authorization": "Bearer " + token }, signal: streamAbort.signal });
      if (r.status === 401) { signOut("the token was refused"); return; }
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
          if (data) { const t = JSON.parse(data); transfers.set(t.id, t); renderTransfers(); }
        }
      }
    } catch (e) {
      if (streamAbort.signal.aborted) return;
    }
    await new Promise((res) => setTimeout(res, 2000));
  }
}

function sample() {
  let total = 0;
  for (const t of transfers.values()) if (t.state === "running") total += t.rateBytesPerSec;
  samples.push(total);
  if (samples.length > 120) samples.shift();
  $("tput-now").textContent = total > 0 ? "· " + bytes(total) + "/s now" : "";
  const c = $("tput");
  const g = c.getContext("2d");
  const w = c.width, h = c.height, pad = 28;
  g.clearRect(0, 0, w, h);
  const max = Math.max(1e6, ...samples) * 1.1;
  g.strokeStyle = "#d8dee4"; g.fillStyle = "#5c6670"; g.font = "11px system-ui"; g.lineWidth = 1;
  for (let k = 0; k <= 4; k++) {
    const y = h - pad + 10 - (k / 4) * (h - pad);
    g.beginPath(); g.moveTo(60, y); g.lineTo(w, y); g.stroke();
    g.fillText(bytes((k / 4) * max) + "/s", 0, y + 4);
  }
  g.strokeStyle = "#0a66c2"; g.lineWidth = 2; g.beginPath();
  samples.forEach((v, i) => {
    const x = w - ((samples.length - 1 - i) / 119) * (w - 60);
    const y = h - pad + 10 - (v / max) * (h - pad);
    if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
  });
  g.stroke();
  g.fillStyle = "#5c6670"; g.fillText("last 2 minutes", w - 90, h - 2);
}

$("login-form").onsubmit = (e) => { e.preventDefault(); signIn($("token").value.trim()); };
$("logout").onclick = () => signOut("");
$("send-form").onsubmit = async (e) => {
  e.preventDefault();
  $("send-error").textContent = "";
  const body = { kind: "send", path: $("send-path").value.trim(), peer: $("send-peer").value };
  if ($("send-rate").value.trim()) body.maxRate = $("send-rate").value.trim();
  try {
    const t = await api("/api/v1/transfers", { method: "POST", headers: { "Content-Type": "application/json", "Idempotency-Key": newKey() }, body: JSON.stringify(body) });
    transfers.set(t.id, t);
    renderTransfers();
  } catch (err) {
    if (err.message !== "unauthorized") $("send-error").textContent = err.message;
  }
};
setInterval(sample, 1000);
if (token) signIn(token); else signOut("");
