// tests/e2e/attachments.test.mjs — attaching files in a real browser, axe on
// every page: a member starting a thread first chooses a renamed program (the
// error is on the field and the title and message stay), then a PDF; the post
// lists it with its type and size, and the link downloads it. A reply attaches
// a PNG.
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

const pdf = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(64, 7)]);
const exe = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(300, 0x90)]);

test('a member attaches a PDF to a new thread (after a renamed program is refused) and a PNG to a reply', async () => {
  const member = await newPage(browser);
  await signInWithBrowser(member, shoal.url, demo.member, DEMO_PASSWORD);
  await visit(member, shoal.url + '/discussions');
  await member.getByRole('link', { name: 'General practice strategy' }).click();
  await member.waitForLoadState();
  await member.getByRole('link', { name: 'Start a thread' }).click();
  await member.waitForLoadState();
  await checkAccessibility(member);

  await member.getByLabel('Title').fill('Winter access plan');
  await member.getByLabel('Your message').fill('The draft plan is attached.');
  await member.getByLabel('Attach files (optional)').setInputFiles({ name: 'plan.pdf', mimeType: 'application/pdf', buffer: exe });
  await member.getByRole('button', { name: 'Start the thread' }).click();
  await member.waitForLoadState();
  await checkAccessibility(member);
  assert.match(await member.locator('.nhsuk-error-summary').innerText(), /The file plan\.pdf is a program or a script/);
  assert.equal(await member.getByLabel('Title').inputValue(), 'Winter access plan');
  assert.equal(await member.getByLabel('Your message').inputValue(), 'The draft plan is attached.');

  await member.getByRole('link', { name: /The file plan\.pdf is a program/ }).click();
  await member.getByLabel('Attach files (optional)').setInputFiles({ name: 'plan.pdf', mimeType: 'application/pdf', buffer: pdf });
  await member.getByRole('button', { name: 'Start the thread' }).click();
  await member.waitForURL(/\/discussions\/threads\/\d+\?page=1#post-\d+$/);
  await checkAccessibility(member);
  const link = member.getByRole('link', { name: 'plan.pdf' });
  assert.match(await member.locator('#' + member.url().split('#')[1]).innerText(), /plan\.pdf \(PDF, \d+ bytes\)/);
  const href = await link.getAttribute('href');
  assert.match(href, /^\/discussions\/attachments\/\d+\/plan\.pdf$/);
  const download = await member.request.get(shoal.url + href);
  assert.equal(download.status(), 200);
  assert.equal(download.headers()['content-type'], 'application/pdf');
  assert.deepEqual(await download.body(), pdf);

  await member.getByLabel('Reply').fill('And the chart.');
  await member.getByLabel('Attach files (optional)').setInputFiles({ name: 'chart.png', mimeType: 'image/png', buffer: png });
  await member.getByRole('button', { name: 'Post the reply' }).click();
  await member.waitForURL(/#post-\d+$/);
  await checkAccessibility(member);
  assert.match(await member.locator('main').innerText(), /chart\.png \(PNG image, \d+ bytes\)/);
});
