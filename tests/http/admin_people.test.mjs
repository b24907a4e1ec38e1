// tests/http/admin_people.test.mjs — administering people as an administrator
// meets it (finding people, changing roles and memberships, deactivating and
// reactivating), what the people concerned notice at once (a new role, being
// signed out, a token that stops working), and the rules that keep an
// installation runnable (no deactivating oneself, never the last administrator).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, backend, run, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let shoal;
let admin;
const ids = {};

const lastAudit = (action) => sql(shoal.db, `SELECT actor || ' | ' || subject || ' | ' || detail FROM audit_log WHERE action = '${action}' ORDER BY id DESC LIMIT 1`);

before(async () => {
  shoal = await startShoal();
  for (const [who, email] of Object.entries(demo)) ids[who] = Number(sql(shoal.db, `SELECT id FROM people WHERE email = '${email}'`));
  ids.castlegate = Number(sql(shoal.db, "SELECT id FROM organisations WHERE ods_code = 'Z80005'"));
  ids.riverside = Number(sql(shoal.db, "SELECT id FROM organisations WHERE ods_code = 'Z80001'"));
  admin = new Client(shoal.url);
  assert.equal((await admin.signIn(demo.admin)).status, 303);
});
after(async () => {
  await shoal.stop();
});

/** The people listed on /admin/people, by name. */
const listed = (html) => [...html.matchAll(/<a href="\/admin\/people\/\d+">([^<]+)<\/a>/g)].map((m) => m[1].replace(/&#39;/g, "'"));

test('only administrators reach the administration pages', async () => {
  const lead = new Client(shoal.url);
  await lead.signIn(demo.lead);
  for (const path of ['/admin', '/admin/people', `/admin/people/${ids.member}`]) {
    assert.equal((await lead.get(path)).status, 403, path);
  }
  await lead.get('/people');
  const r = await lead.post(`/admin/people/${ids.member}/deactivate`, {});
  assert.equal(r.status, 403);
  assert.equal(sql(shoal.db, `SELECT deactivated_at IS NULL FROM people WHERE id = ${ids.member}`), backend === 'postgresql' ? 't' : '1');
});

test('the administration index links only to pages that exist', async () => {
  const r = await admin.get('/admin');
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>Administration<\/h1>/);
  assert.match(r.text, /href="\/admin\/people">People</);
  assert.match(r.text, /href="\/admin\/audit">Audit trail</);
  for (const href of [...r.text.matchAll(/<h2[^>]*><a href="([^"]+)"/g)].map((m) => m[1])) {
    assert.equal((await admin.get(href)).status, 200, href);
  }
});

test('finding people: search, role, organisation and account status', async () => {
  let r = await admin.get('/admin/people');
  assert.equal(r.status, 200);
  let names = listed(r.text);
  assert.ok(names.includes('Dr Morgan Lee'));
  assert.ok(!names.includes('Former Staff'), 'active accounts by default');
  r = await admin.get('/admin/people?status=deactivated');
  assert.deepEqual(listed(r.text), ['Former Staff']);
  assert.match(r.text, /Deactivated<\/strong>/);
  r = await admin.get('/admin/people?role=partner');
  assert.deepEqual(listed(r.text), ['Rowan Hughes (ICB primary care lead)']);
  r = await admin.get('/admin/people?role=practice-lead');
  assert.deepEqual(listed(r.text).sort(), ["Chris O'Neill (practice manager)", 'Sam Patel (practice manager)']);
  r = await admin.get(`/admin/people?organisation=${ids.riverside}&status=all`);
  assert.deepEqual(listed(r.text).sort(), ['Dr Morgan Lee', 'Former Staff', 'Sam Patel (practice manager)']);
  r = await admin.get('/admin/people?q=CASTLEGATE.wyvern');
  assert.deepEqual(listed(r.text), ['Jo Evans (practice nurse)'], 'by part of the email, any case');
  r = await admin.get('/admin/people?q=nobody-at-all');
  assert.match(r.text, /Nobody matches these filters/);
});

test('bad filters get an error summary and status 400', async () => {
  let r = await admin.get('/admin/people?role=king');
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#role">Select a role from the list<\/a>/);
  r = await admin.get('/admin/people?organisation=999999');
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#organisation">Select an organisation from the list<\/a>/);
  r = await admin.get('/admin/people?status=sleeping');
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#status">/);
  r = await admin.get('/admin/people?page=abc');
  assert.equal(r.status, 400);
});

test("a person's page shows their details, and unknown people are 404", async () => {
  const r = await admin.get(`/admin/people/${ids.lead}`);
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>Sam Patel \(practice manager\)<\/h1>/);
  assert.match(r.text, /lead@riverside\.wyvern\.example/);
  assert.match(r.text, /Riverside Medical Centre \(Z80001\)<\/td>\s*<td class="nhsuk-table__cell">Yes<\/td>/);
  assert.match(r.text, /Deactivate account<\/button>/);
  for (const path of ['/admin/people/999999', '/admin/people/x']) assert.equal((await admin.get(path)).status, 404);
  assert.equal((await admin.post('/admin/people/999999/role', { role: 'member' }, { from: '/admin/people' })).status, 404);
});

test('a role change takes effect at once, and is audited with before and after', async () => {
  const member = new Client(shoal.url);
  await member.signIn(demo.member);
  assert.match((await member.get('/people')).text, /Everyone in the collective/);
  let r = await admin.post(`/admin/people/${ids.member}/role`, { role: 'partner' }, { from: `/admin/people/${ids.member}` });
  assert.equal(r.status, 303);
  assert.equal(r.location, `/admin/people/${ids.member}?done=role`);
  r = await admin.get(r.location);
  assert.match(r.text, /The role has been changed/);
  assert.match(r.text, /<option value="partner" selected>Partner<\/option>/);
  // The same session, next request: a partner's directory.
  const now = await member.get('/people');
  assert.match(now.text, /You can see the collective's executive team/);
  assert.equal((await member.get(`/people/${ids.otherMember}`)).status, 404);
  assert.equal(lastAudit('role-changed'), `admin@wyvern.example | person:${ids.member} | gp@riverside.wyvern.example: role member -> partner`);
  // Back again; choosing the same role changes nothing and records nothing.
  await admin.post(`/admin/people/${ids.member}/role`, { role: 'member' });
  const count = sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'role-changed'");
  r = await admin.post(`/admin/people/${ids.member}/role`, { role: 'member' });
  assert.equal(r.location, `/admin/people/${ids.member}?done=unchanged`);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'role-changed'"), count);
  assert.match((await member.get('/people')).text, /Everyone in the collective/);
});

test('a role that does not exist is refused with a message beside the field', async () => {
  const r = await admin.post(`/admin/people/${ids.member}/role`, { role: 'practice-lead' }, { from: `/admin/people/${ids.member}` });
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#role">Select a role<\/a>/);
  assert.match(r.text, /<span class="nhsuk-error-message" id="role-error">/);
  assert.equal(sql(shoal.db, `SELECT role FROM people WHERE id = ${ids.member}`), 'member');
});

test('memberships: add one with the lead flag, change the flag, remove it', async () => {
  let r = await admin.post(`/admin/people/${ids.member}/memberships`, { organisation: String(ids.castlegate), lead: 'yes' }, { from: `/admin/people/${ids.member}` });
  assert.equal(r.status, 303);
  assert.equal(r.location, `/admin/people/${ids.member}?done=membership-added`);
  r = await admin.get(r.location);
  assert.match(r.text, /The membership has been added/);
  assert.match(r.text, /Castlegate Surgery \(Z80005\)<\/td>\s*<td class="nhsuk-table__cell">Yes<\/td>/);
  assert.match(lastAudit('membership-added'), /gp@riverside\.wyvern\.example: Castlegate Surgery \(Z80005\): added, lead yes$/);
  // The member now leads a practice: the directory says so.
  const other = new Client(shoal.url);
  await other.signIn(demo.otherMember);
  assert.match((await other.get(`/people/${ids.member}`)).text, /Castlegate Surgery \(practice lead\)/);

  r = await admin.post(`/admin/people/${ids.member}/memberships`, { organisation: String(ids.castlegate), lead: 'no' });
  assert.equal(r.location, `/admin/people/${ids.member}?done=membership-changed`);
  assert.match(lastAudit('membership-changed'), /Castlegate Surgery \(Z80005\): lead yes -> no$/);

  r = await admin.post(`/admin/people/${ids.member}/memberships/${ids.castlegate}/remove`, {});
  assert.equal(r.location, `/admin/people/${ids.member}?done=membership-removed`);
  assert.match(lastAudit('membership-removed'), /Castlegate Surgery \(Z80005\): removed \(was lead: no\)$/);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM memberships WHERE person_id = ${ids.member}`), '1');
  // A second click finds nothing to remove, and says so.
  r = await admin.post(`/admin/people/${ids.member}/memberships/${ids.castlegate}/remove`, {});
  assert.equal(r.location, `/admin/people/${ids.member}?done=unchanged`);
});

test('a membership form without an organisation is refused with a message', async () => {
  let r = await admin.post(`/admin/people/${ids.member}/memberships`, { organisation: '', lead: 'yes' }, { from: `/admin/people/${ids.member}` });
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#organisation">Select an organisation<\/a>/);
  assert.match(r.text, /id="lead" name="lead" type="checkbox" value="yes" checked>/, 'the tick is kept');
  r = await admin.post(`/admin/people/${ids.member}/memberships`, { organisation: '999999' });
  assert.equal(r.status, 400);
});

test('deactivation ends sessions, stops tokens and sign-in; reactivation restores sign-in', async () => {
  const nurse = new Client(shoal.url);
  assert.equal((await nurse.signIn(demo.otherMember)).status, 303);
  const token = await run(['token', 'create', '--db', shoal.db, '--email', demo.otherMember]);
  assert.equal(token.status, 0, token.stderr);
  const bearer = { authorization: `Bearer ${token.stdout.trim()}` };
  assert.equal((await fetch(`${shoal.url}/api/v1/me`, { headers: bearer })).status, 200);

  let r = await admin.post(`/admin/people/${ids.otherMember}/deactivate`, {}, { from: `/admin/people/${ids.otherMember}` });
  assert.equal(r.status, 303);
  r = await admin.get(r.location);
  assert.match(r.text, /The account has been deactivated/);
  assert.match(r.text, /Reactivate account<\/button>/);
  assert.match(lastAudit('person-deactivated'), new RegExp(`person:${ids.otherMember} \\| nurse@castlegate\\.wyvern\\.example: deactivated`));

  // Their open session is gone: the next page asks them to sign in.
  r = await nurse.get('/account');
  assert.equal(r.status, 303);
  assert.match(r.location, /^\/sign-in/);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM sessions WHERE person_id = ${ids.otherMember}`), '0');
  assert.equal((await fetch(`${shoal.url}/api/v1/me`, { headers: bearer })).status, 401);
  // Signing in is refused with the same message as a wrong password.
  r = await new Client(shoal.url).signIn(demo.otherMember);
  assert.equal(r.status, 401);
  assert.match(r.text, /The email address or password is not right/);
  // Still attributable, but not in the directory.
  const member = new Client(shoal.url);
  await member.signIn(demo.member);
  assert.equal((await member.get(`/people/${ids.otherMember}`)).status, 404);
  assert.ok(listed((await admin.get('/admin/people?status=deactivated')).text).includes('Jo Evans (practice nurse)'));

  r = await admin.post(`/admin/people/${ids.otherMember}/reactivate`, {});
  assert.equal(r.location, `/admin/people/${ids.otherMember}?done=reactivated`);
  assert.match(lastAudit('person-reactivated'), /nurse@castlegate\.wyvern\.example: reactivated/);
  assert.equal((await new Client(shoal.url).signIn(demo.otherMember)).status, 303);
  // Their old token stays revoked: a script somewhere must not quietly work again.
  assert.equal((await fetch(`${shoal.url}/api/v1/me`, { headers: bearer })).status, 401);
});

test('an administrator cannot deactivate themselves', async () => {
  let r = await admin.get(`/admin/people/${ids.admin}`);
  assert.doesNotMatch(r.text, /Deactivate account<\/button>/, 'no button for oneself');
  r = await admin.post(`/admin/people/${ids.admin}/deactivate`, {});
  assert.equal(r.status, 403);
  assert.match(r.text, /<a href="#deactivate">You cannot deactivate your own account/);
  assert.equal(sql(shoal.db, `SELECT deactivated_at IS NULL FROM people WHERE id = ${ids.admin}`), backend === 'postgresql' ? 't' : '1');
  assert.equal((await admin.get('/admin')).status, 200, 'still signed in');
});

test('the last administrator cannot stop being one; with another, they can', async () => {
  let r = await admin.post(`/admin/people/${ids.admin}/role`, { role: 'member' }, { from: `/admin/people/${ids.admin}` });
  assert.equal(r.status, 409);
  assert.match(r.text, /This is the only active administrator/);
  assert.equal(sql(shoal.db, `SELECT role FROM people WHERE id = ${ids.admin}`), 'administrator');

  // A second administrator: then deactivating or demoting the first works, and
  // the second is the last one.
  r = await admin.post(`/admin/people/${ids.lead}/role`, { role: 'administrator' });
  assert.equal(r.status, 303);
  r = await admin.post(`/admin/people/${ids.lead}/deactivate`, {});
  assert.equal(r.status, 303, 'another administrator may be deactivated while one remains');
  r = await admin.post(`/admin/people/${ids.admin}/role`, { role: 'member' });
  assert.equal(r.status, 409, 'the deactivated one does not count');
  await admin.post(`/admin/people/${ids.lead}/reactivate`, {});
  r = await admin.post(`/admin/people/${ids.lead}/role`, { role: 'member' });
  assert.equal(r.status, 303);
  assert.equal(sql(shoal.db, `SELECT role FROM people WHERE id = ${ids.lead}`), 'member');
});

test('changes without the CSRF token are refused and change nothing', async () => {
  const r = await admin.request(`/admin/people/${ids.member}/deactivate`, { method: 'POST', form: {} });
  assert.equal(r.status, 403);
  assert.equal(sql(shoal.db, `SELECT deactivated_at IS NULL FROM people WHERE id = ${ids.member}`), backend === 'postgresql' ? 't' : '1');
});
