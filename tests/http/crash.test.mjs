// tests/http/crash.test.mjs — crash safety: `shoal` is killed with SIGKILL in
// the middle of a burst of concurrent writes, restarted on the same database,
// and every write acknowledged to a client (a 303 received) must be there, the
// database must be consistent (SQLite: integrity_check and foreign_key_check;
// PostgreSQL: every foreign key and check constraint re-checked by query), and
// the audit chain must verify.
//
// Each kind of write is one entry in `writers`: how to make the n-th write as
// one client, and how to check afterwards that the acknowledged ones were kept.
// A new feature that writes (discussion posts, say) adds an entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, backend, run, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

const orgId = (db, ods) => sql(db, `SELECT id FROM organisations WHERE ods_code = '${ods}'`);
const q = (s) => `'${String(s).replace(/'/g, "''")}'`;

const writers = [
  {
    // A practice lead amends the practice's pressure return; the last amendment
    // acknowledged (or a later one in flight at the kill) must be what is stored.
    name: 'pressure return amendments',
    async setup(shoal, who, ods) {
      const c = new Client(shoal.url);
      assert.equal((await c.signIn(who)).status, 303);
      const form = `/pressure/practices/${ods}/return`;
      const period = (await c.get(form)).text.match(/name="period" value="(\d+)"/)[1];
      return { c, form, period, ods };
    },
    clients: [
      [demo.lead, 'Z80001'],
      [demo.otherLead, 'Z80014'],
    ],
    async write(s, n) {
      const r = await s.c.post(s.form, { period: s.period, level: String(1 + (n % 3)), comments: `crash amendment ${n}` });
      return r.status === 303;
    },
    verify(db, s, acked) {
      if (!acked.length) return;
      const stored = sql(db, `SELECT r.comments FROM pressure_returns r JOIN organisations o ON o.id = r.organisation_id WHERE o.ods_code = ${q(s.ods)} AND r.period_id = ${s.period}`);
      const m = stored.match(/^crash amendment (\d+)$/);
      assert.ok(m, `the return of ${s.ods} holds an amendment (${stored})`);
      assert.ok(Number(m[1]) >= Math.max(...acked), `${s.ods}: amendment ${Math.max(...acked)} was acknowledged, ${m[1]} is stored`);
    },
  },
  {
    // Invitations: a row, an audit entry and an email in the outbox, in one transaction.
    name: 'invitations',
    async setup(shoal, who, ods) {
      const c = new Client(shoal.url);
      assert.equal((await c.signIn(who)).status, 303);
      await c.get('/invitations/new');
      return { c, org: orgId(shoal.db, ods), tag: ods.toLowerCase() };
    },
    clients: [[demo.lead, 'Z80001']],
    async write(s, n) {
      const email = `crash-${s.tag}-${n}@riverside.wyvern.example`;
      const r = await s.c.post('/invitations/new', { name: `Crash Test ${n}`, email, role: 'member', organisation: s.org });
      return r.status === 303;
    },
    verify(db, s, acked) {
      for (const n of acked) {
        const email = `crash-${s.tag}-${n}@riverside.wyvern.example`;
        assert.equal(sql(db, `SELECT count(*) FROM invitations WHERE email = ${q(email)}`), '1', `invitation ${email}`);
        assert.equal(sql(db, `SELECT count(*) FROM outbox WHERE to_address = ${q(email)}`), '1', `its email`);
      }
    },
  },
  {
    // Profile saves by a member: the last acknowledged job title (or a later one) is stored.
    name: 'profile changes',
    async setup(shoal, who) {
      const c = new Client(shoal.url);
      assert.equal((await c.signIn(who)).status, 303);
      await c.get('/account/profile');
      return { c, who };
    },
    clients: [[demo.member], [demo.otherMember]],
    async write(s, n) {
      const r = await s.c.post('/account/profile', { 'job-title': `Crash title ${n}`, 'can-help-with': `Writes ${n}` });
      return r.status === 303;
    },
    verify(db, s, acked) {
      if (!acked.length) return;
      const stored = sql(db, `SELECT job_title FROM people WHERE email = ${q(s.who)}`);
      const m = stored.match(/^Crash title (\d+)$/);
      assert.ok(m && Number(m[1]) >= Math.max(...acked), `${s.who}: title ${Math.max(...acked)} acknowledged, "${stored}" stored`);
    },
  },
  {
    // Sign-ins: each acknowledged one has its session row and its audit entry.
    name: 'sign-ins',
    async setup(shoal, who) {
      return { url: shoal.url, who, sessions: [] };
    },
    clients: [[demo.otherLead]],
    async write(s, n) {
      const c = new Client(s.url);
      const r = await c.signIn(s.who);
      if (r.status !== 303) return false;
      s.sessions.push(c);
      return true;
    },
    verify(db, s, acked) {
      // Other writers' setup signs this person in too: at least this many of each.
      const audited = Number(sql(db, `SELECT count(*) FROM audit_log WHERE action = 'sign-in' AND actor = ${q(s.who)}`));
      assert.ok(audited >= acked.length, `${acked.length} sign-ins acknowledged, ${audited} audited`);
      const sessions = Number(sql(db, `SELECT count(*) FROM sessions s JOIN people p ON p.id = s.person_id WHERE p.email = ${q(s.who)}`));
      assert.ok(sessions >= acked.length, `${acked.length} sign-ins acknowledged, ${sessions} sessions`);
    },
  },
];

/** Consistency of the whole database after the crash. */
function assertConsistent(db) {
  if (backend === 'sqlite') {
    assert.equal(sql(db, 'PRAGMA integrity_check'), 'ok');
    assert.equal(sql(db, 'PRAGMA foreign_key_check'), '', 'no row refers to a missing one');
    return;
  }
  // PostgreSQL enforces constraints as it writes; re-check them all by query, so
  // that a constraint left NOT VALID or a disabled trigger would still be caught.
  const fks = sql(db, `SELECT c.conrelid::regclass, a.attname, c.confrelid::regclass, af.attname
      FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
      WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1 AND c.connamespace = 'public'::regnamespace`);
  assert.ok(fks.length > 0, 'foreign keys found');
  const probes = [];
  for (const line of fks.split('\n')) {
    const [t, col, rt, rcol] = line.split('|');
    probes.push([`${t}.${col} -> ${rt}.${rcol}`, `SELECT count(*) FROM ${t} x WHERE x.${col} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${rt} y WHERE y.${rcol} = x.${col})`]);
  }
  const checks = sql(db, `SELECT conrelid::regclass, pg_get_constraintdef(oid) FROM pg_constraint
      WHERE contype = 'c' AND connamespace = 'public'::regnamespace`);
  for (const line of checks.split('\n').filter(Boolean)) {
    const [t, def] = [line.slice(0, line.indexOf('|')), line.slice(line.indexOf('|') + 1)];
    probes.push([`${t} ${def}`, `SELECT count(*) FROM ${t} WHERE NOT ${def.replace(/^CHECK /, '').replace(/ NOT VALID$/, '')}`]);
  }
  // One psql run for all of them: each probe answers its number of bad rows.
  const counts = sql(db, probes.map(([, probe]) => `(${probe})`).join(' UNION ALL ')).split('\n');
  // UNION ALL keeps order in practice but not by contract: every count must be 0.
  assert.equal(counts.length, probes.length);
  assert.deepEqual(counts.filter((n) => n !== '0'), [], `rows break a constraint: ${probes.map(([name], i) => counts[i] !== '0' && name).filter(Boolean).join('; ')}`);
  assert.equal(sql(db, `SELECT count(*) FROM pg_constraint WHERE NOT convalidated AND connamespace = 'public'::regnamespace`), '0', 'every constraint validated');
}

test('SIGKILL during concurrent writes loses nothing acknowledged and leaves the database consistent', async () => {
  const shoal = await startShoal();
  const states = [];
  try {
    for (const w of writers) {
      for (const args of w.clients) states.push({ w, s: await w.setup(shoal, ...args), acked: [] });
    }
  } catch (e) {
    await shoal.stop();
    throw e;
  }
  let killed = false;
  const loop = async (entry) => {
    for (let n = 1; !killed; n++) {
      try {
        if (await entry.w.write(entry.s, n)) entry.acked.push(n);
      } catch {
        // The connection died with the server: this write was never acknowledged.
      }
    }
  };
  const loops = states.map(loop);
  // Kill once every kind of write has been acknowledged at least once (sign-ins
  // are slow under the sanitizers and valgrind), while all of them are in flight.
  const started = Date.now();
  while (states.some((e) => e.acked.length === 0) && Date.now() - started < 120000)
    await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 1000));
  shoal.child.kill('SIGKILL');
  await shoal.exited;
  killed = true;
  await Promise.all(loops);
  const total = states.reduce((a, e) => a + e.acked.length, 0);
  for (const e of states) assert.ok(e.acked.length > 0, `${e.w.name}: some writes were acknowledged before the kill`);

  // Restart on the same database: it must come up and serve.
  const again = await startShoal({ db: shoal.db, demo: false });
  try {
    assert.equal((await fetch(again.url + '/healthz')).status, 200);
    for (const e of states) e.w.verify(shoal.db, e.s, e.acked);
    assertConsistent(shoal.db);
    const verify = await run(['audit', 'verify', '--db', shoal.db]);
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /audit trail intact/);
    // And it still takes writes.
    const c = new Client(again.url);
    assert.equal((await c.signIn(demo.member)).status, 303);
  } finally {
    await again.stop();
  }
  assert.ok(total > 10, `${total} writes acknowledged before the kill`);
});
