#!/usr/bin/env node
// bench/run.mjs — `make bench`: Shoal against this machine's limits, at region scale, on
// SQLite and PostgreSQL. Read bench/README.md for what each figure means.
//
//   node bench/run.mjs [--backend sqlite|postgresql] [--scenario NAME] [--scale F]
//                      [--seconds S] [--no-callgrind] [--db URL] [--threads N]
//
// Every figure comes from this one run: a read scenario is measured alternately with
// nginx serving the same bytes as a static file, and writes beside raw durable inserts
// through the same database layer, so the ratios hold on a noisy machine. A scenario
// whose server answered anything but 2xx (counted from Shoal's own /metrics) reports
// no figure, only the error.
import { spawn, execFileSync } from 'node:child_process';
import net from 'node:net';
import { mkdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus, totalmem } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '../tests/lib/client.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// BENCH_BUILD: another build directory (a release build of a change beside main's).
const build = process.env.BENCH_BUILD || join(root, 'build-release');
// BENCH_WORK: another scratch directory, so that two runs can share the machine.
const work = process.env.BENCH_WORK || join(root, 'bench', 'work');
const shoalBin = join(build, 'shoal');
const genBin = join(build, 'bench', 'shoal-bench-gen');
const PASSWORD = 'bench-password-2026'; // bench/gen.h
const TOTP_SECRET = 'JBSWY3DPEHPK3PXP';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
const backends = opt('backend') ? [opt('backend')] : ['sqlite', 'postgresql'];
const only = opt('scenario');
const scale = opt('scale', '1');
const seconds = Number(opt('seconds', '5'));
const callgrind = !args.includes('--no-callgrind');
// An existing generated database (one backend): skips the generator, for profiling a
// change against the same data. Writes scenarios add rows to it.
const existingDb = opt('db');
const threads = opt('threads'); // shoal serve --threads (default: one per core)
const CONNECTIONS = 32;

const sh = (cmd, argv, o = {}) => execFileSync(cmd, argv, { encoding: 'utf8', ...o });
const log = (...m) => console.log(...m);

// ---------------------------------------------------------------- processes

function startProcess(cmd, argv, env = {}) {
  const child = spawn(cmd, argv, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  child.done = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  child.stderrText = () => stderr;
  return child;
}

// Polls url with a raw socket (fetch's first use costs tens of milliseconds itself)
// until it answers 200; returns the milliseconds waited.
async function waitForHttp(url, child, limitMs = 60000) {
  const { hostname, port, pathname } = new URL(url);
  const t0 = performance.now();
  const once = () => new Promise((resolve) => {
    const s = net.connect(Number(port), hostname);
    let got = '';
    s.on('connect', () => s.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`));
    s.on('data', (d) => { got += d; });
    s.on('error', () => resolve(false));
    s.on('close', () => resolve(got.startsWith('HTTP/1.1 200')));
  });
  for (;;) {
    if (await once()) return performance.now() - t0;
    if (child.exitCode !== null) throw new Error(`the server exited: ${child.stderrText()}`);
    if (performance.now() - t0 > limitMs) throw new Error(`no answer from ${url}`);
    await sleep(1);
  }
}

let nextPort = 18000 + Math.floor(Math.random() * 1000);

async function startShoal(db, { wrapper = [], threads: n = threads } = {}) {
  const port = nextPort++;
  const url = `http://127.0.0.1:${port}`;
  const argv = [...wrapper, shoalBin, 'serve', '--db', db, '--listen', `127.0.0.1:${port}`, '--quiet',
    ...(n ? ['--threads', String(n)] : [])];
  const t0 = performance.now();
  const child = startProcess(argv[0], argv.slice(1), { SHOAL_SMTP_URL: '', SHOAL_MAIL_DIR: join(work, 'mail') });
  await waitForHttp(`${url}/healthz`, child, wrapper.length ? 120000 : 30000);
  return { url, child, startMs: performance.now() - t0, port };
}

async function stop(child) {
  if (child.exitCode === null) child.kill('SIGTERM');
  return child.done;
}

function rssKb(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    return { rss: Number(s.match(/VmRSS:\s+(\d+)/)[1]), hwm: Number(s.match(/VmHWM:\s+(\d+)/)[1]) };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

// ---------------------------------------------------------------- databases

function query(db, statement, o = {}) {
  if (db.startsWith('sqlite:')) return sh('sqlite3', ['-cmd', '.timeout 10000', db.slice(7), statement], o).trim();
  return sh('psql', ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', statement], o).trim();
}

function freshDatabase(backend) {
  if (backend === 'sqlite') {
    const file = join(work, 'shoal.db');
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    return `sqlite:${file}`;
  }
  const pgdir = join(work, 'pg');
  sh(join(root, 'tests', 'pg-cluster.sh'), ['start', pgdir]);
  return sh(join(root, 'tests', 'pg-cluster.sh'), ['createdb', pgdir, 'shoal_bench']).trim();
}

// ---------------------------------------------------------------- load

// Runs wrk; returns { rps, p50, p99 } in ms, or { error }.
function wrk(url, { headers = {}, script, duration = seconds, connections = CONNECTIONS, env = {} } = {}) {
  const argv = ['-t' + Math.min(2, connections), `-c${connections}`, `-d${duration}s`, '--latency', '--timeout', '10s'];
  for (const [k, v] of Object.entries(headers)) argv.push('-H', `${k}: ${v}`);
  if (script) argv.push('-s', script);
  argv.push(url);
  const out = sh('wrk', argv, { env: { ...process.env, ...env } });
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)?.[1]);
  const ms = (label) => {
    const m = out.match(new RegExp(`^\\s+${label}%\\s+([\\d.]+)(us|ms|s)`, 'm'));
    if (!m) return NaN;
    return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]];
  };
  const socketErrors = out.match(/Socket errors: (.*)/)?.[1];
  const non2xx = Number(out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] || 0);
  if (!rps) return { error: `no request was answered within ${duration} s` };
  return { rps, p50: ms('50'), p99: ms('99'), requests: Number(out.match(/(\d+) requests in/)[1]), socketErrors, non2xx };
}

// Answers by status class for one route, from Shoal's /metrics (loopback only).
async function statusCounts(base, route, form = false) {
  const text = await (await fetch(`${base}/metrics`)).text();
  const counts = { ok: 0, bad: 0 };
  for (const m of text.matchAll(/^shoal_http_requests_total\{method="(\w+)",route="([^"]*)",status="(\d+)"\} (\d+)/gm)) {
    if (m[2] !== route) continue;
    if (m[3].startsWith('2') || (form && m[3] === '303')) counts.ok += Number(m[4]);
    else counts.bad += Number(m[4]);
  }
  return counts;
}

// ---------------------------------------------------------------- nginx

function startNginx(dir) {
  const port = nextPort++;
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(join(dir, 'nginx.conf'), `
worker_processes ${cpus().length};
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log;
daemon off;
events { worker_connections 1024; use epoll; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/tmp; proxy_temp_path ${dir}/tmp; fastcgi_temp_path ${dir}/tmp;
  uwsgi_temp_path ${dir}/tmp; scgi_temp_path ${dir}/tmp;
  types { text/html html; }
  server { listen 127.0.0.1:${port}; root ${dir}/www; }
}
`);
  const child = startProcess('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir]);
  return { child, url: `http://127.0.0.1:${port}` };
}

// ---------------------------------------------------------------- main

const results = [];
function record(backend, scenario, r, extra = {}) {
  results.push({ backend, scenario, ...r, ...extra });
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
  if (r.error) log(`  ${scenario.padEnd(34)} ERROR: ${r.error}`);
  else log(`  ${scenario.padEnd(34)} ${f(r.rps, 0).padStart(8)}/s  p50 ${f(r.p50, 2)} ms  p99 ${f(r.p99, 2)} ms` +
    (r.ratio ? `  ${f(r.ratio, 2)}× ${r.limitName}` : '') + (r.rssKb ? `  RSS ${(r.rssKb / 1024).toFixed(1)} MB` : ''));
}

async function main() {
  mkdirSync(work, { recursive: true });
  for (const backend of backends) {
    log(`\n== ${backend}`);
    const db = existingDb || freshDatabase(backend);
    const t0 = performance.now();
    if (!existingDb) execFileSync(genBin, ['--db', db, '--scale', scale], { stdio: 'inherit' });
    const genSeconds = (performance.now() - t0) / 1000;
    const { scenarios } = await import('./scenarios.mjs');
    await runBackend(backend, db, scenarios, genSeconds);
    if (backend === 'postgresql' && !existingDb) sh(join(root, 'tests', 'pg-cluster.sh'), ['stop', join(work, 'pg')]);
  }
  writeResults();
}

async function runBackend(backend, db, scenarios, genSeconds) {
  // Start-up: the median of five starts to the first answered request.
  const starts = [];
  for (let i = 0; i < 5; i++) {
    const s = await startShoal(db);
    starts.push(s.startMs);
    await stop(s.child);
  }
  starts.sort((a, b) => a - b);
  record(backend, 'start-up to first answer', { rps: NaN, p50: starts[2], p99: starts[4], note: 'median and slowest of 5 starts' });
  const server = await startShoal(db, process.env.BENCH_WRAP ? { wrapper: process.env.BENCH_WRAP.split(' ') } : {});
  const ctx = { backend, db, server, base: server.url, query: (s, o) => query(db, s, o), work, seconds, genSeconds,
    root, shoalBin, wrk, statusCounts, startNginx, startShoal, stop, sh };
  ctx.signIn = async (email) => {
    for (let attempt = 0; ; attempt++) {
      const c = new Client(server.url);
      const r = await c.signIn(email, PASSWORD, { secret: TOTP_SECRET });
      if (r.status === 303) return c;
      // A one-time code is refused a second time: a run straight after another
      // waits for the next 30-second code once.
      if (attempt) throw new Error(`cannot sign in as ${email}: ${r.status}`);
      await sleep(30000 - (Date.now() % 30000) + 500);
    }
  };
  const { prepare } = await import('./scenarios.mjs');
  await prepare(ctx); // signs in first: each argon2id check holds 64 MiB while it runs
  // Resident memory, sampled every 50 ms while each scenario runs.
  let peak = 0, overall = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, rssKb(server.child.pid).rss); }, 50);
  try {
    for (const s of scenarios) {
      if (only && !only.split(' + ').includes(s.name)) continue;
      let r;
      peak = 0;
      try {
        r = await s.run(ctx);
      } catch (e) {
        r = { error: e.message };
      }
      overall = Math.max(overall, peak);
      record(backend, s.name, r, { rssKb: peak });
    }
  } finally {
    clearInterval(sampler);
    record(backend, 'resident memory (peak under load)', { rps: NaN, rssKb: overall });
    await stop(server.child);
  }
  if (callgrind && (!only || only === 'thread page callgrind')) {
    const { callgrindThreadPage } = await import('./scenarios.mjs');
    let r;
    try {
      r = await callgrindThreadPage(ctx);
    } catch (e) {
      r = { error: e.message };
    }
    record(backend, 'instructions per thread page', r);
  }
  if (!existingDb) results.push({ backend, scenario: 'data set generated in', seconds: genSeconds });
}

function writeResults() {
  const commit = sh('git', ['-C', root, 'rev-parse', '--short', 'HEAD']).trim();
  const dirty = sh('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']).trim() ? '+changes' : '';
  const date = new Date().toISOString().slice(0, 10);
  const cpu = cpus()[0]?.model || 'unknown CPU';
  const machine = `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB`;
  const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '');
  const lines = [
    `# Shoal benchmark ${date}, commit ${commit}${dirty}`,
    '',
    `Machine: ${machine}. Scale ${scale}; ${seconds} s per measurement; ${CONNECTIONS} connections.`,
    '',
    '| backend | scenario | requests/s | p50 ms | p99 ms | ratio to the limit | RSS MB | note |',
    '|---|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const r of results) {
    if (r.seconds !== undefined) {
      lines.push(`| ${r.backend} | ${r.scenario} | | | | | | ${r.seconds.toFixed(0)} s |`);
      continue;
    }
    lines.push(`| ${r.backend} | ${r.scenario} | ${f(r.rps, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ` +
      `${r.ratio ? `${f(r.ratio, 2)}× ${r.limitName}` : ''} | ${r.rssKb ? f(r.rssKb / 1024) : ''} | ` +
      `${r.error ? `ERROR: ${r.error}` : r.note || ''} |`);
  }
  const text = lines.join('\n') + '\n';
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  // A run on an existing database is a look at a change, not a result to keep.
  const file = existingDb ? join(work, 'last.md') : join(root, 'bench', 'results', `${date}-${commit}.md`);
  writeFileSync(file, text);
  log(`\n${text}\nwritten to ${file}`);
  if (results.some((r) => r.error)) process.exitCode = 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`bench: ${e.stack || e}`);
    process.exit(1);
  });
}
