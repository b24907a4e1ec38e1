// tests/e2e/mfa.test.mjs — two-step sign-in in a real browser: a member sets
// it up by typing the key from the page into "their app" and the code it
// shows, keeps the recovery codes, signs out and back in with a code. Every
// page on the way passes axe, error pages included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, run, sql } from '../lib/shoal.mjs';
import { launch, newPage, visit, checkAccessibility, signInWithBrowser } from '../lib/browser.mjs';
import { demo, DEMO_PASSWORD, DEMO_TOTP_SECRET, totp } from '../lib/client.mjs';

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

/** A person's id, from the test database. */
function idOf(email) {
  return sql(shoal.db, `SELECT id FROM people WHERE email = '${email}'`);
}

/** The code an authenticator app shows, never one of a step already used (Shoal accepts each once). */
let lastStep = -1;
async function appCode(secret) {
  for (;;) {
    const now = Math.floor(Date.now() / 30000);
    const step = Math.max(now, lastStep + 1);
    if (step <= now + 1) {
      lastStep = step;
      return totp(secret, step * 30000);
    }
    await new Promise((r) => setTimeout(r, (now + 1) * 30000 - Date.now() + 50));
  }
}

test('a member sets up two-step sign-in, then signs out and in again with a code', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.member, DEMO_PASSWORD);
  await visit(page, shoal.url + '/account');
  await page.getByRole('link', { name: 'Set up two-step sign-in' }).click();
  await page.waitForURL(shoal.url + '/account/mfa');
  await checkAccessibility(page);
  assert.equal(await page.locator('h1').innerText(), 'Two-step sign-in');
  assert.ok(await page.getByRole('img', { name: /QR code/ }).isVisible(), 'a QR code to scan');
  const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
  assert.match(secret, /^[A-Z2-7]{32}$/);

  // A mistake first: the error summary takes the person to the field.
  await page.getByLabel('Code from your authenticator app').fill('12345');
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.equal(await page.locator('.nhsuk-error-summary__title').innerText(), 'There is a problem');
  await page.getByRole('link', { name: 'Enter the code as 6 numbers, like 123456' }).click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'code');
  assert.equal((await page.locator('#totp-secret').innerText()).replace(/\s/g, ''), secret, 'the same key');

  await page.getByLabel('Code from your authenticator app').fill(await appCode(secret));
  await page.getByRole('button', { name: 'Turn on two-step sign-in' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.equal(await page.locator('h1').innerText(), 'Two-step sign-in is on');
  const codes = await page.locator('#recovery-codes code').allInnerTexts();
  assert.equal(codes.length, 10);

  await page.getByRole('link', { name: /I have saved my codes/ }).click();
  await page.waitForURL(shoal.url + '/account');
  await checkAccessibility(page);
  assert.match(await page.locator('main').innerText(), /Two-step sign-in\s+On/);
  await visit(page, shoal.url + '/account/mfa');
  assert.equal(await page.locator('#recovery-left').innerText(), '10');

  await page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await page.waitForURL(/\/sign-in/);

  await signInWithBrowser(page, shoal.url, demo.member, DEMO_PASSWORD);
  assert.match(page.url(), /\/sign-in\/mfa\?next=\/$/);
  await checkAccessibility(page);
  assert.equal(await page.locator('h1').innerText(), 'Enter the code from your authenticator app');
  // Half-way through, the header offers no account: the password alone is not enough.
  assert.equal(await page.getByRole('link', { name: 'Dr Morgan Lee' }).count(), 0);

  await page.getByRole('link', { name: 'Use a recovery code instead' }).click();
  await page.waitForURL(/recovery=1/);
  await checkAccessibility(page);
  await page.getByRole('link', { name: 'Use a code from your authenticator app instead' }).click();
  await page.waitForURL(/\/sign-in\/mfa\?next=/);

  await page.getByLabel('Security code').fill('000000' === totp(secret) ? '111111' : '000000');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.match(await page.locator('.nhsuk-error-summary').innerText(), /The code is not right/);

  await page.getByLabel('Security code').fill(await appCode(secret));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(shoal.url + '/');
  await checkAccessibility(page);
  assert.match(await page.locator('.nhsuk-header__account').innerText(), /Dr Morgan Lee/);
  await page.context().close();
});

test('an executive without two-step sign-in is sent to set it up first', async () => {
  const email = 'new.executive@wyvern.example';
  const password = 'quiet harbour lantern forty-seven';
  const added = await run(['user', 'add', '--db', shoal.db, '--email', email, '--name', 'Nia Executive', '--role', 'executive', '--password-stdin'], { input: `${password}\n` });
  assert.equal(added.status, 0, added.stderr);
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, email, password);
  await page.goto(shoal.url + '/account');
  assert.equal(page.url(), shoal.url + '/account/mfa');
  await checkAccessibility(page);
  assert.match(await page.locator('.nhsuk-card--warning').innerText(), /You must set up two-step sign-in/);
  await page.context().close();
});

test('a recovery-code mistake and an administrator\'s reset page pass axe', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.admin, DEMO_PASSWORD);
  await page.getByRole('link', { name: 'Use a recovery code instead' }).click();
  await page.waitForURL(/recovery=1/);
  await page.getByLabel('Recovery code').fill('abcd');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForLoadState();
  await checkAccessibility(page);
  assert.match(await page.locator('.nhsuk-error-summary').innerText(), /Enter a recovery code as you saved it/);
  await page.getByRole('link', { name: 'Use a code from your authenticator app instead' }).click();
  await page.waitForURL(/\/sign-in\/mfa\?next=/);
  await page.getByLabel('Security code').fill(totp(DEMO_TOTP_SECRET));
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(shoal.url + '/');

  // The button lives on the people administration page; send the same form.
  const id = await idOf(demo.executive);
  await page.evaluate((action) => {
    const form = document.createElement('form');
    form.method = 'post';
    form.action = action;
    const csrf = document.querySelector('input[name="csrf"]').cloneNode();
    form.append(csrf);
    document.body.append(form);
    form.submit();
  }, `/admin/people/${id}/mfa-reset`);
  await page.waitForURL(shoal.url + `/admin/people/${id}/mfa-reset`);
  await checkAccessibility(page);
  assert.equal(await page.locator('h1').innerText(), 'Two-step sign-in reset');
  await page.context().close();
});
