// Opens the console at CONSOLE_URL in headless Chromium and keeps it open,
// following the live updates, until its standard input closes. It prints
// "ready" once the graph is drawn and the live stream is on, and, when it
// ends, "snapshots N" (the live updates the page took). For the benchmark
// that compares troupe dev's ingest with and without a console watching.
import { launch } from './browser.mjs';

const browser = await launch();
const page = browser.context.pages()[0] || await browser.context.newPage();
await page.goto(process.env.CONSOLE_URL + '/console/#graph');
await page.waitForSelector('#graph[data-ready=true]', { timeout: 60000 });
await page.waitForSelector('#live.on', { timeout: 60000 });
await page.evaluate(() => {
  window.__snapshots = 0;
  new EventSource('/console/api/live').addEventListener('snapshot', () => { window.__snapshots++; });
});
console.log('ready');
process.stdin.resume();
await new Promise((resolve) => process.stdin.on('end', resolve));
console.log('snapshots ' + await page.evaluate(() => window.__snapshots));
await browser.close();
