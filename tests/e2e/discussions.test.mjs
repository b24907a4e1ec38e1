// tests/e2e/discussions.test.mjs — discussions in a real browser, axe on every
// page: a member starts a thread marked as a question for the executive (after
// a mistake that keeps what was typed), the executive finds it in the queue,
// answers and marks the answer official, and the member sees it at the top.
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

const title = 'Can the collective negotiate a single phlebotomy contract?';

test('a member asks the executive; the executive answers officially; the member sees it at the top', async () => {
  const member = await newPage(browser);
  await signInWithBrowser(member, shoal.url, demo.member, DEMO_PASSWORD);
  await visit(member, shoal.url + '/');
  await member.getByRole('link', { name: 'Discussions', exact: true }).first().click();
  await member.waitForURL(shoal.url + '/discussions');
  await checkAccessibility(member);
  await member.getByRole('link', { name: 'General practice strategy' }).click();
  await member.waitForLoadState();
  await checkAccessibility(member);
  await member.getByRole('link', { name: 'Start a thread' }).click();
  await member.waitForLoadState();
  await checkAccessibility(member);

  // A mistake: no title. The summary links to the field; the message stays.
  await member.getByLabel('Your message').fill('Each practice pays a different rate.\n\n- Riverside: £4\n- Bridge Street: £6');
  await member.getByLabel('This is a question for the executive').check();
  await member.getByRole('button', { name: 'Start the thread' }).click();
  await member.waitForLoadState();
  await checkAccessibility(member);
  assert.match(await member.locator('.nhsuk-error-summary').innerText(), /Enter a title for the thread/);
  assert.match(await member.getByLabel('Your message').inputValue(), /Bridge Street: £6/);
  assert.ok(await member.getByLabel('This is a question for the executive').isChecked());
  await member.getByRole('link', { name: 'Enter a title for the thread' }).click();
  await member.getByLabel('Title').fill(title);
  await member.getByRole('button', { name: 'Start the thread' }).click();
  await member.waitForURL(/\/discussions\/threads\/\d+\?page=1#post-\d+$/);
  await checkAccessibility(member);
  assert.equal(await member.locator('h1').innerText(), title);
  assert.match(await member.locator('main').innerText(), /Question for the executive/);
  assert.equal(await member.locator('main li', { hasText: 'Bridge Street' }).count(), 1, 'Markdown list rendered');
  const threadUrl = member.url().replace(/#.*$/, '');

  const exec = await newPage(browser);
  await signInWithBrowser(exec, shoal.url, demo.executive, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await visit(exec, shoal.url + '/discussions');
  await exec.getByRole('link', { name: /Questions for the executive awaiting a response/ }).click();
  await exec.waitForURL(shoal.url + '/discussions/questions');
  await checkAccessibility(exec);
  const rows = await exec.locator('tbody tr').allInnerTexts();
  assert.match(rows[rows.length - 1], /phlebotomy/, 'the newest question is last');
  assert.match(rows[rows.length - 1], /less than an hour/);
  await exec.getByRole('link', { name: title }).click();
  await exec.waitForLoadState();
  await checkAccessibility(exec);
  await exec.getByLabel('Reply').fill('Yes. The executive will open talks with the trust in January and report back here.');
  await exec.getByRole('button', { name: 'Post the reply' }).click();
  await exec.waitForURL(/#post-\d+$/);
  await checkAccessibility(exec);
  await exec.getByRole('button', { name: /Mark as the official response/ }).last().click();
  await exec.waitForURL(/notice=official/);
  await checkAccessibility(exec);
  await visit(exec, shoal.url + '/discussions/questions');
  assert.doesNotMatch(await exec.locator('main').innerText(), /phlebotomy/, 'answered: out of the queue');

  // The member opens the thread from the space: it goes to the new reply, and the
  // official response sits at the top.
  await visit(member, shoal.url + '/discussions');
  await member.getByRole('link', { name: 'General practice strategy' }).click();
  await member.waitForLoadState();
  await checkAccessibility(member);
  assert.match(await member.locator('main').innerText(), /1 new since your last visit/);
  await member.getByRole('link', { name: title }).click();
  await member.waitForURL(/#post-\d+$/);
  await checkAccessibility(member);
  const official = member.locator('#official-response');
  assert.match(await official.innerText(), /Official response from the executive/);
  assert.match(await official.innerText(), /open talks with the trust in January/);
  const box = await official.boundingBox();
  const first = await member.locator('main .nhsuk-card').nth(1).boundingBox();
  assert.ok(box.y < first.y, 'the official response is above the posts');
  assert.ok(member.url().startsWith(threadUrl));
});

test('the other discussion pages pass axe: spaces, groups, editing, history, hiding', async () => {
  const admin = await newPage(browser);
  await signInWithBrowser(admin, shoal.url, demo.admin, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await visit(admin, shoal.url + '/admin/groups');
  await admin.getByRole('button', { name: 'Create the group' }).click();
  await admin.waitForLoadState();
  await checkAccessibility(admin);
  assert.match(await admin.locator('.nhsuk-error-summary').innerText(), /Enter a name for the group/);
  await admin.getByLabel('Name').fill('Harbour PCN');
  await admin.getByRole('button', { name: 'Create the group' }).click();
  await admin.waitForURL(/\/admin\/groups\/\d+\?notice=created$/);
  await checkAccessibility(admin);
  await admin.getByLabel('Their email address').fill(demo.otherLead);
  await admin.getByRole('button', { name: 'Add to the group' }).click();
  await admin.waitForURL(/notice=added$/);
  await checkAccessibility(admin);

  await visit(admin, shoal.url + '/discussions/spaces/new');
  await admin.getByLabel('A group (choose it below)').check();
  await admin.getByRole('button', { name: 'Create the space' }).click();
  await admin.waitForLoadState();
  await checkAccessibility(admin);
  assert.match(await admin.locator('.nhsuk-error-summary').innerText(), /Select the group that can see the space/);
  await admin.getByLabel('Name', { exact: true }).fill('Harbour PCN business');
  await admin.getByLabel('Group', { exact: true }).selectOption({ label: 'Harbour PCN' });
  await admin.getByRole('button', { name: 'Create the space' }).click();
  await admin.waitForURL(shoal.url + '/discussions?notice=created');
  await checkAccessibility(admin);
  await admin.getByRole('link', { name: 'Change Harbour PCN business' }).click();
  await admin.waitForLoadState();
  await checkAccessibility(admin);

  const member = await newPage(browser);
  await signInWithBrowser(member, shoal.url, demo.otherMember, DEMO_PASSWORD);
  await visit(member, shoal.url + '/discussions');
  await member.getByRole('link', { name: 'General practice strategy' }).click();
  await member.waitForLoadState();
  await member.getByRole('link', { name: 'Start a thread' }).click();
  await member.waitForLoadState();
  await member.getByLabel('Title').fill('Room bookings');
  await member.getByLabel('Your message').fill('First draft');
  await member.getByRole('button', { name: 'Start the thread' }).click();
  await member.waitForURL(/#post-\d+$/);
  await member.getByRole('link', { name: 'Edit post 1' }).click();
  await member.waitForLoadState();
  await checkAccessibility(member);
  await member.getByLabel('Your message').fill('Second draft');
  await member.getByRole('button', { name: 'Save the change' }).click();
  await member.waitForURL(/notice=edited/);
  await checkAccessibility(member);
  await member.getByRole('link', { name: /edited/ }).click();
  await member.waitForLoadState();
  await checkAccessibility(member);
  assert.match(await member.locator('main').innerText(), /First draft/);
  const thread = member.url();

  const exec = await newPage(browser);
  await signInWithBrowser(exec, shoal.url, demo.executive, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await visit(exec, shoal.url + '/discussions');
  await exec.getByRole('link', { name: 'General practice strategy', exact: true }).click();
  await exec.waitForLoadState();
  await exec.getByRole('link', { name: 'Room bookings' }).click();
  await exec.waitForLoadState();
  await exec.getByRole('link', { name: 'Hide post 1' }).click();
  await exec.waitForLoadState();
  await checkAccessibility(exec);
  await exec.getByRole('button', { name: 'Hide the post' }).click();
  await exec.waitForLoadState();
  await checkAccessibility(exec);
  await exec.getByLabel('Reason').fill('Posted in the wrong space');
  await exec.getByRole('button', { name: 'Hide the post' }).click();
  await exec.waitForURL(/notice=hidden/);
  await checkAccessibility(exec);
  assert.match(await exec.locator('main').innerText(), /Reason: Posted in the wrong space/);
  assert.ok(thread);
});
