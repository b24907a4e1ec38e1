// tests/http/xss.test.mjs — cross-site scripting: payloads that open a script,
// break out of an attribute, or are a javascript: URL are put in every place
// where people's text is shown (names, emails, job titles, what people can help
// with, organisation names, pressure return free text, invitations), through
// the forms where there is one and straight into the database where there is
// not; then every page that shows them is read as the people who see them, and
// must show them escaped. The audit CSV must defuse formulas (=cmd|…), and
// HTML emails must escape too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

const SCRIPT = '<script>alert(1)</script>';
const ATTR = '"><img src=x onerror=alert(2)>';
const SQUOTE = "' onmouseover='alert(3)' x='";
const JSURL = 'javascript:alert(4)';
const FORMULA = "=cmd|' /C calc'!A0";
const PAYLOAD = `${SCRIPT}${ATTR}${SQUOTE}`;

/** What must never appear in HTML built from the payloads. */
const DANGER = [
  [/<script>alert/i, 'a script element from user text'],
  [/<img src=x/i, 'an element from user text'],
  [/' onmouseover='/, 'an attribute broken out of with a single quote'],
  [/"\s*onerror=/i, 'an attribute broken out of with a double quote'],
  [/(href|src|action|formaction)\s*=\s*["']?\s*javascript:/i, 'a javascript: URL'],
];

function assertSafe(label, html) {
  for (const [re, what] of DANGER) assert.doesNotMatch(html, re, `${label}: ${what}`);
}

const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

let shoal;
const as = {};
before(async () => {
  shoal = await startShoal();
  for (const [k, email] of Object.entries({ admin: demo.admin, executive: demo.executive, lead: demo.lead, member: demo.member, partner: demo.partner })) {
    as[k] = new Client(shoal.url);
    assert.equal((await as[k].signIn(email)).status, 303, email);
  }
});
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0);
});

test('payloads go in through the forms that take them', async () => {
  // A member's own profile: job title and what they can help with.
  let r = await as.member.post('/account/profile', { 'job-title': PAYLOAD, 'can-help-with': `${PAYLOAD}\n${JSURL}`, 'visible-to-partners': 'yes' }, { from: '/account/profile' });
  assert.equal(r.status, 303, r.text);
  // An organisation's name, by an administrator (audited with before and after).
  r = await as.admin.post('/admin/organisations/Z80002', { name: `${FORMULA} ${PAYLOAD}`.slice(0, 190), kind: 'practice', parent: 'U90001', list_size: '8930' }, { from: '/admin/organisations/Z80002' });
  assert.equal(r.status, 303, r.text);
  // A pressure return at Black, with every free-text field, so the executive sees it too.
  const form = '/pressure/practices/Z80001/return';
  const period = (await as.lead.get(form)).text.match(/name="period" value="(\d+)"/)[1];
  r = await as.lead.post(form, { period, level: '4', incident: 'critical', incident_detail: PAYLOAD, action_plan: `${PAYLOAD} ${JSURL}`, support_other: PAYLOAD, comments: `${FORMULA} ${PAYLOAD}`, consent: 'yes' });
  assert.equal(r.status, 303, r.text);
  // An invitation whose name is a payload: the list of invitations and its email.
  const org = sql(shoal.db, "SELECT id FROM organisations WHERE ods_code = 'Z80001'");
  r = await as.lead.post('/invitations/new', { name: PAYLOAD.slice(0, 100), email: 'xss-invite@riverside.wyvern.example', role: 'member', organisation: org }, { from: '/invitations/new' });
  assert.equal(r.status, 303, r.text);
  // Typed back into a form that refuses it: the error page keeps what was typed, escaped.
  r = await as.lead.post(form, { period, level: '9', comments: PAYLOAD });
  assert.equal(r.status, 400);
  assertSafe('the refused return form', r.text);
  assert.ok(r.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'what was typed is kept, escaped');
  r = await as.admin.post('/admin/organisations/Z80003', { name: PAYLOAD, kind: 'nonsense', parent: '', list_size: 'x' }, { from: '/admin/organisations/Z80003' });
  assert.equal(r.status, 400);
  assertSafe('the refused organisation form', r.text);
});

test('names and emails with payloads, straight into the database, then every page that shows them', async () => {
  // No form lets an email hold these characters, and names are plain text: put them in directly.
  sql(shoal.db, `UPDATE people SET name = ${q(`${FORMULA} ${PAYLOAD}`)} WHERE email = ${q(demo.member)}`);
  sql(shoal.db, `UPDATE people SET name = ${q(JSURL)}, email = ${q(`"><script>alert(5)</script>@x.example`)} WHERE email = ${q(demo.deactivated)}`);
  const memberId = sql(shoal.db, `SELECT id FROM people WHERE email = ${q(demo.member)}`);
  const oddId = sql(shoal.db, "SELECT id FROM people WHERE email LIKE '%alert(5)%'");
  const returnId = sql(shoal.db, "SELECT r.id FROM pressure_returns r JOIN organisations o ON o.id = r.organisation_id WHERE o.ods_code = 'Z80001'");
  const escalation = sql(shoal.db, 'SELECT id FROM pressure_escalations ORDER BY id DESC LIMIT 1');

  const pages = {
    admin: ['/admin', '/admin/people', `/admin/people?q=${encodeURIComponent(SCRIPT)}`, `/admin/people/${memberId}`, `/admin/people/${oddId}`,
      '/admin/organisations', '/admin/organisations/Z80001', '/admin/organisations/Z80002', `/admin/organisations?q=${encodeURIComponent(PAYLOAD)}`,
      '/admin/audit', `/admin/audit?actor=${encodeURIComponent(PAYLOAD)}&action=${encodeURIComponent(ATTR)}`, '/people', `/people/${memberId}`,
      `/people?q=${encodeURIComponent(PAYLOAD)}`, '/invitations', '/join/requests', '/account'],
    executive: ['/pressure', '/pressure/escalations', `/pressure/escalations/${escalation}`, `/pressure/returns/${returnId}`,
      '/pressure/practices/Z80001', '/pressure/periods', `/people/${memberId}`],
    lead: ['/pressure', '/pressure/practices/Z80001', '/pressure/practices/Z80001/return', `/pressure/returns/${returnId}`, '/invitations', '/people'],
    member: ['/account', '/account/profile', '/people', `/people/${memberId}`, '/account/tokens'],
    partner: ['/people', `/people/${memberId}`],
  };
  let shown = 0;
  for (const [who, paths] of Object.entries(pages)) {
    for (const path of paths) {
      const r = await as[who].get(path);
      assert.ok([200, 400, 404].includes(r.status), `${who} ${path}: ${r.status}`); // 400: a filter refused, with the form kept
      assertSafe(`${who} ${path}`, r.text);
      if (r.text.includes('&lt;script&gt;alert(')) shown++;
    }
  }
  assert.ok(shown >= 15, `the payloads were shown, escaped, on ${shown} pages`);
  // Sign-in and search keep what was typed.
  const anon = new Client(shoal.url);
  const r = await anon.post('/sign-in', { email: PAYLOAD, password: 'x' }, { from: '/sign-in' });
  assertSafe('the refused sign-in', r.text);
  assertSafe('sign-in next', (await anon.get(`/sign-in?next=${encodeURIComponent(JSURL)}`)).text);
});

test('the API answers the payloads as JSON strings, exactly as stored, never as HTML', async () => {
  const r = await as.member.get('/api/v1/me');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(JSON.parse(r.text).name, `${FORMULA} ${PAYLOAD}`);
});

test('the audit CSV defuses formulas and quotes every payload', async () => {
  const r = await as.admin.get('/admin/audit.csv');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/csv/);
  assert.ok(r.text.includes('cmd|'), 'the organisation rename is in the CSV');
  // Every field, unquoted: none may begin with a character a spreadsheet reads as a formula.
  const fields = [];
  for (const m of r.text.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,\r\n]*)/gm)) {
    fields.push(m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1]);
  }
  for (const f of fields) assert.doesNotMatch(f, /^[=+\-@\t\r]/, `a CSV field that a spreadsheet would run: ${f.slice(0, 60)}`);
});

test('HTML emails escape names; plain-text ones are plain text', async () => {
  const rows = sql(shoal.db, "SELECT coalesce(body_html, '') FROM outbox WHERE to_address = 'xss-invite@riverside.wyvern.example'");
  assert.ok(rows.length >= 0);
  assertSafe('the invitation email', rows);
  const all = sql(shoal.db, "SELECT coalesce(body_html, '') FROM outbox");
  assertSafe('every HTML email', all);
});
