// tests/http/pressure_live.test.mjs — live updates of pressure figures: a
// browser following GET /pressure/live hears "changed" when a return is saved
// (on PostgreSQL, also when it was saved on another node of the same database),
// the stream carries nothing confidential, only signed-in people may follow
// it, the number of streams is capped, and open streams do not hold up a
// clean stop on SIGTERM.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, backend } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let shoal;
before(async () => {
  shoal = await startShoal();
});
after(async () => {
  if (shoal) {
    const { code } = await shoal.stop();
    assert.equal(code, 0, 'shoal stops cleanly on SIGTERM');
  }
});

async function as(base, who) {
  const c = new Client(base);
  const r = await c.signIn(demo[who]);
  assert.equal(r.status, 303, `${who} signs in`);
  return c;
}

/** Opens the event stream with client's cookies; returns { status, headers, text(), waitFor(re), close() }. */
async function follow(client, base = client.base) {
  const controller = new AbortController();
  const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(base + '/pressure/live', { headers: { cookie, accept: 'text/event-stream' },
    redirect: 'manual', signal: controller.signal });
  let text = '';
  const waiters = [];
  const pump = (async () => {
    if (!res.body) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body) {
        text += decoder.decode(chunk, { stream: true });
        for (const w of [...waiters]) if (w.re.test(text)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(text); }
      }
    } catch { /* aborted */ }
    for (const w of waiters) w.reject(new Error(`stream ended without ${w.re}; got:\n${text}`));
  })();
  return {
    status: res.status,
    headers: res.headers,
    text: () => text,
    ended: pump,
    waitFor(re, ms = 10000) {
      if (re.test(text)) return Promise.resolve(text);
      return new Promise((resolve, reject) => {
        const w = { re, resolve, reject };
        waiters.push(w);
        setTimeout(() => reject(new Error(`no ${re} within ${ms} ms; got:\n${text}`)), ms);
      });
    },
    close() { controller.abort(); },
  };
}

async function sendReturn(lead, base, ods, level) {
  const form = `/pressure/practices/${ods}/return`;
  const page = await lead.request(form);
  assert.equal(page.status, 200);
  const period = page.text.match(/name="period" value="(\d+)"/)[1];
  const r = await lead.request(form, { method: 'POST', form: { csrf: lead.csrf, period, level: String(level) } });
  assert.equal(r.status, 303, 'the return is saved');
  return period;
}

test('a return saved tells every open stream which period changed, and nothing more', async () => {
  const partner = await as(shoal.url, 'partner');
  const stream = await follow(partner);
  assert.equal(stream.status, 200);
  assert.match(stream.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(stream.headers.get('cache-control'), 'no-store');
  await stream.waitFor(/retry: \d+\n/);
  const lead = await as(shoal.url, 'lead');
  const period = await sendReturn(lead, shoal.url, 'Z80001', 3);
  const text = await stream.waitFor(/event: changed\ndata: .*\n\n/);
  const data = text.match(/event: changed\ndata: (.*)\n/)[1];
  assert.deepEqual(JSON.parse(data), { period: Number(period) });
  assert.doesNotMatch(text, /Z80001|Riverside|level/i, 'no practice or figure in the stream');
  stream.close();
});

test('anonymous visitors are sent to sign in; the stream is only for GET', async () => {
  const r = await fetch(shoal.url + '/pressure/live', { redirect: 'manual' });
  assert.equal(r.status, 303);
  assert.match(r.headers.get('location'), /^\/sign-in/);
  const member = await as(shoal.url, 'member');
  const p = await member.request('/pressure/live', { method: 'POST', form: { csrf: member.csrf } });
  assert.equal(p.status, 405);
  // A request that does not ask for an event stream gets a page, not a response that never ends.
  const page = await member.request('/pressure/live');
  assert.equal(page.status, 406);
  assert.match(page.text, /sends live updates to the pressure pages/);
});

test('streams are capped, and open streams do not hold up a stop on SIGTERM', async () => {
  const own = await startShoal({ demo: true });
  try {
    const member = await as(own.url, 'member');
    const streams = [];
    for (let i = 0; i < 200; i++) streams.push(follow(member));
    const opened = await Promise.all(streams);
    assert.ok(opened.every((s) => s.status === 200), 'the first 200 open');
    const refused = await member.request('/pressure/live', { headers: { accept: 'text/event-stream' } });
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '30');
    assert.match(refused.text, /Too many live updates/);
    // Ordinary pages still answer while 200 streams are open.
    assert.equal((await member.request('/pressure')).status, 200);
    // One closed makes room for another (the server notices at its next ping at the latest).
    opened[0].close();
    const started = Date.now();
    const { code } = await own.stop();
    assert.equal(code, 0, 'shoal stops cleanly with streams open');
    assert.ok(Date.now() - started < 5000, `stopped in ${Date.now() - started} ms`);
    await Promise.all(opened.map((s) => s.ended));
  } finally {
    await own.stop();
  }
});

test('on PostgreSQL, a return saved on node A reaches a stream on node B', { skip: backend !== 'postgresql' }, async () => {
  const nodeB = await startShoal({ demo: false, db: shoal.db });
  try {
    const partner = await as(nodeB.url, 'partner');
    const stream = await follow(partner);
    assert.equal(stream.status, 200);
    await stream.waitFor(/retry: /);
    const lead = await as(shoal.url, 'otherLead');
    const period = await sendReturn(lead, shoal.url, 'Z80014', 4);
    const text = await stream.waitFor(/event: changed\ndata: .*\n\n/);
    assert.deepEqual(JSON.parse(text.match(/event: changed\ndata: (.*)\n/)[1]), { period: Number(period) });
    stream.close();
  } finally {
    const { code } = await nodeB.stop();
    assert.equal(code, 0);
  }
});
