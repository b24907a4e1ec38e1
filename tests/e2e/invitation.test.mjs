// tests/e2e/invitation.test.mjs — getting into Shoal in a real browser: a
// practice lead invites a colleague from their account page; the colleague
// opens the emailed link, makes a mistake, chooses a password and lands signed
// in on the home page. Also the pages around it: a used link, forgetting a
// password, asking to join. Every page on the way passes axe, error pages
// included.
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
  mailDir = join(mkdtempSync(join(tmpdir(), 'shoal-e2e-invite-')), 'mail');
  shoal = await startShoal({ extraArgs: ['--mail-dir', mailDir] });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await shoal?.stop();
});

/** Waits for a message to `to` whose subject matches; returns its decoded text. */
async function mailTo(to, subject, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    let files = [];
    try {
      files = readdirSync(mailDir).filter((f) => f.endsWith('.eml'));
    } catch {}
    for (const f of files) {
      const raw = readFileSync(join(mailDir, f), 'utf8');
      const head = raw.split(/\r?\n\r?\n/)[0].replace(/\r?\n[ \t]+/g, ' ');
      if (new RegExp(`^To: ${to}$`, 'mi').test(head) && subject.test(head.match(/^Subject: (.*)$/mi)?.[1] ?? '')) {
        return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
      }
    }
    if (Date.now() > end) throw new Error(`no mail to ${to} matching ${subject}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Submits the page's form and checks the page it leads to. */
async function submit(page, button) {
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: button }).click()]);
  await checkAccessibility(page);
}

test('a practice lead invites a colleague, who accepts and lands signed in on the home page', async () => {
  const lead = await newPage(browser);
  await visit(lead, shoal.url + '/sign-in');
  await lead.getByLabel('Email address').fill(demo.lead);
  await lead.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
  await submit(lead, 'Sign in');
  await visit(lead, shoal.url + '/account');
  await lead.getByRole('link', { name: 'Invite someone' }).click();
  await lead.waitForURL(shoal.url + '/invitations/new');
  await checkAccessibility(lead);
  assert.equal(await lead.locator('h1').innerText(), 'Invite someone');

  // Sent empty first: the summary links to each field, and the page passes axe.
  await submit(lead, 'Send invitation');
  assert.equal(await lead.locator('.nhsuk-error-summary__title').innerText(), 'There is a problem');
  assert.match(await lead.title(), /^Error: Invite someone/);
  await lead.getByRole('link', { name: 'Enter their email address' }).click();
  assert.equal(await lead.evaluate(() => document.activeElement?.id), 'email');

  await lead.getByLabel('Full name').fill('Alex Newcomer');
  await lead.getByLabel('Email address').fill('alex.newcomer@riverside.wyvern.example');
  await lead.getByLabel('Member', { exact: true }).check();
  await lead.getByLabel('Organisation').selectOption({ label: 'Riverside Medical Centre (Z80001)' });
  await submit(lead, 'Send invitation');
  assert.equal(new URL(lead.url()).pathname, '/invitations');
  assert.match(await lead.locator('.nhsuk-notification-banner').innerText(), /Invitation sent/);
  assert.match(await lead.locator('table').innerText(), /alex\.newcomer@riverside\.wyvern\.example[\s\S]*Pending/);

  const mail = await mailTo('alex.newcomer@riverside.wyvern.example', /invitation/i);
  const path = mail.match(/https?:\/\/[^\s/]+(\/invitations\/accept\/[A-Za-z0-9_-]{43})/)[1];

  const alex = await newPage(browser);
  await visit(alex, shoal.url + path);
  assert.equal(await alex.locator('h1').innerText(), 'Accept your invitation');
  assert.match(await alex.locator('main').innerText(), /Sam Patel \(practice manager\) has invited you to join .* as a member at Riverside Medical Centre/);
  assert.equal(await alex.getByLabel('Your full name').inputValue(), 'Alex Newcomer');
  await alex.getByLabel('Choose a password').fill('marble orchard teapot');
  await alex.getByLabel('Enter the password again').fill('marble orchard teacup');
  await submit(alex, 'Create your account');
  assert.match(await alex.locator('.nhsuk-error-summary').innerText(), /The passwords do not match/);
  await alex.getByLabel('Choose a password').fill('marble orchard teapot');
  await alex.getByLabel('Enter the password again').fill('marble orchard teapot');
  await submit(alex, 'Create your account');
  assert.equal(alex.url(), shoal.url + '/');
  assert.match(await alex.locator('header').innerText(), /Alex Newcomer/, 'signed in');

  // The link has done its work.
  const other = await newPage(browser);
  await visit(other, shoal.url + path, { status: 410 });
  assert.equal(await other.locator('h1').innerText(), 'This invitation has already been used');
  await visit(other, shoal.url + '/invitations/accept/' + 'Z'.repeat(43), { status: 404 });
  for (const p of [lead, alex, other]) await p.context().close();
});

test('forgetting a password: every page of the reset passes axe', async () => {
  const page = await newPage(browser);
  await visit(page, shoal.url + '/sign-in');
  await page.getByRole('link', { name: 'I have forgotten my password' }).click();
  await page.waitForURL(shoal.url + '/password-reset');
  await checkAccessibility(page);
  await submit(page, 'Send a reset link');
  assert.match(await page.locator('.nhsuk-error-summary').innerText(), /Enter your email address/);
  await page.getByLabel('Email address').fill(demo.otherMember);
  await submit(page, 'Send a reset link');
  assert.equal(await page.locator('h1').innerText(), 'Check your email');
  const mail = await mailTo(demo.otherMember, /Reset your password/);
  const path = mail.match(/https?:\/\/[^\s/]+(\/password-reset\/[A-Za-z0-9_-]{43})/)[1];
  await visit(page, shoal.url + path);
  await page.getByLabel('Choose a password').fill('short');
  await page.getByLabel('Enter the password again').fill('short');
  await submit(page, 'Change your password');
  assert.match(await page.locator('.nhsuk-error-summary').innerText(), /at least 10 characters/);
  await page.getByLabel('Choose a password').fill('copper walrus meadow');
  await page.getByLabel('Enter the password again').fill('copper walrus meadow');
  await submit(page, 'Change your password');
  assert.equal(await page.locator('h1').innerText(), 'Your password has been changed');
  await visit(page, shoal.url + path, { status: 410 });
  await page.context().close();
});

test('asking to join: an administrator opens it, a person asks, their lead approves; every page passes axe', async () => {
  const page = await newPage(browser);
  await visit(page, shoal.url + '/join', { status: 404 });
  assert.equal(await page.locator('h1').innerText(), 'You need an invitation to join');

  const admin = await newPage(browser);
  await visit(admin, shoal.url + '/sign-in?next=/admin/settings');
  await admin.getByLabel('Email address').fill(demo.admin);
  await admin.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
  await submit(admin, 'Sign in');
  await admin.getByLabel('Security code').fill(totp(DEMO_TOTP_SECRET));
  await submit(admin, 'Continue');
  assert.equal(new URL(admin.url()).pathname, '/admin/settings');
  await admin.getByLabel('Email domains that may ask to join').fill('nhs.net, not a domain');
  await submit(admin, 'Save settings');
  assert.match(await admin.locator('.nhsuk-error-summary').innerText(), /is not a domain/);
  await admin.getByLabel('Email domains that may ask to join').fill('nhs.net');
  await submit(admin, 'Save settings');
  assert.match(await admin.locator('.nhsuk-notification-banner').innerText(), /Settings saved/);

  await visit(page, shoal.url + '/join');
  await page.getByLabel('Full name').fill('Kim Example');
  await page.getByLabel('Work email address').fill('kim@example.com');
  await submit(page, 'Send request');
  assert.match(await page.locator('.nhsuk-error-summary').innerText(), /it must end in @nhs.net[\s\S]*Select your practice/);
  await page.getByLabel('Work email address').fill('kim.example@nhs.net');
  await page.getByLabel('Your practice').selectOption({ label: 'Riverside Medical Centre (Z80001)' });
  await page.getByLabel('What you do at the practice (optional)').fill('Receptionist');
  await submit(page, 'Send request');
  assert.equal(await page.locator('h1').innerText(), 'We have received your request');

  const lead = await newPage(browser);
  await visit(lead, shoal.url + '/sign-in?next=/join/requests');
  await lead.getByLabel('Email address').fill(demo.lead);
  await lead.getByLabel('Password', { exact: true }).fill(DEMO_PASSWORD);
  await submit(lead, 'Sign in');
  assert.equal(new URL(lead.url()).pathname, '/join/requests');
  assert.match(await lead.locator('main').innerText(), /Kim Example[\s\S]*Receptionist/);
  await submit(lead, 'Approve and send an invitation to Kim Example');
  assert.match(await lead.locator('.nhsuk-notification-banner').innerText(), /Request approved/);
  await mailTo('kim.example@nhs.net', /invitation/i);
  for (const p of [page, admin, lead]) await p.context().close();
});
