// tests/http/backup.test.mjs — `shoal backup` while people are using Shoal, and
// `shoal restore` into a new database: the copy is consistent (integrity check,
// an unbroken audit chain) and complete (everything committed before it began).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoal, backend, run, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

test('a backup taken under write load restores into a complete, consistent database', { skip: backend !== 'sqlite' && 'SQLite only; PostgreSQL uses pg_dump' }, async () => {
  const shoal = await startShoal();
  const dir = mkdtempSync(join(tmpdir(), 'shoal-backup-'));
  try {
    // Writers: a practice lead amending the practice's pressure return over and over, two
    // at a time (a cheap write with an audit entry each time; failed sign-ins would be
    // mostly argon2id hashing).
    let stop = false;
    const lead = new Client(shoal.url);
    assert.equal((await lead.signIn(demo.lead)).status, 303);
    const form = '/pressure/practices/Z80001/return';
    const period = (await lead.get(form)).text.match(/name="period" value="(\d+)"/)[1];
    const amend = async () => {
      let n = 0;
      while (!stop) {
        const r = await lead.post(form, { period, level: String(1 + (n % 2)), comments: `amendment ${n}` });
        assert.equal(r.status, 303, 'the amendment is accepted');
        n++;
      }
      return n;
    };
    const writers = [amend(), amend()];
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 3; i++) {
      const before = Number(sql(shoal.db, 'SELECT count(*) FROM audit_log'));
      const file = join(dir, `backup-${i}.db`);
      const b = await run(['backup', '--db', shoal.db, file]);
      assert.equal(b.status, 0, b.stderr);
      assert.match(b.stdout, /integrity checked/);
      const restored = `sqlite:${join(dir, `restored-${i}.db`)}`;
      const r = await run(['restore', '--db', restored, file]);
      assert.equal(r.status, 0, r.stderr);
      const verify = await run(['audit', 'verify', '--db', restored]);
      assert.equal(verify.status, 0, verify.stdout + verify.stderr);
      assert.ok(Number(sql(restored, 'SELECT count(*) FROM audit_log')) >= before, 'nothing committed before the backup is missing');
      assert.equal(sql(restored, 'PRAGMA integrity_check'), 'ok');
      assert.equal(sql(restored, "SELECT count(*) FROM organisations WHERE kind = 'practice'"), '24');
    }
    stop = true;
    const written = (await Promise.all(writers)).reduce((a, b) => a + b, 0);
    assert.ok(written > 10, `the writers kept writing during the backups (${written} amendments)`);
    // The restored copy serves: a member signs in to it.
    const copy = await startShoal({ db: `sqlite:${join(dir, 'restored-2.db')}`, demo: false });
    try {
      assert.equal((await new Client(copy.url).signIn(demo.member)).status, 303);
    } finally {
      await copy.stop();
    }
  } finally {
    await shoal.stop();
  }
});

test('backup and restore never overwrite, and say what to do for PostgreSQL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-backup-'));
  let r = await run(['backup', '--db', 'postgresql:///shoal?host=/nonexistent', join(dir, 'x.db')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /pg_dump/);
  const db = `sqlite:${join(dir, 'live.db')}`;
  assert.equal((await run(['migrate', '--db', db])).status, 0);
  const file = join(dir, 'copy.db');
  assert.equal((await run(['backup', '--db', db, file])).status, 0);
  r = await run(['backup', '--db', db, file]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /already exists/);
  r = await run(['restore', '--db', db, file]);
  assert.equal(r.status, 1, 'restore into a database that exists is refused');
  assert.match(r.stderr, /already exists/);
  r = await run(['restore', '--db', `sqlite:${join(dir, 'new.db')}`, join(dir, 'missing.db')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot read/);
  assert.equal(existsSync(join(dir, 'new.db')), false, 'nothing half-made is left behind');
  r = await run(['backup', '--db', db]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /missing FILE/);
});
