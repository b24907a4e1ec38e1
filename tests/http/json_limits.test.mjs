// tests/http/json_limits.test.mjs — JSON API bodies are parsed once, in the
// before hook (src/app/access.c, json_parse_body in src/render/json.c), within
// LIMIT_JSON_BYTES and LIMIT_JSON_DEPTH: a very large or deeply nested body is
// refused quickly with a JSON error that says which limit, before any handler.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, run } from '../lib/shoal.mjs';
import { demo } from '../lib/client.mjs';

let shoal;
let token;
before(async () => {
  shoal = await startShoal();
  const r = await run(['token', 'create', '--db', shoal.db, '--email', demo.lead, '--scope', 'write']);
  assert.equal(r.status, 0, r.stderr);
  token = r.stdout.trim();
});
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0, 'shoal stops cleanly');
});

/** Sends body as JSON to an API route that changes state; times the answer. */
async function send(body, { type = 'application/json', path = '/api/v1/tokens/999999' } = {}) {
  const started = Date.now();
  const res = await fetch(shoal.url + path, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${token}`, 'content-type': type },
    body,
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), text, ms: Date.now() - started };
}

function assertRefused(r, status, pattern) {
  assert.equal(r.status, status, r.text);
  assert.match(r.type, /^application\/json/);
  const doc = JSON.parse(r.text);
  assert.deepEqual(Object.keys(doc), ['error']);
  assert.match(doc.error, pattern);
  // Quickly even under the sanitizers: one pass over the body, no recursion.
  assert.ok(r.ms < (process.env.SHOAL_TEST_SLOW ? 60000 : 3000), `answered in ${r.ms} ms`);
}

test('a body nested 100,000 arrays deep is refused with 400, naming the limit', async () => {
  assertRefused(await send('['.repeat(100000) + ']'.repeat(100000)), 400, /nested more than 32 levels/);
});

test('objects nested 33 deep are refused; 32 deep reach the handler', async () => {
  const nest = (n) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  assertRefused(await send(nest(33)), 400, /nested more than 32 levels/);
  const ok = await send(nest(32));
  assert.equal(ok.status, 404, ok.text); // the handler's own answer: no such token
});

test('brackets inside strings do not count as nesting', async () => {
  const r = await send(JSON.stringify({ note: '['.repeat(1000) }));
  assert.equal(r.status, 404, r.text);
});

test('a body over 256 KiB is refused with 413; over 1 MiB the server refuses it before reading', async () => {
  assertRefused(await send(JSON.stringify({ note: 'x'.repeat(300 * 1024) })), 413, /larger than 262144 bytes/);
  const huge = await send(JSON.stringify({ note: 'x'.repeat(5 * 1024 * 1024) }));
  assert.equal(huge.status, 413, huge.text);
  assert.match(huge.type, /^application\/json/);
});

test('a body that is not JSON, not UTF-8, has a NUL or a key twice is refused with 400', async () => {
  assertRefused(await send('{"a": 1,'), 400, /not valid JSON/);
  assertRefused(await send(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])), 400, /not valid JSON/);
  assertRefused(await send('{"a":"\\u0000"}'), 400, /not valid JSON/);
  assertRefused(await send('{"a":1,"a":2}'), 400, /not valid JSON/);
  // The message never carries the caller's bytes back raw.
  const r = await send('{"<script>alert(1)</script>": }');
  assert.equal(r.status, 400);
  assert.doesNotMatch(r.text, /<script>/);
});

test('an empty body sent as JSON is no document, not an error', async () => {
  const r = await send('');
  assert.equal(r.status, 404, r.text);
});

test('the limits apply only to JSON: other bodies reach the handler as before', async () => {
  const r = await send('['.repeat(1000), { type: 'text/plain' });
  assert.equal(r.status, 404, r.text);
});

test('without a valid token the body is not even parsed', async () => {
  const res = await fetch(shoal.url + '/api/v1/tokens/1', {
    method: 'DELETE',
    headers: { 'content-type': 'application/json' },
    body: '['.repeat(100000),
  });
  assert.equal(res.status, 401);
});
