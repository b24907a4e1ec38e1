// tests/e2e/journey.test.mjs — the whole way in, as the issue describes it:
// the executive invites a new executive colleague, who accepts, chooses a
// password, is made to set up two-step sign-in, signs out, and signs in again
// with a code. And a partner who follows a link to a members' page is refused.
// Every page on the way passes axe.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoal } from '../lib/shoal.mjs';
import { launch, newPage, visit, checkAccessibility } from '../lib/browser.mjs';
import { demo, DEMO_PASSWORD, DEMO_TOTP_SECRET, totp } from '../lib/client.mjs';

let shoal;
let browser;
let mailDir;
before(async () => {
  mailDir = join(mkdtempSync(join(tmpdir(), 'shoal-e2e-journey-')), 'mail');
  shoal = await startShoal({ extraArgs: ['--mail-dir', mailDir] });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await shoal?.stop();
});

/** The first link to path in a mail to `to`, waiting for the jobs thread to write it. */
async function linkIn(to, path) {
  for (let tries = 0; tries < 100; tries++) {
    for (const f of readdirSync(mailDir, { withFileTypes: true }).filter((e) => e.name.endsWith('.eml'))) {
      const raw = readFileSync(join(mailDir, f.name), 'utf8').replace(/=\r?\n/g, '');
      if (!new RegExp(`^To: ${to}\\r?$`, 'mi').test(raw)) continue;
      const m = raw.match(new RegExp(`https?://[^\\s/]+(${path}[A-Za-z0-9_-]{43})`));
      if (m) return m[1];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no mail to ${to} with a link to ${path}`);
}

async function click(page, name) {
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name, exact: true }).click()]);
  await checkAccessibility(page);
}

async function signIn(page, email, password, secret, { nextCode = false } = {}) {
  await visit(page, shoal.url + '/sign-in');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await click(page, 'Sign in');
  if (secret) {
    assert.equal(new URL(page.url()).pathname, '/sign-in/mfa');
    // Each code is accepted once; one step ahead is within the window allowed for clock drift.
    await page.getByLabel('Security code').fill(totp(secret, Date.now() + (nextCode ? 30000 : 0)));
    await click(page, 'Continue');
  }
}

test('invite → accept → set password → set up two-step sign-in → sign in again', async () => {
  const chair = await newPage(browser);
  await signIn(chair, demo.executive, DEMO_PASSWORD, DEMO_TOTP_SECRET);
  await visit(chair, shoal.url + '/invitations/new');
  await chair.getByLabel('Full name').fill('Dr Kit Marlow');
  await chair.getByLabel('Email address').fill('kit.marlow@wyvern.example');
  await chair.getByLabel('Executive', { exact: true }).check();
  await chair.getByLabel('Organisation').selectOption({ label: 'Wyvern Local Medical Committee (LMCZ1)' });
  await click(chair, 'Send invitation');
  assert.match(await chair.locator('.nhsuk-notification-banner').innerText(), /Invitation sent/);

  const kit = await newPage(browser);
  await visit(kit, shoal.url + (await linkIn('kit.marlow@wyvern.example', '/invitations/accept/')));
  await kit.getByLabel('Choose a password').fill('lantern quay orchard');
  await kit.getByLabel('Enter the password again').fill('lantern quay orchard');
  await click(kit, 'Create your account');
  // An executive must set up two-step sign-in before anything else.
  assert.equal(new URL(kit.url()).pathname, '/account/mfa');
  await visit(kit, shoal.url + '/people');
  assert.equal(new URL(kit.url()).pathname, '/account/mfa', 'other pages wait until it is set up');
  await checkAccessibility(kit);
  const secret = (await kit.locator('#totp-secret').innerText()).replace(/\s/g, '');
  await kit.getByLabel('Code from your authenticator app').fill(totp(secret));
  await click(kit, 'Turn on two-step sign-in');
  assert.equal(await kit.locator('#recovery-codes code').count(), 10);
  await visit(kit, shoal.url + '/people');
  await click(kit, 'Sign out');

  await signIn(kit, 'kit.marlow@wyvern.example', 'lantern quay orchard', secret, { nextCode: true });
  assert.equal(new URL(kit.url()).pathname, '/');
  assert.match(await kit.locator('header').innerText(), /Dr Kit Marlow/);
  for (const p of [chair, kit]) await p.context().close();
});

test('a partner who follows a link to a members\' page is refused with a clear page', async () => {
  const page = await newPage(browser);
  await signIn(page, demo.partner, DEMO_PASSWORD);
  await visit(page, shoal.url + '/invitations/new', { status: 403 });
  assert.equal(await page.locator('h1').innerText(), 'You do not have access to this page');
  await visit(page, shoal.url + '/admin/people', { status: 403 });
  // The directory shows a partner the executive, not every member.
  await visit(page, shoal.url + '/people');
  assert.match(await page.locator('main').innerText(), /Dr Priya Shah/);
  assert.doesNotMatch(await page.locator('main').innerText(), /Dr Morgan Lee/);
  await page.context().close();
});
