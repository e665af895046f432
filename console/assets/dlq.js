// The dead-letter queues: depth per consumer, each message with its error,
// attempts and payload; replay (dlq.Replay, as `troupe dlq replay` runs it),
// a message's event fixed here and replayed, and purge with a confirmation.
import { api, el, live } from './app.js';

let current = null; // the consumer shown
let shownDepth = -1;

export async function init() {
  document.getElementById('dlq-replay-all').addEventListener('click', () => replay([]));
  document.getElementById('dlq-purge').addEventListener('click', purge);
}

export function shown() {
  if (live.snapshot) update(live.snapshot);
  if (current) load(current);
}

export function update(s) {
  const list = document.getElementById('dlq-queues');
  list.replaceChildren(...s.status.consumers.map((c) => el('li', {},
    el('button', {
      class: (c.name === current ? 'active ' : '') + (c.dlq ? 'bad' : ''), 'data-consumer': c.name, 'data-depth': c.dlq,
      onclick: () => load(c.name),
    }, c.name, el('span', { class: 'count' }, String(c.dlq))))));
  const c = s.status.consumers.find((x) => x.name === current);
  const visible = !document.getElementById('tab-dlq').hidden;
  if (c && c.dlq !== shownDepth && visible) load(current);
}

async function load(consumer) {
  current = consumer;
  for (const b of document.querySelectorAll('#dlq-queues button')) b.classList.toggle('active', b.dataset.consumer === consumer);
  let r;
  try {
    r = await api('dlq/' + encodeURIComponent(consumer));
  } catch (e) {
    document.getElementById('dlq-messages').replaceChildren(el('p', { class: 'error' }, e.message));
    return;
  }
  if (consumer !== current) return;
  shownDepth = r.depth;
  const button = document.querySelector(`#dlq-queues button[data-consumer="${CSS.escape(consumer)}"]`);
  if (button) { // the queue's depth as just read, before the next live update says it too
    button.dataset.depth = r.depth;
    button.classList.toggle('bad', r.depth > 0);
    button.querySelector('.count').textContent = String(r.depth);
  }
  document.getElementById('dlq-title').textContent = `${consumer}: ${r.depth} dead letter${r.depth === 1 ? '' : 's'}`;
  document.getElementById('dlq-replay-all').disabled = r.depth === 0;
  document.getElementById('dlq-purge').disabled = r.depth === 0;
  const box = document.getElementById('dlq-messages');
  if (r.messages.length === 0) {
    box.replaceChildren(el('p', { class: 'muted empty' }, `${consumer}'s dead-letter queue is empty.`));
    return;
  }
  const more = r.truncated ? [el('p', { class: 'muted' }, `showing the first ${r.messages.length}`)] : [];
  box.replaceChildren(...r.messages.map(card), ...more);
}

function card(m) {
  const payload = m.event ? JSON.stringify(m.event, null, 2) : (m.raw || m.body || '');
  const when = m.lastFailure || m.sentAt;
  return el('article', { class: 'message', 'data-id': m.id },
    el('div', { class: 'row' },
      el('b', {}, m.event ? `${m.event.type} v${m.event.dataversion}` : 'no event'),
      el('code', { class: 'id' }, m.event ? m.event.id : `message ${m.id}`),
      el('span', { class: 'muted' }, `${m.reason || m.shape || ''} · ${m.attempts} attempt${m.attempts === 1 ? '' : 's'} · last failed ${new Date(when).toLocaleTimeString()}`),
      el('button', { class: 'replay', onclick: () => replay([m.id]) }, 'Replay'),
      el('button', { class: 'fix', onclick: (ev) => fix(ev.target.closest('article'), m) }, 'Fix & replay')),
    el('pre', { class: 'error' }, m.unreadable ? `unreadable: ${m.unreadable}` : m.error),
    el('details', {}, el('summary', {}, 'payload'), el('pre', { class: 'payload' }, payload)));
}

// fix opens an editor of the message's event under its card: the fixed
// event replaces the one the message holds, for this replay only, as an
// event fixed in a `troupe dlq export` file does with --from-file.
function fix(article, m) {
  if (article.querySelector('form.fix')) return;
  const text = el('textarea', { class: 'fix', rows: 14, spellcheck: 'false' },
    m.event ? JSON.stringify(m.event, null, 2) : (m.raw || ''));
  const note = el('p', { class: 'muted' }, 'Edit the event (a troupe envelope), then replay it to ' + current + '.');
  const form = el('form', { class: 'fix' }, note, text,
    el('button', { type: 'submit', class: 'replay-fixed' }, 'Replay the fixed event'),
    el('button', { type: 'button', onclick: () => form.remove() }, 'Cancel'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    let event;
    try {
      event = JSON.parse(text.value);
    } catch (e) {
      note.className = 'error';
      note.textContent = 'Not JSON: ' + e.message;
      return;
    }
    replay([m.id], event);
  });
  article.append(form);
}

async function replay(ids, event) {
  const consumer = current;
  const out = document.getElementById('dlq-run');
  out.replaceChildren(el('p', { class: 'muted' }, 'replaying…'));
  try {
    const r = await api(`dlq/${encodeURIComponent(consumer)}/replay`, event ? { ids, event } : { ids });
    out.replaceChildren(summary('Replay', r), ...r.results.map(result));
  } catch (e) {
    out.replaceChildren(el('p', { class: 'error' }, e.message));
  }
  await load(consumer);
}

function summary(what, r) {
  const s = r.summary;
  const done = what === 'Purge' ? `${s.purged || 0} purged` : `${s.replayed || 0} replayed`;
  const text = `${what} of ${current}: ${done}, ${s.failed || 0} failed, ${s.unreadable || 0} unreadable` +
    (s.failed || s.unreadable ? ' — the failed and unreadable messages are still in the queue.' : '.');
  return el('p', { class: s.failed || s.unreadable || r.error ? 'warn' : 'ok' }, text, r.error ? ` ${r.error}` : '');
}

function result(res) {
  return el('div', { class: 'result ' + res.action, 'data-id': res.id, 'data-action': res.action },
    el('span', { class: 'badge ' + res.action }, res.action),
    ` message ${res.id}${res.type ? ` (${res.type} ${res.eventId})` : ''}${res.deleted ? ', deleted from the queue' : ', kept in the queue'}`,
    res.error ? el('pre', { class: 'error' }, res.error) : null);
}

async function purge() {
  const consumer = current;
  const dialog = document.getElementById('purge-dialog');
  document.getElementById('purge-question').textContent =
    `Purge ${shownDepth} message${shownDepth === 1 ? '' : 's'} from ${consumer}'s dead-letter queue? They are deleted for good: export them first (troupe dlq export) if you may need them.`;
  dialog.returnValue = '';
  dialog.showModal();
  await new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
  if (dialog.returnValue !== 'confirm') return;
  const out = document.getElementById('dlq-run');
  try {
    const r = await api(`dlq/${encodeURIComponent(consumer)}/purge`, { confirm: consumer });
    out.replaceChildren(summary('Purge', r));
  } catch (e) {
    out.replaceChildren(el('p', { class: 'error' }, e.message));
  }
  await load(consumer);
}
