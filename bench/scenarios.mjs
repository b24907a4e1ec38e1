// bench/scenarios.mjs — what `make bench` measures (bench/run.mjs runs each in turn).
// A scenario returns { rps, p50, p99 } (ms) and, where this run measured the machine's
// limit beside it, { ratio, limitName }; or { error } and no figure.
import { writeFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const cookieOf = (client) => [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

// The people the scenarios act as, found in the generated data.
async function people(ctx) {
  if (ctx.people) return ctx.people;
  const one = (sql) => ctx.query(sql).split('\n')[0];
  const lead = one("SELECT p.email || '|' || o.ods_code FROM people p JOIN memberships m ON m.person_id = p.id " +
    "JOIN organisations o ON o.id = m.organisation_id WHERE m.lead = 1 ORDER BY p.id LIMIT 1").split('|');
  ctx.people = {
    lead: { email: lead[0], ods: lead[1] },
    member: one("SELECT p.email FROM people p JOIN memberships m ON m.person_id = p.id WHERE m.lead = 0 " +
      "AND p.role = 'member' ORDER BY p.id LIMIT 1"),
    executive: one("SELECT email FROM people WHERE role = 'executive' ORDER BY id LIMIT 1"),
    partner: one("SELECT email FROM people WHERE role = 'partner' ORDER BY id LIMIT 1"),
  };
  return ctx.people;
}

async function client(ctx, who) {
  ctx.clients ??= {};
  if (!ctx.clients[who]) {
    const p = await people(ctx);
    ctx.clients[who] = await ctx.signIn(who === 'lead' ? p.lead.email : p[who]);
  }
  return ctx.clients[who];
}

// A token for the API, made with `shoal token create` (prints it once).
function token(ctx, email, scope = 'read') {
  ctx.tokens ??= {};
  const key = `${email} ${scope}`;
  if (!ctx.tokens[key]) {
    // A kept database (--db) keeps each run's tokens; a person may hold 20, so the
    // bench revokes its earlier ones first (the generated people hold none of their own).
    ctx.query(`UPDATE api_tokens SET revoked_at = 0 WHERE revoked_at IS NULL AND person_id = ` +
      `(SELECT id FROM people WHERE email = '${email}')`);
    const out = ctx.sh(ctx.shoalBin, ['token', 'create', '--db', ctx.db, '--email', email, '--scope', scope]);
    ctx.tokens[key] = out.match(/shoal_[A-Za-z0-9_-]+/)[0];
  }
  return ctx.tokens[key];
}

// Checks that every answer on route during fn was 2xx — or, for a form, the 303 that
// follows success (Shoal's /metrics counts them by status).
async function counted(ctx, route, fn, { form = false } = {}) {
  const before = await ctx.statusCounts(ctx.base, route, form);
  const r = await fn();
  const after = await ctx.statusCounts(ctx.base, route, form);
  const bad = after.bad - before.bad;
  if (r.error) return r;
  if (bad > 0) return { error: `${bad} answers on ${route} were not 2xx; no figure` };
  if (r.socketErrors) return { error: `socket errors (${r.socketErrors}); no figure` };
  if (after.ok - before.ok < r.requests * 0.99) return { error: `only ${after.ok - before.ok} of ${r.requests} requests reached ${route}` };
  return r;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

// A page read by a signed-in person (or with a token), optionally measured alternately
// with nginx serving the same bytes from a file.
async function read(ctx, { who, path, route, nginx = false, bearer, connections }) {
  const headers = {};
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  else headers.cookie = cookieOf(await client(ctx, who));
  const first = await fetch(ctx.base + path, { headers, redirect: 'manual' });
  const body = Buffer.from(await first.arrayBuffer());
  if (first.status !== 200) return { error: `${path} answered ${first.status}; no figure` };
  if (!nginx) return counted(ctx, route, async () => ctx.wrk(ctx.base + path, { headers, connections }));
  const dir = join(ctx.work, 'nginx');
  mkdirSync(join(dir, 'www'), { recursive: true });
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  writeFileSync(join(dir, 'www', 'page.html'), body);
  const ng = ctx.startNginx(dir);
  try {
    await sleep(300);
    const check = await fetch(`${ng.url}/page.html`);
    if (check.status !== 200 || (await check.arrayBuffer()).byteLength !== body.length)
      return { error: 'nginx did not serve the page' };
    const shoal = [], limit = [];
    for (let round = 0; round < 3; round++) {
      const r = await counted(ctx, route, async () => ctx.wrk(ctx.base + path, { headers, duration: Math.max(2, Math.round(ctx.seconds / 2)) }));
      if (r.error) return r;
      shoal.push(r);
      const n = ctx.wrk(`${ng.url}/page.html`, { duration: Math.max(2, Math.round(ctx.seconds / 2)) });
      if (n.error || n.non2xx) return { error: `nginx: ${n.error || `${n.non2xx} errors`}` };
      limit.push(n);
    }
    const rps = mean(shoal.map((r) => r.rps));
    return {
      rps, p50: mean(shoal.map((r) => r.p50)), p99: Math.max(...shoal.map((r) => r.p99)),
      ratio: rps / mean(limit.map((r) => r.rps)), limitName: `nginx (${Math.round(mean(limit.map((r) => r.rps)))}/s, ${body.length} bytes)`,
      // nginx's own latency on the same bytes and machine: what the p99 goal is measured against.
      note: `nginx p50 ${mean(limit.map((r) => r.p50)).toFixed(2)} ms, p99 ${Math.max(...limit.map((r) => r.p99)).toFixed(2)} ms`,
    };
  } finally {
    ng.child.kill('SIGQUIT');
    await ng.child.done;
  }
}

// Durable writes: wrk posting bodies from a Lua script, then the rows counted in the
// database, beside shoal-bench-raw's one-row transactions through the same db layer.
async function write(ctx, { route, url, luaBody, countSql, headers, form = false }) {
  const script = join(ctx.work, 'post.lua');
  writeFileSync(script, luaBody);
  const before = Number(ctx.query(countSql));
  const r = await counted(ctx, route, async () => ctx.wrk(url, { headers, script }), { form });
  if (r.error) return r;
  const added = Number(ctx.query(countSql)) - before;
  if (added < r.requests) return { error: `${r.requests} acknowledged but ${added} stored` };
  const raw = ctx.sh(join(ctx.root, 'build-release', 'bench', 'shoal-bench-raw'),
    ['--db', ctx.db, '--threads', '32', '--seconds', String(ctx.seconds)]);
  const limit = Number(raw.match(/inserts\/s: (\d+)/)[1]);
  return { ...r, ratio: r.rps / limit, limitName: `raw durable inserts (${limit}/s)` };
}

const hasTable = (ctx, name) => {
  try {
    ctx.query(`SELECT 1 FROM ${name} LIMIT 1`, { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
};

// A thread of at least 50 posts that every member may see. Its page is asked for as
// ?page=1: without it, Shoal redirects to the first unread post.
function bigThread(ctx) {
  if (!hasTable(ctx, 'threads')) throw new Error('no discussions in this build');
  const id = ctx.query("SELECT t.id FROM threads t JOIN spaces s ON s.id = t.space_id WHERE s.visibility = 'members' " +
    'AND t.post_count >= 50 ORDER BY t.id LIMIT 1');
  if (!id) throw new Error('no thread of 50 posts in the data set');
  return id;
}

/** Signs in everyone the scenarios act as, before any load is measured. */
export async function prepare(ctx) {
  for (const who of ['member', 'lead', 'executive']) await client(ctx, who);
}

export const scenarios = [
  {
    name: 'thread page (50 posts), member',
    run: (ctx) => read(ctx, { who: 'member', path: `/discussions/threads/${bigThread(ctx)}?page=1`, route: '/discussions/threads/{id}', nginx: true }),
  },
  {
    // Where a regular reader of a long thread lands: its newest page (Shoal opens a thread
    // at the first unread post). The generator's longest thread has 5,000 posts at scale 1.
    name: "a long thread's last page, member",
    run: (ctx) => {
      if (!hasTable(ctx, 'threads')) throw new Error('no discussions in this build');
      const [id, count] = ctx.query("SELECT t.id || ' ' || t.post_count FROM threads t JOIN spaces s ON s.id = t.space_id " +
        "WHERE s.visibility = 'members' ORDER BY t.post_count DESC, t.id LIMIT 1").split(' ').map(Number);
      const page = Math.max(1, Math.ceil(count / 50));
      return read(ctx, { who: 'member', path: `/discussions/threads/${id}?page=${page}`, route: '/discussions/threads/{id}' });
    },
  },
  {
    name: "a space's thread list, member",
    run: (ctx) => {
      if (!hasTable(ctx, 'spaces')) throw new Error('no discussions in this build');
      const id = ctx.query("SELECT id FROM spaces WHERE visibility = 'members' ORDER BY id LIMIT 1");
      return read(ctx, { who: 'member', path: `/discussions/spaces/${id}`, route: '/discussions/spaces/{id}' });
    },
  },
  {
    name: 'search, member',
    run: (ctx) => read(ctx, { who: 'member', path: '/search?q=winter+vaccination', route: '/search' }),
  },
  {
    name: 'pressure dashboard, executive',
    run: (ctx) => read(ctx, { who: 'executive', path: '/pressure/dashboard', route: '/pressure/dashboard' }),
  },
  {
    // One request at a time: its latency is the time to compute the dashboard, the goal's
    // measure, without the queueing of 32 connections on two cores.
    name: 'pressure dashboard, one at a time',
    run: (ctx) => read(ctx, { who: 'executive', path: '/pressure/dashboard', route: '/pressure/dashboard', connections: 1 }),
  },
  {
    name: 'pressure summary API',
    run: async (ctx) => read(ctx, { path: '/api/v1/pressure/summary', route: '/api/v1/pressure/summary', bearer: token(ctx, (await people(ctx)).partner) }),
  },
  {
    name: "a practice's pressure page, lead",
    run: async (ctx) => read(ctx, { who: 'lead', path: `/pressure/practices/${(await people(ctx)).lead.ods}`, route: '/pressure/practices/{ods}' }),
  },
  {
    name: 'home page, member',
    run: (ctx) => read(ctx, { who: 'member', path: '/', route: '/' }),
  },
  {
    name: 'create posts (durable), 32 clients',
    run: async (ctx) => {
      // Replies sent as the thread page's form sends them: cookie, CSRF token, 303.
      const thread = bigThread(ctx);
      const member = await client(ctx, 'member');
      await member.get(`/discussions/threads/${thread}?page=1`);
      const body = new URLSearchParams({ csrf: member.csrf, body: 'Agreed: we should raise this at the winter call on Thursday.' });
      return write(ctx, {
        route: '/discussions/threads/{id}/posts', url: `${ctx.base}/discussions/threads/${thread}/posts`, form: true,
        headers: { cookie: cookieOf(member), 'content-type': 'application/x-www-form-urlencoded' },
        luaBody: `wrk.method = "POST"\nwrk.body = "${body}"\n`,
        countSql: `SELECT count(*) FROM posts WHERE thread_id = ${thread}`,
      });
    },
  },
  {
    name: 'submit returns (durable), 32 clients',
    run: async (ctx) => {
      const p = await people(ctx);
      const t = token(ctx, p.lead.email, 'write');
      // Each request amends the practice's return for the period: a durable write
      // with the same checks, calculation and audit entry as a new one.
      return write(ctx, {
        route: '/api/v1/pressure/returns', url: `${ctx.base}/api/v1/pressure/returns`,
        headers: { authorization: `Bearer ${t}`, 'content-type': 'application/json' },
        luaBody: `wrk.method = "POST"\nwrk.body = '{"practice": "${p.lead.ods}", "level": 2, "staff_available_pct": 85}'\n`,
        countSql: "SELECT count(*) FROM audit_log WHERE action LIKE 'pressure-return-%'",
      });
    },
  },
];

// Instructions per thread-page request under callgrind: the cost of N more requests,
// so start-up and shutdown cancel out. Stable from run to run on the same binary.
export async function callgrindThreadPage(ctx) {
  const path = `/discussions/threads/${bigThread(ctx)}?page=1`;
  const cookie = cookieOf(await client(ctx, 'member'));
  const dir = join(ctx.work, 'callgrind');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const totals = [];
  for (const n of [10, 60]) {
    const out = join(dir, `callgrind.${n}`);
    // One worker: with several, requests land on connections whose page caches are
    // warm or cold by chance, and the figure swung by a tenth from run to run.
    const s = await ctx.startShoal(ctx.db, { wrapper: ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`], threads: 1 });
    for (let i = 0; i < n; i++) {
      const r = await fetch(s.url + path, { headers: { cookie } });
      await r.arrayBuffer();
      if (r.status !== 200) throw new Error(`${path} answered ${r.status} under callgrind`);
    }
    await ctx.stop(s.child);
    const text = readFileSync(out, 'utf8');
    // Less the jobs thread: its first run starts with the server and may finish
    // within the short run or not, so it would make the difference noise.
    const jobs = ctx.sh('callgrind_annotate', ['--inclusive=yes', '--threshold=100', out])
      .match(/^\s*([\d,]+) .*:jobs_main /m);
    totals.push(Number(text.match(/^(?:summary|totals): (\d+)/m)[1]) - (jobs ? Number(jobs[1].replaceAll(',', '')) : 0));
  }
  const per = (totals[1] - totals[0]) / 50;
  return { rps: NaN, note: `${Math.round(per).toLocaleString('en-GB')} instructions per request (callgrind, 50 requests)` };
}
