// tests/http/overload.test.mjs — a crowd of slow clients, a flood of sign-in
// guesses: a normal request is still answered promptly, and the server's
// memory stays bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { startShoal } from '../lib/shoal.mjs';
import { Client, demo, DEMO_PASSWORD } from '../lib/client.mjs';

let shoal;
before(async () => {
  shoal = await startShoal();
});
after(async () => {
  await shoal.stop();
});

const rssKiB = () => Number(readFileSync(`/proc/${shoal.child.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);

test('500 clients sending their headers slowly do not hold up a normal request', async () => {
  const { hostname, port } = new URL(shoal.url);
  const sockets = [];
  for (let i = 0; i < 500; i++) {
    const s = net.connect(Number(port), hostname);
    s.on('error', () => {});
    sockets.push(s);
  }
  await Promise.all(sockets.map((s) => new Promise((r) => (s.readyState === 'open' ? r() : s.once('connect', r)))));
  // Each sends a request line and then one header byte at a time.
  for (const s of sockets) s.write('GET / HTTP/1.1\r\nX-Slow: ');
  const drip = setInterval(() => sockets.forEach((s) => s.write('a')), 200);
  try {
    const rss = rssKiB();
    for (let i = 0; i < 5; i++) {
      const t = Date.now();
      const res = await fetch(shoal.url + '/healthz');
      assert.equal(res.status, 200);
      await res.text();
      assert.ok(Date.now() - t < (process.env.SHOAL_TEST_SLOW ? 30000 : 1000), `answered in ${Date.now() - t} ms with 500 slow clients connected`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(rssKiB() - rss < 64 * 1024, 'memory stays bounded while they hold on');
  } finally {
    clearInterval(drip);
    sockets.forEach((s) => s.destroy());
  }
});

test('a flood of sign-in guesses is throttled, and a member can still sign in', async () => {
  const attacker = new Client(shoal.url);
  await attacker.get('/sign-in');
  const statuses = [];
  const guesses = Array.from({ length: 40 }, (_, i) =>
    attacker.request('/sign-in', { method: 'POST', form: { csrf: attacker.csrf, email: demo.lead, password: `guess number ${i}` } }));
  for (const r of await Promise.all(guesses)) statuses.push(r.status);
  assert.ok(statuses.every((s) => s === 401 || s === 429), statuses.join(','));
  assert.ok(statuses.filter((s) => s === 429).length >= 20, 'after 10 failures the account is locked');
  // The lock is on that account, not on everyone.
  assert.equal((await new Client(shoal.url).signIn(demo.member, DEMO_PASSWORD)).status, 303);
});
