// The choreography graph, laid out by dagre, with the live counts on its
// edges and nodes.
import cytoscape from './vendor/cytoscape.esm.min.mjs';
import dagre from './vendor/cytoscape-dagre.min.mjs';
import { api, el } from './app.js';

cytoscape.use(dagre);

let cy;
let model; // the graph's JSON (package graph)

// A node's box fits its text: about 6.6px per character at 12px, 15px a line.
const lines = (ele) => String(ele.data('text')).split('\n');
const boxWidth = (ele) => Math.max(...lines(ele).map((l) => l.length)) * 6.6 + 20;
const boxHeight = (ele) => lines(ele).length * 15 + 14;

const style = [
  { selector: 'node', style: {
    'shape': 'round-rectangle', 'width': boxWidth, 'height': boxHeight,
    'label': 'data(text)', 'text-wrap': 'wrap', 'text-valign': 'center', 'text-halign': 'center',
    'font-size': 12, 'font-family': 'system-ui, sans-serif', 'color': '#1d2430',
    'background-color': '#e8eef9', 'border-width': 1, 'border-color': '#6b85b8',
  } },
  { selector: 'node[kind="external"]', style: { 'background-color': '#f3f3f3', 'border-style': 'dashed', 'border-color': '#888' } },
  { selector: 'node[kind="no-consumer"]', style: { 'background-color': '#fafafa', 'border-style': 'dotted', 'color': '#777' } },
  { selector: 'node[kind="dlq"]', style: { 'shape': 'barrel', 'background-color': '#f7f7f7', 'border-color': '#999', 'color': '#555' } },
  { selector: 'node[kind="dlq"][depth > 0]', style: { 'background-color': '#fde2e1', 'border-color': '#c62828', 'color': '#8e1c1c', 'border-width': 2 } },
  { selector: 'edge', style: {
    'curve-style': 'bezier', 'target-arrow-shape': 'triangle', 'width': 1.5,
    'line-color': '#8a9bbd', 'target-arrow-color': '#8a9bbd',
    'label': 'data(text)', 'text-wrap': 'wrap', 'font-size': 10, 'color': '#334',
    'text-background-color': '#fff', 'text-background-opacity': 0.85, 'text-background-padding': '2px',
  } },
  { selector: 'edge[via="stream"]', style: { 'line-style': 'dashed' } },
  { selector: 'edge[delivered > 0]', style: { 'line-color': '#2e7d32', 'target-arrow-color': '#2e7d32', 'width': 2.5 } },
  { selector: 'edge[kind="dead-letter"]', style: { 'line-color': '#bbb', 'target-arrow-color': '#bbb', 'line-style': 'dotted' } },
  { selector: 'edge[kind="dead-letter"][deadLettered > 0]', style: { 'line-color': '#c62828', 'target-arrow-color': '#c62828', 'width': 2 } },
  { selector: 'edge[?problem]', style: { 'line-color': '#e65100', 'target-arrow-color': '#e65100' } },
];

export async function init() {
  model = await api('graph');
  const elements = [];
  for (const n of model.nodes) {
    elements.push({ data: { id: n.id, kind: n.kind, name: n.name || '', via: n.via || '', label: n.label, text: n.label, depth: 0 } });
  }
  model.edges.forEach((e, i) => {
    elements.push({ data: {
      id: 'e' + i, source: e.from, target: e.to, kind: e.kind, type: e.type || '', via: e.via || '',
      consumer: nodeName(e.to), label: e.label, text: e.label, problem: !!e.problem,
      delivered: 0, retried: 0, deadLettered: 0,
    } });
  });
  cy = cytoscape({
    container: document.getElementById('graph'), elements, style,
    layout: { name: 'dagre', rankDir: 'LR', nodeSep: 30, rankSep: 130, edgeSep: 12 },
    minZoom: 0.2, maxZoom: 3,
  });
  window.troupeConsole = { ...(window.troupeConsole || {}), cy };
  document.getElementById('graph').dataset.ready = 'true';
  performance.mark('graph-ready');
}

function nodeName(id) {
  return model.nodes.find((n) => n.id === id)?.name || '';
}

export function shown() {
  cy?.resize();
  cy?.fit(undefined, 20);
  if (waiting) update(waiting);
}

// While the graph is out of sight (another tab of the console, or of the
// browser), updates wait: only the latest is drawn when it shows again.
let waiting = null;
const outOfSight = () => document.hidden || document.getElementById('tab-graph').hidden;
document.addEventListener('visibilitychange', () => { if (!outOfSight() && waiting) update(waiting); });

const n = (v) => (v ? String(v) : '0');

// set changes an element's data only where it differs, so that an update
// that changes nothing costs no restyle or redraw.
function set(ele, data) {
  const changed = Object.entries(data).filter(([k, v]) => ele.data(k) !== v);
  if (changed.length) ele.data(Object.fromEntries(changed));
}

export function update(s) {
  if (outOfSight()) {
    waiting = s;
    return;
  }
  waiting = null;
  const byConsumer = new Map(s.status.consumers.map((c) => [c.name, c]));
  const byEdge = new Map(s.edges.map((e) => [e.consumer + '|' + e.type, e]));
  cy.batch(() => {
    cy.nodes().forEach((node) => {
      const c = byConsumer.get(node.data('name'));
      if (!c) return;
      if (node.data('kind') === 'consumer') {
        const wait = c.subscription === 'stream' ? `lag ${n(c.lag)}` : `pending ${n(c.pending)}`;
        set(node, { text: `${node.data('label')} (${c.subscription})\n${wait} · DLQ ${n(c.dlq)}`, depth: c.dlq });
      } else if (node.data('kind') === 'dlq') {
        set(node, { text: `${node.data('label')}\n${n(c.dlq)} waiting`, depth: c.dlq });
      }
    });
    cy.edges().forEach((edge) => {
      const d = edge.data();
      if (d.kind === 'dead-letter') {
        const c = byConsumer.get(d.consumer) || byConsumer.get(nodeName(d.source));
        const dead = c ? deadLettered(c, s) : 0;
        set(edge, { deadLettered: dead, text: dead ? `${dead} dead-lettered` : '' });
        return;
      }
      const e = byEdge.get(d.consumer + '|' + d.type);
      if (!e) return;
      set(edge, {
        delivered: e.delivered, retried: e.retried, deadLettered: e.deadLettered,
        text: `${d.label}\n✓ ${e.delivered}  ↻ ${e.retried}  ✗ ${e.deadLettered}`,
      });
    });
  });
  renderTable(s);
}

// deadLettered counts a consumer's dead letters since start: those its
// runtime parked (per edge), and for a bus consumer those the bus parked
// once its retries ran out (the status's count; for a stream consumer the
// status already counts the runtime's).
function deadLettered(c, s) {
  const own = s.edges.filter((e) => e.consumer === c.name).reduce((sum, e) => sum + e.deadLettered, 0);
  return c.subscription === 'bus' ? own + c.deadLettered : Math.max(own, c.deadLettered);
}

// renderTable keeps one row per consumer and changes only the cells whose
// text changed.
function renderTable(s) {
  const body = document.querySelector('#consumers tbody');
  const readsOf = (name) => model.events.filter((ev) => ev.consumers.some((c) => c.name === name)).map((ev) => ev.type);
  for (const c of s.status.consumers) {
    let row = body.querySelector(`tr[data-consumer="${CSS.escape(c.name)}"]`);
    if (!row) {
      row = el('tr', { 'data-consumer': c.name }, el('th', {}, c.name), el('td', { class: 'muted' }, `${c.subscription}: ${readsOf(c.name).join(', ')}`),
        ...Array.from({ length: 7 }, () => el('td', { class: 'n' })));
      body.append(row);
    }
    const cells = [c.delivered, c.handled, c.duplicates, c.retried, deadLettered(c, s)].map(n);
    cells.push(c.subscription === 'stream' ? `lag ${n(c.lag)}` : `pending ${n(c.pending)}`, n(c.dlq));
    const tds = row.querySelectorAll('td.n');
    cells.forEach((text, i) => { if (tds[i].textContent !== text) tds[i].textContent = text; });
    const dlq = tds[6];
    dlq.classList.toggle('bad', c.dlq > 0);
    dlq.dataset.dlq = c.dlq;
  }
}
