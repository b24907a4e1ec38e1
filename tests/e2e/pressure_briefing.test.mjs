// tests/e2e/pressure_briefing.test.mjs — the teleconference briefing in a real
// browser, axe on every page: the executive writes a theme (after a mistake),
// keeps the distribution list, and watches the figures update live as a
// practice sends its return, announced to screen readers; printed, the page
// drops everything but the briefing; a partner reads the suppressed version.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal } from '../lib/shoal.mjs';
import { launch, newPage, visit, checkAccessibility, signInWithBrowser } from '../lib/browser.mjs';
import { Client, demo, DEMO_PASSWORD, DEMO_TOTP_SECRET } from '../lib/client.mjs';

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

test('the executive writes the briefing and sees returns arrive live; partners read it', async () => {
  const exec = await newPage(browser);
  await signInWithBrowser(exec, shoal.url, demo.executive, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await visit(exec, shoal.url + '/pressure/briefing');
  assert.match(await exec.locator('h1').innerText(), /Winter pressures briefing/);
  const before = await exec.locator('#return-rate').innerText();

  // A theme sent empty: the error summary links to the field; then a real one.
  await exec.getByText('Change the themes').click();
  await exec.getByRole('button', { name: 'Add the theme' }).click();
  await exec.waitForLoadState();
  await checkAccessibility(exec);
  assert.match(await exec.locator('.nhsuk-error-summary').innerText(), /Enter the theme/);
  await exec.getByRole('link', { name: 'Enter the theme' }).click();
  await exec.getByLabel('Add a theme').fill('Telephone outages in several practices');
  await exec.getByRole('button', { name: 'Add the theme' }).click();
  await exec.waitForURL(/changed=1/);
  await checkAccessibility(exec);
  assert.match(await exec.locator('main').innerText(), /Telephone outages in several practices/);

  // Live: a practice sends its return; the figures change without a reload, and
  // the change is announced politely.
  await exec.waitForSelector('[data-live-state="open"]', { state: 'attached' });
  const lead = new Client(shoal.url);
  await lead.signIn(demo.lead);
  const form = await lead.get('/pressure/practices/Z80001/return');
  const period = form.text.match(/name="period" value="(\d+)"/)[1];
  const sent = await lead.post('/pressure/practices/Z80001/return', { period, level: '3' });
  assert.equal(sent.status, 303);
  await exec.waitForFunction((old) => document.querySelector('#return-rate').textContent !== old, before, { timeout: 15000 });
  assert.match(await exec.locator('#live-status').innerText(), /Figures updated at \d\d:\d\d/);
  await checkAccessibility(exec);

  // Printed: only the briefing.
  await exec.emulateMedia({ media: 'print' });
  assert.equal(await exec.locator('header.nhsuk-header').isVisible(), false);
  assert.equal(await exec.getByRole('button', { name: 'Email the briefing to the distribution list' }).isVisible(), false);
  assert.equal(await exec.locator('#levels').isVisible(), true);
  await exec.emulateMedia({ media: 'screen' });

  // The distribution list.
  await exec.getByRole('link', { name: 'distribution list' }).click();
  await exec.waitForLoadState();
  await checkAccessibility(exec);
  await exec.getByLabel('Name and organisation').fill('Sam Patel, Wyvern ICB');
  await exec.getByLabel('Email address').fill('sam.patel at icb.example');
  await exec.getByRole('button', { name: 'Add the address' }).click();
  await exec.waitForLoadState();
  await checkAccessibility(exec);
  assert.match(await exec.locator('.nhsuk-error-summary').innerText(), /correct format/);
  await exec.getByLabel('Email address').fill('sam.patel@icb.example');
  await exec.getByRole('button', { name: 'Add the address' }).click();
  await exec.waitForURL(/added=1/);
  await checkAccessibility(exec);
  await exec.context().close();

  const partner = await newPage(browser);
  await signInWithBrowser(partner, shoal.url, demo.partner, DEMO_PASSWORD);
  await visit(partner, shoal.url + '/pressure/briefing');
  const text = await partner.locator('main').innerText();
  assert.match(text, /Aggregates only/);
  assert.doesNotMatch(text, /Executive version|Comments from this period/);
  await partner.context().close();
});
