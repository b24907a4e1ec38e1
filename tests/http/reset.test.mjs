// tests/http/reset.test.mjs — "I have forgotten my password" as people meet it:
// ask with an email address, get a link, choose a new password, sign in. And
// as an attacker would try it: the page never says whether an account exists,
// unknown and deactivated addresses get no email, a link works once, for an
// hour, only the newest works, using it signs out every other device, and
// asking too often is throttled.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoal, sql } from '../lib/shoal.mjs';
import { Client, demo, DEMO_PASSWORD } from '../lib/client.mjs';

let shoal;
let mailDir;
before(async () => {
  mailDir = join(mkdtempSync(join(tmpdir(), 'shoal-reset-')), 'mail');
  shoal = await startShoal({ extraArgs: ['--mail-dir', mailDir] });
});
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0);
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function mails() {
  let files = [];
  try {
    files = readdirSync(mailDir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  files.sort((a, b) => parseInt(a, 10) - parseInt(b, 10));
  return files.map((file) => {
    const raw = readFileSync(join(mailDir, file), 'utf8');
    const [head, ...rest] = raw.split(/\r?\n\r?\n/);
    const headers = {};
    for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    const body = rest.join('\n\n').replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
    return { file, headers, body: Buffer.from(body, 'latin1').toString('utf8') };
  });
}

const seen = new Set();
async function nextMail(to, subject, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const found = mails().find((m) => !seen.has(m.file) && m.headers.to === to && subject.test(m.headers.subject));
    if (found) {
      seen.add(found.file);
      return found;
    }
    if (Date.now() > end) throw new Error(`no mail to ${to} matching ${subject}; have: ${mails().map((m) => `${m.headers.to}: ${m.headers.subject}`).join('; ')}`);
    await sleep(100);
  }
}

function resetPath(mail) {
  const m = mail.body.match(/https?:\/\/[^\s/]+(\/password-reset\/[A-Za-z0-9_-]{43})\b/);
  assert.ok(m, `a reset link in:\n${mail.body}`);
  return m[1];
}

/** Asks for a reset link for email; returns the response. */
function ask(c, email) {
  return c.post('/password-reset', { email }, { from: '/password-reset' });
}

/** The main content of a page: what a person reads. */
const content = (html) => html.match(/<main[\s\S]*<\/main>/)[0];

const outboxTo = (email) => sql(shoal.db, `SELECT count(*) FROM outbox WHERE to_address = '${email}'`);

test('the sign-in page links to the reset page, which asks for an email address', async () => {
  const c = new Client(shoal.url);
  assert.match((await c.get('/sign-in')).text, /href="\/password-reset"/);
  const page = await c.get('/password-reset');
  assert.equal(page.status, 200);
  assert.match(page.text, /<h1>Reset your password<\/h1>/);
  let r = await c.post('/password-reset', { email: '' });
  assert.equal(r.status, 400);
  assert.match(r.text, /href="#email">Enter your email address/);
  r = await c.post('/password-reset', { email: 'not-an-address' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter an email address in the correct format/);
  assert.match(r.text, /value="not-an-address"/);
});

test('unknown and deactivated addresses get the same page as real ones, and no email', async () => {
  const c = new Client(shoal.url);
  const real = await ask(c, demo.otherMember);
  assert.equal(real.status, 200);
  assert.match(real.text, /If an account exists for that address, we have sent it a link/);
  for (const email of ['nobody@riverside.wyvern.example', demo.deactivated]) {
    const r = await ask(c, email);
    assert.equal(r.status, 200, email);
    assert.equal(content(r.text), content(real.text), `the same page for ${email}`);
    assert.equal(outboxTo(email), '0', `nothing sent to ${email}`);
  }
  await nextMail(demo.otherMember, /Reset your password/);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'password-reset-requested'"), '3');
});

test('a reset link sets a new password once, ends every session, and sends a notice', async () => {
  // The member is signed in on two devices.
  const laptop = new Client(shoal.url);
  const phone = new Client(shoal.url);
  assert.equal((await laptop.signIn(demo.member)).status, 303);
  assert.equal((await phone.signIn(demo.member)).status, 303);
  assert.equal((await phone.get('/account')).status, 200);

  const visitor = new Client(shoal.url);
  assert.equal((await ask(visitor, ' GP@Riverside.Wyvern.Example ')).status, 200);
  const mail = await nextMail(demo.member, /Reset your password/);
  assert.match(mail.body, /Dear Dr Morgan Lee/);
  assert.match(mail.body, /It works once, until/);
  const link = resetPath(mail);

  let page = await visitor.get(link);
  assert.equal(page.status, 200);
  assert.match(page.text, /<h1>Choose a new password<\/h1>/);
  page = await visitor.post(link, { password: 'password1', 'confirm-password': 'password1' });
  assert.equal(page.status, 400);
  assert.match(page.text, /There is a problem/);
  page = await visitor.post(link, { password: 'heron mitten crayon', 'confirm-password': 'heron mitten crayon!' });
  assert.equal(page.status, 400);
  assert.match(page.text, /The passwords do not match/);
  assert.equal((await phone.get('/account')).status, 200, 'nothing changed yet');

  page = await visitor.post(link, { password: 'heron mitten crayon', 'confirm-password': 'heron mitten crayon' });
  assert.equal(page.status, 200, page.text);
  assert.match(page.text, /Your password has been changed/);
  assert.match(page.text, /href="\/sign-in">Sign in</);

  for (const device of [laptop, phone]) {
    const r = await device.get('/account');
    assert.equal(r.status, 303, 'signed out everywhere');
    assert.match(r.location, /^\/sign-in/);
  }
  const notice = await nextMail(demo.member, /has been changed/);
  assert.match(notice.body, /You have been signed out on every device/);
  assert.match(notice.body, /\/password-reset/);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = 'password-reset' AND actor = '${demo.member}'`), '1');

  const fresh = new Client(shoal.url);
  assert.equal((await fresh.signIn(demo.member, DEMO_PASSWORD)).status, 401, 'the old password no longer works');
  assert.equal((await fresh.signIn(demo.member, 'heron mitten crayon')).status, 303, 'the new one does');

  // Once only.
  page = await new Client(shoal.url).get(link);
  assert.equal(page.status, 410);
  assert.match(page.text, /has expired or been used/);
  assert.match(page.text, /href="\/password-reset">Ask for a new link/);
  page = await visitor.post(link, { password: 'another good phrase', 'confirm-password': 'another good phrase' });
  assert.equal(page.status, 410);
  assert.equal((await new Client(shoal.url).signIn(demo.member, 'heron mitten crayon')).status, 303);
});

test('links expire after an hour, and only the newest link works', async () => {
  const c = new Client(shoal.url);
  await ask(c, demo.lead);
  const first = resetPath(await nextMail(demo.lead, /Reset your password/));
  await ask(c, demo.lead);
  const second = resetPath(await nextMail(demo.lead, /Reset your password/));
  assert.equal((await c.get(first)).status, 410, 'the older link stopped working');
  assert.equal((await c.get(second)).status, 200);
  sql(shoal.db, `UPDATE password_resets SET expires_at = 1000 WHERE used_at IS NULL AND person_id = (SELECT id FROM people WHERE email = '${demo.lead}')`);
  let r = await c.get(second);
  assert.equal(r.status, 410);
  r = await c.post(second, { password: 'heron mitten crayon', 'confirm-password': 'heron mitten crayon' });
  assert.equal(r.status, 410);
  assert.equal((await new Client(shoal.url).signIn(demo.lead)).status, 303, 'the password did not change');
  const unknown = await c.get('/password-reset/' + 'x'.repeat(43));
  assert.equal(unknown.status, 404);
  assert.match(unknown.text, /This password reset link does not work/);
});

test('a link stops working when the person is deactivated', async () => {
  const c = new Client(shoal.url);
  await ask(c, demo.otherLead);
  const link = resetPath(await nextMail(demo.otherLead, /Reset your password/));
  sql(shoal.db, `UPDATE people SET deactivated_at = 1 WHERE email = '${demo.otherLead}'`);
  const r = await c.post(link, { password: 'heron mitten crayon', 'confirm-password': 'heron mitten crayon' }, { from: link });
  assert.equal(r.status, 410);
  sql(shoal.db, `UPDATE people SET deactivated_at = NULL WHERE email = '${demo.otherLead}'`);
});

test('asking too often is throttled, for unknown addresses just as for real ones', async () => {
  for (const email of ['flood@riverside.wyvern.example', demo.partner]) {
    const c = new Client(shoal.url);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await ask(c, email)).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429], email);
    const r = await ask(c, email);
    assert.match(r.text, /too many requests for a reset link. Wait 15 minutes/);
  }
  assert.ok(Number(sql(shoal.db, `SELECT count(*) FROM outbox WHERE to_address = '${demo.partner}' AND subject LIKE 'Reset%'`)) <= 5, 'at most five emails');
});

test('forms without the CSRF token are refused', async () => {
  const c = new Client(shoal.url);
  await c.get('/password-reset');
  let r = await c.request('/password-reset', { method: 'POST', form: { email: demo.executive } });
  assert.equal(r.status, 403);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM password_resets WHERE person_id = (SELECT id FROM people WHERE email = '${demo.executive}')`), '0');
  await ask(c, demo.executive);
  const link = resetPath(await nextMail(demo.executive, /Reset your password/));
  await c.get(link);
  r = await c.request(link, { method: 'POST', form: { password: 'heron mitten crayon', 'confirm-password': 'heron mitten crayon' } });
  assert.equal(r.status, 403);
  assert.equal((await c.get(link)).status, 200, 'the link still works');
});
