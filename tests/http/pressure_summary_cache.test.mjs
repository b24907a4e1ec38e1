// tests/http/pressure_summary_cache.test.mjs — summaries are kept in memory
// (docs/pressure.md, "Speed"), and must never be stale: after a return is sent,
// amended (twice in the same second), changed or deleted behind Shoal's back, or an
// organisation changes, a server that has shown the figures before answers exactly
// what a second server that never computed them answers, for both audiences.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, run, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let warm, cold;
const tokens = {};
const executives = {};
let weeks; // [current, last week]

before(async () => {
  warm = await startShoal();
  for (const [who, scope] of [['lead', 'write'], ['partner', 'read']]) {
    const r = await run(['token', 'create', '--db', warm.db, '--email', demo[who], '--scope', scope]);
    assert.equal(r.status, 0);
    tokens[who] = r.stdout.trim();
  }
  // Fills the warm server's memory with the dashboard's weeks for both audiences.
  executives.warm = new Client(warm.url);
  assert.equal((await executives.warm.signIn(demo.executive)).status, 303);
  assert.equal((await executives.warm.get('/pressure/dashboard')).status, 200);
  const partner = new Client(warm.url);
  assert.equal((await partner.signIn(demo.partner)).status, 303);
  assert.equal((await partner.get('/pressure/dashboard')).status, 200);
  weeks = sql(warm.db, "SELECT id FROM pressure_periods WHERE kind = 'weekly' AND scope = 'all' AND opens_at <= " +
    `${Math.floor(Date.now() / 1000)} ORDER BY reference_day DESC LIMIT 2`).split('\n').map(Number);
  for (const id of weeks) assert.equal((await summary(warm, id)).status, 200);
});
after(async () => {
  for (const s of [warm, cold]) if (s) assert.equal((await s.stop()).code, 0, 'shoal stops cleanly on SIGTERM');
});

async function summary(server, period) {
  const res = await fetch(`${server.url}/api/v1/pressure/summary?period=${period}`, { headers: { authorization: `Bearer ${tokens.partner}` } });
  return { status: res.status, json: res.status === 200 ? await res.json() : null };
}

// The executive's dashboard without what differs from one page to the next.
async function dashboard(client) {
  const r = await client.get('/pressure/dashboard');
  assert.equal(r.status, 200);
  const main = r.text.slice(r.text.indexOf('<main'), r.text.indexOf('</main>'));
  return main.replace(/name="csrf" value="[^"]*"/g, '').replace(/nonce="[^"]*"/g, '');
}

// A server started now computes everything afresh: the warm one must agree with it.
async function assertAgree(what) {
  cold = await startShoal({ demo: false, db: warm.db });
  try {
    for (const id of weeks) assert.deepEqual((await summary(warm, id)).json, (await summary(cold, id)).json, `${what}: the summary of period ${id}`);
    // The same session (sessions are in the database): signing in again would reuse a code.
    executives.cold = new Client(cold.url);
    executives.cold.cookies = new Map(executives.warm.cookies);
    assert.equal(await dashboard(executives.warm), await dashboard(executives.cold), `${what}: the executive's dashboard`);
  } finally {
    assert.equal((await cold.stop()).code, 0);
    cold = null;
  }
}

async function send(body) {
  const res = await fetch(`${warm.url}/api/v1/pressure/returns`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.lead}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.ok(res.status === 201 || res.status === 200, `return sent: ${res.status}`);
}

test('a return sent and amended twice in a second shows at once, for both audiences', async () => {
  const before = (await summary(warm, weeks[0])).json;
  await send({ practice: 'Z80001', level: 1 });
  await send({ practice: 'Z80001', level: 4, consent: true });
  await send({ practice: 'Z80001', level: 3, consent: true });
  const after = (await summary(warm, weeks[0])).json;
  assert.notDeepEqual(after, before, 'the current week changed');
  assert.ok(after.named_practices.some((p) => p.ods_code === 'Z80001' && p.level === 3), JSON.stringify(after.named_practices));
  await assertAgree('after a return');
});

test('a closed week changed in the database, and an organisation changed, show at once', async () => {
  // Behind Shoal's back: the triggers keep the stamp whoever writes.
  sql(warm.db, `UPDATE pressure_returns SET level = CASE WHEN level = 4 THEN 1 ELSE level + 1 END WHERE period_id = ${weeks[1]}`);
  await assertAgree('after the returns of last week changed');
  sql(warm.db, `DELETE FROM pressure_escalations WHERE period_id = ${weeks[1]}`);
  sql(warm.db, `DELETE FROM pressure_returns WHERE period_id = ${weeks[1]} AND id = (SELECT min(id) FROM pressure_returns WHERE period_id = ${weeks[1]})`);
  await assertAgree('after a return of last week was deleted');
  // An import sets updated_at on what it changes.
  sql(warm.db, `UPDATE organisations SET list_size = list_size + 1000, updated_at = ${Math.floor(Date.now() / 1000) + 1} WHERE ods_code = 'Z80001'`);
  await assertAgree('after a list size changed');
});

test('a daily surge return changed moves the summary of its week', async () => {
  // The demo's surge fortnight: a week whose practices reported daily.
  const [week, day] = sql(warm.db, "SELECT w.id, d.id FROM pressure_periods w JOIN pressure_periods d ON d.kind = 'daily' " +
    `AND d.reference_day >= w.reference_day AND d.reference_day < ${backendDay('w.reference_day')} WHERE w.kind = 'weekly' ` +
    'ORDER BY w.reference_day, d.reference_day DESC LIMIT 1').split('|').map(Number);
  assert.ok(week && day, 'the demo has a surge week');
  weeks.push(week, day);
  const before = (await summary(warm, week)).json; // kept in memory from now
  assert.equal((await summary(warm, day)).status, 200);
  sql(warm.db, `UPDATE pressure_returns SET level = CASE WHEN level = 4 THEN 1 ELSE level + 1 END WHERE period_id = ${day}`);
  cold = await startShoal({ demo: false, db: warm.db });
  const fresh = (await summary(cold, week)).json;
  assert.equal((await cold.stop()).code, 0);
  cold = null;
  assert.notDeepEqual(fresh, before, 'the change shows in the week (the last day of a surge week stands for it)');
  await assertAgree('after daily returns changed');
});

// The day seven days after a day column, in the engine's own SQL.
function backendDay(column) {
  return warm.db.startsWith('sqlite:') ? `date(${column}, '+7 days')` : `to_char(CAST(${column} AS date) + 7, 'YYYY-MM-DD')`;
}
