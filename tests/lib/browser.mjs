// tests/lib/browser.mjs — headless Debian Chromium driven by playwright-core,
// with an axe accessibility check on every page a test visits.
//
// Use visit(page, url) instead of page.goto: it loads the page and fails the
// test on any axe violation (WCAG 2.0/2.1/2.2 A and AA rules).
// signInWithBrowser(page, base, email, password) signs in through the form.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { totp } from './client.mjs';

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

/**
 * Signs in through the sign-in form at base, as a person would. With secret
 * (the person's authenticator secret), answers the two-step page too when it
 * is asked for, after checking it with axe; without, stops wherever the
 * password leads (the home page, the two-step page, a page of errors).
 */
export async function signInWithBrowser(page, base, email, password, { secret } = {}) {
  await visit(page, base + '/sign-in');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
  if (secret && page.url().includes('/sign-in/mfa')) {
    await checkAccessibility(page);
    await page.locator('#code').fill(totp(secret));
    await page.locator('#code').press('Enter');
    await page.waitForLoadState();
  }
}
