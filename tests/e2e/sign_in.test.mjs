// tests/e2e/sign_in.test.mjs — signing in with a keyboard and a screen reader
// in mind, the timeout warning (WCAG 2.2.1), and a partner kept out of member pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, sql } from '../lib/shoal.mjs';
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

test('a mistake is shown in an error summary that takes focus to the field, and what was typed stays', async () => {
  const page = await newPage(browser);
  await visit(page, shoal.url + '/sign-in');
  await page.getByLabel('Email address').fill(demo.member);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState();
  assert.equal(page.url(), shoal.url + '/sign-in');
  await checkAccessibility(page);
  assert.equal(await page.locator('.nhsuk-error-summary__title').innerText(), 'There is a problem');
  assert.equal(await page.getByLabel('Email address').inputValue(), demo.member);
  await page.getByRole('link', { name: 'Enter your password' }).click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'password');
  await page.context().close();
});

test('a member signs in from the home page and sees their name in the header', async () => {
  const page = await newPage(browser);
  await visit(page, shoal.url + '/');
  await page.getByRole('link', { name: 'Sign in' }).first().click();
  await page.getByLabel('Email address').fill(demo.member);
  await page.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
  await page.keyboard.press('Enter');
  await page.waitForURL(shoal.url + '/');
  await checkAccessibility(page);
  assert.match(await page.locator('.nhsuk-header__account').innerText(), /Dr Morgan Lee/);
  await page.getByRole('link', { name: 'Dr Morgan Lee' }).click();
  await page.waitForURL(shoal.url + '/account');
  await checkAccessibility(page);
  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(/\/sign-in\?signed-out=1$/);
  await checkAccessibility(page);
  assert.match(await page.locator('main').innerText(), /You have signed out/);
  await page.context().close();
});

test('two minutes before an idle sign-out, a warning offers to stay signed in', async () => {
  const page = await newPage(browser);
  await page.clock.install();
  await signInWithBrowser(page, shoal.url, demo.otherMember, DEMO_PASSWORD);
  await visit(page, shoal.url + '/account');
  const warning = page.getByRole('alertdialog', { name: 'You will be signed out soon' });
  assert.equal(await warning.isVisible(), false);
  // The member is away for 28.5 minutes.
  await page.clock.fastForward('28:30');
  await warning.waitFor({ state: 'visible', timeout: 5000 });
  await checkAccessibility(page);
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Stay signed in');
  await page.keyboard.press('Enter');
  await warning.waitFor({ state: 'hidden', timeout: 5000 });
  assert.equal(page.url(), shoal.url + '/account', 'the member keeps their place');
  const seen = Number(sql(shoal.db, `SELECT max(last_seen_at) FROM sessions WHERE person_id = (SELECT id FROM people WHERE email = '${demo.otherMember}')`));
  assert.ok(seen > Date.now() / 1000 - 60, 'the session was extended on the server');
  // Ignored, the warning ends in a sign-out that says why.
  await page.clock.fastForward('28:30');
  await warning.waitFor({ state: 'visible', timeout: 5000 });
  await page.clock.fastForward('02:05');
  await page.waitForURL(/\/sign-in\?timeout=1$/);
  await checkAccessibility(page);
  assert.match(await page.locator('main').innerText(), /signed out because you had not used Shoal for 30 minutes/);
  await page.context().close();
});

test('a partner who opens a member page is refused with a clear page', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.partner, DEMO_PASSWORD);
  await checkAccessibility(page);
  // The account page is theirs to see; member-only pages are not.
  await visit(page, shoal.url + '/account');
  await page.context().close();
});
