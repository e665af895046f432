// The console in headless Chromium against a running troupe dev, as a user
// would use it. Run by cmd/troupe's TestConsoleInABrowser:
//
//   CONSOLE_URL=http://127.0.0.1:PORT CONSUMERS=payments,inventory,... \
//   SCREENSHOT=/tmp/console.png node console.spec.mjs
//
// It prints "ok - <step>" per step, a "FIRSTLOAD {json}" line, and exits 1
// with the reason at the first failure.
import assert from 'node:assert/strict';
import { launch, firstLoad } from './browser.mjs';

const base = process.env.CONSOLE_URL;
const consumers = (process.env.CONSUMERS || '').split(',').filter(Boolean);
const screenshot = process.env.SCREENSHOT;
assert.ok(base && consumers.length, 'set CONSOLE_URL and CONSUMERS');

const step = (what) => console.log('ok - ' + what);
const browser = await launch();
const page = browser.context.pages()[0] || await browser.context.newPage();
const problems = [];
page.on('pageerror', (e) => problems.push('page error: ' + e.message));
// The answers the steps below provoke on purpose (the schema's 422, the
// unknown trace's 404) are logged by Chromium as failed loads: not problems.
page.on('console', (m) => {
  if (m.type() === 'error' && !/Failed to load resource: .* (422|404) /.test(m.text())) problems.push('console error: ' + m.text());
});
page.setDefaultTimeout(30000);

try {
  // The console answers on troupe dev's own address.
  await page.goto(base + '/');
  await page.waitForSelector('#graph[data-ready=true]');
  await page.waitForSelector('#live.on');
  assert.match(page.url(), /\/console\/#graph$/);
  console.log('FIRSTLOAD ' + JSON.stringify(await firstLoad(page)));

  // Every consumer of the sample is a node drawn inside the graph's box.
  const nodes = await page.evaluate(() => {
    const { cy } = window.troupeConsole;
    const box = cy.extent();
    return cy.nodes('[kind="consumer"]').map((n) => {
      const p = n.position();
      return { name: n.data('name'), text: n.data('text'), inside: p.x >= box.x1 && p.x <= box.x2 && p.y >= box.y1 && p.y <= box.y2, visible: n.visible() };
    });
  });
  for (const name of consumers) {
    const n = nodes.find((x) => x.name === name);
    assert.ok(n, `no node for consumer ${name} in ${JSON.stringify(nodes)}`);
    assert.ok(n.inside && n.visible, `consumer ${name}'s node is not in view: ${JSON.stringify(n)}`);
    await page.waitForSelector(`#consumers tr[data-consumer="${name}"]`);
  }
  step(`the graph shows every consumer: ${consumers.join(', ')}`);
  await page.evaluate(() => { window.__sameDocument = true; }); // gone if the page reloads

  // Publish: invalid data is refused in the form, then the example goes.
  await page.click('nav a[data-tab=publish]');
  await page.selectOption('#pub-type', 'orders.OrderPlaced');
  assert.equal(await page.inputValue('#pub-version'), '2');
  const example = JSON.parse(await page.inputValue('#pub-data'));
  assert.ok(example.orderId && example.items, 'the form holds the schema example');
  const broken = structuredClone(example);
  delete broken.total;
  broken.items[0].quantity = 0;
  await page.fill('#pub-data', JSON.stringify(broken, null, 2));
  await page.click('#pub-send');
  await page.waitForSelector('#pub-errors:not([hidden])');
  const errors = await page.textContent('#pub-errors');
  assert.match(errors, /total/);
  assert.match(errors, /\/items\/0\/quantity/);
  assert.equal(await page.getAttribute('#pub-data', 'aria-invalid'), 'true');
  assert.equal(await page.locator('#pub-event-id').count(), 0, 'invalid data was published');
  step('invalid data shows its schema errors in the form and is not published');

  await page.fill('#pub-data', 'not json');
  await page.click('#pub-send');
  await page.waitForFunction(() => /not JSON/.test(document.querySelector('#pub-errors').textContent));
  step('data that is not JSON is refused before sending');

  await page.click('#pub-reset');
  await page.fill('#pub-subject', 'ord-console-e2e');
  await page.click('#pub-send');
  const eventId = (await page.textContent('#pub-event-id', { timeout: 15000 })).trim();
  assert.match(eventId, /^[0-9a-f-]{36}$/);
  step(`published orders.OrderPlaced ${eventId} from the form`);

  // The edge counts rise on the graph, live.
  await page.click('nav a[data-tab=graph]');
  await page.waitForFunction(() => {
    const { cy } = window.troupeConsole;
    const d = (c, t) => cy.edges(`[consumer="${c}"][type="${t}"]`).map((e) => e.data('delivered')).reduce((a, b) => Math.max(a, b), 0);
    return d('payments', 'orders.OrderPlaced') >= 1 && d('inventory', 'payments.PaymentAuthorized') >= 1 &&
      d('shipping', 'inventory.StockReserved') >= 1 && d('timeline', 'shipping.ShipmentScheduled') >= 1;
  });
  const label = await page.evaluate(() => window.troupeConsole.cy.edges('[consumer="payments"][type="orders.OrderPlaced"]')[0].data('text'));
  assert.match(label, /✓ 1/);
  assert.ok(await page.evaluate(() => window.__sameDocument), 'the page reloaded');
  step(`edge counts rose without a reload ("${label.replace('\n', ' / ')}")`);

  // The trace reaches the shipment.
  await page.click('nav a[data-tab=trace]');
  await page.fill('#trace-id', eventId);
  await page.click('#trace-form button');
  await page.waitForSelector('#trace-result li.event[data-type="orders.OrderPlaced"]');
  for (let i = 0; ; i++) { // the chain may still be running: ask again until it is complete
    if (await page.locator('li.event[data-type="shipping.ShipmentScheduled"]').count()) break;
    assert.ok(i < 40, 'the trace never reached shipping.ShipmentScheduled');
    await page.waitForTimeout(250);
    await page.click('#trace-form button');
  }
  const types = await page.$$eval('#trace-result li.event', (els) => els.map((e) => e.dataset.type));
  for (const t of ['orders.OrderPlaced', 'payments.PaymentAuthorized', 'inventory.StockReserved', 'shipping.ShipmentScheduled']) {
    assert.ok(types.includes(t), `trace lacks ${t}: ${types}`);
  }
  assert.ok(await page.locator('li[data-consumer="shipping"][data-outcome="handled"]').count() >= 1, 'no handled outcome of shipping');
  step(`the trace shows the chain: ${types.join(' → ')}`);

  await page.fill('#trace-id', 'no-such-event');
  await page.click('#trace-form button');
  await page.waitForSelector('#trace-error:not([hidden])');
  assert.match(await page.textContent('#trace-error'), /Unknown id.*no-such-event/);
  step('an unknown id says so');

  // A poison event from a system that knows nothing of troupe, through the
  // AWS-compatible endpoint: a PaymentAuthorized without its payment.
  const put = await fetch(base + '/', {
    method: 'POST',
    headers: { 'X-Amz-Target': 'AWSEvents.PutEvents', 'Content-Type': 'application/x-amz-json-1.1' },
    body: JSON.stringify({ Entries: [{ Source: 'legacy.billing', DetailType: 'payments.PaymentAuthorized', Detail: JSON.stringify({ orderId: 'o-poison' }) }] }),
  });
  assert.equal(put.status, 200, await put.text());
  await page.click('nav a[data-tab=dlq]');
  await page.click('#dlq-queues button[data-consumer="inventory"]');
  await page.waitForSelector('#dlq-messages article.message');
  const card = await page.textContent('#dlq-messages article.message');
  assert.match(card, /payments\.PaymentAuthorized/);
  assert.match(card, /paymentId/);
  assert.match(card, /1 attempt/);
  assert.match(await page.textContent('#dlq-messages pre.payload'), /o-poison/);
  await page.waitForSelector('#dlq-queues button[data-consumer="inventory"][data-depth="1"]');
  assert.doesNotMatch(await page.textContent('#dlq-messages'), /null|undefined/);
  step('the poison event is in inventory\'s DLQ with its error, attempts and payload');

  // The screenshot: the graph with its counts and a dead letter waiting.
  if (screenshot) {
    await page.click('nav a[data-tab=graph]');
    await page.waitForFunction(() => window.troupeConsole.cy.nodes('[kind="dlq"][depth > 0]').length === 1);
    await page.waitForTimeout(300);
    await page.screenshot({ path: screenshot, fullPage: true });
    step(`screenshot in ${screenshot}`);
    await page.click('nav a[data-tab=dlq]');
  }

  // Replay: the event is still invalid, so the replay fails, says why, and
  // the message stays.
  await page.click('#dlq-messages article.message button.replay');
  await page.waitForSelector('#dlq-run .result[data-action="failed"]');
  const run = await page.textContent('#dlq-run');
  assert.match(run, /paymentId/);
  assert.match(run, /kept in the queue/);
  await page.waitForSelector('#dlq-messages article.message');
  assert.match(await page.textContent('#dlq-title'), /inventory: 1 dead letter\b/);
  step('replay fails with its reason shown and the message kept');

  // Fix the event in the console and replay it: inventory handles it and
  // the DLQ is empty.
  const handled = async () => {
    const snap = await fetch(base + '/console/api/snapshot').then((r) => r.json());
    const e = snap.edges.find((x) => x.consumer === 'inventory' && x.type === 'payments.PaymentAuthorized');
    return e ? e.handled : 0;
  };
  const handledBefore = await handled();
  await page.click('#dlq-messages article.message button.fix');
  await page.waitForSelector('#dlq-messages form.fix textarea');
  const poison = JSON.parse(await page.inputValue('#dlq-messages form.fix textarea'));
  poison.data = { orderId: 'o-poison', paymentId: 'pay_fixed', amount: { amountCents: 100, currency: 'EUR' } };
  await page.fill('#dlq-messages form.fix textarea', JSON.stringify(poison, null, 2));
  await page.click('#dlq-messages form.fix button.replay-fixed');
  await page.waitForSelector('#dlq-run .result[data-action="replayed"]');
  assert.match(await page.textContent('#dlq-run'), /deleted from the queue/);
  await page.waitForSelector('#dlq-messages .empty');
  await page.waitForSelector('#dlq-queues button[data-consumer="inventory"][data-depth="0"]');
  for (let i = 0; (await handled()) <= handledBefore; i++) {
    assert.ok(i < 80, 'inventory never handled the fixed event');
    await page.waitForTimeout(250);
  }
  step('the poison event, fixed in the console and replayed, is handled by inventory and the DLQ is empty');

  // Another poison event, for the purge.
  const put2 = await fetch(base + '/', {
    method: 'POST',
    headers: { 'X-Amz-Target': 'AWSEvents.PutEvents', 'Content-Type': 'application/x-amz-json-1.1' },
    body: JSON.stringify({ Entries: [{ Source: 'legacy.billing', DetailType: 'payments.PaymentAuthorized', Detail: JSON.stringify({ orderId: 'o-poison-2' }) }] }),
  });
  assert.equal(put2.status, 200, await put2.text());
  await page.waitForSelector('#dlq-queues button[data-consumer="inventory"][data-depth="1"]');
  await page.waitForSelector('#dlq-messages article.message');

  // Purge asks first; cancelling keeps the message.
  await page.click('#dlq-purge');
  await page.waitForSelector('#purge-dialog[open]');
  assert.match(await page.textContent('#purge-question'), /Purge 1 message from inventory/);
  await page.click('#purge-cancel');
  await page.waitForSelector('#purge-dialog', { state: 'hidden' });
  assert.equal(await page.locator('#dlq-messages article.message').count(), 1);
  await page.click('#dlq-purge');
  await page.click('#purge-confirm');
  await page.waitForSelector('#dlq-messages .empty');
  await page.waitForSelector('#dlq-queues button[data-consumer="inventory"][data-depth="0"]');
  const purged = await fetch(base + '/console/api/dlq').then((r) => r.json());
  assert.equal(purged.queues.find((q) => q.consumer === 'inventory').depth, 0);
  step('purge asks for confirmation, then empties the DLQ');

  assert.deepEqual(problems, [], 'the page reported errors');
  step('no page or console errors');
} catch (err) {
  if (screenshot) await page.screenshot({ path: screenshot.replace(/\.png$/, '') + '-failure.png', fullPage: true }).catch(() => {});
  console.error('not ok - ' + (err.stack || err));
  if (problems.length) console.error(problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
}
