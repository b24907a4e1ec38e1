// tests/http/privacy.test.mjs — data protection (src/app/privacy/): a person's
// subject access export (page and JSON, their own and by an administrator,
// each audited); removing a deactivated person's details while their records
// stay attributable; retention settings and the job that deletes older audit
// entries and returns without breaking `shoal audit verify`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startShoal, run, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let shoal;
const as = {};
before(async () => {
  shoal = await startShoal();
  for (const [k, email] of Object.entries({ admin: demo.admin, member: demo.member, lead: demo.lead })) {
    as[k] = new Client(shoal.url);
    assert.equal((await as[k].signIn(email)).status, 303, email);
  }
});
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0);
});

const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
const idOf = (email) => sql(shoal.db, `SELECT id FROM people WHERE email = ${q(email)}`);
const audits = (action, actor) => Number(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = ${q(action)} AND actor = ${q(actor)}`));

test('a person downloads everything held about them as JSON, and reads it as a page; both audited', async () => {
  const before = audits('personal-data-exported', demo.lead);
  let r = await as.lead.get('/account/export.json');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.match(r.headers.get('content-disposition'), /^attachment; filename="shoal-personal-data-\d+\.json"$/);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const doc = JSON.parse(r.text);
  assert.equal(String(doc.person_id), idOf(demo.lead));
  for (const s of ['profile', 'memberships', 'sign_ins', 'sessions', 'audit', 'pressure_returns', 'api_tokens'])
    assert.ok(s in doc.sections, `section ${s}`);
  assert.equal(doc.sections.profile.email, demo.lead);
  assert.ok(doc.sections.memberships.some((m) => m.ods_code === 'Z80001' && m.practice_lead === true));
  assert.ok(doc.sections.sign_ins.some((s) => s.what === 'sign-in'), 'the sign-in of this test is there');
  assert.ok(doc.sections.sessions.length >= 1);
  assert.ok(doc.sections.pressure_returns.length >= 1, 'the demo returns this lead sent');
  assert.deepEqual(doc.truncated_sections, []);
  assert.doesNotMatch(r.text, /password_hash|totp_secret|token_hash|argon2/, 'no secrets, not even hashed');
  r = await as.lead.get('/account/export');
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>Your personal data<\/h1>/);
  assert.match(r.text, /<h2>Sign-in history<\/h2>/);
  assert.ok(r.text.includes(demo.lead));
  assert.match(r.text, /href="\/account\/export.json"/);
  assert.equal(audits('personal-data-exported', demo.lead), before + 2);
});

test('an administrator exports someone else, for a subject access request; others may not', async () => {
  const id = idOf(demo.member);
  let r = await as.admin.get(`/admin/people/${id}/export.json`);
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.text).sections.profile.email, demo.member);
  r = await as.admin.get(`/admin/people/${id}/export`);
  assert.equal(r.status, 200);
  assert.match(r.text, /Personal data held about/);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = 'personal-data-exported' AND actor = ${q(demo.admin)} AND subject = 'person:${id}'`), '2');
  assert.equal((await as.admin.get('/admin/people/999999/export.json')).status, 404);
  assert.equal((await as.admin.get('/admin/people/abc/export')).status, 404);
  assert.equal((await as.member.get(`/admin/people/${idOf(demo.lead)}/export.json`)).status, 403);
});

test('removing a deactivated person\'s details: "Former member N", email freed, records kept', async () => {
  const email = 'leaving@riverside.wyvern.example';
  const add = await run(['user', 'add', '--db', shoal.db, '--email', email, '--name', 'Leslie Leaving', '--role', 'member', '--organisation', 'Z80001']);
  assert.equal(add.status, 0, add.stderr);
  const id = idOf(email);
  // Still active: refused, with the reason.
  let r = await as.admin.post(`/admin/people/${id}/anonymise`, {}, { from: `/admin/people/${id}` });
  assert.equal(r.status, 403);
  assert.match(r.text, /Deactivate the account before removing its personal details/);
  r = await as.admin.post(`/admin/people/${id}/deactivate`, {});
  assert.equal(r.status, 303);
  // The export page offers it now.
  r = await as.admin.get(`/admin/people/${id}/export`);
  assert.match(r.text, new RegExp(`action="/admin/people/${id}/anonymise"`));
  r = await as.admin.post(`/admin/people/${id}/anonymise`, {});
  assert.equal(r.status, 303, r.text);
  assert.equal(r.location, `/admin/people/${id}`);
  const row = sql(shoal.db, `SELECT name, email, job_title, CASE WHEN password_hash IS NULL THEN 1 ELSE 0 END, CASE WHEN anonymised_at IS NULL THEN 0 ELSE 1 END FROM people WHERE id = ${id}`);
  assert.equal(row, `Former member ${id}|former-member-${id}@removed.invalid||1|1`);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM memberships WHERE person_id = ${id}`), '1', 'memberships stay');
  r = await as.admin.get(`/admin/people/${id}`);
  assert.ok(r.text.includes(`Former member ${id}`));
  assert.ok(!r.text.includes('Leslie Leaving'));
  // Audited without naming them; a second time is refused.
  assert.equal(sql(shoal.db, `SELECT detail FROM audit_log WHERE action = 'person-anonymised' AND subject = 'person:${id}'`), 'personal details removed; shown as Former member');
  r = await as.admin.post(`/admin/people/${id}/anonymise`, {});
  assert.equal(r.status, 409);
  // The address is free for a new account.
  const again = await run(['user', 'add', '--db', shoal.db, '--email', email, '--name', 'Leslie Returning', '--role', 'member', '--organisation', 'Z80001']);
  assert.equal(again.status, 0, again.stderr);
  // Administrators may not anonymise themselves, nor may anyone else anonymise at all.
  r = await as.admin.post(`/admin/people/${idOf(demo.admin)}/anonymise`, {});
  assert.equal(r.status, 403);
  const verify = await run(['audit', 'verify', '--db', shoal.db]);
  assert.equal(verify.status, 0, verify.stdout);
});

test('retention settings: whole years from 1 to 50, errors on the field, saved and audited', async () => {
  let r = await as.admin.get('/admin/retention');
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>How long records are kept<\/h1>/);
  assert.match(r.text, /id="audit-years"[^>]*value="6"/);
  r = await as.admin.post('/admin/retention', { 'audit-years': '0', 'pressure-years': 'ten' });
  assert.equal(r.status, 400);
  assert.match(r.text, /There is a problem/);
  assert.match(r.text, /href="#audit-years"/);
  assert.match(r.text, /must be a whole number from 1 to 50/);
  assert.match(r.text, /value="ten"/, 'what was typed is kept');
  r = await as.admin.post('/admin/retention', { 'audit-years': '', 'pressure-years': '9'.repeat(5000) });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter how many years to keep audit entries/);
  r = await as.admin.post('/admin/retention', { 'audit-years': '7', 'pressure-years': '8' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/admin/retention?saved=1');
  assert.equal(sql(shoal.db, "SELECT value FROM settings WHERE key = 'retention_audit_years'"), '7');
  assert.equal(sql(shoal.db, "SELECT value FROM settings WHERE key = 'retention_pressure_years'"), '8');
  assert.equal(audits('retention-changed', demo.admin), 1);
  r = await as.admin.post('/admin/retention', { 'audit-years': '6', 'pressure-years': '6' });
  assert.equal(r.status, 303);
});

/** The hash of one audit entry, exactly as src/auth/audit.c computes it. */
function auditHash(prev, at, actorId, actor, action, subject, detail, address) {
  const h = createHash('sha256');
  for (const f of [prev, `${at},${actorId}`, actor, action, subject, detail, address]) {
    const b = Buffer.from(f ?? '', 'utf8');
    h.update(`${b.length}:`);
    h.update(b);
  }
  return h.digest('hex');
}

test('the retention job deletes audit entries and returns older than the settings, and the trail still verifies', async () => {
  // Make the oldest audit entries and one return ten years old, as if Shoal had run that
  // long: move their times back and re-hash the whole chain as audit.c would have.
  await shoal.stop();
  const db = shoal.db;
  const tenYears = 10 * 365 * 86400;
  const rows = sql(db, 'SELECT id, at, coalesce(actor_id, 0), actor, action, subject, detail, address FROM audit_log ORDER BY id')
    .split('\n').map((l) => l.split('|'));
  const old = 5;
  assert.ok(rows.length > old + 3, `${rows.length} entries`);
  let prev = '0'.repeat(64);
  const updates = [];
  rows.forEach(([id, at, actorId, actor, action, subject, detail, address], i) => {
    const when = i < old ? Number(at) - tenYears : Number(at);
    const hash = auditHash(prev, when, actorId, actor, action, subject, detail, address);
    updates.push(`UPDATE audit_log SET at = ${when}, prev_hash = '${prev}', hash = '${hash}' WHERE id = ${id};`);
    prev = hash;
  });
  sql(db, updates.join('\n'));
  assert.equal((await run(['audit', 'verify', '--db', db])).status, 0, 'the rewritten chain is sound');
  const oldReturn = sql(db, 'SELECT min(id) FROM pressure_returns');
  sql(db, `UPDATE pressure_returns SET submitted_at = submitted_at - ${tenYears} WHERE id = ${oldReturn}`);
  const firstKept = rows[old][0];

  // The job runs when shoal starts.
  shoal = await startShoal({ db, demo: false });
  for (let i = 0; i < 100 && sql(db, "SELECT count(*) FROM audit_log WHERE action = 'audit-trimmed'") === '0'; i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.equal(sql(db, "SELECT count(*) FROM audit_log WHERE action = 'audit-trimmed'"), '1');
  assert.equal(sql(db, 'SELECT min(id) FROM audit_log'), firstKept, 'the five old entries are gone, the rest kept');
  assert.match(sql(db, "SELECT detail FROM audit_log WHERE action = 'audit-trimmed'"), /deleted 5 audit entries/);
  assert.equal(sql(db, `SELECT count(*) FROM pressure_returns WHERE id = ${oldReturn}`), '0', 'the old return is gone');
  assert.equal(sql(db, "SELECT count(*) FROM audit_log WHERE action = 'pressure-returns-deleted'"), '1');
  assert.equal(sql(db, "SELECT value FROM settings WHERE key = 'audit_chain_start'").split(' ')[0], firstKept);
  let verify = await run(['audit', 'verify', '--db', db]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  // The settings page says where the trail now starts (sessions live in the database,
  // so the administrator is still signed in after the restart).
  as.admin.base = shoal.url;
  assert.match((await as.admin.get('/admin/retention')).text, new RegExp(`now starts at entry ${firstKept}`));
  // Deleting the new first entry by hand is still caught.
  sql(db, `DELETE FROM audit_log WHERE id = ${firstKept}`);
  verify = await run(['audit', 'verify', '--db', db]);
  assert.equal(verify.status, 1, verify.stdout);
  assert.match(verify.stdout + verify.stderr, /should start at entry/);
});
