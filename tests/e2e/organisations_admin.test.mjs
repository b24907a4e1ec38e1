// tests/e2e/organisations_admin.test.mjs — the organisations in the
// administration pages in a real browser, with axe on every page: an
// administrator finds organisations, adds one (after a mistake, with the error
// summary leading to the field), changes one, and imports a pasted CSV file (a
// bad one first); the list reflows on a phone; a member is kept out.
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

/** Clicks a button or link that loads a new page, then runs axe on it. */
async function go(page, locator) {
  await Promise.all([page.waitForNavigation(), locator.click()]);
  await checkAccessibility(page);
}

// One journey: the administrator's two-step code is accepted once per 30 seconds.
test('an administrator finds, adds, changes and imports organisations', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.admin, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await visit(page, shoal.url + '/admin');
  await go(page, page.getByRole('link', { name: 'Organisations', exact: true }));
  assert.equal(page.url(), shoal.url + '/admin/organisations');
  assert.equal(await page.title(), 'Organisations – Wyvern Vale GP Collective (fictional)');
  assert.equal(await page.locator('caption').first().innerText(), 'Practices');

  // Find the Riverside practices.
  await page.getByLabel('Search').fill('riverside');
  await page.getByLabel('Kind').selectOption('practice');
  await go(page, page.getByRole('button', { name: 'Show organisations' }));
  assert.match(page.url(), /\/admin\/organisations\?q=riverside&kind=practice$/);
  assert.equal(await page.locator('tbody tr').count(), 4);

  // On a phone, the tables stack instead of scrolling sideways (WCAG 1.4.10).
  await page.setViewportSize({ width: 320, height: 640 });
  await visit(page, shoal.url + '/admin/organisations');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the list is ${overflow}px wider than the screen`);
  await page.setViewportSize({ width: 1280, height: 800 });

  // Add one, after a mistake.
  await go(page, page.getByRole('link', { name: 'Add an organisation' }));
  assert.equal(page.url(), shoal.url + '/admin/organisations/new');
  await page.getByLabel('ODS code', { exact: true }).fill('Z80080');
  await page.getByLabel('Name').fill('Kingfisher Surgery');
  await page.getByLabel('Kind of organisation').selectOption('practice');
  await page.getByLabel('ODS code of the organisation it is part of (optional)').fill('U90001');
  await go(page, page.getByRole('button', { name: 'Add organisation' }));
  assert.equal(await page.title(), 'Error: Add an organisation – Wyvern Vale GP Collective (fictional)');
  assert.equal(await page.locator('.nhsuk-error-summary__title').innerText(), 'There is a problem');
  assert.equal(await page.getByLabel('Name').inputValue(), 'Kingfisher Surgery', 'what was typed is kept');
  await page.getByRole('link', { name: "Enter the practice's list size (its number of registered patients)" }).click();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'list_size');
  await page.keyboard.type('7200');
  await go(page, page.getByRole('button', { name: 'Add organisation' }));
  assert.equal(page.url(), shoal.url + '/admin/organisations/Z80080?added=1');
  assert.match(await page.locator('.nhsuk-notification-banner').innerText(), /The organisation has been added/);
  assert.equal(sql(shoal.db, "SELECT list_size FROM organisations WHERE ods_code = 'Z80080'"), '7200');

  // Change it: a practice cannot sit straight under a locality, so that is refused first.
  await page.getByLabel('ODS code of the organisation it is part of (optional)').fill('LOCZ1');
  await go(page, page.getByRole('button', { name: 'Save changes' }));
  assert.match(await page.locator('#parent-error').innerText(), /The parent of a practice must be a PCN, but LOCZ1 is a locality/);
  await page.getByLabel('ODS code of the organisation it is part of (optional)').fill('U90002');
  await page.getByLabel('Name').fill('Kingfisher Medical Practice');
  await go(page, page.getByRole('button', { name: 'Save changes' }));
  assert.equal(page.url(), shoal.url + '/admin/organisations/Z80080?saved=1');
  assert.equal((await page.locator('h1').innerText()).replace(/\s+/g, ' '), 'Practice – Kingfisher Medical Practice');

  // A page with people, linking to them.
  await visit(page, shoal.url + '/admin/organisations/Z80001');
  assert.ok(await page.getByRole('link', { name: 'Dr Morgan Lee' }).isVisible());

  // Import: a bad paste, then a good one.
  await visit(page, shoal.url + '/admin/organisations/import');
  const header = 'ods_code,name,kind,parent_ods_code,list_size\n';
  await page.getByLabel('Contents of the CSV file').fill(header + 'Z80081,,practice,U90001,100\nZ80082,Lost,practice,U00000,100\n');
  await go(page, page.getByRole('button', { name: 'Check and import' }));
  assert.equal(await page.locator('.nhsuk-error-summary__title').innerText(), 'There is a problem');
  const problems = await page.locator('#problems tbody tr').allInnerTexts();
  assert.deepEqual(problems.map((p) => p.replace(/\s+/g, ' ')), ['2 the name is empty', '3 parent U00000 is not in this file or in the database']);
  await page.getByLabel('Contents of the CSV file').fill(header + 'Z80081,Heron Surgery,practice,U90001,100\n');
  await go(page, page.getByRole('button', { name: 'Check and import' }));
  assert.equal(await page.locator('h1').innerText(), 'Organisations imported');
  assert.ok(await page.getByRole('link', { name: 'Heron Surgery' }).isVisible());
  await page.context().close();
});

test('a member is told they have no access, on an accessible page', async () => {
  const page = await newPage(browser);
  await signInWithBrowser(page, shoal.url, demo.member, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await visit(page, shoal.url + '/admin/organisations', { status: 403 });
  assert.equal(await page.locator('h1').innerText(), 'You do not have access to this page');
  await page.context().close();
});
