// tests/e2e/privacy.test.mjs — data protection pages in a real browser, with axe
// on every page: a member reads the personal data Shoal holds about them; an
// administrator sets how long records are kept (with errors), exports a
// deactivated person's data and removes their personal details.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, sql } from '../lib/shoal.mjs';
import { launch, newPage, visit, checkAccessibility, signInWithBrowser } from '../lib/browser.mjs';
import { demo, DEMO_PASSWORD, DEMO_TOTP_SECRET } from '../lib/client.mjs';

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

test('a member reads their personal data', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.member, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await visit(page, shoal.url + '/account/export');
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Your personal data');
  assert.ok(await page.getByRole('heading', { name: 'Sign-in history' }).isVisible());
  assert.ok(await page.getByRole('link', { name: 'Download it as a JSON file' }).isVisible());
});

test('an administrator sets retention, and removes a deactivated person\'s details', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.admin, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await visit(page, shoal.url + '/admin/retention');
  await page.getByLabel('Audit trail, in years').fill('0');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.ok(await page.getByText('There is a problem').isVisible());
  await page.getByLabel('Audit trail, in years').fill('6');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/saved=1/);
  await checkAccessibility(page);

  const id = sql(shoal.db, `SELECT id FROM people WHERE email = '${demo.deactivated}'`);
  await visit(page, `${shoal.url}/admin/people/${id}/export`);
  await page.getByRole('button', { name: 'Remove personal details' }).click();
  await page.waitForURL(`${shoal.url}/admin/people/${id}`);
  await checkAccessibility(page);
  assert.ok(await page.getByText(`Former member ${id}`).first().isVisible());
});
