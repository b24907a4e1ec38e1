// tests/http/health.test.mjs — /healthz tells a load balancer the truth: 503
// while the database cannot be reached, 200 again once it can.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, backend, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

// Only PostgreSQL can be taken away from under a running node; an SQLite file
// that is open stays readable. Both backends run every other health test.
test('/healthz answers 503 while PostgreSQL refuses this node, then 200 again', { skip: backend !== 'postgresql' && 'PostgreSQL only' }, async () => {
  const shoal = await startShoal();
  const url = new URL(shoal.db);
  const name = url.pathname.slice(1);
  const admin = `postgresql:///postgres?host=${url.searchParams.get('host')}&user=${url.searchParams.get('user')}`;
  const member = new Client(shoal.url);
  try {
    assert.equal((await fetch(shoal.url + '/healthz')).status, 200);
    assert.equal((await member.signIn(demo.member)).status, 303);
    sql(admin, `ALTER DATABASE ${name} ALLOW_CONNECTIONS false`);
    sql(admin, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '${name}'`);
    const down = await fetch(shoal.url + '/healthz');
    assert.equal(down.status, 503);
    assert.equal((await down.json()).status, 'unavailable');
    // A page that needs the database says so in plain English, not with a crash.
    const page = await member.get('/');
    assert.equal(page.status, 503);
    assert.match(page.text, /Sorry, the service is unavailable/);
    sql(admin, `ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    assert.equal((await fetch(shoal.url + '/healthz')).status, 200);
    assert.equal((await member.get('/')).status, 200);
  } finally {
    sql(admin, `ALTER DATABASE ${name} ALLOW_CONNECTIONS true`);
    const { code } = await shoal.stop();
    assert.equal(code, 0);
  }
});
