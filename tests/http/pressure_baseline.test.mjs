// tests/http/pressure_baseline.test.mjs — the calculated level compares a return's
// appointments with the practice's baseline: its last eight returns with appointments,
// newest first by when their periods opened (not by id), this period left out; and a
// practice's page lists its returns in that order.
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

test("a return's calculated level uses the practice's last eight returns, newest first", async () => {
  const lead = new Client(shoal.url);
  assert.equal((await lead.signIn(demo.lead)).status, 303);
  let r = await lead.get('/pressure/practices/Z80001/return');
  const period = r.text.match(/name="period" value="(\d+)"/)[1];
  const org = sql(shoal.db, "SELECT id FROM organisations WHERE ods_code = 'Z80001'"); // list 14,210
  const person = sql(shoal.db, `SELECT id FROM people WHERE email = '${demo.lead}'`);
  const opens = Number(sql(shoal.db, `SELECT opens_at FROM pressure_periods WHERE id = ${period}`));
  const oldest = Number(sql(shoal.db, 'SELECT min(opens_at) FROM pressure_periods'));
  const addReturn = (day, opensAt, appts) => {
    const id = sql(shoal.db, 'INSERT INTO pressure_periods (kind, scope, reference_day, opens_at, deadline_at, closes_at, created_at) ' +
      `VALUES ('daily', 'all', '${day}', ${opensAt}, ${opensAt + 1}, ${opensAt + 2}, ${opensAt}) RETURNING id`);
    sql(shoal.db, 'INSERT INTO pressure_returns (period_id, organisation_id, level, appts_gp, list_size, submitted_by, submitted_at, updated_by, updated_at) ' +
      `VALUES (${id}, ${org}, 1, ${appts}, 14210, ${person}, ${opensAt}, ${person}, ${opensAt})`);
  };
  // Eight periods that opened just before this one: 142 appointments, 10.0 per 1,000.
  for (let k = 1; k <= 8; k++) addReturn(`2001-01-0${k}`, opens - k, 142);
  // Made last but the oldest of all, and far busier: the baseline must not see it,
  // nor the demo's own returns of the weeks before (9.1 to 11.3 per 1,000).
  addReturn('2001-02-01', oldest - 7 * 86400, 5000);
  // 185 is 13.0 per 1,000: 130% of the baseline, Red. Against a baseline that took in
  // any older return it would be Amber or Green.
  r = await lead.post('/pressure/practices/Z80001/return', { period, level: '1', appts_gp: '185' });
  assert.equal(r.status, 303);
  assert.equal(sql(shoal.db, `SELECT calculated_level FROM pressure_returns WHERE organisation_id = ${org} AND period_id = ${period}`), '3');
});

test("a practice's page lists its last sixty returns, newest first by when their periods opened", async () => {
  // Runs after the test above: Z80001 has the demo's returns (more than sixty), this
  // period's, eight that opened just before it, and one made last that opened first.
  const lead = new Client(shoal.url);
  assert.equal((await lead.signIn(demo.lead)).status, 303);
  const org = sql(shoal.db, "SELECT id FROM organisations WHERE ods_code = 'Z80001'");
  const returns = sql(shoal.db, 'SELECT r.id FROM pressure_returns r JOIN pressure_periods p ON p.id = r.period_id ' +
    `WHERE r.organisation_id = ${org} ORDER BY p.opens_at DESC, p.id DESC`).split('\n');
  assert.ok(returns.length > 60, `${returns.length} returns`);
  const made = sql(shoal.db, `SELECT r.id FROM pressure_returns r JOIN pressure_periods p ON p.id = r.period_id ` +
    `WHERE r.organisation_id = ${org} AND p.reference_day LIKE '2001-%' ORDER BY p.opens_at DESC`).split('\n');
  const page = await lead.get('/pressure/practices/Z80001');
  assert.equal(page.status, 200);
  const listed = [...page.text.matchAll(/<a href="\/pressure\/returns\/(\d+)">/g)].map((m) => m[1]);
  assert.deepEqual(listed, returns.slice(0, 60));
  assert.deepEqual(listed.slice(1, 9), made.slice(0, 8), 'the eight that opened just before this period follow it');
  assert.ok(!listed.includes(made[8]), 'the period made last but opened first is not listed');
});
