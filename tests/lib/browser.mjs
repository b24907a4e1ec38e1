// tests/lib/browser.mjs — headless Debian Chromium driven by playwright-core,
// with an axe accessibility check on every page a test visits.
//
// Use visit(page, url) instead of page.goto: it loads the page and fails the
// test on any axe violation (WCAG 2.0/2.1/2.2 A and AA rules).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

// The packages live in web/node_modules (web/package.json), not beside the tests.
const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'web', 'package.json'));
const { chromium } = require('playwright-core');
const axe = require('@axe-core/playwright');
const AxeBuilder = axe.AxeBuilder || axe.default;

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

/** Starts a browser; remember to close it. */
export async function launch() {
  return chromium.launch({
    executablePath,
    // The machine has no network but loopback: keep Chromium from trying.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Runs axe on the current page and fails with a readable list of violations. */
export async function checkAccessibility(page) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  const problems = results.violations.map(
    (v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.map((n) => n.target.join(' ')).join('\n    ')}`,
  );
  assert.deepEqual(problems, [], `accessibility violations on ${page.url()}:\n${problems.join('\n')}`);
}

/** Goes to url, checks the response status, and runs axe. */
export async function visit(page, url, { status = 200 } = {}) {
  const res = await page.goto(url);
  assert.equal(res.status(), status, `status of ${url}`);
  await checkAccessibility(page);
  return res;
}

/** A page in its own browser context (axe needs one; it also keeps cookies apart). */
export async function newPage(browser, options = {}) {
  const context = await browser.newContext(options);
  return context.newPage();
}
