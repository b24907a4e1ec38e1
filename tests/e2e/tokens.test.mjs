// tests/e2e/tokens.test.mjs — API tokens in a real browser: from the account
// page to a new token shown once, a mistake in the form, and revoking; axe
// checks every page on the way, and a phone-sized screen never scrolls sideways.
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

test('a member creates a token from their account page, copies it once, and revokes it', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.member, DEMO_PASSWORD);
  await visit(page, shoal.url + '/account');
  await page.getByRole('link', { name: 'Manage your API tokens' }).click();
  await page.waitForURL(shoal.url + '/account/tokens');
  await checkAccessibility(page);
  assert.equal(await page.locator('h1').innerText(), 'API tokens');

  // A mistake: the summary links to the field, and the choice made stays.
  await page.getByLabel('Read and write').check();
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.equal(await page.locator('.nhsuk-error-summary__title').innerText(), 'There is a problem');
  assert.ok(await page.getByLabel('Read and write').isChecked());
  await page.getByRole('link', { name: 'Enter a name that says what the token is for' }).click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'name');

  await page.getByLabel('Token name').fill('Rota sync');
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.equal(await page.locator('h1').innerText(), 'Token created');
  assert.match(await page.locator('.nhsuk-card--warning').innerText(), /Copy your token now/);
  const token = await page.getByLabel('Your new token').inputValue();
  assert.match(token, /^shoal_[A-Za-z0-9_-]{43}$/);
  const me = await fetch(shoal.url + '/api/v1/me', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(me.status, 200);

  await page.getByRole('link', { name: 'Back to your API tokens' }).click();
  await page.waitForURL(shoal.url + '/account/tokens');
  await checkAccessibility(page);
  assert.ok(!(await page.content()).includes(token), 'never shown again');
  const row = page.getByRole('row', { name: /Rota sync/ });
  assert.match(await row.innerText(), /Read and write/);
  await row.getByRole('button', { name: 'Revoke token Rota sync' }).click();
  await page.waitForURL(shoal.url + '/account/tokens?revoked=1');
  await checkAccessibility(page);
  assert.match(await page.locator('.nhsuk-inset-text').innerText(), /The token has been revoked/);
  assert.equal(await page.getByRole('row', { name: /Rota sync/ }).count(), 0);
  const after = await fetch(shoal.url + '/api/v1/me', { headers: { authorization: `Bearer ${token}` } });
  assert.equal(after.status, 401);
  await page.context().close();
});

test('a partner is offered read-only tokens, and the list fits a phone-sized screen', async () => {
  const page = await newPage(browser, { viewport: { width: 320, height: 640 } });
  await signInWithBrowser(page, shoal.url, demo.partner, DEMO_PASSWORD);
  await visit(page, shoal.url + '/account/tokens');
  assert.equal(await page.getByLabel('Read and write').count(), 0);
  assert.ok(await page.getByLabel('Read only').isChecked());
  await page.getByLabel('Token name').fill('ICB dashboard with a rather long name that wraps');
  await page.getByRole('button', { name: 'Create token' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok((await overflow()) <= 0, 'the new token fits the screen');
  await visit(page, shoal.url + '/account/tokens');
  assert.ok((await overflow()) <= 0, 'the list of tokens fits the screen');
  await page.context().close();
});
