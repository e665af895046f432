// Publish a test event: a registered type and version, its schema's example
// to edit, sent through the engine's publisher. The server checks the data
// against the schema first; what it refuses is shown here, never sent.
import { api, el } from './app.js';
import { search } from './trace.js';

let types = [];
const $ = (id) => document.getElementById(id);

export async function init() {
  types = (await api('types')).types;
  $('pub-type').replaceChildren(...types.map((t) => el('option', { value: t.type }, t.type)));
  $('pub-type').addEventListener('change', () => pickType(true));
  $('pub-version').addEventListener('change', () => pickVersion());
  $('pub-reset').addEventListener('click', () => pickVersion());
  $('publish-form').addEventListener('submit', (ev) => { ev.preventDefault(); send(); });
  pickType(true);
}

const typeOf = () => types.find((t) => t.type === $('pub-type').value);
const versionOf = () => typeOf()?.versions.find((v) => v.version === Number($('pub-version').value));

function pickType() {
  const t = typeOf();
  if (!t) return;
  $('pub-version').replaceChildren(...t.versions.map((v) => el('option', { value: v.version }, 'v' + v.version)));
  $('pub-version').value = t.versions[t.versions.length - 1].version; // the latest
  pickVersion();
}

function pickVersion() {
  const v = versionOf();
  if (!v) return;
  $('pub-about').textContent = [v.description, v.breaking && `Breaking: ${v.breaking}`, v.schema && `Schema: ${v.schema}`].filter(Boolean).join(' · ');
  $('pub-data').value = v.example === null ? '{}' : JSON.stringify(v.example, null, 2);
  clearErrors();
}

function clearErrors() {
  $('pub-errors').hidden = true;
  $('pub-errors').replaceChildren();
  $('pub-data').removeAttribute('aria-invalid');
}

function showErrors(title, lines) {
  $('pub-errors').replaceChildren(el('b', {}, title), el('ul', {}, ...lines.map((l) => el('li', {}, l))));
  $('pub-errors').hidden = false;
  $('pub-data').setAttribute('aria-invalid', 'true');
}

async function send() {
  clearErrors();
  $('pub-result').replaceChildren();
  let data;
  try {
    data = JSON.parse($('pub-data').value);
  } catch (e) {
    showErrors('The data is not JSON: nothing was sent.', [e.message]);
    return;
  }
  const req = {
    type: $('pub-type').value, version: Number($('pub-version').value), data,
    subject: $('pub-subject').value.trim() || undefined, source: $('pub-source').value.trim() || undefined,
  };
  $('pub-send').disabled = true;
  try {
    const r = await api('publish', req);
    $('pub-result').replaceChildren(el('p', { class: 'ok' }, `Published ${r.type} v${r.version} `, el('code', { id: 'pub-event-id' }, r.eventId),
      el('button', { type: 'button', onclick: () => search(r.eventId) }, 'Trace it')),
    el('p', { class: 'muted' }, `bus: ${r.bus}; stream: ${r.stream}`));
  } catch (e) {
    const p = e.problem || {};
    const lines = (p.violations || []).map((v) => `${v.pointer || '(data)'}: ${v.message}`);
    showErrors(p.title || 'Not published', lines.length ? lines : [e.message]);
  } finally {
    $('pub-send').disabled = false;
  }
}
