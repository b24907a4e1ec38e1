// tests/http/bench_tools.test.mjs — the tools of `make bench` (bench/) keep working:
// the generator fills a new database with a small region that Shoal serves (a
// generated member signs in and reads a 60-post thread), and the raw-insert limit
// runs. The benchmark itself is not part of `make test`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { backend, bin, freshDatabase, sql, startShoal } from '../lib/shoal.mjs';
import { Client } from '../lib/client.mjs';

const tool = (name) => join(dirname(bin), 'bench', name);

test('shoal-bench-gen makes a small region that Shoal serves', async () => {
  const db = freshDatabase('bench');
  const out = execFileSync(tool('shoal-bench-gen'), ['--db', db, '--scale', '0.01']).toString();
  assert.match(out, /done in/);
  assert.equal(sql(db, "SELECT count(*) FROM organisations WHERE kind = 'practice'"), '15');
  assert.equal(sql(db, 'SELECT count(*) FROM people'), '200');
  assert.ok(Number(sql(db, 'SELECT count(*) FROM pressure_returns')) > 15 * 156, 'three years of weekly returns, and surges');
  assert.equal(sql(db, 'SELECT count(*) FROM posts'), sql(db, 'SELECT sum(post_count) FROM threads'));
  assert.ok(Number(sql(db, 'SELECT count(*) FROM post_reactions')) > 0, 'posts have reactions');
  assert.equal(sql(db, 'SELECT sum(agree_count + thanks_count) FROM posts'), sql(db, 'SELECT count(*) FROM post_reactions'), 'and carry their counts');
  // Refuses a database that has people in it already.
  assert.throws(() => execFileSync(tool('shoal-bench-gen'), ['--db', db], { stdio: 'pipe' }), /must be new and empty/);

  const shoal = await startShoal({ db, demo: false });
  try {
    const email = sql(db, "SELECT p.email FROM people p JOIN memberships m ON m.person_id = p.id WHERE m.lead = 0 AND p.role = 'member' ORDER BY p.id LIMIT 1");
    const member = new Client(shoal.url);
    assert.equal((await member.signIn(email, 'bench-password-2026')).status, 303);
    const thread = sql(db, "SELECT t.id FROM threads t JOIN spaces s ON s.id = t.space_id WHERE s.visibility = 'members' AND t.post_count = 60 ORDER BY t.id LIMIT 1");
    const r = await member.get(`/discussions/threads/${thread}?page=1`);
    assert.equal(r.status, 200);
    assert.equal((r.text.match(/id="post-\d+"/g) || []).length, 50, 'the first page shows 50 of the 60 posts');
  } finally {
    await shoal.stop();
  }
});

test('shoal-bench-raw measures durable inserts and leaves nothing behind', () => {
  const db = freshDatabase('raw');
  const out = execFileSync(tool('shoal-bench-raw'), ['--db', db, '--threads', '4', '--seconds', '1']).toString();
  assert.ok(Number(out.match(/inserts\/s: (\d+)/)[1]) > 0, out);
  assert.match(out, /failed: 0/);
  const tables = backend === 'sqlite' ? "SELECT count(*) FROM sqlite_master WHERE name = 'bench_raw'"
    : "SELECT count(*) FROM information_schema.tables WHERE table_name = 'bench_raw'";
  assert.equal(sql(db, tables), '0', 'the scratch table is dropped');
});
