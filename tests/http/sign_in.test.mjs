// tests/http/sign_in.test.mjs — signing in and out as members would, and as
// an attacker would try: wrong passwords, unknown accounts, forged forms,
// floods of guesses, stolen or stale sessions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, run, sql } from '../lib/shoal.mjs';
import { Client, demo, DEMO_PASSWORD } from '../lib/client.mjs';

let shoal;
before(async () => {
  shoal = await startShoal();
});
after(async () => {
  await shoal.stop();
});

test('the sign-in page is an NHS form with a CSRF token and no account hints', async () => {
  const c = new Client(shoal.url);
  const r = await c.get('/sign-in');
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>Sign in<\/h1>/);
  assert.match(r.text, /<label class="nhsuk-label" for="email">Email address<\/label>/);
  assert.match(r.text, /autocomplete="current-password"/);
  assert.match(r.headers.get('set-cookie'), /shoal_csrf=[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax/);
  assert.equal(r.headers.get('cache-control'), 'no-store');
});

test('a member signs in, sees their account, and the session cookie is locked down', async () => {
  const c = new Client(shoal.url);
  const r = await c.post('/sign-in', { email: demo.member, password: DEMO_PASSWORD, next: '/account' }, { from: '/sign-in' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/account');
  assert.match(r.headers.get('set-cookie'), /^shoal_session=[\w-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
  const account = await c.get('/account');
  assert.equal(account.status, 200);
  assert.match(account.text, /Dr Morgan Lee/);
  assert.match(account.text, /data-session-seconds="1[78]\d\d"/, 'the page knows when the session ends (timeout warning)');
  assert.match(account.text, /<button class="nhsuk-header__account-button">Sign out<\/button>/);
});

test('email addresses are matched without regard to case or spaces', async () => {
  const c = new Client(shoal.url);
  const r = await c.post('/sign-in', { email: `  ${demo.member.toUpperCase()} `, password: DEMO_PASSWORD }, { from: '/sign-in' });
  assert.equal(r.status, 303);
});

test('empty and malformed fields get an error summary linking to each field, keeping what was typed', async () => {
  const c = new Client(shoal.url);
  let r = await c.post('/sign-in', { email: '', password: '' }, { from: '/sign-in' });
  assert.equal(r.status, 400);
  assert.match(r.text, /There is a problem/);
  assert.match(r.text, /<a href="#email">Enter your email address<\/a>/);
  assert.match(r.text, /<a href="#password">Enter your password<\/a>/);
  assert.match(r.text, /<title>Error: Sign in/);
  r = await c.post('/sign-in', { email: 'not an email', password: 'x' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter an email address in the correct format/);
  assert.match(r.text, /value="not an email"/);
});

test('a wrong password and an unknown account get the same answer in about the same time', async () => {
  const c = new Client(shoal.url);
  await c.get('/sign-in');
  const time = async (email) => {
    const t = process.hrtime.bigint();
    const r = await c.post('/sign-in', { email, password: 'definitely wrong password' });
    return { r, ms: Number(process.hrtime.bigint() - t) / 1e6 };
  };
  const known = await time(demo.otherLead);
  const unknown = await time('nobody-here@wyvern.example');
  for (const { r } of [known, unknown]) {
    assert.equal(r.status, 401);
    assert.match(r.text, /The email address or password is not right/);
  }
  // Both run a full argon2id check; neither answers in a fraction of the other's time.
  assert.ok(unknown.ms > known.ms / 3 && known.ms > unknown.ms / 3, `known ${known.ms} ms, unknown ${unknown.ms} ms`);
  const page = (r, email) => r.text.replace(email, 'EMAIL');
  assert.equal(page(known.r, demo.otherLead), page(unknown.r, 'nobody-here@wyvern.example'), 'identical pages');
});

test('a deactivated account cannot sign in, with the same message as a wrong password', async () => {
  const c = new Client(shoal.url);
  const r = await c.post('/sign-in', { email: demo.deactivated, password: DEMO_PASSWORD }, { from: '/sign-in' });
  assert.equal(r.status, 401);
  assert.match(r.text, /The email address or password is not right/);
});

test('after 10 failures the account is locked for everyone, even with the right password', async () => {
  const email = 'locked-out@wyvern.example';
  const added = await run(['user', 'add', '--db', shoal.db, '--email', email, '--name', 'Lock Test', '--role', 'member', '--organisation', 'Z80002', '--password-stdin'], { input: 'a long enough password\n' });
  assert.equal(added.status, 0, added.stderr);
  const c = new Client(shoal.url);
  await c.get('/sign-in');
  for (let i = 0; i < 10; i++) assert.equal((await c.post('/sign-in', { email, password: `wrong ${i}` })).status, 401);
  const r = await c.post('/sign-in', { email, password: 'a long enough password' });
  assert.equal(r.status, 429);
  assert.match(r.text, /too many attempts to sign in/);
  // An unknown address is locked out the same way: the lock reveals nothing.
  const ghost = 'ghost@wyvern.example';
  for (let i = 0; i < 10; i++) await c.post('/sign-in', { email: ghost, password: `wrong ${i}` });
  assert.equal((await c.post('/sign-in', { email: ghost, password: 'whatever' })).status, 429);
  assert.match(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'sign-in-failed'"), /^[1-9]\d*$/);
});

test('a form without the right CSRF token is refused with a clear page and nothing happens', async () => {
  const c = new Client(shoal.url);
  await c.signIn(demo.member);
  const other = new Client(shoal.url);
  await other.signIn(demo.otherMember);
  await other.get('/account');
  const before = sql(shoal.db, 'SELECT count(*) FROM sessions');
  let r = await c.request('/sign-out', { method: 'POST', form: { csrf: 'forged' } });
  assert.equal(r.status, 403);
  assert.match(r.text, /This form could not be sent/);
  r = await c.request('/sign-out', { method: 'POST', form: {} });
  assert.equal(r.status, 403);
  // The token of another session does not work either.
  r = await c.request('/sign-out', { method: 'POST', form: { csrf: other.csrf } });
  assert.equal(r.status, 403);
  // A cross-site request is refused even with a token.
  await c.get('/account');
  r = await c.request('/sign-out', { method: 'POST', form: { csrf: c.csrf }, headers: { 'sec-fetch-site': 'cross-site' } });
  assert.equal(r.status, 403);
  assert.equal(sql(shoal.db, 'SELECT count(*) FROM sessions'), before);
  assert.equal((await c.get('/account')).status, 200, 'still signed in');
});

test('signing in only sends people to pages on this site', async () => {
  const c = new Client(shoal.url);
  for (const next of ['//evil.example/', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)', '/\t/evil.example', '/\n/evil.example', '/a\\b']) {
    await c.request('/sign-out', { method: 'POST', form: { csrf: c.csrf || '' } });
    c.cookies.delete('shoal_session');
    const r = await c.post('/sign-in', { email: demo.member, password: DEMO_PASSWORD, next }, { from: '/sign-in' });
    assert.equal(r.status, 303);
    assert.equal(r.location, '/', next);
  }
});

test('pages for members send anonymous visitors to sign in, and back afterwards', async () => {
  const c = new Client(shoal.url);
  const r = await c.get('/account');
  assert.equal(r.status, 303);
  assert.equal(r.location, '/sign-in?next=/account');
  const signed = await c.post('/sign-in', { email: demo.member, password: DEMO_PASSWORD, next: '/account' }, { from: r.location });
  assert.equal(signed.location, '/account');
});

test('sign out ends the session on the server, not only in the browser', async () => {
  const c = new Client(shoal.url);
  await c.signIn(demo.member);
  const cookie = c.cookies.get('shoal_session');
  await c.get('/account');
  const r = await c.post('/sign-out');
  assert.equal(r.status, 303);
  assert.match(r.headers.get('set-cookie'), /shoal_session=; .*Max-Age=0/);
  const replay = new Client(shoal.url);
  replay.cookies.set('shoal_session', cookie);
  assert.equal((await replay.get('/account')).status, 303, 'the old cookie opens nothing');
});

test('"sign out of all devices" ends every session of that person only', async () => {
  const phone = new Client(shoal.url);
  const laptop = new Client(shoal.url);
  const colleague = new Client(shoal.url);
  await phone.signIn(demo.lead);
  await laptop.signIn(demo.lead);
  await colleague.signIn(demo.otherLead);
  const page = await laptop.get('/account');
  assert.match(page.text, /signed in on [2-9] devices/);
  await laptop.post('/sign-out-everywhere');
  assert.equal((await phone.get('/account')).status, 303);
  assert.equal((await laptop.get('/account')).status, 303);
  assert.equal((await colleague.get('/account')).status, 200);
});

test('an idle session ends after 30 minutes, and any session after 12 hours', async () => {
  const c = new Client(shoal.url);
  await c.signIn(demo.otherMember);
  assert.equal((await c.get('/account')).status, 200);
  sql(shoal.db, `UPDATE sessions SET last_seen_at = last_seen_at - 1801 WHERE person_id = (SELECT id FROM people WHERE email = '${demo.otherMember}')`);
  const r = await c.get('/account');
  assert.equal(r.status, 303);
  assert.match(r.headers.get('set-cookie'), /shoal_session=; /);
  await c.signIn(demo.otherMember);
  sql(shoal.db, `UPDATE sessions SET created_at = created_at - 43201 WHERE person_id = (SELECT id FROM people WHERE email = '${demo.otherMember}')`);
  assert.equal((await c.get('/account')).status, 303);
});

test('a session stops working once its person is deactivated, even if the session row is left', async () => {
  const c = new Client(shoal.url);
  await c.signIn(demo.otherMember);
  assert.equal((await c.get('/account')).status, 200);
  const sessions = () => sql(shoal.db, `SELECT count(*) FROM sessions WHERE person_id = (SELECT id FROM people WHERE email = '${demo.otherMember}')`);
  const before = Number(sessions());
  // Deactivating through Shoal also deletes the sessions; this leaves them, as a restore might.
  sql(shoal.db, `UPDATE people SET deactivated_at = 1 WHERE email = '${demo.otherMember}'`);
  try {
    const r = await c.get('/account');
    assert.equal(r.status, 303);
    assert.match(r.location, /^\/sign-in/);
    assert.equal(sessions(), String(before - 1), 'and the session is ended');
  } finally {
    sql(shoal.db, `UPDATE people SET deactivated_at = NULL WHERE email = '${demo.otherMember}'`);
  }
});

test('"stay signed in" extends the session (JSON for the warning, a redirect without JavaScript)', async () => {
  const c = new Client(shoal.url);
  await c.signIn(demo.member);
  await c.get('/account');
  sql(shoal.db, `UPDATE sessions SET last_seen_at = last_seen_at - 1500 WHERE person_id = (SELECT id FROM people WHERE email = '${demo.member}')`);
  let r = await c.request('/session/extend', { method: 'POST', form: { csrf: c.csrf }, headers: { accept: 'application/json' } });
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.text).session_seconds, 1800);
  r = await c.post('/session/extend', { next: '/account' });
  assert.equal(r.location, '/account');
  sql(shoal.db, `UPDATE sessions SET last_seen_at = last_seen_at - 1000 WHERE person_id = (SELECT id FROM people WHERE email = '${demo.member}')`);
  assert.equal((await c.get('/account')).status, 200, 'not yet idle for 30 minutes');
});

test('sessions and tokens are stored only as hashes', async () => {
  const c = new Client(shoal.url);
  await c.signIn(demo.member);
  const cookie = c.cookies.get('shoal_session');
  assert.equal(sql(shoal.db, `SELECT count(*) FROM sessions WHERE token_hash = '${cookie}'`), '0');
  assert.match(sql(shoal.db, 'SELECT token_hash FROM sessions LIMIT 1'), /^[0-9a-f]{64}$/);
});

test('every sign-in and failure is in the audit trail with the address', async () => {
  const rows = sql(shoal.db, "SELECT action || '|' || actor || '|' || address FROM audit_log WHERE action IN ('sign-in', 'sign-in-failed') ORDER BY id");
  assert.match(rows, /sign-in\|gp@riverside\.wyvern\.example\|127\.0\.0\.1/);
  assert.match(rows, /sign-in-failed\|nobody-here@wyvern\.example\|127\.0\.0\.1/);
});
