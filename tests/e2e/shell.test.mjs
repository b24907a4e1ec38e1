// tests/e2e/shell.test.mjs — the page shell in a real browser: the NHS look,
// keyboard use, small screens, and accessibility (axe) on every page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal } from '../lib/shoal.mjs';
import { launch, newPage, visit } from '../lib/browser.mjs';

let shoal;
let browser;
before(async () => {
  shoal = await startShoal();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await shoal?.stop();
});

test('the home page looks like an NHS service and passes axe', async () => {
  const page = await newPage(browser);
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await visit(page, shoal.url + '/');
  assert.equal(await page.title(), 'Home – Wyvern Vale GP Collective (fictional)');
  await assert.doesNotReject(page.locator('header.nhsuk-header').waitFor());
  assert.equal(await page.locator('.nhsuk-header__service-name').innerText(), 'Wyvern Vale GP Collective (fictional)');
  assert.match(await page.locator('.shoal-demo-banner').innerText(), /fictional/);
  // nhsuk-frontend's stylesheet applied: the header is NHS blue.
  const bg = await page.locator('header.nhsuk-header').evaluate((e) => getComputedStyle(e).backgroundColor);
  assert.equal(bg, 'rgb(0, 94, 184)');
  assert.deepEqual(errors, []);
  await page.context().close();
});

test('keyboard: the first Tab shows the skip link, which leads to the main content', async () => {
  const page = await newPage(browser);
  await visit(page, shoal.url + '/');
  await page.keyboard.press('Tab');
  const focused = await page.evaluate(() => document.activeElement?.textContent?.trim());
  assert.equal(focused, 'Skip to main content');
  assert.ok(await page.locator('.nhsuk-skip-link').isVisible());
  await page.keyboard.press('Enter');
  assert.match(page.url(), /#maincontent$/);
  await page.context().close();
});

test('error pages are real pages that pass axe', async () => {
  const page = await newPage(browser);
  await visit(page, shoal.url + '/no-such-page', { status: 404 });
  assert.equal(await page.locator('h1').innerText(), 'Page not found');
  await page.getByRole('link', { name: 'Go to the home page' }).click();
  await page.waitForURL(shoal.url + '/');
  await page.context().close();
});

test('on a phone-sized screen nothing scrolls sideways (WCAG 1.4.10 reflow)', async () => {
  const page = await newPage(browser, { viewport: { width: 320, height: 640 } });
  await visit(page, shoal.url + '/');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
  await page.context().close();
});
