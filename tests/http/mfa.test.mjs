// tests/http/mfa.test.mjs — two-step sign-in as people meet it: a member sets
// it up from the key on the page, is asked for a code at the next sign-in,
// keeps recovery codes for a lost phone, turns it off; an executive cannot
// avoid it or turn it off; an administrator resets a lost phone. And as an
// attacker would try it: wrong, reused and guessed codes, a secret sent from
// the browser, recovery codes used twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoal, backend, run, sql } from '../lib/shoal.mjs';
import { Client, demo, DEMO_PASSWORD, DEMO_TOTP_SECRET, totp } from '../lib/client.mjs';

let shoal;
let mailDir;
before(async () => {
  mailDir = join(mkdtempSync(join(tmpdir(), 'shoal-mfa-')), 'mail');
  shoal = await startShoal({ env: { SHOAL_MAIL_DIR: mailDir } });
});
after(async () => {
  await shoal.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * An authenticator app that never offers a code twice: Shoal accepts each
 * 30-second step once per person, so a test that needs another code takes the
 * next step (still inside Shoal's window) or waits for one.
 */
class Authenticator {
  constructor(secret) {
    this.secret = secret;
    this.last = -1;
  }

  async code() {
    for (;;) {
      const now = Math.floor(Date.now() / 30000);
      const step = Math.max(now, this.last + 1);
      if (step <= now + 1) {
        this.last = step;
        return totp(this.secret, step * 30000);
      }
      await sleep((now + 1) * 30000 - Date.now() + 50);
    }
  }

  /** The code of the step used last: one Shoal has already accepted. */
  used() {
    return totp(this.secret, this.last * 30000);
  }
}

/** Every message written to the mail directory so far, headers and decoded text. */
function mails() {
  let files = [];
  try {
    files = readdirSync(mailDir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  return files.map((f) => {
    const raw = readFileSync(join(mailDir, f), 'utf8');
    const [head, ...rest] = raw.split(/\r?\n\r?\n/);
    const headers = {};
    for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    const body = rest.join('\n\n').replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16)));
    return { headers, body: Buffer.from(body, 'latin1').toString('utf8') };
  });
}

/** Waits for a message to `to` whose subject matches. */
async function mailTo(to, subject, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const found = mails().find((m) => m.headers.to === to && subject.test(m.headers.subject));
    if (found) return found;
    if (Date.now() > end) throw new Error(`no mail to ${to} matching ${subject}; have: ${mails().map((m) => `${m.headers.to}: ${m.headers.subject}`).join('; ')}`);
    await sleep(100);
  }
}

/** Signs in with the password; answers the code page with auth's next code when asked. */
async function signIn(c, email, auth, { password = DEMO_PASSWORD, next } = {}) {
  let r = await c.post('/sign-in', { email, password, ...(next ? { next } : {}) }, { from: '/sign-in' });
  if (r.status === 303 && r.location.startsWith('/sign-in/mfa')) {
    assert.ok(auth, `${email} was asked for a code`);
    await c.get(r.location);
    r = await c.post('/sign-in/mfa', { code: await auth.code(), ...(next ? { next } : {}) });
  }
  return r;
}

/** Sets up two-step sign-in for a signed-in client; returns { auth, codes }. */
async function enrol(c) {
  const page = await c.get('/account/mfa');
  assert.equal(page.status, 200);
  const secret = page.text.match(/id="totp-secret">([A-Z2-7 ]+)</)[1].replace(/ /g, '');
  const auth = new Authenticator(secret);
  const r = await c.post('/account/mfa/confirm', { code: await auth.code() });
  assert.equal(r.status, 200, r.text);
  const codes = [...r.text.matchAll(/<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})<\/code><\/li>/g)].map((m) => m[1]);
  assert.equal(codes.length, 10);
  return { auth, codes };
}

const personId = (email) => sql(shoal.db, `SELECT id FROM people WHERE email = '${email}'`);

// Shared by the member's tests below, which run in order.
const member = { client: new Client(''), auth: null, codes: [] };

test('a member sets up two-step sign-in from the key on the page, and sees recovery codes once', async () => {
  const c = (member.client = new Client(shoal.url));
  assert.equal((await signIn(c, demo.member)).status, 303);
  const account = await c.get('/account');
  assert.match(account.text, /<a href="\/account\/mfa">/, 'the account page links to two-step sign-in');

  let page = await c.get('/account/mfa');
  assert.equal(page.status, 200);
  assert.match(page.text, /<h1>Two-step sign-in<\/h1>/);
  assert.match(page.text, /Two-step sign-in is off/);
  assert.doesNotMatch(page.text, /You must set up two-step sign-in/, 'optional for members');
  assert.match(page.text, /<svg [^>]*role="img" aria-label="QR code[^"]*"/, 'a QR code to scan');
  const grouped = page.text.match(/id="totp-secret">([A-Z2-7 ]+)</)[1];
  assert.match(grouped, /^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$/, 'the key in groups of four for typing');
  const secret = grouped.replace(/ /g, '');
  assert.ok(!page.text.slice(page.text.indexOf('<svg')).split('</svg>')[0].includes(secret), 'the QR code is a picture, not text');
  // Reloading keeps the key already typed into the app.
  page = await c.get('/account/mfa');
  assert.equal(page.text.match(/id="totp-secret">([A-Z2-7 ]+)</)[1], grouped);
  assert.equal(sql(shoal.db, `SELECT totp_secret IS NULL FROM people WHERE email = '${demo.member}'`), backend === 'postgresql' ? 't' : '1', 'not on until a code proves it');

  // Mistakes get a clear message beside the field, and turn nothing on.
  let r = await c.post('/account/mfa/confirm', { code: '' });
  assert.equal(r.status, 400);
  assert.match(r.text, /There is a problem/);
  assert.match(r.text, /<a href="#code">Enter the 6-digit code from your authenticator app<\/a>/);
  assert.match(r.text, /<title>Error: Two-step sign-in/);
  assert.match(r.text, new RegExp(`id="totp-secret">${grouped}<`), 'the same key is shown again');
  r = await c.post('/account/mfa/confirm', { code: '12345' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter the code as 6 numbers, like 123456/);
  const wrong = totp(secret) === '000000' ? '111111' : '000000';
  r = await c.post('/account/mfa/confirm', { code: wrong });
  assert.equal(r.status, 400);
  assert.match(r.text, /The code is not right/);
  // A secret sent by the browser is ignored: it cannot choose its own.
  const forged = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
  r = await c.post('/account/mfa/confirm', { code: totp(forged), secret: forged, totp_secret: forged });
  assert.equal(r.status, 400);
  assert.match(sql(shoal.db, `SELECT count(*) FROM people WHERE totp_secret IS NOT NULL AND email = '${demo.member}'`), /^0$/);

  member.auth = new Authenticator(secret);
  r = await c.post('/account/mfa/confirm', { code: ` ${(await member.auth.code()).replace(/^(...)/, '$1 ')} ` });
  assert.equal(r.status, 200);
  assert.match(r.text, /Two-step sign-in is on/);
  assert.match(r.text, /Shoal will not show these codes again/);
  member.codes = [...r.text.matchAll(/<li><code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})<\/code><\/li>/g)].map((m) => m[1]);
  assert.equal(member.codes.length, 10);
  assert.equal(new Set(member.codes).size, 10);
  assert.equal(r.headers.get('cache-control'), 'no-store');

  page = await c.get('/account/mfa');
  assert.match(page.text, /id="mfa-status">On</);
  assert.match(page.text, /id="recovery-left">10</);
  for (const code of member.codes) assert.ok(!page.text.includes(code), 'recovery codes are shown once only');
  assert.match((await c.get('/account')).text, /Two-step sign-in<\/dt><dd class="nhsuk-summary-list__value">On/);
  // Only hashes are kept.
  const stored = sql(shoal.db, `SELECT code_hash FROM recovery_codes WHERE person_id = ${personId(demo.member)}`);
  for (const code of member.codes) assert.ok(!stored.includes(code) && !stored.includes(code.replace(/-/g, '')));

  const mail = await mailTo(demo.member, /two-step sign-in is on/);
  assert.match(mail.body, /Two-step sign-in was turned on for your account/);
  assert.match(mail.body, /If it was not you/);
  assert.match(mail.body, /http:\/\/127\.0\.0\.1:8080\/account\/mfa/);
  assert.match(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = 'mfa-enabled' AND subject = 'person:${personId(demo.member)}'`), /^1$/);
});

test('signing in again asks for a code; wrong and reused codes are refused and counted', async () => {
  const c = new Client(shoal.url);
  let r = await c.post('/sign-in', { email: demo.member, password: DEMO_PASSWORD, next: '/account' }, { from: '/sign-in' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/sign-in/mfa?next=/account');
  const passwordCookie = c.cookies.get('shoal_session');
  // The password alone opens nothing.
  r = await c.get('/account');
  assert.equal(r.status, 303);
  assert.match(r.location, /^\/sign-in\?next=/);

  r = await c.get('/sign-in/mfa?next=/account');
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>Enter the code from your authenticator app<\/h1>/);
  assert.match(r.text, /autocomplete="one-time-code"/);
  assert.match(r.text, /<a href="\/sign-in\/mfa\?recovery=1&amp;next=\/account">Use a recovery code instead<\/a>/);
  assert.match(r.text, /name="next" value="\/account"/);

  r = await c.post('/sign-in/mfa', { code: '', next: '/account' });
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#code">Enter the 6-digit code from your authenticator app<\/a>/);
  r = await c.post('/sign-in/mfa', { code: 'abcdef', next: '/account' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter the code as 6 numbers/);

  const failuresBefore = Number(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = 'sign-in-failed' AND actor = '${demo.member}'`));
  const wrong = [0, 1, 2].map((i) => String((Number(member.auth.used()) + 333333 * (i + 1)) % 1000000).padStart(6, '0'));
  r = await c.post('/sign-in/mfa', { code: wrong[0], next: '/account' });
  assert.equal(r.status, 401);
  assert.match(r.text, /There is a problem/);
  assert.match(r.text, /The code is not right\. Enter the code your authenticator app shows now/);
  // The code used to turn it on a moment ago cannot be used again.
  r = await c.post('/sign-in/mfa', { code: member.auth.used(), next: '/account' });
  assert.equal(r.status, 401);
  assert.match(r.text, /That code has already been used/);
  assert.equal(Number(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = 'sign-in-failed' AND actor = '${demo.member}'`)), failuresBefore + 2);
  assert.match(sql(shoal.db, `SELECT failures FROM throttle WHERE key = 'mfa:' || (SELECT id FROM people WHERE email = '${demo.member}')`), /^2$/);

  r = await c.post('/sign-in/mfa', { code: await member.auth.code(), next: '/account' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/account');
  assert.notEqual(c.cookies.get('shoal_session'), passwordCookie, 'a new session token after the second step');
  assert.equal((await c.get('/account')).status, 200);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM throttle WHERE key = 'account:${demo.member}' AND failures > 0`), '0', 'success clears the count');
  assert.match(sql(shoal.db, `SELECT detail FROM audit_log WHERE action = 'sign-in' AND actor = '${demo.member}' ORDER BY id DESC LIMIT 1`), /^with two-step$/);
  // The old, password-only cookie is worth nothing now.
  const stale = new Client(shoal.url);
  stale.cookies.set('shoal_session', passwordCookie);
  assert.equal((await stale.get('/account')).status, 303);
  // Once signed in, the code page has nothing to ask.
  assert.equal((await c.get('/sign-in/mfa')).location, '/sign-in');
});

test('a recovery code signs in once, and only once', async () => {
  const c = new Client(shoal.url);
  let r = await c.post('/sign-in', { email: demo.member, password: DEMO_PASSWORD }, { from: '/sign-in' });
  assert.equal(r.location, '/sign-in/mfa?next=/');
  r = await c.get('/sign-in/mfa?recovery=1&next=%2F');
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>Enter a recovery code<\/h1>/);
  assert.match(r.text, /name="recovery_code"/);
  assert.match(r.text, /Use a code from your authenticator app instead/);
  r = await c.post('/sign-in/mfa', { recovery_code: 'not-a-code' });
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#recovery_code">Enter a recovery code as you saved it/);
  r = await c.post('/sign-in/mfa', { recovery_code: 'abcd-efgh-jkmn-pqrs' });
  assert.equal(r.status, 401);
  assert.match(r.text, /The recovery code is not right, or it has been used before/);

  // Typed in capitals with spaces: still the code.
  r = await c.post('/sign-in/mfa', { recovery_code: ` ${member.codes[0].toUpperCase().replace(/-/g, ' ')} ` });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/');
  assert.equal((await c.get('/account')).status, 200);
  assert.match((await c.get('/account/mfa')).text, /id="recovery-left">9</);
  const mail = await mailTo(demo.member, /a recovery code was used/);
  assert.match(mail.body, /You have 9 recovery codes left/);
  assert.match(sql(shoal.db, `SELECT detail FROM audit_log WHERE action = 'sign-in' AND actor = '${demo.member}' ORDER BY id DESC LIMIT 1`), /^with a recovery code$/);

  const again = new Client(shoal.url);
  await again.post('/sign-in', { email: demo.member, password: DEMO_PASSWORD }, { from: '/sign-in' });
  await again.get('/sign-in/mfa?recovery=1');
  r = await again.post('/sign-in/mfa', { recovery_code: member.codes[0] });
  assert.equal(r.status, 401);
  assert.match(r.text, /has been used before/);
  assert.equal((await again.get('/account')).status, 303, 'still not signed in');
});

test('new recovery codes replace the old ones, shown once, with a notice', async () => {
  const c = member.client;
  const r = await c.post('/account/mfa/recovery-codes', {}, { from: '/account/mfa' });
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>Your new recovery codes<\/h1>/);
  const fresh = [...r.text.matchAll(/<li><code>([a-z2-9-]{19})<\/code><\/li>/g)].map((m) => m[1]);
  assert.equal(fresh.length, 10);
  assert.ok(fresh.every((code) => !member.codes.includes(code)));
  assert.match((await c.get('/account/mfa')).text, /id="recovery-left">10</);
  await mailTo(demo.member, /new recovery codes/);
  assert.match(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = 'mfa-recovery-codes-replaced'`), /^1$/);

  const old = new Client(shoal.url);
  await old.post('/sign-in', { email: demo.member, password: DEMO_PASSWORD }, { from: '/sign-in' });
  await old.get('/sign-in/mfa?recovery=1');
  assert.equal((await old.post('/sign-in/mfa', { recovery_code: member.codes[1] })).status, 401, 'an old code no longer works');
  assert.equal((await old.post('/sign-in/mfa', { recovery_code: fresh[0] })).status, 303, 'a new one does');
  member.codes = fresh.slice(1);
});

test('wrong codes lock two-step sign-in, and signing in with the password again does not reset the count', async () => {
  const email = demo.otherMember;
  const c = new Client(shoal.url);
  await signIn(c, email);
  const { auth } = await enrol(c);
  const attacker = new Client(shoal.url);
  let r = await attacker.post('/sign-in', { email, password: DEMO_PASSWORD }, { from: '/sign-in' });
  await attacker.get(r.location);
  // LIMIT_MFA_FAILURES (5) wrong guesses lock the second step; someone who has the
  // password cannot earn more guesses by signing in with it again in between.
  for (let i = 0; i < 5; i++) {
    if (i === 3) {
      r = await attacker.post('/sign-in', { email, password: DEMO_PASSWORD }, { from: '/sign-in' });
      assert.equal(r.status, 303);
      await attacker.get(r.location);
    }
    r = await attacker.post('/sign-in/mfa', { code: String(100000 + i * 7919) });
    assert.equal(r.status, 401, `guess ${i}`);
  }
  r = await attacker.post('/sign-in/mfa', { code: await auth.code() });
  assert.equal(r.status, 429, 'locked, even with the right code');
  assert.match(r.text, /too many attempts to sign in/);
  r = await attacker.post('/sign-in/mfa', { recovery_code: 'abcd-efgh-jkmn-pqrs' });
  assert.equal(r.status, 429, 'recovery codes are locked out too');
  assert.equal((await attacker.get('/account')).status, 303);
});

test('a member turns two-step sign-in off with a current code, and is told by email', async () => {
  const c = member.client;
  let page = await c.get('/account/mfa');
  assert.match(page.text, /<button class="nhsuk-button nhsuk-button--warning" type="submit">Turn off two-step sign-in<\/button>/);
  let r = await c.post('/account/mfa/disable', { code: '' });
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#code">Enter the 6-digit code from your authenticator app<\/a>/);
  r = await c.post('/account/mfa/disable', { code: member.auth.used() });
  assert.equal(r.status, 400);
  assert.match(r.text, /That code has already been used/);
  assert.match(sql(shoal.db, `SELECT count(*) FROM people WHERE totp_secret IS NOT NULL AND email = '${demo.member}'`), /^1$/, 'still on');

  r = await c.post('/account/mfa/disable', { code: await member.auth.code() });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/account/mfa?turned-off=1');
  page = await c.get(r.location);
  assert.match(page.text, /Two-step sign-in is off\. Shoal will only ask for your password/);
  assert.match(page.text, /id="totp-secret"/, 'and it can be set up again');
  assert.match(sql(shoal.db, `SELECT count(*) FROM recovery_codes WHERE person_id = ${personId(demo.member)}`), /^0$/);
  const mail = await mailTo(demo.member, /two-step sign-in is off/);
  assert.match(mail.body, /Two-step sign-in was turned off for your account/);
  assert.match(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = 'mfa-disabled'`), /^1$/);

  const next = new Client(shoal.url);
  r = await next.post('/sign-in', { email: demo.member, password: DEMO_PASSWORD }, { from: '/sign-in' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/', 'the password is enough again');
});

test('executives and administrators must keep two-step sign-in', async () => {
  const c = new Client(shoal.url);
  const auth = new Authenticator(DEMO_TOTP_SECRET);
  assert.equal((await signIn(c, demo.executive, auth)).status, 303);
  const page = await c.get('/account/mfa');
  assert.match(page.text, /As a member of the executive, you must use two-step sign-in, so it cannot be turned off/);
  assert.doesNotMatch(page.text, /Turn off two-step sign-in<\/button>/);
  const r = await c.post('/account/mfa/disable', { code: await auth.code() });
  assert.equal(r.status, 403);
  assert.match(r.text, /Executives and administrators must use two-step sign-in/);
  assert.match(sql(shoal.db, `SELECT count(*) FROM people WHERE totp_secret IS NOT NULL AND email = '${demo.executive}'`), /^1$/);
});

test('a new executive without two-step sign-in is sent to set it up before anything else', async () => {
  const email = 'new.executive@wyvern.example';
  const password = 'quiet harbour lantern forty-seven';
  const added = await run(['user', 'add', '--db', shoal.db, '--email', email, '--name', 'Nia Executive', '--role', 'executive', '--password-stdin'], { input: `${password}\n` });
  assert.equal(added.status, 0, added.stderr);
  const c = new Client(shoal.url);
  let r = await signIn(c, email, null, { password });
  assert.equal(r.status, 303, 'no code asked: there is none yet');
  r = await c.get('/account');
  assert.equal(r.status, 303);
  assert.equal(r.location, '/account/mfa');
  r = await c.get('/account/mfa');
  assert.equal(r.status, 200);
  assert.match(r.text, /You must set up two-step sign-in/);
  assert.match(r.text, /As a member of the executive, you can see information that must be protected/);
  assert.equal((await c.post('/account/mfa/recovery-codes', {})).location, '/account/mfa');
  await enrol(c);
  assert.equal((await c.get('/account')).status, 200, 'in, once it is set up');
});

test('an administrator resets a lost phone: the person is signed out and can sign in with a password', async () => {
  const lead = new Client(shoal.url);
  await signIn(lead, demo.lead);
  await enrol(lead);
  const leadId = personId(demo.lead);
  assert.equal((await lead.get('/account')).status, 200);

  // Not for members, nor for an administrator's own second factor.
  const other = new Client(shoal.url);
  await signIn(other, demo.otherLead);
  let r = await other.post(`/admin/people/${leadId}/mfa-reset`, {}, { from: '/account' });
  assert.equal(r.status, 403);

  const admin = new Client(shoal.url);
  assert.equal((await signIn(admin, demo.admin, new Authenticator(DEMO_TOTP_SECRET))).status, 303);
  r = await admin.post(`/admin/people/${personId(demo.admin)}/mfa-reset`, {}, { from: '/account' });
  assert.equal(r.status, 403);
  assert.match(r.text, /You cannot reset your own two-step sign-in/);
  for (const bad of ['999999', 'abc', '1x', '0']) {
    assert.equal((await admin.post(`/admin/people/${bad}/mfa-reset`, {})).status, 404, bad);
  }
  const forged = await admin.request(`/admin/people/${leadId}/mfa-reset`, { method: 'POST', form: { csrf: 'forged' } });
  assert.equal(forged.status, 403, 'CSRF checked');
  assert.match(sql(shoal.db, `SELECT count(*) FROM people WHERE totp_secret IS NOT NULL AND id = ${leadId}`), /^1$/);

  r = await admin.post(`/admin/people/${leadId}/mfa-reset`, {});
  assert.equal(r.status, 200);
  assert.match(r.text, /Two-step sign-in reset/);
  assert.match(r.text, /Sam Patel \(practice manager\) has been signed out on every device/);
  assert.match(r.text, new RegExp(`href="/admin/people/${leadId}"`));
  assert.equal((await lead.get('/account')).status, 303, 'their sessions ended');
  assert.match(sql(shoal.db, `SELECT count(*) FROM recovery_codes WHERE person_id = ${leadId}`), /^0$/);
  assert.match(sql(shoal.db, `SELECT actor FROM audit_log WHERE action = 'mfa-reset' AND subject = 'person:${leadId}'`), new RegExp(`^${demo.admin}$`));
  const mail = await mailTo(demo.lead, /your two-step sign-in was reset/);
  assert.match(mail.body, /An administrator reset two-step sign-in for your account/);

  const again = new Client(shoal.url);
  r = await signIn(again, demo.lead, null);
  assert.equal(r.status, 303);
  assert.equal(r.location, '/', 'signed in with the password alone');
  // Resetting someone with nothing to reset changes nothing.
  r = await admin.post(`/admin/people/${leadId}/mfa-reset`, {});
  assert.equal(r.status, 200);
  assert.match(r.text, /has not set up two-step sign-in, so there was nothing to reset/);
  assert.equal((await again.get('/account')).status, 200, 'and does not sign them out');
});

test('the code page is only for someone half-way through signing in', async () => {
  const c = new Client(shoal.url);
  let r = await c.get('/sign-in/mfa');
  assert.equal(r.status, 303);
  assert.equal(r.location, '/sign-in');
  await c.get('/sign-in');
  r = await c.post('/sign-in/mfa', { code: '123456' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/sign-in');
  // Half-way, a form without the session's CSRF token is refused.
  const half = new Client(shoal.url);
  r = await half.post('/sign-in', { email: demo.executive, password: DEMO_PASSWORD, next: '//evil.example/' }, { from: '/sign-in' });
  assert.equal(r.location, '/sign-in/mfa?next=/', 'an off-site next is dropped');
  r = await half.request('/sign-in/mfa', { method: 'POST', form: { csrf: 'forged', code: '123456' } });
  assert.equal(r.status, 403);
  // Anything beyond the code page sends them back to sign in.
  assert.match((await half.get('/account/mfa')).location, /^\/sign-in\?next=/);
});
