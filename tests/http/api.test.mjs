// tests/http/api.test.mjs — the JSON API and its tokens, as a script author
// and the person holding the token meet them: tokens made on the command line
// and on the account page, shown once, revoked, refused when they should be;
// /api/v1/me; JSON errors; and an OpenAPI document that covers every route.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startShoal, run, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TOKEN = /^shoal_[A-Za-z0-9_-]{43}$/;

let shoal;
before(async () => {
  shoal = await startShoal();
});
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0, 'shoal stops cleanly');
});

/** `shoal token create` on the test database; resolves to { status, stdout, stderr }. */
function tokenCreate(...args) {
  return run(['token', 'create', '--db', shoal.db, ...args]);
}

/** Makes a token with the command line and returns it. */
async function newToken(email, ...args) {
  const r = await tokenCreate('--email', email, ...args);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

/** Calls the API with a bearer token; the body is parsed as JSON when there is one. */
async function api(path, token, { method = 'GET', headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  const res = await fetch(shoal.url + path, { method, headers: h });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text ? JSON.parse(text) : null };
}

function assertJsonError(r, status, pattern) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.deepEqual(Object.keys(r.json), ['error']);
  if (pattern) assert.match(r.json.error, pattern);
}

const auditCount = (action, actor) =>
  Number(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = '${action}' AND actor = '${actor}'`));

test('shoal token create prints the token alone, and GET /api/v1/me answers as its holder', async () => {
  const before = auditCount('token-created', 'system');
  const r = await tokenCreate('--email', demo.lead, '--name', 'Practice dashboard');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^shoal_[A-Za-z0-9_-]{43}\n$/, 'the token and nothing else on stdout');
  assert.equal(auditCount('token-created', 'system'), before + 1, 'audited with actor system');
  // Only a hash is stored.
  assert.equal(sql(shoal.db, `SELECT count(*) FROM api_tokens WHERE token_hash = '${r.stdout.trim()}'`), '0');

  const me = await api('/api/v1/me', r.stdout.trim());
  assert.equal(me.status, 200);
  assert.match(me.headers.get('content-type'), /^application\/json/);
  assert.equal(me.headers.get('cache-control'), 'no-store');
  assert.equal(me.json.email, demo.lead);
  assert.equal(me.json.name, 'Sam Patel (practice manager)');
  assert.equal(me.json.role, 'member');
  assert.deepEqual(me.json.roles, ['member', 'practice-lead']);
  assert.equal(me.json.mfa, false);
  assert.ok(Number.isInteger(me.json.id));
  assert.deepEqual(me.json.organisations, [{ ods_code: 'Z80001', name: 'Riverside Medical Centre', kind: 'practice', lead: true }]);

  const member = await api('/api/v1/me', await newToken(demo.member, '--scope', 'write'));
  assert.deepEqual(member.json.roles, ['member']);
  assert.equal(member.json.organisations[0].lead, false);
  const partner = await api('/api/v1/me', await newToken(demo.partner));
  assert.equal(partner.json.role, 'partner');
  assert.deepEqual(partner.json.roles, ['partner']);
});

test('shoal token create refuses, in one line, what it cannot do', async () => {
  for (const [args, status, message] of [
    [['--email', 'nobody@wyvern.example'], 1, /nobody@wyvern.example has no account/],
    [['--email', demo.deactivated], 1, /is deactivated/],
    [['--email', demo.partner, '--scope', 'write'], 1, /partners may hold read tokens only/],
    [['--email', demo.member, '--scope', 'admin'], 2, /--scope must be read or write/],
    [['--email', demo.member, '--name', 'x'.repeat(101)], 2, /100 characters or fewer/],
    [['--email', 'not an address'], 2, /--email needs a valid email address/],
  ]) {
    const r = await tokenCreate(...args);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '', 'no token printed');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, message);
  }
  const help = await run(['token', 'create', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--scope SCOPE/);
});

test('without a valid token the API answers 401 in JSON', async () => {
  const none = await api('/api/v1/me');
  assertJsonError(none, 401);
  assert.match(none.headers.get('www-authenticate'), /^Bearer/);
  assertJsonError(await api('/api/v1/me', 'shoal_' + 'A'.repeat(43)), 401, /not valid/);
  assertJsonError(await api('/api/v1/me', null, { headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401);
  assertJsonError(await api('/api/v1/me', 'x'.repeat(5000)), 401);
});

test('unknown API paths and methods answer JSON errors; pages still get HTML', async () => {
  const token = await newToken(demo.member);
  assertJsonError(await api('/api/v1/nothing-here', token), 404);
  assertJsonError(await api('/api/v2/me'), 404);
  const post = await api('/api/v1/me', token, { method: 'POST' });
  assertJsonError(post, 405);
  assert.equal(post.headers.get('allow'), 'GET');
  const page = await fetch(shoal.url + '/no-such-page');
  assert.equal(page.status, 404);
  assert.match(page.headers.get('content-type'), /^text\/html/);
});

test('a read token may not change anything; a write token revokes its holder’s tokens', async () => {
  const read = await newToken(demo.otherMember, '--name', 'Reader');
  const write = await newToken(demo.otherMember, '--scope', 'write', '--name', 'Writer');
  const list = await api('/api/v1/tokens', read);
  assert.equal(list.status, 200);
  const reader = list.json.tokens.find((t) => t.name === 'Reader');
  assert.equal(reader.scope, 'read');
  assert.match(reader.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(list.json.tokens.every((t) => !JSON.stringify(t).includes('shoal_')), 'tokens never shown again');

  assertJsonError(await api(`/api/v1/tokens/${reader.id}`, read, { method: 'DELETE' }), 403, /only read/);
  assert.equal((await api('/api/v1/me', read)).status, 200, 'the refused call changed nothing');

  // Someone else's token looks like no token at all, and keeps working.
  const stranger = await newToken(demo.member, '--scope', 'write');
  assertJsonError(await api(`/api/v1/tokens/${reader.id}`, stranger, { method: 'DELETE' }), 404);
  assertJsonError(await api('/api/v1/tokens/abc', write, { method: 'DELETE' }), 404);
  assert.equal((await api('/api/v1/me', read)).status, 200);

  const before = auditCount('token-revoked', demo.otherMember);
  const gone = await api(`/api/v1/tokens/${reader.id}`, write, { method: 'DELETE' });
  assert.equal(gone.status, 204);
  assert.equal(auditCount('token-revoked', demo.otherMember), before + 1);
  assertJsonError(await api('/api/v1/me', read), 401, /not valid/);
  assert.ok(!(await api('/api/v1/tokens', write)).json.tokens.some((t) => t.id === reader.id));
});

test('a partner’s write token, from before a change of role, may only read', async () => {
  const email = 'converted@wyvern.example';
  sql(shoal.db, `INSERT INTO people (email, name, role, created_at, updated_at) VALUES ('${email}', 'Converted', 'member', 0, 0)`);
  const token = await newToken(email, '--scope', 'write');
  sql(shoal.db, `UPDATE people SET role = 'partner' WHERE email = '${email}'`);
  const id = (await api('/api/v1/tokens', token)).json.tokens[0].id;
  assertJsonError(await api(`/api/v1/tokens/${id}`, token, { method: 'DELETE' }), 403);
  assert.equal((await api('/api/v1/me', token)).status, 200);
});

test('a deactivated person’s tokens stop working at once', async () => {
  const email = 'leaving@wyvern.example';
  sql(shoal.db, `INSERT INTO people (email, name, role, created_at, updated_at) VALUES ('${email}', 'Leaving', 'member', 0, 0)`);
  const token = await newToken(email);
  assert.equal((await api('/api/v1/me', token)).status, 200);
  sql(shoal.db, `UPDATE people SET deactivated_at = 1 WHERE email = '${email}'`);
  assertJsonError(await api('/api/v1/me', token), 401);
});

test('a browser session may use the API, but changes need its CSRF token', async () => {
  const c = new Client(shoal.url);
  await c.signIn(demo.member);
  const me = await c.get('/api/v1/me');
  assert.equal(me.status, 200);
  assert.equal(JSON.parse(me.text).email, demo.member);
  const id = JSON.parse((await c.get('/api/v1/tokens')).text).tokens[0]?.id ?? 1;
  const r = await c.request(`/api/v1/tokens/${id}`, { method: 'DELETE' });
  assert.equal(r.status, 403);
  assert.match(JSON.parse(r.text).error, /CSRF/);
});

/** The revoke form's token ids on an /account/tokens page, in order. */
const revokeIds = (html) => [...html.matchAll(/action="\/account\/tokens\/(\d+)\/revoke"/g)].map((m) => m[1]);

test('a member creates a token on their account page, sees it once, and revokes it', async () => {
  const c = new Client(shoal.url);
  assert.equal((await c.signIn(demo.otherLead)).status, 303);
  const account = await c.get('/account');
  assert.match(account.text, /<a href="\/account\/tokens">Manage your API tokens<\/a>/);

  let page = await c.get('/account/tokens');
  assert.equal(page.status, 200);
  assert.match(page.text, /<h1>API tokens<\/h1>/);
  assert.match(page.text, /You have no API tokens/);
  assert.match(page.text, /id="scope-write" name="scope" type="radio" value="write"/);

  const created = await c.post('/account/tokens', { name: 'Rota <script> sync', scope: 'write' });
  assert.equal(created.status, 200);
  assert.equal(created.headers.get('cache-control'), 'no-store');
  assert.match(created.text, /Copy your token now/);
  assert.match(created.text, /Rota &lt;script&gt; sync \(read and write\)/);
  const token = created.text.match(/id="token"[^>]*value="([^"]+)"/)[1];
  assert.match(token, TOKEN);

  const me = await api('/api/v1/me', token);
  assert.equal(me.json.email, demo.otherLead);
  assert.equal(auditCount('token-created', demo.otherLead), 1);

  page = await c.get('/account/tokens');
  assert.ok(!page.text.includes(token), 'the token is never shown again');
  assert.ok(!page.text.includes(token.slice(6, 20)));
  assert.match(page.text, /<th class="nhsuk-table__header" scope="row" role="rowheader"><span[^>]*>Name <\/span>Rota &lt;script&gt; sync<\/th>/);
  assert.match(page.text, /Read and write/);
  assert.match(page.text, /\d{1,2} [A-Z][a-z]+ \d{4} at \d{1,2}:\d\d[ap]m/, 'created and last used, in UK time');
  assert.doesNotMatch(page.text, /Never/, 'it has been used');
  const [id] = revokeIds(page.text);

  const revoked = await c.post(`/account/tokens/${id}/revoke`, {});
  assert.equal(revoked.status, 303);
  assert.equal(revoked.location, '/account/tokens?revoked=1');
  page = await c.get(revoked.location);
  assert.match(page.text, /The token has been revoked/);
  assert.match(page.text, /You have no API tokens/);
  assert.equal(auditCount('token-revoked', demo.otherLead), 1);
  assertJsonError(await api('/api/v1/me', token), 401);

  // Revoking again changes nothing; a made-up id is not found.
  assert.equal((await c.post(`/account/tokens/${id}/revoke`, {})).status, 303);
  assert.equal(auditCount('token-revoked', demo.otherLead), 1);
  assert.equal((await c.post('/account/tokens/999999/revoke', {})).status, 404);
  assert.equal((await c.post('/account/tokens/x1/revoke', {})).status, 404);
});

test('the create form says what to fix and keeps what was typed', async () => {
  const c = new Client(shoal.url);
  await c.signIn(demo.member);
  await c.get('/account/tokens');
  let r = await c.post('/account/tokens', { name: '  ', scope: 'read' });
  assert.equal(r.status, 400);
  assert.match(r.text, /<title>Error: API tokens/);
  assert.match(r.text, /There is a problem/);
  assert.match(r.text, /<a href="#name">Enter a name that says what the token is for<\/a>/);
  assert.match(r.text, /id="name-error"/);

  const long = 'é'.repeat(101);
  r = await c.post('/account/tokens', { name: long, scope: 'write' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Token name must be 100 characters or fewer/);
  assert.ok(r.text.includes(`value="${long}"`), 'the name is kept');
  assert.match(r.text, /value="write" checked/, 'the choice is kept');
  assert.equal((await c.post('/account/tokens', { name: 'é'.repeat(100), scope: 'read' })).status, 200, '100 characters are fine');

  r = await c.post('/account/tokens', { name: 'No scope' });
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#scope">Choose what the token can do<\/a>/);

  // A form from elsewhere (no CSRF token) is refused and makes nothing.
  const count = sql(shoal.db, "SELECT count(*) FROM api_tokens");
  r = await c.request('/account/tokens', { method: 'POST', form: { name: 'Forged', scope: 'write' } });
  assert.equal(r.status, 403);
  assert.equal(sql(shoal.db, 'SELECT count(*) FROM api_tokens'), count);
});

test('partners may hold read tokens only', async () => {
  const c = new Client(shoal.url);
  await c.signIn(demo.partner);
  const page = await c.get('/account/tokens');
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /value="write"/, 'no write choice is offered');
  assert.match(page.text, /Tokens for partner accounts can read, but not change anything/);
  const count = sql(shoal.db, 'SELECT count(*) FROM api_tokens');
  const refused = await c.post('/account/tokens', { name: 'ICB dashboard', scope: 'write' });
  assert.equal(refused.status, 400);
  assert.match(refused.text, /<a href="#scope">Partner accounts can only have read-only tokens: choose read only<\/a>/);
  assert.equal(sql(shoal.db, 'SELECT count(*) FROM api_tokens'), count, 'nothing made');
  const ok = await c.post('/account/tokens', { name: 'ICB dashboard', scope: 'read' });
  assert.equal(ok.status, 200);
  assert.match(ok.text, /ICB dashboard \(read only\)/);
});

test('nobody can revoke someone else’s token from their account page', async () => {
  const token = await newToken(demo.lead, '--name', 'Lead’s own');
  const id = (await api('/api/v1/tokens', token)).json.tokens.find((t) => t.name === 'Lead’s own').id;
  const c = new Client(shoal.url);
  await c.signIn(demo.member);
  await c.get('/account/tokens');
  const r = await c.post(`/account/tokens/${id}/revoke`, {});
  assert.equal(r.status, 404);
  assert.equal((await api('/api/v1/me', token)).status, 200, 'the token still works');
});

test('a person holds at most 20 live tokens, even when asked for many at once', async () => {
  const email = 'busy@wyvern.example';
  sql(shoal.db, `INSERT INTO people (email, name, role, created_at, updated_at) VALUES ('${email}', 'Busy', 'member', 0, 0)`);
  const first = await newToken(email, '--scope', 'write');
  const results = await Promise.all(Array.from({ length: 24 }, (_, i) => tokenCreate('--email', email, '--name', `Token ${i}`)));
  assert.equal(results.filter((r) => r.status === 0).length, 19, results.map((r) => r.stderr).join(''));
  for (const r of results.filter((x) => x.status !== 0)) {
    assert.equal(r.status, 1);
    assert.match(r.stderr, /already holds 20 tokens/);
  }
  // Revoking one makes room.
  const { tokens } = (await api('/api/v1/tokens', first)).json;
  assert.equal(tokens.length, 20);
  assert.equal((await api(`/api/v1/tokens/${tokens[0].id}`, first, { method: 'DELETE' })).status, 204);
  assert.equal((await tokenCreate('--email', email)).status, 0);
});

test('the account page refuses a 21st token with a clear message', async () => {
  const c = new Client(shoal.url);
  await c.signIn(demo.partner);
  const held = Number(sql(shoal.db, `SELECT count(*) FROM api_tokens t JOIN people p ON p.id = t.person_id WHERE p.email = '${demo.partner}' AND t.revoked_at IS NULL`));
  for (let i = held; i < 20; i++) await newToken(demo.partner, '--name', `Feed ${i}`);
  const page = await c.get('/account/tokens');
  assert.equal(revokeIds(page.text).length, 20);
  assert.match(page.text, /You have 20 tokens, the most you can have/);
  const r = await c.post('/account/tokens', { name: 'One more', scope: 'read' });
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#tokens">You already have the most tokens you can have. Revoke one you no longer use, then create a new one<\/a>/);
  assert.match(r.text, /<h2 id="tokens">Your tokens<\/h2>/);
});

test('openapi.json is OpenAPI 3.1 and documents every /api/v1 route in src/app/routes.c', async () => {
  const r = await api('/api/v1/openapi.json');
  assert.equal(r.status, 200);
  const doc = r.json;
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(doc.info.title && doc.info.version);
  assert.match(doc.servers[0].url, /^https?:\/\//);
  assert.deepEqual(doc.components.securitySchemes.bearer, { ...doc.components.securitySchemes.bearer, type: 'http', scheme: 'bearer' });
  for (const name of ['Me', 'Error']) assert.equal(doc.components.schemas[name].type, 'object', name);

  const source = readFileSync(join(root, 'src/app/routes.c'), 'utf8');
  const routes = [...source.matchAll(/\{\s*"([A-Z]+)",\s*"(\/api\/[^"]*)",\s*\w+,\s*(ACCESS_\w+)\s*\}/g)]
    .map(([, method, path, access]) => ({ method: method.toLowerCase(), path, access }));
  assert.ok(routes.some((x) => x.path === '/api/v1/me'), 'routes.c was parsed');
  assert.equal(routes.length, source.match(/"\/api\//g).length, 'every /api/ route in routes.c was understood');
  for (const { method, path, access } of routes) {
    const op = doc.paths[path]?.[method];
    assert.ok(op, `${method.toUpperCase()} ${path} is in routes.c but not in openapi.json`);
    assert.ok(op.summary && op.responses, `${method} ${path} has a summary and responses`);
    if (access !== 'ACCESS_PUBLIC') {
      for (const status of ['401', '403']) assert.ok(op.responses[status], `${method} ${path} documents ${status}`);
    } else {
      assert.deepEqual(op.security, [], `${method} ${path} needs no token`);
    }
  }
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item)) {
      assert.ok(routes.some((x) => x.path === path && x.method === method), `${method} ${path} is documented but not routed`);
    }
  }
  // Every $ref points at something.
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1]);
  for (const ref of refs) assert.ok(ref.split('/').reduce((o, k) => o?.[k], doc), `${ref} exists`);

  // /api/v1/me answers what the Me schema promises.
  const me = await api('/api/v1/me', await newToken(demo.member));
  assert.deepEqual(Object.keys(me.json).sort(), [...doc.components.schemas.Me.required].sort());
});
