// tests/http/audit.test.mjs — the audit trail as an administrator and an IT
// lead meet it: the page with its filters and their error messages, the CSV
// download (formula injection defused, the download itself recorded), and
// `shoal audit verify` catching an edited or deleted entry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, run, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let shoal;
let admin;
const evilName = "=cmd|' /C calc'!A0";
const evilEmail = 'evil@riverside.wyvern.example';
const evilPassword = 'a long enough password for tests';

before(async () => {
  shoal = await startShoal();
  const r = await run(['user', 'add', '--db', shoal.db, '--email', evilEmail, '--name', evilName, '--role', 'member', '--organisation', 'Z80001', '--password-stdin'], { input: `${evilPassword}\n` });
  assert.equal(r.status, 0, r.stderr);
  admin = new Client(shoal.url);
  assert.equal((await admin.signIn(demo.admin)).status, 303);
});
after(async () => {
  await shoal.stop();
});

/** Undoes the escaping of HTML text. */
const decode = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

/** The rows of the audit table on a page, as arrays of cell texts. */
function rows(html) {
  const body = html.match(/<tbody class="nhsuk-table__body">([\s\S]*?)<\/tbody>/);
  if (!body) return [];
  return [...body[1].matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((m) =>
    [...m[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((c) => decode(c[1].replace(/<br>/g, ' ').replace(/<[^>]+>/g, '').trim())));
}

/** Parses CSV text (RFC 4180) into records. */
function parseCsv(text) {
  const records = [];
  let field = '';
  let record = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      i++;
    } else field += ch;
  }
  return records;
}

const today = new Date();
const dateParams = (prefix, d) => `${prefix}-day=${d.getUTCDate()}&${prefix}-month=${d.getUTCMonth() + 1}&${prefix}-year=${d.getUTCFullYear()}`;

test('people who are not administrators cannot see or download the audit trail', async () => {
  const member = new Client(shoal.url);
  await member.signIn(demo.member);
  for (const path of ['/admin/audit', '/admin/audit.csv']) {
    const r = await member.get(path);
    assert.equal(r.status, 403, path);
    assert.doesNotMatch(r.text, /sign-in-failed/);
  }
  const anonymous = await new Client(shoal.url).get('/admin/audit');
  assert.equal(anonymous.status, 303);
  assert.match(anonymous.location, /^\/sign-in\?next=/);
});

test('the audit trail shows sign-ins and failures, newest first, with the actor', async () => {
  const someone = new Client(shoal.url);
  const failed = await someone.post('/sign-in', { email: '=1+2@evil.example', password: 'wrong password here' }, { from: '/sign-in' });
  assert.equal(failed.status, 401);
  assert.equal((await new Client(shoal.url).signIn(evilEmail, evilPassword)).status, 303);
  const r = await admin.get('/admin/audit');
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>Audit trail<\/h1>/);
  const all = rows(r.text);
  assert.ok(all.length >= 3, 'entries are listed');
  // Newest first: the evil person's sign-in, then the failure before it.
  assert.equal(all[0][2], 'sign-in');
  assert.match(all[0][1], /evil@riverside\.wyvern\.example/);
  assert.ok(all[0][1].startsWith(`${evilName} `), 'the name is shown');
  assert.ok(r.text.includes('=cmd|&#39; /C calc&#39;!A0'), 'escaped');
  assert.equal(all[1][2], 'sign-in-failed');
  assert.equal(all[1][1], '=1+2@evil.example');
  assert.match(all[0][0], /^\d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d:\d\d$/);
  assert.match(r.text, /<option value="sign-in-failed">sign-in-failed<\/option>/, 'actions in the trail are offered as filters');
});

test('filters: action, actor and dates narrow the list, and links keep them', async () => {
  let r = await admin.get('/admin/audit?action=sign-in-failed');
  assert.equal(r.status, 200);
  let found = rows(r.text);
  assert.ok(found.length >= 1);
  assert.ok(found.every((row) => row[2] === 'sign-in-failed'));
  assert.match(r.text, /<option value="sign-in-failed" selected>/);
  assert.match(r.text, /href="\/admin\/audit\.csv\?action=sign-in-failed"/);

  r = await admin.get('/admin/audit?actor=EVIL');
  found = rows(r.text);
  assert.ok(found.length >= 2);
  assert.ok(found.every((row) => /evil/.test(row[1])), 'actor matches part of the email, any case');

  // Today (in UK time, which is today or yesterday in UTC near midnight) holds everything.
  const yesterday = new Date(today.getTime() - 86400000);
  const tomorrow = new Date(today.getTime() + 86400000);
  r = await admin.get(`/admin/audit?${dateParams('from', yesterday)}&${dateParams('to', tomorrow)}`);
  assert.equal(r.status, 200);
  assert.ok(rows(r.text).length >= 3);
  r = await admin.get(`/admin/audit?${dateParams('from', new Date(today.getTime() + 2 * 86400000))}`);
  assert.equal(r.status, 200);
  assert.deepEqual(rows(r.text), []);
  assert.match(r.text, /No entries match these filters/);
  r = await admin.get('/admin/audit?to-day=1&to-month=1&to-year=2020');
  assert.deepEqual(rows(r.text), [], 'nothing happened before 2020');
});

test('bad filters get an error summary, the right field marked, and the values kept', async () => {
  let r = await admin.get('/admin/audit?action=no-such-action');
  assert.equal(r.status, 400);
  assert.match(r.text, /There is a problem/);
  assert.match(r.text, /<a href="#action">Select an action from the list<\/a>/);
  assert.match(r.text, /<title>Error: Audit trail/);

  r = await admin.get('/admin/audit?from-day=31&from-month=2&from-year=2026');
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#from-day">The from date must be a real date, like 31 3 2026<\/a>/);
  assert.match(r.text, /id="from-day" name="from-day" type="text" inputmode="numeric" value="31"/);

  r = await admin.get('/admin/audit?to-day=3&to-year=2026');
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#to-month">The to date must include a month<\/a>/);

  r = await admin.get('/admin/audit?from-day=x&from-month=13&from-year=2026');
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#from-day">The from date must be a real date/);

  r = await admin.get('/admin/audit?from-day=2&from-month=3&from-year=2026&to-day=1&to-month=3&to-year=2026');
  assert.equal(r.status, 400);
  assert.match(r.text, /The to date must be the same as or after the from date/);

  r = await admin.get(`/admin/audit?actor=${'a'.repeat(300)}`);
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#actor">The email address must be 254 characters or fewer/);

  r = await admin.get('/admin/audit?page=0');
  assert.equal(r.status, 400);
  assert.match(r.text, /page number/);

  r = await admin.get('/admin/audit.csv?action=no-such-action');
  assert.equal(r.status, 400);
  assert.match(r.headers.get('content-type'), /^text\/html/);
  assert.match(r.text, /Select an action from the list/);
});

test('the CSV download has every entry, defuses formulas, and is itself recorded', async () => {
  const r = await admin.get('/admin/audit.csv');
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.match(r.headers.get('content-disposition'), /^attachment; filename="shoal-audit-[0-9TZ-]+\.csv"$/);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const records = parseCsv(r.text);
  assert.deepEqual(records[0], ['id', 'at_utc', 'at_unix', 'actor_id', 'actor', 'actor_name', 'action', 'subject', 'detail', 'address', 'prev_hash', 'hash']);
  const data = records.slice(1);
  const count = Number(sql(shoal.db, 'SELECT count(*) FROM audit_log')) - 1; // the export's own record came after
  assert.equal(data.length, count);
  for (const record of data) {
    assert.equal(record.length, 12);
    for (const field of record) assert.doesNotMatch(field, /^[=+\-@\t\r]/, `a field that a spreadsheet would run: ${field}`);
  }
  const evil = data.find((rec) => rec[4] === evilEmail && rec[6] === 'sign-in');
  assert.ok(evil, 'the sign-in of the person with a formula for a name');
  assert.equal(evil[5], `'${evilName}`, 'the name comes out as text, not a formula');
  assert.ok(data.find((rec) => rec[4] === "'=1+2@evil.example"), 'an actor that looks like a formula too');
  assert.match(data[0][1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(Number(data[0][0]) > Number(data[data.length - 1][0]), 'newest first');

  const page = await admin.get('/admin/audit?action=audit-exported');
  const exported = rows(page.text);
  assert.equal(exported.length, 1);
  assert.match(exported[0][1], /admin@wyvern\.example/);
  assert.match(exported[0][4], new RegExp(`^${count} entries; action: any`));
});

test('a filtered download holds only the matching entries', async () => {
  const r = await admin.get('/admin/audit.csv?action=sign-in-failed&actor=evil');
  assert.equal(r.status, 200);
  const data = parseCsv(r.text).slice(1);
  assert.ok(data.length >= 1);
  assert.ok(data.every((rec) => rec[6] === 'sign-in-failed' && /evil/.test(rec[4])));
});

test('the list pages 50 entries at a time', async () => {
  // Profile changes are cheap entries to make: one each.
  const member = new Client(shoal.url);
  await member.signIn(demo.member);
  for (let i = 0; i < 52; i++) {
    const r = await member.post('/account/profile', { 'job-title': `GP ${i}`, 'can-help-with': '' }, { from: '/account/profile' });
    assert.equal(r.status, 303);
  }
  const first = await admin.get('/admin/audit?action=profile-updated');
  assert.equal(rows(first.text).length, 50);
  assert.match(rows(first.text)[0][4], /"GP 50" -> "GP 51"/);
  assert.match(first.text, /class="nhsuk-pagination"/);
  assert.match(first.text, /href="\/admin\/audit\?action=profile-updated&amp;page=2" rel="next"/);
  assert.doesNotMatch(first.text, /rel="prev"/);
  const second = await admin.get('/admin/audit?action=profile-updated&page=2');
  assert.equal(rows(second.text).length, 2);
  assert.match(second.text, /href="\/admin\/audit\?action=profile-updated&amp;page=1" rel="prev"/);
  assert.doesNotMatch(second.text, /rel="next"/);
  const beyond = await admin.get('/admin/audit?action=profile-updated&page=9');
  assert.equal(beyond.status, 200);
  assert.match(beyond.text, /There are no more entries/);
});

test('shoal audit verify: intact, then an edited entry, then a deleted one', async () => {
  let r = await run(['audit', 'verify', '--db', shoal.db]);
  assert.equal(r.status, 0, r.stderr);
  const total = Number(sql(shoal.db, 'SELECT count(*) FROM audit_log'));
  assert.equal(r.stdout, `audit trail intact: ${total} entries\n`);

  const ids = sql(shoal.db, 'SELECT id FROM audit_log ORDER BY id').split('\n').map(Number);
  const edited = ids[Math.floor(ids.length / 2)];
  const original = sql(shoal.db, `SELECT detail FROM audit_log WHERE id = ${edited}`);
  sql(shoal.db, `UPDATE audit_log SET detail = 'nothing to see here' WHERE id = ${edited}`);
  r = await run(['audit', 'verify', '--db', shoal.db]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, new RegExp(`^audit trail broken at entry ${edited}: its contents do not match its hash`));
  assert.match(r.stdout, new RegExp(`the ${ids.indexOf(edited)} entries before it are intact`));

  sql(shoal.db, `UPDATE audit_log SET detail = '${original.replace(/'/g, "''")}' WHERE id = ${edited}`);
  r = await run(['audit', 'verify', '--db', shoal.db]);
  assert.equal(r.status, 0, r.stdout);

  const deleted = ids[3];
  sql(shoal.db, `DELETE FROM audit_log WHERE id = ${deleted}`);
  r = await run(['audit', 'verify', '--db', shoal.db]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, new RegExp(`^audit trail broken at entry ${ids[4]}: it does not follow the entry before it`));
});

test('shoal audit verify on an empty trail, and on a database that cannot be read', async () => {
  const fresh = await startShoal({ demo: false });
  await fresh.stop();
  let r = await run(['audit', 'verify', '--db', fresh.db]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'audit trail intact: 0 entries\n');
  r = await run(['audit', 'verify', '--db', 'sqlite:/nonexistent-dir/shoal.db']);
  assert.equal(r.status, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  r = await run(['audit', 'verify', '--help']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^Usage: shoal audit verify/);
});
