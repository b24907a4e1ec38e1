// tests/e2e/pressure_dashboard.test.mjs — the pressure dashboard in a real
// browser, axe on every page: the executive sees practices by name and the
// trend chart drawn by uPlot beside its table; a partner, following the
// navigation, sees only totals, with a small group suppressed, and the chart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal } from '../lib/shoal.mjs';
import { launch, newPage, visit, checkAccessibility, signInWithBrowser } from '../lib/browser.mjs';
import { Client, demo, DEMO_PASSWORD, DEMO_TOTP_SECRET } from '../lib/client.mjs';

let shoal;
let browser;
before(async () => {
  shoal = await startShoal();
  browser = await launch();
  // Harbour alone at Black this week: a group of one.
  const harbour = new Client(shoal.url);
  await harbour.signIn(demo.otherLead);
  const form = await harbour.get('/pressure/practices/Z80014/return');
  const period = form.text.match(/name="period" value="(\d+)"/)[1];
  const r = await harbour.post('/pressure/practices/Z80014/return', { period, level: '4' });
  assert.equal(r.status, 303);
});
after(async () => {
  await browser?.close();
  await shoal?.stop();
});

// The chart script ran, under the page's Content Security Policy, and drew the trend.
async function chartDrawn(page) {
  await page.locator('figure[data-chart] canvas').first().waitFor({ timeout: 10000 });
  assert.ok(await page.locator('#trend-table tbody tr').count() >= 2, 'the trend table has weeks');
}

test('the executive sees practices by name, with the chart beside its table', async () => {
  const page = await newPage(browser);
  const errors = [];
  // nhsuk-frontend's stylesheet asks for web fonts from assets.nhs.uk, which the policy
  // blocks on every page; anything else is this page's fault.
  page.on('console', (m) => m.type() === 'error' && !/Loading the font/.test(m.text()) && errors.push(m.text()));
  await signInWithBrowser(page, shoal.url, demo.executive, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await visit(page, shoal.url + '/pressure/dashboard');
  await chartDrawn(page);
  await checkAccessibility(page);
  assert.match(await page.locator('main').innerText(), /Harbour Medical Practice/);
  assert.match(await page.locator('main').innerText(), /Declared against calculated/);
  assert.deepEqual(errors, [], 'no script or CSP errors');
});

test('a partner finds the dashboard and sees only totals, a small group suppressed', async () => {
  const page = await newPage(browser, { viewport: { width: 375, height: 700 } });
  const errors = [];
  // nhsuk-frontend's stylesheet asks for web fonts from assets.nhs.uk, which the policy
  // blocks on every page; anything else is this page's fault.
  page.on('console', (m) => m.type() === 'error' && !/Loading the font/.test(m.text()) && errors.push(m.text()));
  await signInWithBrowser(page, shoal.url, demo.partner, DEMO_PASSWORD);
  await visit(page, shoal.url + '/');
  await page.getByRole('link', { name: 'Dashboard', exact: true }).first().click();
  await page.waitForURL(/\/pressure\/dashboard$/);
  await checkAccessibility(page);
  await chartDrawn(page);
  const text = await page.locator('main').innerText();
  assert.match(text, /suppressed/);
  assert.match(text, /fewer than 3 practices/);
  assert.doesNotMatch(text, /Harbour Medical Practice/);
  assert.deepEqual(errors, [], 'no script or CSP errors');
});
