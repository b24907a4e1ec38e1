// tests/lib/shoal.mjs — starts a real `shoal` for a test file, on a fresh
// database of the backend under test, on a random port.
//
// SHOAL_BIN names the binary (plain or sanitized build); SHOAL_TEST_BACKEND is
// "sqlite" or "postgresql"; SHOAL_TEST_PG_DIR is the throwaway cluster that
// tests/run started (tests/pg-cluster.sh makes one database per test file).
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const bin = process.env.SHOAL_BIN || join(root, 'build', 'shoal');
export const backend = process.env.SHOAL_TEST_BACKEND || 'sqlite';

// SHOAL_TEST_WRAPPER runs `shoal serve` under another program, e.g.
// "valgrind --leak-check=full --error-exitcode=99" (make test-valgrind): the
// wrapper's words, split on spaces, come before the binary. A wrapped server
// starts slowly, so it is given longer to start.
const wrapper = (process.env.SHOAL_TEST_WRAPPER || '').split(' ').filter(Boolean);

let dbCounter = 0;

/** A URL for a new, empty database of the backend under test. */
export function freshDatabase(label = 't') {
  const name = `${label}_${process.pid}_${++dbCounter}`.replace(/[^a-z0-9_]/gi, '_').toLowerCase();
  if (backend === 'postgresql') {
    const dir = process.env.SHOAL_TEST_PG_DIR;
    if (!dir) throw new Error('SHOAL_TEST_PG_DIR is not set: run the tests through tests/run');
    return execFileSync(join(root, 'tests', 'pg-cluster.sh'), ['createdb', dir, name]).toString().trim();
  }
  return `sqlite:${join(mkdtempSync(join(tmpdir(), 'shoal-http-')), 'shoal.db')}`;
}

/**
 * Runs one SQL statement on the database at URL db with the engine's own
 * client and returns its output, trimmed: one row a line, columns joined by
 * "|", no headers. For a test to set up a state or look at what was written.
 */
export function sql(db, statement) {
  if (db.startsWith('sqlite:')) {
    // shoal's jobs thread may be writing: wait for its lock rather than fail.
    return execFileSync('sqlite3', ['-cmd', '.timeout 10000', db.replace(/^sqlite:/, ''), statement]).toString().trim();
  }
  return execFileSync('psql', ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', statement]).toString().trim();
}

/** Runs `shoal ARGS…` to completion; returns { status, stdout, stderr }. */
export function run(args, { env = {}, input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    if (input !== undefined) child.stdin.end(input);
    else child.stdin.end();
  });
}

/**
 * Migrates a fresh database (and loads the demo unless demo: false), then
 * starts `shoal serve` on a random port. Returns { url, db, child, stop(), log() }.
 */
export async function startShoal({ demo = true, db = freshDatabase(), extraArgs = [], env = {} } = {}) {
  for (const args of [['migrate', '--db', db], ...(demo ? [['demo', '--db', db]] : [])]) {
    const r = await run(args, { env });
    if (r.status !== 0) throw new Error(`shoal ${args[0]} failed: ${r.stderr}`);
  }
  const serveArgs = ['serve', '--db', db, '--listen', '127.0.0.1:0', ...extraArgs];
  const child = spawn(wrapper.length ? wrapper[0] : bin, wrapper.length ? [...wrapper.slice(1), bin, ...serveArgs] : serveArgs, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`shoal did not start: ${stderr}`)), wrapper.length ? 120000 : 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/on (http:\/\/[0-9.]+:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`shoal exited (${code}) before serving: ${stderr}`)));
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    url,
    db,
    child,
    exited,
    log: () => stderr,
    /** Sends SIGTERM and waits; resolves to the exit code (sanitizer reports fail the test). */
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const r = await exited;
      if (/ERROR: AddressSanitizer|runtime error:|LeakSanitizer|ERROR SUMMARY: [1-9]|definitely lost: [1-9]/.test(stderr)) {
        throw new Error(`sanitizer report from shoal:\n${stderr}`);
      }
      return r;
    },
  };
}
