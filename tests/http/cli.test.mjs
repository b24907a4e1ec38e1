// tests/http/cli.test.mjs — the command line as an IT lead meets it: help,
// versions, migrations, the demo, and one clear line for every bad setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { run, freshDatabase, startShoal, backend, sql } from '../lib/shoal.mjs';

const oneLine = (s) => s.trim().split('\n').length === 1;

test('shoal --help lists the commands, and each has its own --help', async () => {
  const r = await run(['--help']);
  assert.equal(r.status, 0);
  for (const c of ['serve', 'migrate', 'demo', 'version']) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
  for (const c of ['serve', 'migrate', 'demo', 'version']) {
    const h = await run([c, '--help']);
    assert.equal(h.status, 0, c);
    assert.match(h.stdout, new RegExp(`^Usage: shoal ${c}`), c);
  }
  const serve = await run(['serve', '--help']);
  assert.match(serve.stdout, /--listen HOST:PORT/);
  assert.match(serve.stdout, /--db URL/);
  assert.match(serve.stdout, /--config FILE/);
});

test('shoal version prints the version and schema', async () => {
  const r = await run(['version']);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^shoal \S+ \(schema version \d+\)$/m);
});

test('an unknown command or option is one line and exit 2', async () => {
  for (const args of [['frobnicate'], ['serve', '--colour', 'blue'], ['serve', 'stray'], ['demo', '--listen', '127.0.0.1:1'], ['version', '--db', 'sqlite:x']]) {
    const r = await run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.ok(oneLine(r.stderr), r.stderr);
  }
});

test('bad values name the setting and where it came from', async () => {
  let r = await run(['serve', '--listen', 'nonsense']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^shoal: bad setting listen \(from --listen\)/);
  assert.ok(oneLine(r.stderr));
  r = await run(['migrate'], { env: { SHOAL_DB: 'mysql://x' } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad setting db \(from SHOAL_DB\)/);
  r = await run(['serve', '--threads', 'many']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /bad setting threads/);
});

test('a corrupt or unknown config file is one line naming the file and line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-cfg-'));
  const bad = join(dir, 'bad.ini');
  writeFileSync(bad, '[server]\nlisten = 127.0.0.1:1\nthis line is broken\n');
  let r = await run(['migrate', '--config', bad]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /config file .*bad\.ini line 3/);
  assert.ok(oneLine(r.stderr));
  const unknown = join(dir, 'unknown.ini');
  writeFileSync(unknown, '[database]\nurl = sqlite:x.db\ncolour = blue\n');
  r = await run(['migrate'], { env: { SHOAL_CONFIG: unknown } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown setting \[database\] colour/);
  r = await run(['migrate', '--config', join(dir, 'missing.ini')]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot read config file/);
});

test('settings precedence: file < environment < flag', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-cfg-'));
  const file = join(dir, 'shoal.ini');
  writeFileSync(file, `[database]\nurl = sqlite:${dir}/from-file.db\n`);
  let r = await run(['migrate', '--config', file]);
  assert.equal(r.status, 0, r.stderr);
  r = await run(['migrate', '--config', file], { env: { SHOAL_DB: 'sqlite:/nonexistent-dir/env.db' } });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /nonexistent-dir\/env\.db/);
  r = await run(['migrate', '--config', file, '--db', `sqlite:${dir}/flag.db`], { env: { SHOAL_DB: 'sqlite:/nonexistent-dir/env.db' } });
  assert.equal(r.status, 0, r.stderr);
});

test('migrate applies once and then has nothing to do; demo is idempotent', async () => {
  const db = freshDatabase('cli');
  let r = await run(['migrate', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /schema version \d+ \([1-9]\d* migrations? applied\)/);
  r = await run(['migrate', '--db', db]);
  assert.match(r.stdout, /\(0 migrations applied\)/);
  for (let i = 0; i < 2; i++) {
    r = await run(['demo', '--db', db]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /fictional demo collective \(38 organisations\)/);
  }
});

test('serve and demo refuse a database that has not been migrated', async () => {
  const db = freshDatabase('unmigrated');
  for (const cmd of ['serve', 'demo']) {
    const r = await run([cmd, '--db', db, ...(cmd === 'serve' ? ['--listen', '127.0.0.1:0'] : [])]);
    assert.equal(r.status, 1, cmd);
    assert.match(r.stderr, /run `shoal migrate` first/);
    assert.ok(oneLine(r.stderr));
  }
});

test('a missing or unwritable database path is one clear line', async () => {
  let r = await run(['migrate', '--db', 'sqlite:/nonexistent-dir/shoal.db']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^shoal: cannot open SQLite database \/nonexistent-dir\/shoal\.db/);
  assert.ok(oneLine(r.stderr));
  r = await run(['migrate', '--db', 'sqlite:/proc/version/shoal.db']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot open SQLite database/);
});

test('an unreachable PostgreSQL is one clear line', async () => {
  const r = await run(['serve', '--db', 'postgresql:///shoal?host=/nonexistent-socket-dir', '--listen', '127.0.0.1:0']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^shoal: cannot connect to PostgreSQL/);
  assert.ok(oneLine(r.stderr), r.stderr);
});

test('an address already in use is one clear line', async () => {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  const db = freshDatabase('busy');
  await run(['migrate', '--db', db]);
  const r = await run(['serve', '--db', db, '--listen', `127.0.0.1:${port}`]);
  server.close();
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+/);
});

test('SIGTERM lets a request in flight finish before the server stops', async () => {
  const shoal = await startShoal({ demo: false });
  const { hostname, port } = new URL(shoal.url);
  const socket = net.connect(Number(port), hostname);
  await new Promise((r) => socket.on('connect', r));
  let reply = '';
  socket.on('data', (d) => (reply += d));
  // Half a request body, then the stop signal, then the rest.
  socket.write('POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n12345');
  await new Promise((r) => setTimeout(r, 300));
  shoal.child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(shoal.child.exitCode, null, 'still running while a request is in flight');
  socket.write('67890');
  const { code } = await shoal.stop();
  socket.destroy();
  assert.equal(code, 0);
  assert.match(reply, /^HTTP\/1\.1 405 /, 'the request in flight got its answer');
  assert.match(shoal.log(), /received SIGTERM/);
});

test(`a database newer than this shoal is refused with a clear message (${backend})`, async () => {
  const shoal = await startShoal({ demo: false });
  await shoal.stop();
  // Pretend a newer shoal migrated it, using the engine's own client.
  sql(shoal.db, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 0)");
  const r = await run(['serve', '--db', shoal.db, '--listen', '127.0.0.1:0']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /schema version 9999, newer than this shoal knows/);
  assert.ok(oneLine(r.stderr));
});
