// tests/e2e/directory.test.mjs — the directory and the administration of
// people in a real browser, with axe on every page: a member finds colleagues
// and edits their profile, a partner sees only whom they may, and an
// administrator finds a person, changes their role and reads the audit trail.
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

/** Fails when the page scrolls sideways on a 320px screen (WCAG 1.4.10 reflow). */
async function assertReflows(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `${page.url()} is ${overflow}px wider than the screen`);
}

test('a member finds colleagues, opens a profile, and edits their own', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.member, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await page.getByRole('link', { name: 'People', exact: true }).click();
  await page.waitForURL(shoal.url + '/people');
  await checkAccessibility(page);
  assert.equal(await page.title(), 'People – Wyvern Vale GP Collective (fictional)');
  assert.ok(await page.getByRole('link', { name: 'Jo Evans (practice nurse)' }).isVisible());

  await page.getByLabel('Search people').fill('castlegate');
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL(/\/people\?q=castlegate$/);
  await checkAccessibility(page);
  assert.deepEqual(await page.locator('main h3').allInnerTexts(), ['Jo Evans (practice nurse)']);
  await page.getByRole('link', { name: 'Jo Evans (practice nurse)' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.equal(await page.locator('h1').innerText(), 'Jo Evans (practice nurse)');
  assert.match(await page.locator('main').innerText(), /Castlegate Surgery/);

  await visit(page, shoal.url + '/account');
  await page.getByRole('link', { name: 'Change your profile' }).click();
  await page.waitForURL(shoal.url + '/account/profile');
  await checkAccessibility(page);
  await page.getByLabel('Job title').fill('x'.repeat(201));
  await page.getByLabel('What you can help with').fill('Minor surgery\nJoint injections');
  await page.getByRole('button', { name: 'Save your profile' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.equal(await page.locator('.nhsuk-error-summary__title').innerText(), 'There is a problem');
  assert.equal(await page.getByLabel('What you can help with').inputValue(), 'Minor surgery\nJoint injections', 'what was typed stays');
  await page.getByRole('link', { name: 'Job title must be 200 characters or fewer' }).click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'job-title');
  await page.getByLabel('Job title').fill('Salaried GP');
  await page.getByLabel('Show my profile to partners').check();
  await page.getByRole('button', { name: 'Save your profile' }).click();
  await page.waitForURL(shoal.url + '/account/profile?saved=1');
  await checkAccessibility(page);
  assert.match(await page.locator('.nhsuk-notification-banner').innerText(), /Your profile has been saved/);
  await page.getByRole('link', { name: 'See your profile as others see it' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.match(await page.locator('main').innerText(), /Salaried GP[\s\S]*Minor surgery[\s\S]*Joint injections/);
  await page.context().close();
});

test('a partner sees the executive and people visible to partners, and no one else', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.partner, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await visit(page, shoal.url + '/people');
  const names = await page.locator('main h3').allInnerTexts();
  assert.ok(names.includes('Dr Priya Shah (LMC chair)'));
  assert.ok(!names.includes('Jo Evans (practice nurse)'));
  assert.ok(!names.includes('Alex Admin'));
  const hidden = sql(shoal.db, `SELECT id FROM people WHERE email = '${demo.otherMember}'`);
  await visit(page, `${shoal.url}/people/${hidden}`, { status: 404 });
  assert.equal(await page.locator('h1').innerText(), 'Page not found');
  await page.context().close();
});

test('an administrator finds a person, changes their role, and reads the audit trail', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.admin, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await page.getByRole('link', { name: 'Administration' }).click();
  await page.waitForURL(shoal.url + '/admin');
  await checkAccessibility(page);
  await page.getByRole('link', { name: 'People', exact: true }).last().click();
  await page.waitForURL(shoal.url + '/admin/people');
  await checkAccessibility(page);
  await page.getByLabel('Role', { exact: true }).selectOption('partner');
  await page.getByRole('button', { name: 'Find people' }).click();
  await page.waitForURL(/\/admin\/people\?.*role=partner/);
  await checkAccessibility(page);
  assert.equal(await page.locator('main tbody tr').count(), 1);

  await visit(page, shoal.url + '/admin/people?role=nonsense', { status: 400 });
  assert.equal(await page.locator('.nhsuk-error-summary__title').innerText(), 'There is a problem');
  await visit(page, shoal.url + '/admin/people?q=castlegate');
  await page.getByRole('link', { name: 'Jo Evans (practice nurse)' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  await page.getByLabel('Role in the collective').selectOption('executive');
  await page.getByRole('button', { name: 'Change role' }).click();
  await page.waitForURL(/\?done=role$/);
  await checkAccessibility(page);
  assert.match(await page.locator('.nhsuk-notification-banner').innerText(), /The role has been changed/);
  assert.equal(sql(shoal.db, `SELECT role FROM people WHERE email = '${demo.otherMember}'`), 'executive');
  // A mistake on the same page: no organisation chosen.
  await page.getByRole('button', { name: 'Add to organisation' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  await page.getByRole('link', { name: 'Select an organisation' }).click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'organisation');

  await visit(page, shoal.url + '/admin/audit');
  assert.match(await page.locator('main table').innerText(), /role-changed/);
  await page.getByLabel('Action').selectOption('role-changed');
  await page.getByRole('button', { name: 'Show matching entries' }).click();
  await page.waitForURL(/action=role-changed/);
  await checkAccessibility(page);
  assert.match(await page.locator('main table').innerText(), /nurse@castlegate\.wyvern\.example: role member -> executive/);
  await visit(page, shoal.url + '/admin/audit?from-day=31&from-month=2&from-year=2026', { status: 400 });
  await page.getByRole('link', { name: /The from date must be a real date/ }).click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'from-day');
  // The same pages on a phone-sized screen (a second sign-in would need a new code).
  await page.setViewportSize({ width: 320, height: 640 });
  for (const path of ['/admin', '/admin/people', `/admin/people/${sql(shoal.db, `SELECT id FROM people WHERE email = '${demo.otherMember}'`)}`, '/admin/audit']) {
    await visit(page, shoal.url + path);
    await assertReflows(page);
  }
  await page.context().close();
});

test('on a phone-sized screen the directory and the profile form do not scroll sideways', async () => {
  const page = await newPage(browser, { viewport: { width: 320, height: 640 } });
  await signInWithBrowser(page, shoal.url, demo.lead, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  for (const path of ['/people', '/account/profile']) {
    await visit(page, shoal.url + path);
    await assertReflows(page);
  }
  await page.context().close();
});
