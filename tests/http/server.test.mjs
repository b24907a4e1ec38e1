// tests/http/server.test.mjs — what a browser or a monitoring system sees of a
// running shoal: pages, error pages, limits, headers, health and metrics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startShoal, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let shoal;
before(async () => {
  shoal = await startShoal();
});
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0, 'shoal stops cleanly on SIGTERM');
});

/** Sends raw bytes on one connection; resolves with everything received until close or idle. */
function raw(bytes, { idleMs = 1500 } = {}) {
  const { hostname, port } = new URL(shoal.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let data = '';
    let timer;
    const done = () => {
      socket.destroy();
      resolve(data);
    };
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (d) => {
      data += d;
      clearTimeout(timer);
      timer = setTimeout(done, idleMs);
    });
    socket.on('end', done);
    socket.on('error', (e) => (data ? done() : reject(e)));
    timer = setTimeout(done, idleMs * 4);
  });
}

function assertSecurityHeaders(res) {
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.ok(res.headers.get('referrer-policy'));
  assert.match(res.headers.get('x-request-id'), /^[0-9a-f]{16}$/);
}

test('visitors see the collective and a way to sign in, and nothing more', async () => {
  const res = await fetch(shoal.url + '/');
  assert.equal(res.status, 200);
  const html = await res.text();
  assert.match(html, /<a class="nhsuk-button" href="\/sign-in"/);
  assert.doesNotMatch(html, /Practices<\/td>/);
  assert.doesNotMatch(html, /registered patients/);
});

test('the home page shows a member the collective in the NHS page shell', async () => {
  const member = new Client(shoal.url);
  await member.signIn(demo.member);
  const cookie = [...member.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(shoal.url + '/', { headers: { cookie } });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/html; charset=utf-8/);
  assertSecurityHeaders(res);
  const html = await res.text();
  assert.match(html, /<html lang="en-GB">/);
  assert.match(html, /class="nhsuk-skip-link" href="#maincontent"/);
  assert.match(html, /<main class="nhsuk-main-wrapper" id="maincontent">/);
  assert.match(html, /Wyvern Vale GP Collective \(fictional\)/);
  assert.match(html, /fictional/);
  assert.match(html, /Practices<\/td><td[^>]*>24</);
  assert.match(html, /Primary Care Networks<\/td><td[^>]*>5</);
  assert.match(html, /look after 234,290 registered patients/);
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc="\/assets\/)/, 'no inline script: only the enhancement module');
});

test('the stylesheets have content-hashed URLs cached for a year', async () => {
  const html = await (await fetch(shoal.url + '/')).text();
  const hrefs = [...html.matchAll(/<link rel="stylesheet" href="([^"]+)">/g)].map((m) => m[1]);
  assert.equal(hrefs.length, 2);
  for (const href of hrefs) {
    assert.match(href, /^\/assets\/[0-9a-f]{16}\/[a-z.-]+\.css$/);
    const res = await fetch(shoal.url + href);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/css/);
    assert.match(res.headers.get('cache-control'), /max-age=31536000, immutable/);
    assertSecurityHeaders(res);
    assert.ok((await res.text()).length > 100);
  }
  // An outdated hash is not served as if it were current.
  const stale = hrefs[0].replace(/\/[0-9a-f]{16}\//, '/0000000000000000/');
  assert.equal((await fetch(shoal.url + stale)).status, 404);
  const icon = await fetch(shoal.url + '/assets/images/nhsuk-icon-cross.svg');
  assert.equal(icon.status, 200);
  assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
});

test('an unknown page gets the NHS-style 404 page', async () => {
  const res = await fetch(shoal.url + '/no/such/page');
  assert.equal(res.status, 404);
  assertSecurityHeaders(res);
  const html = await res.text();
  assert.match(html, /<h1>Page not found<\/h1>/);
  assert.match(html, /nhsuk-header/);
  assert.match(html, /<title>Page not found – /);
});

test('a path that exists but not for the method gets 405 with Allow', async () => {
  const res = await fetch(shoal.url + '/healthz', { method: 'POST', body: 'x=1' });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'GET');
  assert.match(await res.text(), /This page cannot do that/);
});

test('HEAD is answered like GET without a body', async () => {
  const res = await fetch(shoal.url + '/', { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '');
});

test('a too-long URL gets 414 with a page saying so', async () => {
  const res = await fetch(shoal.url + '/' + 'a'.repeat(3000));
  assert.equal(res.status, 414);
  assert.match(await res.text(), /The web address is too long/);
});

test('too many header bytes get 431 with a page saying so', async () => {
  const res = await fetch(shoal.url + '/', { headers: { cookie: 'c=' + 'x'.repeat(12000) } });
  assert.equal(res.status, 431);
  assert.match(await res.text(), /Your browser sent too much information/);
});

test('a body over the limit gets 413 at once, from its Content-Length', async () => {
  const res = await fetch(shoal.url + '/', { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024) });
  assert.equal(res.status, 413);
  assert.match(await res.text(), /What you sent is too large/);
});

test('a chunked body that grows past the limit gets 413', async () => {
  const chunk = 'y'.repeat(64 * 1024);
  const head = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
  let body = '';
  for (let i = 0; i < 20; i++) body += chunk.length.toString(16) + '\r\n' + chunk + '\r\n';
  const reply = await raw(head + body + '0\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 413 /);
  assert.match(reply, /What you sent is too large/);
});

test('malformed HTTP gets 400 (or a closed connection) and the server keeps serving', async () => {
  assert.match(await raw('GET / HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n'), /^HTTP\/1\.1 400 /);
  assert.match(await raw('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'), /^HTTP\/1\.1 400 /);
  assert.match(await raw('GET / HTTP/9.9\r\nHost: x\r\n\r\n'), /^HTTP\/1\.1 505 /);
  assert.equal(await raw('GARBAGE\r\n\r\n'), '');
  assert.equal(await raw('\x00\x01\x02\xff\r\n\r\n'), '');
  const res = await fetch(shoal.url + '/healthz');
  assert.equal(res.status, 200);
});

test('a client that asks for 100-continue is refused before it sends a too-large body', async () => {
  const reply = await raw('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 413 /);
  assert.doesNotMatch(reply, /100 Continue/);
});

test('keep-alive: two requests are answered on one connection', async () => {
  const req = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
  const reply = await raw(req + req, { idleMs: 500 });
  assert.equal(reply.match(/HTTP\/1\.1 200 OK/g)?.length, 2, reply);
});

test('/healthz answers 200 with a small JSON body when the database answers', async () => {
  const res = await fetch(shoal.url + '/healthz');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  const body = await res.json();
  assert.equal(body.status, 'ok');
  assert.ok(['sqlite', 'postgresql'].includes(body.database));
});

test('/metrics is Prometheus text with requests by route and status, latency and pool', async () => {
  await fetch(shoal.url + '/nope-for-metrics');
  const res = await fetch(shoal.url + '/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /^shoal_http_requests_total\{method="GET",route="\/healthz",status="200"\} [1-9]\d*$/m);
  assert.match(text, /^shoal_http_requests_total\{method="",route="unmatched",status="404"\} [1-9]\d*$/m);
  assert.match(text, /^shoal_http_request_duration_seconds_bucket\{le="\+Inf"\} [1-9]\d*$/m);
  assert.match(text, /^shoal_http_request_duration_seconds_count [1-9]\d*$/m);
  assert.match(text, /^shoal_db_pool_connections \d+$/m);
  assert.match(text, /^shoal_db_pool_in_use \d+$/m);
});

test('every request gets one access-log line with id, method, path, status, bytes and time', async () => {
  const res = await fetch(shoal.url + '/healthz?probe=log');
  const id = res.headers.get('x-request-id');
  await res.text();
  await new Promise((r) => setTimeout(r, 200));
  const line = shoal.log().split('\n').find((l) => l.includes(`id=${id}`));
  assert.ok(line, 'an access line for the request');
  assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info access id=[0-9a-f]{16} method=GET path="\/healthz" status=200 bytes=\d+ ms=[\d.]+$/);
});

test('behind a trusted proxy the client address comes from X-Forwarded-For, and /metrics stays private', async () => {
  const proxied = await startShoal({ extraArgs: ['--trusted-proxies', '127.0.0.1'] });
  try {
    // The right-most address that is not a trusted proxy is the client; what the client wrote to its left is ignored.
    const res = await fetch(proxied.url + '/healthz', { headers: { 'x-forwarded-for': '203.0.113.9, 198.51.100.7' } });
    const id = res.headers.get('x-request-id');
    await res.text();
    // Through the proxy, the public cannot read /metrics; from the machine itself, monitoring can.
    assert.equal((await fetch(proxied.url + '/metrics', { headers: { 'x-forwarded-for': '198.51.100.7' } })).status, 404);
    assert.equal((await fetch(proxied.url + '/metrics')).status, 200);
    // A header that is not an address changes nothing.
    assert.equal((await fetch(proxied.url + '/metrics', { headers: { 'x-forwarded-for': 'not-an-address' } })).status, 200);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(proxied.log().includes(`id=${id}`));
    // Throttles and the audit trail see the real client, not the proxy.
    const c = new Client(proxied.url);
    await c.get('/sign-in');
    await c.request('/sign-in', { method: 'POST', form: { csrf: c.csrf, email: demo.member, password: 'wrong password here' }, headers: { 'x-forwarded-for': '198.51.100.7' } });
    assert.equal(sql(proxied.db, "SELECT address FROM audit_log WHERE action = 'sign-in-failed'"), '198.51.100.7');
  } finally {
    await proxied.stop();
  }
  // Without --trusted-proxies, the header is not believed.
  assert.equal((await fetch(shoal.url + '/metrics', { headers: { 'x-forwarded-for': '198.51.100.7' } })).status, 200);
});
