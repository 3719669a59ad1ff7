// The live page: the server draws the graph (graphviz SVG); this script puts it on the page,
// keeps it current through /events, pans and zooms, and shows the flows behind a click.
// Every name from the graph reaches the page as text (textContent), never as markup.
'use strict';

const FILTERS = ['host', 'comm', 'port', 'proto'];
const $ = (id) => document.getElementById(id);
let graph = null;           // the /graph.json of the picture on the page
let loading = false, again = false;
let view = { x: 0, y: 0, k: 1 };
let selected = null;        // {kind: 'node'|'edge', title}
let userMoved = false;      // until the user pans or zooms, every new picture is fitted

function params() {
  return new URLSearchParams(location.search);
}

function query() {
  const p = new URLSearchParams();
  const q = params();
  for (const name of ['view', ...FILTERS]) if (q.get(name)) p.set(name, q.get(name));
  const s = p.toString();
  return s ? '?' + s : '';
}

function fromUrl() {
  const q = params();
  $('view').value = q.get('view') || 'process';
  for (const f of FILTERS) $('f-' + f).value = q.get(f) || '';
  for (const l of ['json', 'dot', 'svg']) $('link-' + l).href = 'graph.' + l + query();
}

function toUrl(changes) {
  const q = params();
  for (const [k, v] of Object.entries(changes)) {
    if (v) q.set(k, v); else q.delete(k);
  }
  const s = q.toString();
  history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
  fromUrl();
  selected = null;
  showHint();
  load();
}

// Drops what could run or fetch: graphviz writes none of it, this makes sure.
function sanitize(node) {
  for (const el of node.querySelectorAll('script, foreignObject, iframe, object, embed')) el.remove();
  for (const el of [node, ...node.querySelectorAll('*')]) {
    for (const a of [...el.attributes]) {
      const n = a.name.toLowerCase();
      const v = a.value.trim().toLowerCase();
      if (n.startsWith('on')) el.removeAttribute(a.name);
      else if ((n === 'href' || n === 'xlink:href') && !v.startsWith('#')) el.removeAttribute(a.name);
    }
  }
  return node;
}

function applyView() {
  const svg = $('canvas').querySelector('svg');
  if (svg) svg.style.transform = `translate(${view.x}px, ${view.y}px) scale(${view.k})`;
}

function fit() {
  const svg = $('canvas').querySelector('svg');
  if (!svg) return;
  const box = $('canvas').getBoundingClientRect();
  const w = svg.width.baseVal.value || 1, h = svg.height.baseVal.value || 1;
  view.k = Math.min(box.width / w, box.height / h, 1.5);
  view.x = (box.width - w * view.k) / 2;
  view.y = (box.height - h * view.k) / 2;
  applyView();
}

function notice(text, offerHostView) {
  const n = $('notice');
  n.replaceChildren();
  if (!text) { n.hidden = true; return; }
  n.hidden = false;
  n.append(document.createTextNode(text + ' '));
  if (offerHostView) {
    const b = document.createElement('button');
    b.id = 'host-view';
    b.textContent = 'show the host view';
    b.onclick = () => toUrl({ view: 'host' });
    n.append(b);
  }
}

async function load() {
  if (loading) { again = true; return; }
  loading = true;
  try {
    const q = query();
    const [svgRes, jsonRes] = await Promise.all([fetch('graph.svg' + q), fetch('graph.json' + q)]);
    const text = await svgRes.text();
    if (!jsonRes.ok) {
      notice((await jsonRes.text()).trim(), false);
      return;
    }
    const json = await jsonRes.json();
    const version = jsonRes.headers.get('X-Netviz-Version');
    if (svgRes.status === 413) {
      notice(text.trim() + '.', params().get('view') !== 'host');
      $('canvas').replaceChildren();
    } else if (!svgRes.ok) {
      notice(text.trim(), false);
    } else {
      notice('');
      const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
      const svg = doc.querySelector('svg');
      if (!svg) throw new Error('no picture in the answer');
      const first = !$('canvas').querySelector('svg');
      $('canvas').replaceChildren(document.importNode(sanitize(svg), true));
      for (const t of $('canvas').querySelectorAll('title')) {
        // The tooltips are the <a xlink:title> graphviz writes; the <title>s name the parts.
        if (t.parentNode.classList && t.parentNode.classList.contains('graph')) t.remove();
      }
      if (first || !userMoved) fit(); else applyView();
    }
    graph = json;
    document.body.dataset.version = version || '';
    document.body.dataset.edges = String(json.edges.length);
    $('status').textContent = `${json.nodes.length} nodes, ${json.edges.length} edges, ` +
        `${json.hosts.length} hosts · updated ${new Date().toLocaleTimeString()}`;
    if (selected) showSelected();
  } catch (e) {
    $('status').textContent = 'error: ' + e.message;
  } finally {
    loading = false;
    if (again) { again = false; load(); }
  }
}

function row(table, key, value) {
  const tr = table.insertRow();
  tr.insertCell().textContent = key;
  tr.insertCell().textContent = value === null || value === undefined ? '—' : String(value);
}

function human(b) {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (b >= 1000 && i < u.length - 1) { b /= 1000; i++; }
  return i ? b.toFixed(1) + ' ' + u[i] : b + ' B';
}

function edgeTable(e, parent) {
  const t = document.createElement('table');
  t.className = 'flow';
  row(t, 'from', e.from);
  row(t, 'to', e.to);
  row(t, 'protocol', `${e.proto} port ${e.port}`);
  row(t, 'flows', `${e.flows} (${e.open} open)`);
  row(t, 'bytes', human(e.bytes));
  row(t, 'first seen', e.first_seen);
  row(t, 'last seen', e.last_seen);
  row(t, 'joined', e.joined);
  const peers = [e.from, e.to].map((id) => graph.nodes.find((n) => n.id === id));
  for (const p of peers) if (p && p.pids.length) row(t, 'pids of ' + (p.comm || p.id), p.pids.join(', '));
  parent.append(t);
}

function showHint() {
  const d = $('details');
  d.replaceChildren();
  const p = document.createElement('p');
  p.className = 'hint';
  p.textContent = 'Click a node or an edge to see its flows.';
  d.append(p);
}

function showSelected() {
  const d = $('details');
  d.replaceChildren();
  const h = document.createElement('h3');
  d.append(h);
  let edges;
  if (selected.kind === 'node') {
    const n = graph.nodes.find((x) => x.id === selected.title);
    h.textContent = n ? (n.comm || n.addr || n.host || n.id) : selected.title;
    if (n) {
      const t = document.createElement('table');
      row(t, 'node', n.id);
      row(t, 'type', n.type);
      row(t, 'host', n.host);
      if (n.comm !== null) row(t, 'comm', n.comm);
      if (n.pids.length) row(t, 'pids', n.pids.join(', '));
      if (n.addr) row(t, 'address', n.addr);
      if (n.listens) row(t, 'listens', n.listens.join(', '));
      d.append(t);
    }
    edges = graph.edges.filter((e) => e.from === selected.title || e.to === selected.title);
  } else {
    h.textContent = selected.title;
    edges = graph.edges.filter((e) => e.from + '->' + e.to === selected.title);
  }
  const p = document.createElement('p');
  p.textContent = edges.length + (edges.length === 1 ? ' edge' : ' edges');
  d.append(p);
  for (const e of edges) edgeTable(e, d);
  for (const g of $('canvas').querySelectorAll('g.selected')) g.classList.remove('selected');
  for (const g of $('canvas').querySelectorAll('g.' + selected.kind)) {
    const t = g.querySelector('title');
    if (t && t.textContent === selected.title) g.classList.add('selected');
  }
}

function setup() {
  fromUrl();
  $('view').onchange = () => toUrl({ view: $('view').value === 'process' ? '' : $('view').value });
  $('apply').onclick = () => {
    const c = {};
    for (const f of FILTERS) c[f] = $('f-' + f).value.trim();
    toUrl(c);
  };
  for (const f of FILTERS) $('f-' + f).onkeydown = (ev) => { if (ev.key === 'Enter') $('apply').click(); };
  $('fit').onclick = () => { userMoved = false; fit(); };

  const canvas = $('canvas');
  let drag = null, moved = false;
  canvas.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    userMoved = true;
    const r = canvas.getBoundingClientRect();
    const mx = ev.clientX - r.left, my = ev.clientY - r.top;
    const k = Math.min(8, Math.max(0.05, view.k * Math.exp(-ev.deltaY * 0.0015)));
    view.x = mx - (mx - view.x) * k / view.k;
    view.y = my - (my - view.y) * k / view.k;
    view.k = k;
    applyView();
  }, { passive: false });
  canvas.addEventListener('mousedown', (ev) => {
    drag = { x: ev.clientX - view.x, y: ev.clientY - view.y };
    moved = false;
    canvas.classList.add('dragging');
  });
  window.addEventListener('mousemove', (ev) => {
    if (!drag) return;
    moved = true;
    userMoved = true;
    view.x = ev.clientX - drag.x;
    view.y = ev.clientY - drag.y;
    applyView();
  });
  window.addEventListener('mouseup', () => { drag = null; canvas.classList.remove('dragging'); });
  canvas.addEventListener('click', (ev) => {
    if (moved || !graph) return;
    const g = ev.target.closest('g.node, g.edge');
    if (!g || g.classList.contains('legend')) return;
    const t = g.querySelector('title');
    if (!t) return;
    selected = { kind: g.classList.contains('node') ? 'node' : 'edge', title: t.textContent };
    showSelected();
  });

  const events = new EventSource('events');
  events.addEventListener('graph', () => load());
  events.onerror = () => { $('status').textContent = 'disconnected; retrying…'; };
  load();
}

document.addEventListener('DOMContentLoaded', setup);
