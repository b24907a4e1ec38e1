#!/usr/bin/env node
// tests/security/sqlmap.mjs — `make test-security`: sqlmap against every form
// and API endpoint that takes input, signed in as someone who may use it
// (session cookie and CSRF token for pages, a Bearer token for the API), on a
// throwaway Shoal with the demo data. Zero findings expected: it prints one
// line per target and a summary, and exits 1 on any finding or any target that
// sqlmap could not finish.
//
// SHOAL_BIN and SHOAL_TEST_BACKEND (sqlite, postgresql + SHOAL_TEST_PG_DIR) as
// for the HTTP tests; SQLMAP_LEVEL / SQLMAP_RISK (default 3 / 1: parameters, cookies,
// User-Agent and Referer) and
// SQLMAP_ONLY (a substring of target names) to run fewer.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoal, run, sql, backend } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

const level = process.env.SQLMAP_LEVEL || '3';
const risk = process.env.SQLMAP_RISK || '1';
const only = process.env.SQLMAP_ONLY || '';
const out = mkdtempSync(join(tmpdir(), 'shoal-sqlmap-'));

const shoal = await startShoal();
const signed = async (email) => {
  const c = new Client(shoal.url);
  const r = await c.signIn(email);
  if (r.status !== 303) throw new Error(`${email} could not sign in (${r.status})`);
  await c.get('/account'); // its CSRF token
  return c;
};
const as = { admin: await signed(demo.admin), lead: await signed(demo.lead), member: await signed(demo.member) };
const anon = new Client(shoal.url);
await anon.get('/sign-in'); // the pre-sign-in CSRF cookie and token
const tokenRun = await run(['token', 'create', '--db', shoal.db, '--email', demo.lead, '--scope', 'write', '--name', 'sqlmap']);
const token = tokenRun.stdout.trim();
const tokenId = sql(shoal.db, "SELECT id FROM api_tokens WHERE name = 'sqlmap'");
const memberId = sql(shoal.db, `SELECT id FROM people WHERE email = '${demo.member}'`);
const org = sql(shoal.db, "SELECT id FROM organisations WHERE ods_code = 'Z80001'");
const period = (await as.lead.get('/pressure/practices/Z80001/return')).text.match(/name="period" value="(\d+)"/)[1];

// A space every member sees, and a thread in it, from the demo discussions.
const space = sql(shoal.db, "SELECT id FROM spaces WHERE visibility = 'members' ORDER BY id LIMIT 1");
const thread = sql(shoal.db, `SELECT id FROM threads WHERE space_id = ${space} ORDER BY id LIMIT 1`);

const cookie = (c) => [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
const form = (c, fields) => new URLSearchParams({ csrf: c.csrf, ...fields }).toString();

// name, who, method, path (a * marks a path segment to inject), form fields or query, params to test
const targets = [
  // A wrong password is answered 401, the normal answer sqlmap must compare against.
  { name: 'sign-in form', who: anon, method: 'POST', path: '/sign-in', data: { email: 'someone@wyvern.example', password: 'wrong-password-1' }, ignore: '401' },
  { name: 'password reset request', who: anon, method: 'POST', path: '/password-reset', data: { email: 'someone@wyvern.example' } },
  { name: 'directory search', who: as.member, method: 'GET', path: '/people?q=castlegate&page=1' },
  { name: 'directory person (path id)', who: as.member, method: 'GET', path: `/people/${memberId}*` },
  { name: 'own profile form', who: as.member, method: 'POST', path: '/account/profile', data: { 'job-title': 'Salaried GP', 'can-help-with': 'Diabetes', 'visible-to-partners': 'yes' } },
  { name: 'token create form', who: as.member, method: 'POST', path: '/account/tokens', data: { name: 'Rota sync', scope: 'read' } },
  { name: 'people administration filters', who: as.admin, method: 'GET', path: `/admin/people?q=patel&role=member&organisation=${org}&status=active&page=1` },
  { name: 'organisations filters', who: as.admin, method: 'GET', path: '/admin/organisations?q=river&kind=practice&page=1' },
  { name: 'organisation edit form', who: as.admin, method: 'POST', path: '/admin/organisations/Z80002', data: { name: 'Bridge Street Surgery', kind: 'practice', parent: 'U90001', list_size: '8930' } },
  { name: 'organisation page (path ODS code)', who: as.admin, method: 'GET', path: '/admin/organisations/Z80001*' },
  { name: 'organisations import', who: as.admin, method: 'POST', path: '/admin/organisations/import', data: { csv: 'ods_code,name,kind,parent_ods_code,list_size\nZ80001,Riverside Medical Centre,practice,U90001,14210\n' } },
  { name: 'audit filters', who: as.admin, method: 'GET', path: '/admin/audit?action=sign-in&actor=admin%40wyvern.example&from-day=1&from-month=1&from-year=2026&to-day=31&to-month=12&to-year=2030&page=1' },
  { name: 'audit CSV filters', who: as.admin, method: 'GET', path: '/admin/audit.csv?action=sign-in&actor=admin%40wyvern.example' },
  { name: 'invitation form', who: as.lead, method: 'POST', path: '/invitations/new', data: { name: 'Alex Example', email: 'alex.sqlmap@riverside.wyvern.example', role: 'member', organisation: org } },
  { name: 'pressure return form', who: as.lead, method: 'POST', path: '/pressure/practices/Z80001/return', data: { period, level: '2', appts_gp: '180', clinical_staff: '20', staff_pct: '88', absences: '2', incident: 'minor', incident_detail: 'Phones down', action_plan: 'Call back', comments: 'Flu clinics' } },
  { name: 'pressure practice page (path ODS code)', who: as.lead, method: 'GET', path: '/pressure/practices/Z80001*' },
  { name: 'search', who: as.member, method: 'GET', path: `/search?q=winter+plans&space=${space}&author=shah&page=1` },
  { name: 'space page (path id)', who: as.member, method: 'GET', path: `/discussions/spaces/${space}*` },
  { name: 'thread page (path id)', who: as.member, method: 'GET', path: `/discussions/threads/${thread}*?page=1` },
  { name: 'new thread form', who: as.member, method: 'POST', path: `/discussions/spaces/${space}/threads`, data: { title: 'Winter plans for the PCN', body: 'What is everyone doing about **flu clinics**?' } },
  { name: 'reply form', who: as.member, method: 'POST', path: `/discussions/threads/${thread}/posts`, data: { body: 'Agreed, we will do the same.' } },
  { name: 'API search (Bearer token)', bearer: true, method: 'GET', path: '/api/v1/search?q=winter' },
  { name: 'API pressure return (JSON)', bearer: true, method: 'POST', path: '/api/v1/pressure/returns', json: { practice: 'Z80001', level: 2, comments: 'Flu clinics' } },
  { name: 'API new thread (JSON)', bearer: true, method: 'POST', path: `/api/v1/spaces/${space}/threads`, json: { title: 'Winter plans', body: 'What is everyone doing?' } },
  { name: 'API reply (JSON)', bearer: true, method: 'POST', path: `/api/v1/threads/${thread}/posts`, json: { body: 'Agreed, we will do the same.' } },
  { name: 'API /me (Bearer token)', bearer: true, method: 'GET', path: '/api/v1/me' },
  // An id nobody holds: 404 is the normal answer (revoking a real one would end the test's token).
  { name: 'API token revoke (path id)', bearer: true, method: 'DELETE', path: `/api/v1/tokens/${Number(tokenId) + 1000}*`, ignore: '404' },
].filter((t) => t.name.includes(only));

function sqlmap(t, i) {
  const args = ['-u', shoal.url + t.path, '--batch', '--level', level, '--risk', risk, '--dbms', backend === 'postgresql' ? 'PostgreSQL' : 'SQLite',
    '--output-dir', join(out, String(i)), '--disable-coloring', '--drop-set-cookie', '--flush-session', '--skip-waf', '--threads', '2',
    '--time-sec', '2', '--skip', 'csrf', '--method', t.method];
  if (t.bearer) args.push('-H', `Authorization: Bearer ${token}`);
  else if (t.who.cookies.size) args.push('--cookie', cookie(t.who));
  if (t.data) args.push('--data', form(t.who, t.data));
  if (t.json) args.push('--data', JSON.stringify(t.json), '-H', 'Content-Type: application/json');
  if (t.ignore) args.push('--ignore-code', t.ignore);
  if (t.path.includes('?') && !t.path.includes('*')) args.push('--skip-static');
  return new Promise((resolve) => {
    const child = spawn('sqlmap', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('close', (code) => resolve({ code, log }));
  });
}

const started = Date.now();
const results = [];
// Two at a time: the machine has two cores and sqlmap mostly waits on answers.
let next = 0;
async function worker() {
  while (next < targets.length) {
    const i = next++;
    const t = targets[i];
    const t0 = Date.now();
    const { code, log } = await sqlmap(t, i);
    writeFileSync(join(out, `${i}.log`), log);
    let verdict;
    if (/identified the following injection point/.test(log)) verdict = 'FINDING';
    else if (/do not appear to be injectable|does not seem to be injectable/.test(log) && code === 0) verdict = 'clean';
    else verdict = 'ERROR';
    results.push({ t, verdict, log, secs: Math.round((Date.now() - t0) / 1000) });
    console.log(`${verdict === 'clean' ? 'ok  ' : 'FAIL'} ${t.name} (${t.method} ${t.path.split('?')[0]}): ${verdict}, ${Math.round((Date.now() - t0) / 1000)} s`);
  }
}
await Promise.all([worker(), worker()]);

// The server must have survived every payload, with no sanitizer report.
const health = await fetch(shoal.url + '/healthz').then((r) => r.status, () => 0);
let stopped = 'stopped cleanly';
try {
  const { code } = await shoal.stop();
  if (code !== 0) stopped = `exited with ${code}`;
} catch (e) {
  stopped = e.message;
}

const bad = results.filter((r) => r.verdict !== 'clean');
for (const r of bad) {
  console.log(`\n---- ${r.t.name}: ${r.verdict}; sqlmap's output:`);
  console.log(r.log.split('\n').filter((l) => /\[(CRITICAL|ERROR|WARNING)\]|injection point|Parameter:|Type:|Payload:/.test(l)).slice(0, 60).join('\n'));
}
console.log(`\nsqlmap (level ${level}, risk ${risk}, ${backend}): ${results.length} targets, ${results.filter((r) => r.verdict === 'FINDING').length} with findings, ${results.filter((r) => r.verdict === 'ERROR').length} not finished; /healthz ${health}; shoal ${stopped}; ${Math.round((Date.now() - started) / 1000)} s; logs in ${out}`);
const ok = bad.length === 0 && health === 200 && stopped === 'stopped cleanly';
console.log(ok ? 'test-security: PASSED (no injection found)' : 'test-security: FAILED');
process.exit(ok ? 0 : 1);
