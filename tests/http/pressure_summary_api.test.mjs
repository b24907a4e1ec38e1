// tests/http/pressure_summary_api.test.mjs — sending a pressure return through
// the JSON API: the smallest valid body, one return per practice per period
// (a retried request amends), the return form's checks as JSON errors, and who
// may send for which practice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, run, sql } from '../lib/shoal.mjs';
import { demo } from '../lib/client.mjs';

let shoal;
const tokens = {};
before(async () => {
  shoal = await startShoal();
  for (const [who, scope] of [['lead', 'write'], ['member', 'write'], ['partner', 'read'], ['executive', 'write']]) {
    const r = await run(['token', 'create', '--db', shoal.db, '--email', demo[who], '--scope', scope]);
    assert.equal(r.status, 0, `a ${scope} token for ${who}`);
    tokens[who] = r.stdout.trim();
  }
});
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0, 'shoal stops cleanly on SIGTERM');
});

async function api(who, method, path, body) {
  const headers = { authorization: `Bearer ${tokens[who]}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(shoal.url + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text };
}

const returns = '/api/v1/pressure/returns';
const count = () => sql(shoal.db, "SELECT count(*) FROM pressure_returns r JOIN organisations o ON o.id = r.organisation_id JOIN pressure_periods p ON p.id = r.period_id WHERE o.ods_code = 'Z80001' AND p.closes_at > " + Math.floor(Date.now() / 1000));

test('the smallest valid return is a practice and a level; sending again amends it', async () => {
  let r = await api('lead', 'POST', returns, { practice: 'Z80001', level: 2 });
  assert.equal(r.status, 201, r.text);
  assert.equal(r.json.practice, 'Z80001');
  assert.equal(r.json.level, 2);
  assert.equal(r.json.word, 'Amber');
  assert.equal(r.json.amended, false);
  const period = r.json.period;
  // A retried request: the same return, amended.
  r = await api('lead', 'POST', returns, { practice: 'Z80001', level: 3, appts_gp: 150, staff_pct: 75, consent: true, comments: 'Sent by the API' });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.amended, true);
  assert.equal(r.json.period, period);
  assert.equal(r.json.calculated_level, 3);
  assert.equal(count(), '1');
  // The escalation a Red return raises, as through the form.
  assert.match(sql(shoal.db, "SELECT e.kind FROM pressure_escalations e JOIN organisations o ON o.id = e.organisation_id WHERE o.ods_code = 'Z80001' AND e.period_id = " + period), /red/);
  // Read back through the API, and the audit trail says it came from the API.
  r = await api('lead', 'GET', `${returns}?practice=Z80001`);
  assert.equal(r.status, 200);
  assert.equal(r.json.returns[0].level, 3);
  assert.equal(r.json.returns[0].consent_to_share, true);
  assert.match(sql(shoal.db, "SELECT detail FROM audit_log WHERE action = 'pressure-return-amended' ORDER BY id DESC LIMIT 1"), /\(API\)/);
  // A period that is not the current one: 409, nothing saved.
  r = await api('lead', 'POST', returns, { practice: 'Z80001', level: 1, period: 1 });
  assert.equal(r.status, 409);
  assert.match(r.json.error, /period/);
  r = await api('lead', 'POST', returns, { practice: 'Z80001', level: 3, period });
  assert.equal(r.status, 200);
  // The columns' names are taken too (as make bench sends them), but not both names at once.
  r = await api('lead', 'POST', returns, { practice: 'Z80001', level: 3, staff_available_pct: 85, nhs111_bookings: 2 });
  assert.equal(r.status, 200, r.text);
  assert.equal(sql(shoal.db, `SELECT staff_available_pct || '|' || nhs111_bookings FROM pressure_returns WHERE id = ${r.json.id}`), '85|2');
  r = await api('lead', 'POST', returns, { practice: 'Z80001', level: 3, staff_available_pct: 85, staff_pct: 80 });
  assert.equal(r.status, 400);
  assert.match(r.json.error, /twice/);
});

test('bad returns get the form\'s messages as JSON, field by field, and change nothing', async () => {
  const before = sql(shoal.db, "SELECT count(*) || '|' || max(updated_at) FROM pressure_returns");
  const cases = [
    [{ practice: 'Z80001' }, 'level', /Select/],
    [{ practice: 'Z80001', level: 7 }, 'level', /Select/],
    [{ practice: 'Z80001', level: 2, appts_gp: -4 }, 'appts_gp', /0 or more/],
    [{ practice: 'Z80001', level: 2, staff_pct: 140 }, 'staff_pct', /between 0 and 100/],
    [{ practice: 'Z80001', level: 2, clinical_staff: 5, absences: 9 }, 'absences', /./],
    [{ practice: 'Z80001', level: 2, appts_gp: 90000 }, 'appts_gp', /./],
    [{ practice: 'Z80001', level: 2, incident: 'meteor' }, 'incident', /./],
    [{ practice: 'Z80001', level: 2, source: 999999 }, 'source', /./],
    [{ practice: 'Z80001', level: 2, comments: 'x'.repeat(4001) }, 'comments', /4,000/],
  ];
  for (const [body, field, message] of cases) {
    const r = await api('lead', 'POST', returns, body);
    assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 80)}: ${r.text.slice(0, 200)}`);
    assert.ok(r.json.errors && r.json.errors[field], `an error on ${field}: ${r.text.slice(0, 200)}`);
    assert.match(r.json.errors[field], message);
    assert.equal(typeof r.json.error, 'string');
  }
  for (const [body, message] of [
    ['[1, 2]', /JSON object/],
    [{ level: 2 }, /practice is required/],
    [{ practice: 12, level: 2 }, /ODS code/],
    [{ practice: 'Z80001', level: '2' }, /level must be a whole number/],
    [{ practice: 'Z80001', level: 2, consent: 'yes' }, /consent must be true or false/],
    [{ practice: 'Z80001', level: 2, comments: 5 }, /comments must be a string/],
    [{ practice: 'Z80001', level: 2, shoe_size: 9 }, /unknown field "shoe_size"/],
  ]) {
    const r = await api('lead', 'POST', returns, body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.match(r.json.error, message);
  }
  const r = await api('lead', 'POST', returns, '{"practice": "Z80001", "level": ');
  assert.equal(r.status, 400);
  assert.equal(sql(shoal.db, "SELECT count(*) || '|' || max(updated_at) FROM pressure_returns"), before);
});

test('only the practice\'s reporters may send its return; partners may not send at all', async () => {
  let r = await api('lead', 'POST', returns, { practice: 'Z80014', level: 2 });
  assert.equal(r.status, 403, 'a lead of another practice is refused');
  r = await api('member', 'POST', returns, { practice: 'Z80001', level: 2 });
  assert.equal(r.status, 403, 'staff the lead has not authorised are refused');
  assert.match(r.json.error, /practice lead/);
  r = await api('lead', 'POST', returns, { practice: 'NOSUCH', level: 2 });
  assert.equal(r.status, 404);
  r = await api('partner', 'POST', returns, { practice: 'Z80001', level: 2 });
  assert.equal(r.status, 403);
  r = await api('executive', 'POST', returns, { practice: 'Z80001', level: 2 });
  assert.equal(r.status, 403, 'the executive sees returns but does not send them');
  // Reading: partners never; the executive any practice (audited).
  r = await api('partner', 'GET', `${returns}?practice=Z80001`);
  assert.equal(r.status, 403);
  r = await api('executive', 'GET', `${returns}?practice=Z80014`);
  assert.equal(r.status, 200);
  assert.ok(Number(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'pressure-return-viewed' AND detail = 'Z80014'")) >= 1);
  // The summary: partners' suppression, whoever asks.
  r = await api('partner', 'GET', '/api/v1/pressure/summary');
  assert.equal(r.status, 200);
  assert.equal(r.json.minimum_group, 3);
  assert.equal(r.json.collective.practices, 24);
});
