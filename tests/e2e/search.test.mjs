// tests/e2e/search.test.mjs — search and feeds in a real browser, axe on every
// page: a member searches from the header, gets an error on a bad date (what
// was typed stays), filters, follows a result to the post, and makes a feed key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal } from '../lib/shoal.mjs';
import { launch, newPage, visit, checkAccessibility, signInWithBrowser } from '../lib/browser.mjs';
import { demo, DEMO_PASSWORD } from '../lib/client.mjs';

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

test('a member searches, corrects a date, opens a result, and makes a feed key', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.member, DEMO_PASSWORD);
  await visit(page, shoal.url + '/');
  await page.getByRole('link', { name: 'Search', exact: true }).first().click();
  await page.waitForURL(shoal.url + '/search');
  await checkAccessibility(page);
  await page.getByLabel('Words to find').fill('winter');
  await page.getByText('Filter by space, author or date').click();
  await page.getByLabel('Day').first().fill('31');
  await page.getByLabel('Month').first().fill('2');
  await page.getByLabel('Year').first().fill('2026');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.match(await page.title(), /^Error: /);
  assert.equal(await page.getByLabel('Words to find').inputValue(), 'winter', 'the words stay');
  await page.getByLabel('Day').first().fill('');
  await page.getByLabel('Month').first().fill('');
  await page.getByLabel('Year').first().fill('');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  const first = page.locator('#results a').first();
  assert.ok(await first.count(), 'results');
  assert.ok(await page.locator('#results mark').count(), 'matched words are marked');
  await first.click();
  await page.waitForLoadState();
  assert.match(page.url(), /\/discussions\/threads\/\d+\?page=\d+#post-\d+$/);
  await checkAccessibility(page);

  await visit(page, shoal.url + '/account');
  await page.getByRole('link', { name: 'Manage your feeds' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  await page.getByRole('button', { name: 'Make my feed key' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  const url = await page.getByLabel('General practice strategy').inputValue();
  assert.match(url, /\/discussions\/spaces\/\d+\/feed\.atom\?token=feed_/);
});
