// How the console's browser scripts start Chromium: Debian's build
// (/usr/bin/chromium, or $CHROMIUM), headless, with the flags this machine
// needs (without the background-networking ones Chromium keeps trying to
// reach hosts that a closed network refuses), on a fresh profile.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

export const flags = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// launch starts Chromium on a new empty --user-data-dir and returns its
// context; close() ends it and removes the profile.
export async function launch(viewport = { width: 1400, height: 900 }) {
  const profile = mkdtempSync(join(tmpdir(), 'troupe-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: flags, viewport });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// firstLoad reads, in the page, what its first load fetched and when it was
// usable: every resource but the live stream (still open), the page's own
// files apart from the API's answers, and the time of the graph-ready mark.
export function firstLoad(page) {
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    const all = [nav, ...performance.getEntriesByType('resource')].filter((e) => !e.name.includes('/api/live'));
    const assets = all.filter((e) => !e.name.includes('/console/api/'));
    const sum = (list, f) => list.reduce((n, e) => n + (e[f] || 0), 0);
    return {
      requests: all.length,
      assetRequests: assets.length,
      assetTransferBytes: sum(assets, 'transferSize'),
      assetDecodedBytes: sum(assets, 'decodedBodySize'),
      totalTransferBytes: sum(all, 'transferSize'),
      domContentLoadedMs: Math.round(nav.domContentLoadedEventEnd),
      loadMs: Math.round(nav.loadEventEnd),
      graphReadyMs: Math.round(performance.getEntriesByName('graph-ready')[0]?.startTime ?? -1),
    };
  });
}
