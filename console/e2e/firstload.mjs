// The console's first load, measured: starts `troupe dev` (the binary given
// by --troupe) on a free port with a fresh data directory, then, --runs
// times, opens the console in a new headless Chromium on a new empty profile
// (a cold cache) and reads what the load fetched and when the graph was
// drawn; then reloads it once in the same profile (a warm cache: the files
// revalidate by ETag). Prints one line per run and the medians.
//
//   node console/e2e/firstload.mjs --troupe bin/troupe --runs 10
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { launch, firstLoad } from './browser.mjs';

const { values: opt } = parseArgs({ options: { troupe: { type: 'string', default: 'bin/troupe' }, runs: { type: 'string', default: '10' } } });

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
});
const dataDir = mkdtempSync(join(tmpdir(), 'troupe-firstload-'));
const dev = spawn(opt.troupe, ['dev', '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  try { if ((await fetch(base + '/status')).ok) break; } catch { /* not up yet */ }
  if (i > 200) throw new Error('troupe dev did not start');
  await new Promise((r) => setTimeout(r, 50));
}

const runs = [];
try {
  for (let i = 0; i < Number(opt.runs); i++) {
    const browser = await launch();
    const page = browser.context.pages()[0] || await browser.context.newPage();
    const t0 = Date.now();
    await page.goto(base + '/console/');
    await page.waitForSelector('#graph[data-ready=true]');
    const wall = Date.now() - t0;
    const cold = await firstLoad(page);
    await page.reload();
    await page.waitForSelector('#graph[data-ready=true]');
    const warm = await firstLoad(page);
    await browser.close();
    const run = { ...cold, wallToGraphMs: wall, warmTransferBytes: warm.totalTransferBytes, warmGraphReadyMs: warm.graphReadyMs };
    runs.push(run);
    console.log(JSON.stringify(run));
  }
} finally {
  dev.kill();
  rmSync(dataDir, { recursive: true, force: true });
}
const median = (f) => { const v = runs.map((r) => r[f]).sort((a, b) => a - b); return v[Math.floor((v.length - 1) / 2)]; };
const range = (f) => `${Math.min(...runs.map((r) => r[f]))}-${Math.max(...runs.map((r) => r[f]))}`;
console.log(`runs ${runs.length}: ${runs[0].assetRequests} asset files, ${runs[0].assetTransferBytes} bytes over the wire (${runs[0].assetDecodedBytes} decoded); ` +
  `with the API's answers ${runs[0].requests} requests, ${runs[0].totalTransferBytes} bytes`);
for (const f of ['domContentLoadedMs', 'loadMs', 'graphReadyMs', 'wallToGraphMs', 'warmGraphReadyMs', 'warmTransferBytes']) {
  console.log(`  ${f}: median ${median(f)} (range ${range(f)})`);
}
