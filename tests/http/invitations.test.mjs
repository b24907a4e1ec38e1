// tests/http/invitations.test.mjs — getting into Shoal as people do: a practice
// lead, the executive or an administrator invites someone by email; they open
// the link, choose a password and are signed in. Links work once, for 14 days,
// and can be cancelled. Where the allowed email domains are set, people ask to
// join a practice and its lead approves them. And as an attacker would try it:
// reused, expired, cancelled and made-up links, forged roles and practices,
// forms without the CSRF token, two acceptances at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoal, backend, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let shoal;
let mailDir;
before(async () => {
  mailDir = join(mkdtempSync(join(tmpdir(), 'shoal-invite-')), 'mail');
  shoal = await startShoal({ extraArgs: ['--mail-dir', mailDir] });
});
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0);
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const orgId = (ods) => sql(shoal.db, `SELECT id FROM organisations WHERE ods_code = '${ods}'`);

/** Every message in the mail directory, oldest first, with headers and decoded text. */
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
/** Waits for a message to `to` with a matching subject that no earlier call returned. */
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

/** The invitation link in a message, as a path on the test server. */
function invitationPath(mail) {
  const m = mail.body.match(/https?:\/\/[^\s/]+(\/invitations\/accept\/[A-Za-z0-9_-]{43})\b/);
  assert.ok(m, `an invitation link in:\n${mail.body}`);
  return m[1];
}

// Shoal accepts each two-step code once, so people who sign in with one
// (the executive and the administrator) sign in once and keep their client.
const kept = {};
async function signedIn(email) {
  if (kept[email]) return kept[email];
  const c = new Client(shoal.url);
  const r = await c.signIn(email);
  assert.equal(r.status, 303, `${email} signs in`);
  if (email === demo.executive || email === demo.admin) kept[email] = c;
  return c;
}

/** Sends an invitation as client c; returns the response. */
function invite(c, fields) {
  return c.post('/invitations/new', fields, { from: '/invitations/new' });
}

const GOOD_PASSWORD = 'otter kettle lantern';

test('a practice lead invites a colleague, who accepts, chooses a password and is signed in', async () => {
  const lead = await signedIn(demo.lead);
  const account = await lead.get('/account');
  assert.match(account.text, /href="\/invitations\/new"/, 'the account page links to inviting');
  const form = await lead.get('/invitations/new');
  assert.equal(form.status, 200);
  assert.match(form.text, /<h1>Invite someone<\/h1>/);
  assert.match(form.text, /value="member"/);
  assert.match(form.text, /value="practice-lead"/);
  assert.doesNotMatch(form.text, /value="executive"|value="administrator"|value="partner"/, 'a lead offers only the roles they may give');
  assert.match(form.text, /Riverside Medical Centre \(Z80001\)/);
  assert.doesNotMatch(form.text, /Castlegate Surgery/, 'a lead offers only the practices they lead');

  const r = await invite(lead, { name: 'Robin Ash', email: ' Robin.Ash@Riverside.Wyvern.Example ', role: 'member', organisation: orgId('Z80001') });
  assert.equal(r.status, 303, r.text);
  assert.equal(r.location, '/invitations?sent=1');
  const list = await lead.get(r.location);
  assert.match(list.text, /Invitation sent/);
  assert.match(list.text, /robin\.ash@riverside\.wyvern\.example/);
  assert.match(list.text, /Pending/);

  const mail = await nextMail('robin.ash@riverside.wyvern.example', /invitation/i);
  assert.match(mail.body, /Dear Robin Ash/);
  assert.match(mail.body, /Sam Patel \(practice manager\) has invited you to join Wyvern Vale GP Collective \(fictional\) on Shoal, as a member at Riverside Medical Centre/);
  assert.match(mail.body, /The link works once, until/);
  const link = invitationPath(mail);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM invitations WHERE token_hash LIKE '%${link.slice(-43)}%'`), '0', 'only a hash of the token is stored');

  const robin = new Client(shoal.url);
  let page = await robin.get(link);
  assert.equal(page.status, 200);
  assert.match(page.text, /Sam Patel \(practice manager\) has invited you to join Wyvern Vale GP Collective \(fictional\) as a member at Riverside Medical Centre/);
  assert.match(page.text, /robin\.ash@riverside\.wyvern\.example/);
  assert.match(page.text, /value="Robin Ash"/, 'the name is filled in to check');

  // NCSC rules: too short, too common, and the two must match.
  page = await robin.post(link, { name: 'Robin Ash', password: 'short', 'confirm-password': 'short' });
  assert.equal(page.status, 400);
  assert.match(page.text, /There is a problem/);
  assert.match(page.text, /Password must be at least 10 characters long/);
  page = await robin.post(link, { name: 'Robin Ash', password: 'qwertyuiop', 'confirm-password': 'qwertyuiop' });
  assert.equal(page.status, 400);
  assert.match(page.text, /too common/);
  page = await robin.post(link, { name: '', password: GOOD_PASSWORD, 'confirm-password': 'otter kettle lanterns' });
  assert.equal(page.status, 400);
  assert.match(page.text, /href="#name">Enter your full name/);
  assert.match(page.text, /href="#confirm-password">The passwords do not match/);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM people WHERE email = 'robin.ash@riverside.wyvern.example'"), '0', 'nothing half-made');

  page = await robin.post(link, { name: 'Robin Ash (GP)', password: GOOD_PASSWORD, 'confirm-password': GOOD_PASSWORD });
  assert.equal(page.status, 303, page.text);
  assert.equal(page.location, '/');
  const me = await robin.get('/account');
  assert.equal(me.status, 200, 'signed in at once');
  assert.match(me.text, /Robin Ash \(GP\)/);
  assert.match(me.text, /robin\.ash@riverside\.wyvern\.example/);
  assert.equal(sql(shoal.db, `SELECT o.ods_code || ':' || m.lead FROM memberships m JOIN organisations o ON o.id = m.organisation_id JOIN people p ON p.id = m.person_id WHERE p.email = 'robin.ash@riverside.wyvern.example'`), 'Z80001:0');
  assert.equal(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'invitation-accepted' AND actor = 'robin.ash@riverside.wyvern.example'"), '1');
  assert.equal(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'invitation-sent' AND actor = 'lead@riverside.wyvern.example'"), '1');

  // The link worked once.
  const again = new Client(shoal.url);
  await again.get('/sign-in'); // a CSRF token, as from a form opened before the link was used
  page = await again.get(link);
  assert.equal(page.status, 410);
  assert.match(page.text, /This invitation has already been used/);
  assert.doesNotMatch(page.text, /Robin|Sam Patel|Riverside/, 'a used link shows nothing of the invitation');
  page = await again.post(link, { name: 'Mallory', password: GOOD_PASSWORD, 'confirm-password': GOOD_PASSWORD });
  assert.equal(page.status, 410);
  assert.equal(sql(shoal.db, "SELECT name FROM people WHERE email = 'robin.ash@riverside.wyvern.example'"), 'Robin Ash (GP)');

  // And the new password signs in.
  const later = new Client(shoal.url);
  assert.equal((await later.signIn('robin.ash@riverside.wyvern.example', GOOD_PASSWORD)).location, '/');
  assert.match((await lead.get('/invitations')).text, /Accepted/);
});

test('expired, cancelled and made-up links get one clear page each', async () => {
  const exec = await signedIn(demo.executive);
  let r = await invite(exec, { name: 'Ellis Late', email: 'ellis@riverside.wyvern.example', role: 'member', organisation: orgId('Z80001') });
  assert.equal(r.status, 303, r.text);
  const expired = invitationPath(await nextMail('ellis@riverside.wyvern.example', /invitation/i));
  sql(shoal.db, "UPDATE invitations SET expires_at = 1000 WHERE email = 'ellis@riverside.wyvern.example'");
  const visitor = new Client(shoal.url);
  await visitor.get('/sign-in'); // a CSRF token, as from a form opened before the link expired
  let page = await visitor.get(expired);
  assert.equal(page.status, 410);
  assert.match(page.text, /<h1>This invitation has expired<\/h1>/);
  assert.match(page.text, /Ask the person who invited you, or your practice lead, to send you a new invitation/);
  assert.doesNotMatch(page.text, /Ellis|Priya|Riverside/);
  page = await visitor.post(expired, { name: 'Ellis Late', password: GOOD_PASSWORD, 'confirm-password': GOOD_PASSWORD });
  assert.equal(page.status, 410);
  assert.match((await exec.get('/invitations')).text, /Expired/);

  // The lead of the practice cancels an invitation the executive sent to it.
  r = await invite(exec, { name: 'Casey Gone', email: 'casey@riverside.wyvern.example', role: 'member', organisation: orgId('Z80001') });
  assert.equal(r.status, 303);
  const cancelled = invitationPath(await nextMail('casey@riverside.wyvern.example', /invitation/i));
  const lead = await signedIn(demo.lead);
  const id = sql(shoal.db, "SELECT id FROM invitations WHERE email = 'casey@riverside.wyvern.example'");
  const list = await lead.get('/invitations');
  assert.match(list.text, new RegExp(`action="/invitations/${id}/revoke"`));
  r = await lead.post(`/invitations/${id}/revoke`, {});
  assert.equal(r.status, 303);
  assert.equal(r.location, '/invitations?cancelled=1');
  assert.match((await lead.get(r.location)).text, /Invitation cancelled\. The link in it no longer works\./);
  page = await visitor.get(cancelled);
  assert.equal(page.status, 410);
  assert.match(page.text, /<h1>This invitation has been cancelled<\/h1>/);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'invitation-revoked'"), '1');
  r = await lead.post(`/invitations/${id}/revoke`, {});
  assert.equal(r.location, '/invitations?cancelled=0', 'cancelling twice changes nothing');

  for (const path of ['/invitations/accept/' + 'A'.repeat(43), '/invitations/accept/short', '/invitations/accept/%3Cscript%3E']) {
    page = await visitor.get(path);
    assert.equal(page.status, 404, path);
    assert.match(page.text, /This invitation link does not work/);
  }
  assert.equal((await visitor.get('/invitations/999999/revoke')).status, 405);
});

test('a lead cannot invite to another practice, give a role beyond theirs, or cancel others\' invitations', async () => {
  const lead = await signedIn(demo.lead);
  const before = sql(shoal.db, 'SELECT count(*) FROM invitations');
  let r = await invite(lead, { name: 'Nat Other', email: 'nat@castlegate.wyvern.example', role: 'member', organisation: orgId('Z80005') });
  assert.equal(r.status, 403);
  assert.match(r.text, /You can only invite staff to the practices you lead/);
  r = await invite(lead, { name: 'Nat Boss', email: 'nat@riverside.wyvern.example', role: 'executive', organisation: orgId('Z80001') });
  assert.equal(r.status, 403);
  r = await invite(lead, { name: 'Nat Boss', email: 'nat@riverside.wyvern.example', role: 'administrator' });
  assert.equal(r.status, 403);
  assert.equal(sql(shoal.db, 'SELECT count(*) FROM invitations'), before, 'nothing was sent');

  // An invitation to Harbour, which this lead does not lead: not listed, not cancellable.
  const exec = await signedIn(demo.executive);
  assert.equal((await invite(exec, { name: 'Harbour Person', email: 'hp@harbour.wyvern.example', role: 'member', organisation: orgId('Z80014') })).status, 303);
  const id = sql(shoal.db, "SELECT id FROM invitations WHERE email = 'hp@harbour.wyvern.example'");
  assert.doesNotMatch((await lead.get('/invitations')).text, /hp@harbour/);
  assert.match((await exec.get('/invitations')).text, /hp@harbour/, 'the executive sees every invitation');
  r = await lead.post(`/invitations/${id}/revoke`, {}, { from: '/invitations' });
  assert.equal(r.status, 403);
  assert.equal(sql(shoal.db, `SELECT revoked_at IS NULL FROM invitations WHERE id = ${id}`), backend === 'postgresql' ? 't' : '1');
  const otherLead = await signedIn(demo.otherLead);
  assert.match((await otherLead.get('/invitations')).text, /hp@harbour/, 'Harbour\'s lead sees it');
});

test('members and partners cannot invite: the routes refuse them', async () => {
  for (const email of [demo.member, demo.partner]) {
    const c = await signedIn(email);
    assert.equal((await c.get('/invitations/new')).status, 403, email);
    assert.equal((await c.get('/invitations')).status, 403, email);
    await c.get('/account');
    const r = await c.request('/invitations/new', { method: 'POST', form: { csrf: c.csrf, name: 'X', email: 'x@riverside.wyvern.example', role: 'member', organisation: orgId('Z80001') } });
    assert.equal(r.status, 403, email);
  }
  // Only those who may invite are offered it on their account page.
  assert.doesNotMatch((await (await signedIn(demo.member)).get('/account')).text, /href="\/invitations\/new"/, 'no link to inviting for members');
  assert.match((await (await signedIn(demo.lead)).get('/account')).text, /You can invite staff of the practices you lead/);
  assert.doesNotMatch((await (await signedIn(demo.partner)).get('/account')).text, /href="\/invitations\/new"/, 'no link to inviting for partners');
  assert.equal(sql(shoal.db, "SELECT count(*) FROM invitations WHERE email = 'x@riverside.wyvern.example'"), '0');
  const anonymous = new Client(shoal.url);
  const r = await anonymous.get('/invitations/new');
  assert.equal(r.status, 303);
  assert.match(r.location, /^\/sign-in\?next=/);
});

test('an executive cannot invite an administrator; an administrator can, who must then set up two-step sign-in', async () => {
  const exec = await signedIn(demo.executive);
  const form = await exec.get('/invitations/new');
  assert.match(form.text, /value="executive"/);
  assert.match(form.text, /value="partner"/);
  assert.doesNotMatch(form.text, /value="administrator"/);
  let r = await invite(exec, { name: 'Ada Min', email: 'ada@wyvern.example', role: 'administrator' });
  assert.equal(r.status, 403);
  assert.match(r.text, /Your role does not allow you to invite someone with that role/);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM invitations WHERE email = 'ada@wyvern.example'"), '0');

  const admin = await signedIn(demo.admin);
  assert.match((await admin.get('/invitations/new')).text, /value="administrator"/);
  r = await invite(admin, { name: 'Ada Min', email: 'ada@wyvern.example', role: 'administrator' });
  assert.equal(r.status, 303, r.text);
  const link = invitationPath(await nextMail('ada@wyvern.example', /invitation/i));
  const ada = new Client(shoal.url);
  assert.match((await ada.get(link)).text, /as an administrator\./);
  r = await ada.post(link, { name: 'Ada Min', password: GOOD_PASSWORD, 'confirm-password': GOOD_PASSWORD });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/account/mfa', 'sent on to set up two-step sign-in');
  assert.equal((await ada.get('/invitations')).location, '/account/mfa', 'and kept there until they do');
  assert.equal(sql(shoal.db, "SELECT role FROM people WHERE email = 'ada@wyvern.example'"), 'administrator');
});

test('partners are invited to partner organisations, and practice leads to practices', async () => {
  const exec = await signedIn(demo.executive);
  let r = await invite(exec, { name: 'Pat Trust', email: 'pat@trust.example', role: 'partner', organisation: orgId('Z80001') });
  assert.equal(r.status, 400);
  assert.match(r.text, /Select the partner organisation they work for/);
  r = await invite(exec, { name: 'Pat Trust', email: 'pat@trust.example', role: 'member', organisation: orgId('RZZ') });
  assert.equal(r.status, 400);
  assert.match(r.text, /That is a partner organisation/);
  r = await invite(exec, { name: 'Pat Trust', email: 'pat@trust.example', role: 'practice-lead', organisation: orgId('U90001') });
  assert.equal(r.status, 400);
  assert.match(r.text, /A practice lead leads a practice: select a practice/);
  r = await invite(exec, { name: 'Pat Trust', email: 'pat@trust.example', role: 'partner', organisation: orgId('RZZ') });
  assert.equal(r.status, 303, r.text);
  const mail = await nextMail('pat@trust.example', /invitation/i);
  assert.match(mail.body, /as a partner at Wyvern Vale Hospitals NHS Foundation Trust/);

  // A lead hands on the lead of their own practice.
  const lead = await signedIn(demo.lead);
  r = await invite(lead, { name: 'Next Lead', email: 'next.lead@riverside.wyvern.example', role: 'practice-lead', organisation: orgId('Z80001') });
  assert.equal(r.status, 303, r.text);
  const link = invitationPath(await nextMail('next.lead@riverside.wyvern.example', /invitation/i));
  const next = new Client(shoal.url);
  r = await next.post(link, { name: 'Next Lead', password: GOOD_PASSWORD, 'confirm-password': GOOD_PASSWORD }, { from: link });
  assert.equal(r.status, 303);
  assert.equal((await next.get('/invitations')).status, 200, 'the new lead can invite too');
});

test('the form explains every problem, keeps what was typed, and refuses existing accounts', async () => {
  const admin = await signedIn(demo.admin);
  let r = await invite(admin, { name: '', email: '', organisation: '' });
  assert.equal(r.status, 400);
  assert.match(r.text, /<title>Error: Invite someone/);
  assert.match(r.text, /There is a problem/);
  assert.match(r.text, /href="#name">Enter their full name/);
  assert.match(r.text, /href="#email">Enter their email address/);
  assert.match(r.text, /href="#role">Select the role they will have/);
  r = await invite(admin, { name: 'Kept <Name>', email: 'not an email', role: 'member', organisation: orgId('Z80002') });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter an email address in the correct format, like name@nhs.net/);
  assert.match(r.text, /value="Kept &lt;Name&gt;"/, 'the name is kept, escaped');
  assert.match(r.text, /value="not an email"/);
  assert.match(r.text, new RegExp(`<option value="${orgId('Z80002')}" selected>`), 'the organisation is kept');
  assert.match(r.text, /value="member" aria-describedby="role-member-hint" checked|value="member"[^>]*checked/, 'the role is kept');
  r = await invite(admin, { name: 'Someone', email: 'someone@riverside.wyvern.example', role: 'member' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Select the organisation they work at/);
  r = await invite(admin, { name: 'Someone', email: 'someone@riverside.wyvern.example', role: 'member', organisation: '99999999' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Select an organisation from the list/);

  r = await invite(admin, { name: 'Dr Morgan Lee', email: demo.member, role: 'member', organisation: orgId('Z80001') });
  assert.equal(r.status, 400);
  assert.match(r.text, /There is already an account for this email address/);
  r = await invite(admin, { name: 'Twice', email: 'twice@riverside.wyvern.example', role: 'member', organisation: orgId('Z80001') });
  assert.equal(r.status, 303);
  r = await invite(admin, { name: 'Twice', email: 'twice@riverside.wyvern.example', role: 'member', organisation: orgId('Z80001') });
  assert.equal(r.status, 400);
  assert.match(r.text, /already has an invitation waiting/);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM invitations WHERE email = 'twice@riverside.wyvern.example'"), '1');
});

test('forms without the CSRF token are refused and change nothing', async () => {
  const lead = await signedIn(demo.lead);
  const before = sql(shoal.db, 'SELECT count(*) FROM invitations');
  let r = await lead.request('/invitations/new', { method: 'POST', form: { name: 'No Token', email: 'nt@riverside.wyvern.example', role: 'member', organisation: orgId('Z80001') } });
  assert.equal(r.status, 403);
  assert.match(r.text, /This form could not be sent/);
  assert.equal(sql(shoal.db, 'SELECT count(*) FROM invitations'), before);

  assert.equal((await invite(lead, { name: 'With Token', email: 'wt@riverside.wyvern.example', role: 'member', organisation: orgId('Z80001') })).status, 303);
  const link = invitationPath(await nextMail('wt@riverside.wyvern.example', /invitation/i));
  const id = sql(shoal.db, "SELECT id FROM invitations WHERE email = 'wt@riverside.wyvern.example'");
  r = await lead.request(`/invitations/${id}/revoke`, { method: 'POST', form: {} });
  assert.equal(r.status, 403);
  const visitor = new Client(shoal.url);
  await visitor.get(link);
  r = await visitor.request(link, { method: 'POST', form: { name: 'With Token', password: GOOD_PASSWORD, 'confirm-password': GOOD_PASSWORD } });
  assert.equal(r.status, 403);
  r = await visitor.request(link, { method: 'POST', form: { csrf: visitor.csrf, name: 'With Token', password: GOOD_PASSWORD, 'confirm-password': GOOD_PASSWORD }, headers: { 'sec-fetch-site': 'cross-site' } });
  assert.equal(r.status, 403, 'a form from another site is refused');
  assert.equal(sql(shoal.db, "SELECT count(*) FROM people WHERE email = 'wt@riverside.wyvern.example'"), '0');
  assert.equal(sql(shoal.db, `SELECT accepted_at IS NULL AND revoked_at IS NULL FROM invitations WHERE id = ${id}`), backend === 'postgresql' ? 't' : '1');
});

test('two people using one link at once get one account between them', async () => {
  const lead = await signedIn(demo.lead);
  assert.equal((await invite(lead, { name: 'Race Condition', email: 'race@riverside.wyvern.example', role: 'member', organisation: orgId('Z80001') })).status, 303);
  const link = invitationPath(await nextMail('race@riverside.wyvern.example', /invitation/i));
  const clients = [new Client(shoal.url), new Client(shoal.url), new Client(shoal.url)];
  for (const c of clients) await c.get(link);
  const results = await Promise.all(clients.map((c, i) => c.post(link, { name: `Racer ${i}`, password: GOOD_PASSWORD, 'confirm-password': GOOD_PASSWORD })));
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [303, 410, 410], JSON.stringify(statuses));
  assert.equal(sql(shoal.db, "SELECT count(*) FROM people WHERE email = 'race@riverside.wyvern.example'"), '1');
});

test('requests to join: closed until an administrator allows a domain', async () => {
  const visitor = new Client(shoal.url);
  let r = await visitor.get('/join');
  assert.equal(r.status, 404);
  assert.match(r.text, /You need an invitation to join/);

  for (const email of [demo.member, demo.lead, demo.executive]) {
    const c = await signedIn(email);
    assert.equal((await c.get('/admin/settings')).status, 403, email);
  }
  const admin = await signedIn(demo.admin);
  r = await admin.get('/admin/settings');
  assert.equal(r.status, 200);
  assert.match(r.text, /Email domains that may ask to join/);
  r = await admin.post('/admin/settings', { 'allowed-domains': 'nhs.net, nhs' });
  assert.equal(r.status, 400);
  assert.match(r.text, /&quot;nhs&quot; is not a domain: enter domains like nhs.net/);
  assert.match(r.text, />nhs.net, nhs<\/textarea>/, 'what was typed is kept');
  r = await admin.post('/admin/settings', { 'allowed-domains': 'x'.repeat(300) + '.net' });
  assert.equal(r.status, 400);
  r = await admin.post('/admin/settings', { 'allowed-domains': 'nhs.net\n@Wyvern.Example\nnhs.net' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/admin/settings?saved=1');
  r = await admin.get(r.location);
  assert.match(r.text, /Settings saved/);
  assert.match(r.text, />nhs.net\nwyvern.example<\/textarea>/);
  assert.equal(sql(shoal.db, "SELECT value FROM settings WHERE key = 'allowed_domains'"), 'nhs.net,wyvern.example');
  assert.equal(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'settings-changed'"), '1');

  r = await visitor.get('/join');
  assert.equal(r.status, 200);
  assert.match(r.text, /ending in @nhs.net or @wyvern.example/);
  assert.match(r.text, /Riverside Medical Centre \(Z80001\)/);
  assert.doesNotMatch(r.text, /Riverside PCN|Wyvern Vale Hospitals/, 'only practices are offered');
});

test('a request to join goes to the practice lead, whose approval sends an invitation', async () => {
  const visitor = new Client(shoal.url);
  let r = await visitor.post('/join', { name: 'Jo Newstarter', email: 'jo@gmail.com', practice: orgId('Z80001') }, { from: '/join' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter your work email address: it must end in @nhs.net or @wyvern.example/);
  assert.match(r.text, /value="Jo Newstarter"/);
  r = await visitor.post('/join', { name: '', email: '', practice: '' });
  assert.equal(r.status, 400);
  assert.match(r.text, /href="#name">Enter your full name/);
  assert.match(r.text, /href="#email">Enter your work email address/);
  assert.match(r.text, /href="#practice">Select your practice/);
  r = await visitor.post('/join', { name: 'Jo', email: 'jo@nhs.net', practice: orgId('U90001') });
  assert.equal(r.status, 400, 'a PCN is not a practice');

  r = await visitor.post('/join', { name: 'Jo Newstarter', email: 'Jo.Newstarter@NHS.net', practice: orgId('Z80001'), message: 'Practice nurse <b>since May</b>' });
  assert.equal(r.status, 200, r.text);
  assert.match(r.text, /We have received your request/);
  const notice = await nextMail(demo.lead, /Request to join Riverside Medical Centre/);
  assert.match(notice.body, /Someone using the address jo.newstarter@nhs.net has asked to join Riverside Medical Centre/);
  assert.doesNotMatch(notice.body, /Jo Newstarter/, 'what the requester typed stays out of the email');
  assert.doesNotMatch(notice.body, /Practice nurse/, 'what they typed stays out of the email');
  assert.match(notice.body, /\/join\/requests/);

  const lead = await signedIn(demo.lead);
  let page = await lead.get('/join/requests');
  assert.equal(page.status, 200);
  assert.match(page.text, /Jo Newstarter/);
  assert.match(page.text, /Practice nurse &lt;b&gt;since May&lt;\/b&gt;/);
  const id = sql(shoal.db, "SELECT id FROM join_requests WHERE email = 'jo.newstarter@nhs.net'");

  // Another practice's lead neither sees nor decides it; a member cannot reach the page.
  const otherLead = await signedIn(demo.otherLead);
  assert.doesNotMatch((await otherLead.get('/join/requests')).text, /Jo Newstarter/);
  r = await otherLead.post(`/join/requests/${id}/approve`, {}, { from: '/join/requests' });
  assert.equal(r.status, 403);
  const member = await signedIn(demo.member);
  assert.equal((await member.get('/join/requests')).status, 403);
  assert.match((await (await signedIn(demo.admin)).get('/join/requests')).text, /Jo Newstarter/, 'administrators see every request');

  r = await lead.post(`/join/requests/${id}/approve`, {}, { from: '/join/requests' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/join/requests?done=approved');
  page = await lead.get(r.location);
  assert.match(page.text, /Request approved/);
  assert.doesNotMatch(page.text, /Jo Newstarter/, 'no longer waiting');
  r = await lead.post(`/join/requests/${id}/refuse`, {});
  assert.equal(r.location, '/join/requests?done=already');
  assert.equal(sql(shoal.db, `SELECT status FROM join_requests WHERE id = ${id}`), 'approved');
  assert.equal(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'join-approved'"), '1');

  const link = invitationPath(await nextMail('jo.newstarter@nhs.net', /invitation/i));
  const jo = new Client(shoal.url);
  r = await jo.post(link, { name: 'Jo Newstarter', password: GOOD_PASSWORD, 'confirm-password': GOOD_PASSWORD }, { from: link });
  assert.equal(r.status, 303);
  assert.equal((await jo.get('/account')).status, 200);
  assert.equal(sql(shoal.db, "SELECT o.ods_code FROM memberships m JOIN organisations o ON o.id = m.organisation_id JOIN people p ON p.id = m.person_id WHERE p.email = 'jo.newstarter@nhs.net'"), 'Z80001');
});

test('a refused request is answered by email; asking with an existing account reveals nothing', async () => {
  const visitor = new Client(shoal.url);
  let r = await visitor.post('/join', { name: 'Not Staff', email: 'not.staff@nhs.net', practice: orgId('Z80001') }, { from: '/join' });
  assert.equal(r.status, 200);
  const fresh = r.text.match(/<main[\s\S]*<\/main>/)[0];
  const lead = await signedIn(demo.lead);
  const id = sql(shoal.db, "SELECT id FROM join_requests WHERE email = 'not.staff@nhs.net'");
  r = await lead.post(`/join/requests/${id}/refuse`, {}, { from: '/join/requests' });
  assert.equal(r.location, '/join/requests?done=refused');
  const mail = await nextMail('not.staff@nhs.net', /Your request to join/);
  assert.match(mail.body, /was not approved/);
  assert.equal(sql(shoal.db, `SELECT status FROM join_requests WHERE id = ${id}`), 'refused');
  assert.equal(sql(shoal.db, "SELECT count(*) FROM invitations WHERE email = 'not.staff@nhs.net'"), '0');

  // The same page for an address that has an account; its owner is told instead.
  const requests = sql(shoal.db, 'SELECT count(*) FROM join_requests');
  r = await visitor.post('/join', { name: 'Dr Morgan Lee', email: demo.member, practice: orgId('Z80002') });
  assert.equal(r.status, 200);
  assert.equal(r.text.match(/<main[\s\S]*<\/main>/)[0], fresh, 'the page is the same');
  assert.equal(sql(shoal.db, 'SELECT count(*) FROM join_requests'), requests, 'no request is made');
  const told = await nextMail(demo.member, /Your request to join/);
  assert.match(told.body, /You already have an account/);
  assert.match(told.body, /\/password-reset/);

  // Asking without the token does nothing.
  r = await visitor.request('/join', { method: 'POST', form: { name: 'No Token', email: 'nt@nhs.net', practice: orgId('Z80001') } });
  assert.equal(r.status, 403);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM join_requests WHERE email = 'nt@nhs.net'"), '0');
});
