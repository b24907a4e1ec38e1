// tests/e2e/notifications.test.mjs — notifications in a real browser, axe on
// every page: a member watches a space from its page (after a mistake), a
// colleague starts a thread there, the badge appears in the header, the member
// opens the notification, marks all read, and chooses daily digests.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal } from '../lib/shoal.mjs';
import { launch, newPage, visit, checkAccessibility, signInWithBrowser } from '../lib/browser.mjs';
import { Client, demo, DEMO_PASSWORD } from '../lib/client.mjs';

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

test('watch a space, see the badge, open the notification, mark all read, choose a digest', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.member, DEMO_PASSWORD);
  await visit(page, shoal.url + '/discussions');
  await page.getByRole('link', { name: 'General practice strategy' }).click();
  await page.waitForLoadState();
  await page.getByRole('link', { name: /Notifications from this space/ }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.ok(await page.getByLabel(/^Normal/).isChecked());
  await page.getByLabel(/^Watching/).check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.match(await page.locator('[role=status]').innerText(), /has been saved/);
  assert.ok(await page.getByLabel(/^Watching/).isChecked());

  // A colleague starts a thread in the watched space (over HTTP).
  const lead = new Client(shoal.url);
  assert.equal((await lead.signIn(demo.lead)).status, 303);
  const spaceUrl = new URL(page.url()).pathname.replace('/notifications/spaces/', '/discussions/spaces/');
  const r = await lead.post(`${spaceUrl}/threads`, { title: 'Shared phlebotomy rota from January', body: 'Who is in?' }, { from: `${spaceUrl}/threads/new` });
  assert.equal(r.status, 303);

  await visit(page, shoal.url + '/discussions');
  const link = page.getByRole('link', { name: /Notifications 1 unread/ });
  await link.click();
  await page.waitForURL(shoal.url + '/notifications');
  await checkAccessibility(page);
  await page.getByRole('link', { name: 'Shared phlebotomy rota from January' }).click();
  await page.waitForURL(/\/discussions\/threads\/\d+\?page=1#post-\d+$/);
  await checkAccessibility(page);
  assert.equal(await page.locator('#notifications-badge').count(), 0, 'opened: no unread left');

  await visit(page, shoal.url + '/notifications');
  await page.getByRole('link', { name: 'Change which emails you get' }).click();
  await page.waitForURL(shoal.url + '/notifications/settings');
  await checkAccessibility(page);
  assert.ok(await page.getByLabel('A weekly digest, on Monday at 7am').isChecked());
  await page.getByLabel('A daily digest, at 7am').check();
  await page.getByRole('button', { name: 'Save' }).click();
  await page.waitForURL(/\/notifications\/settings\?notice=saved$/);
  await checkAccessibility(page);
  assert.ok(await page.getByLabel('A daily digest, at 7am').isChecked());
});
