// tests/e2e/pressure.test.mjs — pressure returns in a real browser, axe on
// every page: a practice lead sends a Black return on a phone-sized screen, the
// executive sees the alert and records a response, and the practice sees it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal } from '../lib/shoal.mjs';
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

async function noSidewaysScroll(page) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
}

test('a lead sends a Black return on a phone; the executive responds; the practice sees it', async () => {
  const phone = await newPage(browser, { viewport: { width: 320, height: 640 } });
  await signInWithBrowser(phone, shoal.url, demo.otherLead, DEMO_PASSWORD);
  await visit(phone, shoal.url + '/pressure');
  await phone.getByRole('link', { name: 'Send the return for Harbour Medical Practice' }).click();
  await phone.waitForLoadState();
  await checkAccessibility(phone);
  await noSidewaysScroll(phone);
  // Sending without a level: the error summary links to the field, and what was typed stays.
  await phone.getByLabel('GP appointments').fill('140');
  await phone.getByRole('button', { name: 'Send pressure return' }).click();
  await phone.waitForLoadState();
  await checkAccessibility(phone);
  assert.match(await phone.locator('.nhsuk-error-summary').innerText(), /Select your practice's level of pressure/);
  assert.equal(await phone.getByLabel('GP appointments').inputValue(), '140');
  await phone.getByRole('link', { name: "Select your practice's level of pressure" }).click();
  await phone.getByLabel(/Black/).check();
  await phone.getByLabel('Clinical staff available (%)').fill('60');
  await phone.getByLabel('Critical (flood, power, phones or clinical system down)').check();
  await phone.getByLabel('Mutual aid from other practices').check();
  await phone.getByRole('button', { name: 'Send pressure return' }).click();
  await phone.waitForURL(/\/pressure\/practices\/Z80014\?sent=1$/);
  await checkAccessibility(phone);
  await noSidewaysScroll(phone);
  assert.match(await phone.locator('.nhsuk-notification-banner').innerText(), /Your pressure return has been sent/);

  const exec = await newPage(browser);
  await signInWithBrowser(exec, shoal.url, demo.executive, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await visit(exec, shoal.url + '/pressure');
  await exec.getByRole('link', { name: /Escalations/ }).click();
  await exec.waitForLoadState();
  await checkAccessibility(exec);
  await exec.getByRole('link', { name: 'Record a response to Harbour Medical Practice' }).first().click();
  await exec.waitForLoadState();
  await checkAccessibility(exec);
  await exec.getByLabel('Who made contact with the practice').fill('Dr Priya Shah, LMC chair');
  await exec.getByLabel('Support offered').fill('A locum GP for Thursday and Friday');
  await exec.getByRole('button', { name: 'Save the response' }).click();
  await exec.waitForLoadState();
  await checkAccessibility(exec);
  await visit(exec, shoal.url + '/pressure/periods');
  await visit(exec, shoal.url + '/pressure/returns/1');

  await visit(phone, shoal.url + '/pressure/practices/Z80014');
  assert.match(await phone.locator('main').innerText(), /A locum GP for Thursday and Friday/);
  await noSidewaysScroll(phone);
  await visit(phone, shoal.url + '/pressure/practices/Z80014/reporters');
  await phone.context().close();
  await exec.context().close();
});
