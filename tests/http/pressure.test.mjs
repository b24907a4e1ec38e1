// tests/http/pressure.test.mjs — pressure returns as practices and the
// executive meet them: the return form and its validation, one return per
// practice per period (amend, late, closed period), the calculated level,
// confidentiality (who sees a practice's returns, and the audit of views from
// outside the practice), and escalation with a response the practice sees.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let shoal;
before(async () => {
  shoal = await startShoal();
});
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0, 'shoal stops cleanly on SIGTERM');
});

async function as(who) {
  const c = new Client(shoal.url);
  const r = await c.signIn(demo[who]);
  assert.equal(r.status, 303, `${who} signs in`);
  return c;
}

function periodOf(text) {
  return text.match(/name="period" value="(\d+)"/)[1];
}

const form = '/pressure/practices/Z80001/return';

test('a practice lead sends a return, and sending it again amends the same one', async () => {
  const lead = await as('lead');
  let r = await lead.get('/pressure');
  assert.equal(r.status, 200);
  assert.match(r.text, /Send the return for Riverside Medical Centre/);
  r = await lead.get(form);
  assert.equal(r.status, 200);
  for (const w of ['Green', 'Amber', 'Red', 'Black', 'OPEL 4', 'inputmode="numeric"'])
    assert.ok(r.text.includes(w), `the form shows ${w}`);
  const period = periodOf(r.text);
  const fields = { period, level: '2', appts_gp: '180', appts_nurse: '60', clinical_staff: '20',
    staff_pct: '88', absences: '2', nhs111: '3', comments: 'Flu clinics this week' };
  r = await lead.post(form, fields);
  assert.equal(r.status, 303);
  assert.equal(r.location, '/pressure/practices/Z80001?sent=1');
  r = await lead.get(r.location);
  assert.match(r.text, /Your pressure return has been sent/);
  assert.match(r.text, /Amber/);
  // A double click: the same form again amends, never duplicates.
  r = await lead.post(form, { ...fields, level: '3' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/pressure/practices/Z80001?sent=2');
  const org = sql(shoal.db, "SELECT id FROM organisations WHERE ods_code = 'Z80001'");
  assert.equal(sql(shoal.db, `SELECT count(*), max(level) FROM pressure_returns WHERE organisation_id = ${org} AND period_id = ${period}`), '1|3');
  // The form opens with what was sent, to change it.
  r = await lead.get(form);
  assert.match(r.text, /already sent a return for this period/);
  assert.match(r.text, /value="180"/);
  assert.match(r.text, /Flu clinics this week<\/textarea>/);
});

test('bad figures get a clear message on the field, status 400, and what was typed is kept', async () => {
  const lead = await as('otherLead');
  let r = await lead.get('/pressure/practices/Z80014/return');
  const period = periodOf(r.text);
  r = await lead.post('/pressure/practices/Z80014/return', { period, appts_gp: '-4', clinical_staff: '10',
    absences: '12', staff_pct: '140', nhs111: 'lots', comments: 'kept <b>text</b>' });
  assert.equal(r.status, 400);
  assert.match(r.text, /There is a problem/);
  assert.match(r.text, /Select your practice&#39;s level of pressure|Select your practice's level of pressure/);
  assert.match(r.text, /GP appointments must be 0 or more/);
  assert.match(r.text, /Clinical staff absent must be no more than clinical staff employed/);
  assert.match(r.text, /between 0 and 100/);
  assert.match(r.text, /Enter NHS 111 bookings as a whole number/);
  assert.match(r.text, /value="-4"/);
  assert.match(r.text, /kept &lt;b&gt;text&lt;\/b&gt;/);
  assert.match(r.text, /<title>Error:/);
  // Appointments beyond reason for the list size.
  r = await lead.post('/pressure/practices/Z80014/return', { period, level: '1', appts_gp: '90000' });
  assert.equal(r.status, 400);
  assert.match(r.text, /more than 200 for every 1,000 patients/);
  const org = sql(shoal.db, "SELECT id FROM organisations WHERE ods_code = 'Z80014'");
  assert.equal(sql(shoal.db, `SELECT count(*) FROM pressure_returns WHERE organisation_id = ${org} AND period_id = ${period}`), '0');
});

test('only leads and staff a lead authorised may send; other practices may not', async () => {
  const member = await as('member');
  let r = await member.get(form);
  assert.equal(r.status, 403);
  assert.match(r.text, /Ask your practice lead/);
  const other = await as('otherLead');
  r = await other.get(form);
  assert.equal(r.status, 403);
  r = await other.post(form, { period: '1', level: '1' }, { from: '/pressure' });
  assert.equal(r.status, 403);
  const exec = await as('executive');
  r = await exec.get(form);
  assert.equal(r.status, 403, 'the executive sees returns but does not send them');
});

test('after the deadline a change is marked late; a closed period is refused clearly', async () => {
  const lead = await as('lead');
  let r = await lead.get(form);
  const period = periodOf(r.text);
  sql(shoal.db, `UPDATE pressure_periods SET deadline_at = 1000 WHERE id = ${period}`);
  r = await lead.get(form);
  assert.match(r.text, /The deadline has passed/);
  r = await lead.post(form, { period, level: '2' });
  assert.equal(r.status, 303);
  r = await lead.get('/pressure/practices/Z80001');
  assert.match(r.text, /\(late\)/);
  // A form opened for a period that has since closed.
  r = await lead.post(form, { period: '999999', level: '2', appts_gp: '77' });
  assert.equal(r.status, 409);
  assert.match(r.text, /has closed/);
  assert.match(r.text, /value="77"/);
});

test('the calculated level sits beside the declared one, and a gap of 2 is flagged', async () => {
  const lead = await as('otherLead');
  let r = await lead.get('/pressure/practices/Z80014/return');
  r = await lead.post('/pressure/practices/Z80014/return', { period: periodOf(r.text), level: '1', staff_pct: '75' });
  assert.equal(r.status, 303);
  r = await lead.get('/pressure/practices/Z80014');
  assert.match(r.text, /Calculated level <\/span><strong class="nhsuk-tag nhsuk-tag--red">Red<\/strong>/);
  assert.match(r.text, /2 or more levels apart/);
});

test("a practice's returns are seen only by its staff and the executive; outside views are audited", async () => {
  const member = await as('member');
  let r = await member.get('/pressure/practices/Z80001');
  assert.equal(r.status, 200, 'staff of the practice see its returns');
  for (const who of ['otherMember', 'otherLead']) {
    const c = await as(who);
    r = await c.get('/pressure/practices/Z80001');
    assert.equal(r.status, 403, `${who} cannot see another practice's returns`);
  }
  const partner = await as('partner');
  r = await partner.get('/pressure/practices/Z80001');
  assert.equal(r.status, 403);
  const before = Number(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'pressure-return-viewed'"));
  const exec = await as('executive');
  r = await exec.get('/pressure/practices/Z80001');
  assert.equal(r.status, 200);
  const afterViews = Number(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'pressure-return-viewed'"));
  assert.equal(afterViews, before + 1, "the executive's view is in the audit trail");
  await member.get('/pressure/practices/Z80001');
  assert.equal(Number(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'pressure-return-viewed'")), afterViews,
    "the practice's own views are not");
});

test('a Black return alerts the executive, who records a response the practice then sees', async () => {
  const lead = await as('otherLead');
  let r = await lead.get('/pressure/practices/Z80014/return');
  r = await lead.post('/pressure/practices/Z80014/return', { period: periodOf(r.text), level: '4', incident: 'critical',
    incident_detail: 'Phones down all day' });
  assert.equal(r.status, 303);
  const mails = sql(shoal.db, `SELECT to_address, subject FROM outbox WHERE subject LIKE 'Black alert%'`);
  assert.match(mails, /chair@wyvern\.example\|Black alert: Harbour Medical Practice/);
  // A retried request raises no second alert.
  r = await lead.post('/pressure/practices/Z80014/return', { period: periodOf((await lead.get('/pressure/practices/Z80014/return')).text), level: '4' });
  assert.equal(sql(shoal.db, `SELECT count(*) FROM outbox WHERE subject LIKE 'Black alert: Harbour%'`), mails.split('\n').length.toString());
  const exec = await as('executive');
  r = await exec.get('/pressure/escalations');
  assert.equal(r.status, 200);
  assert.match(r.text, /Harbour Medical Practice \(Z80014\)/);
  const id = sql(shoal.db, "SELECT e.id FROM pressure_escalations e JOIN organisations o ON o.id = e.organisation_id WHERE o.ods_code = 'Z80014' AND e.kind = 'black' AND e.responded_at IS NULL");
  r = await exec.post(`/pressure/escalations/${id}`, { contact: '', support: '' }, { from: `/pressure/escalations/${id}` });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter who made contact with the practice/);
  r = await exec.post(`/pressure/escalations/${id}`, { contact: 'Dr Priya Shah by phone', support: 'Two GP sessions of mutual aid from Quayside' });
  assert.equal(r.status, 303);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'pressure-escalation-responded'"), '1');
  r = await lead.get('/pressure/practices/Z80014');
  assert.match(r.text, /Dr Priya Shah by phone/);
  assert.match(r.text, /Two GP sessions of mutual aid from Quayside/);
});

test('a Red return asks for contact within one working day; three in a row raise a review', async () => {
  // Harbour's demo history ends Red, Black; a Red now makes three in a row.
  const lead = await as('otherLead');
  let r = await lead.get('/pressure/practices/Z80014/return');
  r = await lead.post('/pressure/practices/Z80014/return', { period: periodOf(r.text), level: '3' });
  assert.equal(r.status, 303);
  const kinds = sql(shoal.db, "SELECT e.kind FROM pressure_escalations e JOIN organisations o ON o.id = e.organisation_id JOIN pressure_periods p ON p.id = e.period_id WHERE o.ods_code = 'Z80014' AND p.closes_at > strftime('%s','now') ORDER BY e.kind".replace("strftime('%s','now')", String(Math.floor(Date.now() / 1000))));
  assert.match(kinds, /red/);
  assert.match(kinds, /review/);
  const respondBy = Number(sql(shoal.db, "SELECT e.respond_by - e.created_at FROM pressure_escalations e WHERE e.kind = 'red' ORDER BY e.id DESC LIMIT 1"));
  assert.ok(respondBy >= 86400 - 7200 && respondBy <= 3 * 86400 + 7200, `respond within one working day (${respondBy} s)`);
});

test('a lead authorises staff to send returns; the member can then send one', async () => {
  const lead = await as('lead');
  let r = await lead.get('/pressure/practices/Z80001/reporters');
  assert.equal(r.status, 200);
  assert.match(r.text, /Allow them to send returns/);
  const gp = sql(shoal.db, `SELECT id FROM people WHERE email = '${demo.member}'`);
  r = await lead.post('/pressure/practices/Z80001/reporters', { person: gp, may_report: 'yes' });
  assert.equal(r.status, 303);
  const member = await as('member');
  r = await member.get(form);
  assert.equal(r.status, 200);
  r = await member.post(form, { period: periodOf(r.text), level: '1' });
  assert.equal(r.status, 303);
  // Another practice's lead cannot change Riverside's reporters.
  const other = await as('otherLead');
  r = await other.post('/pressure/practices/Z80001/reporters', { person: gp, may_report: 'no' }, { from: '/pressure' });
  assert.equal(r.status, 403);
});

test('the executive declares a surge: practices there switch to daily returns until it ends', async () => {
  const exec = await as('executive');
  let r = await exec.get('/pressure/periods');
  assert.equal(r.status, 200);
  assert.match(r.text, /Who has returned/);
  assert.match(r.text, /Missing/);
  r = await exec.post('/pressure/surges', { starts_on: 'tomorrow', ends_on: '2020-01-01' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Select the localities in the surge/);
  assert.match(r.text, /Enter the first day of the surge as a date/);
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
  const south = sql(shoal.db, "SELECT id FROM organisations WHERE ods_code = 'LOCZ2'");
  r = await exec.post('/pressure/surges', { locality: south, starts_on: today, ends_on: today, reason: 'Storm' });
  assert.equal(r.status, 303);
  const lead = await as('otherLead');
  r = await lead.get('/pressure/practices/Z80014/return');
  assert.match(r.text, /\(daily, surge\)/, 'Harbour, in South Wyvern, reports daily');
  const riverside = await as('lead');
  r = await riverside.get(form);
  assert.match(r.text, /week beginning/, 'Riverside, in North Wyvern, still reports weekly');
  const surge = sql(shoal.db, 'SELECT max(id) FROM pressure_surges');
  r = await exec.post(`/pressure/surges/${surge}/end`, {}, { from: '/pressure/periods' });
  assert.equal(r.status, 303);
  r = await lead.get('/pressure/practices/Z80014/return');
  assert.match(r.text, /week beginning/, 'back to weekly once the surge ends');
  r = await exec.post('/pressure/settings', { reference_weekday: '1', deadline_weekday: '4', deadline_time: '25:00' }, { from: '/pressure/periods' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter the deadline time on the 24-hour clock/);
});
