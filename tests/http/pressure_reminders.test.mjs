// tests/http/pressure_reminders.test.mjs — reminders before the deadline go,
// once, only to the practices that have not returned (their leads and the staff
// they authorised).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, freshDatabase, run, sql } from '../lib/shoal.mjs';

test('reminders go before the deadline only to practices without a return', async (t) => {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'long', hour: '2-digit', hour12: false })
    .formatToParts(new Date()).map((p) => [p.type, p.value]));
  if (Number(parts.hour) >= 23) return t.skip('too close to midnight in London');
  const weekday = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'].indexOf(parts.weekday) + 1;
  const db = freshDatabase('reminders');
  for (const args of [['migrate', '--db', db], ['demo', '--db', db]]) assert.equal((await run(args)).status, 0);
  // The deadline is today at 23:59, London: within a day, so reminders are due now.
  sql(db, `INSERT INTO settings (key, value) VALUES ('pressure_reference_weekday', '${weekday}'), ('pressure_deadline_weekday', '${weekday}'), ('pressure_deadline_time', '23:59')`);
  // Harbour has already returned for this period.
  const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date());
  const now = Math.floor(Date.now() / 1000);
  sql(db, `INSERT INTO pressure_periods (kind, scope, reference_day, opens_at, deadline_at, closes_at, created_at) VALUES ('weekly', 'all', '${today}', ${now - 3600}, ${now + 3600}, ${now + 86400}, ${now})`);
  sql(db, `INSERT INTO pressure_returns (period_id, organisation_id, level, submitted_by, submitted_at, updated_by, updated_at)
    SELECT p.id, o.id, 2, u.id, ${now}, u.id, ${now} FROM pressure_periods p, organisations o, people u
    WHERE p.reference_day = '${today}' AND p.kind = 'weekly' AND o.ods_code = 'Z80014' AND u.email = 'lead@harbour.wyvern.example'`);
  const shoal = await startShoal({ demo: false, db });
  try {
    // The job reminds one practice at a time: wait until it has done them all (or
    // until it is clear it will not), then look at what it sent.
    let reminded = '';
    for (let i = 0; i < 100 && sql(db, 'SELECT count(*) FROM pressure_reminders') !== '23'; i++)
      await new Promise((r) => setTimeout(r, 200));
    reminded = sql(db, "SELECT to_address FROM outbox WHERE subject LIKE 'Pressure return due%' ORDER BY to_address");
    assert.match(reminded, /lead@riverside\.wyvern\.example/);
    assert.match(reminded, /nurse@castlegate\.wyvern\.example/, 'staff the lead authorised are reminded too');
    assert.doesNotMatch(reminded, /gp@riverside/, 'staff who do not report are not');
    assert.doesNotMatch(reminded, /lead@harbour/, 'a practice that has returned is not');
    assert.equal(sql(db, 'SELECT count(*) FROM pressure_reminders'), '23', 'one reminder per practice without a return');
  } finally {
    const { code } = await shoal.stop();
    assert.equal(code, 0);
  }
});
