// Test support for <frameseek-player>: the range server over the fixtures, web/dist and this
// folder, and headless Chromium allowed to start an AudioContext without a user gesture.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM_ARGS, environment, fixtures, root } from './browser.mjs';
import { startServer } from './range-server.mjs';

const require = createRequire(join(root, 'web', 'package.json'));
const here = join(root, 'tests', 'e2e');

/** Where the e2e tests leave their screenshots (look at them). */
export const shots = join(root, 'target', 'e2e-screenshots');

/** Chromium with the suite's flags plus the autoplay policy that lets Web Audio start. */
export async function launch(extraArgs = []) {
  const { chromium } = require('playwright-core');
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, '--autoplay-policy=no-user-gesture-required', ...extraArgs],
    headless: true,
  });
}

/**
 * Server (fixtures at /media/, web/dist at /dist/, this folder at /harness/, plus `routes`) +
 * browser + the player test page. Returns { server, browser, page, errors, media(), close() }.
 */
export async function setupPlayer({ server: serverOpts = {}, routes = {}, viewport = { width: 900, height: 700 } } = {}) {
  if (!existsSync(join(root, 'web', 'dist', 'player', 'index.js'))) {
    throw new Error('web/dist/player is missing: run scripts/build');
  }
  const server = await startServer({
    routes: { '/media/': fixtures, '/dist/': join(root, 'web', 'dist'), '/harness/': here, ...routes },
    ...serverOpts,
  });
  const browser = await launch();
  const page = await browser.newPage({ viewport });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('requestfailed', (r) => errors.push(new Error(`request failed: ${r.url()}`)));
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(new Error(`HTTP ${r.status()}: ${r.url()}`));
  });
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(new Error(`console.${m.type()}: ${m.text()}`));
  });
  await page.goto(`${server.url}/harness/player.html`);
  await page.waitForFunction(() => window.harnessReady === true || window.harnessError, null, { timeout: 30000 });
  const failed = await page.evaluate(() => window.harnessError);
  if (failed) throw new Error(`player page failed to load: ${failed}`);
  return environment(server, browser, page, errors);
}
