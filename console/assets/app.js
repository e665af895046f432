// The console's shell: tabs, the live stream, and the JSON helper the views
// share. Each view is a module with init() and, if it follows the live
// state, update(snapshot).
import * as graph from './graph.js';
import * as trace from './trace.js';
import * as dlq from './dlq.js';
import * as publish from './publish.js';

const views = { graph, trace, dlq, publish };

// api fetches a console endpoint and returns its JSON; an error answer
// throws an Error carrying the problem details (title, detail, violations).
export async function api(path, body) {
  const init = body === undefined ? {} : {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  };
  const resp = await fetch('/console/api/' + path, init);
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    const err = new Error(data.detail || data.title || resp.statusText);
    Object.assign(err, { status: resp.status, problem: data });
    throw err;
  }
  return data;
}

// el builds an element: el('td', {class: 'n'}, 'text', child...).
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.filter((c) => c !== undefined && c !== null));
  return e;
}

export function show(tab) {
  if (!views[tab]) tab = 'graph';
  for (const s of document.querySelectorAll('[data-view]')) s.hidden = s.dataset.view !== tab;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.tab === tab);
  if (location.hash !== '#' + tab) history.replaceState(null, '', '#' + tab);
  views[tab].shown?.();
}

// The last snapshot, for views that open after it arrived, and how many
// arrived (for the tests).
export const live = { snapshot: null, count: 0 };
window.troupeConsole = { ...(window.troupeConsole || {}), live };

function connect() {
  const badge = document.getElementById('live');
  const src = new EventSource('/console/api/live');
  src.onopen = () => { badge.textContent = 'live'; badge.className = 'live on'; };
  src.onerror = () => { badge.textContent = 'reconnecting…'; badge.className = 'live off'; };
  src.addEventListener('snapshot', (ev) => {
    const s = JSON.parse(ev.data);
    live.snapshot = s;
    live.count++;
    document.getElementById('topology').textContent = s.status.topology;
    const total = s.status.consumers.reduce((n, c) => n + c.dlq, 0);
    document.getElementById('dlq-total').textContent = total ? String(total) : '';
    for (const v of Object.values(views)) v.update?.(s);
  });
}

window.addEventListener('hashchange', () => show(location.hash.slice(1)));
await Promise.all(Object.values(views).map((v) => v.init()));
show(location.hash.slice(1));
connect();
