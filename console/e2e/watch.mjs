// Opens the console at CONSOLE_URL in headless Chromium and keeps it open,
// following the live updates, until its standard input closes; WATCH_TAB
// picks the tab in view (default graph). It prints "ready" once the graph is
// drawn and the live stream is on, and, when it ends, "snapshots N" (the live
// updates the page took). For the benchmark that compares troupe dev's
// ingest with and without a console watching.
import { launch } from './browser.mjs';

const browser = await launch();
const page = browser.context.pages()[0] || await browser.context.newPage();
await page.goto(process.env.CONSOLE_URL + '/console/#graph');
const tab = process.env.WATCH_TAB || 'graph';
await page.waitForSelector('#graph[data-ready=true]', { timeout: 60000 });
await page.waitForSelector('#live.on', { timeout: 60000 });
const before = await page.evaluate(() => window.troupeConsole.live.count);
if (tab !== 'graph') await page.click(`nav a[data-tab=${tab}]`);
console.log('ready');
process.stdin.resume();
await new Promise((resolve) => process.stdin.on('end', resolve));
console.log('snapshots ' + (await page.evaluate(() => window.troupeConsole.live.count) - before));
await browser.close();
