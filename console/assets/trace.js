// The trace of an event: the chain of events that share its correlation id,
// and every consumer's outcome, with timings from the first publish.
import { api, el, show } from './app.js';

export function init() {
  document.getElementById('trace-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    search(document.getElementById('trace-id').value.trim());
  });
}

// search traces id and shows the result (also used by the other views).
export async function search(id) {
  if (!id) return;
  document.getElementById('trace-id').value = id;
  show('trace');
  const out = document.getElementById('trace-result');
  const err = document.getElementById('trace-error');
  err.hidden = true;
  try {
    render(await api('trace/' + encodeURIComponent(id)), id);
  } catch (e) {
    out.replaceChildren();
    err.textContent = e.status === 404 ? `Unknown id: ${e.message}` : `Cannot trace: ${e.message}`;
    err.hidden = false;
  }
}

const ms = (d) => (d / 1e6).toFixed(d < 1e7 ? 2 : 0) + ' ms'; // a duration in ns
const since = (t0, t) => '+' + (Math.max(0, new Date(t) - t0)).toFixed(0) + ' ms';

function render(tr, asked) {
  const t0 = new Date(tr.events[0].publishedAt);
  const items = tr.events.map((ev) => el('li', { class: ev.id === asked ? 'event asked' : 'event', 'data-type': ev.type },
    el('div', { class: 'row' },
      el('span', { class: 'at' }, since(t0, ev.publishedAt)),
      el('b', {}, ev.type), el('span', { class: 'muted' }, ` v${ev.version} from ${ev.source} on ${ev.legs.join(' + ')}`),
      el('code', { class: 'id' }, ev.id)),
    el('ul', { class: 'outcomes' }, ...(ev.outcomes || []).map((o) => el('li', { 'data-consumer': o.consumer, 'data-outcome': o.outcome },
      el('span', { class: 'at' }, since(t0, o.start)),
      el('span', { class: 'badge ' + o.outcome }, o.outcome),
      ` ${o.consumer}, ${o.attempts} attempt${o.attempts === 1 ? '' : 's'}, ${ms(o.duration)}`,
      o.emitted?.length ? el('span', { class: 'muted' }, ` → emitted ${o.emitted.length}`) : null,
      o.error ? el('pre', { class: 'error' }, o.error) : null))),
    ev.outcomes?.length ? null : el('p', { class: 'muted' }, 'no consumer outcome yet (or no consumer reads it)'),
  ));
  document.getElementById('trace-result').replaceChildren(
    el('p', {}, `Correlation id `, el('code', {}, tr.correlationId), ` — ${tr.events.length} events`),
    el('ol', { class: 'chain' }, ...items));
}
