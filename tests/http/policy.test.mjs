// tests/http/policy.test.mjs — the access matrix: every route in
// src/app/routes.c, asked by every kind of visitor, must be allowed or refused
// exactly as the table below says. The table is written by hand from
// DOMAIN.md, not derived from the code, and the test fails when a route is
// missing from it or a row names a route that no longer exists.
//
// Asking is side-effect free: state-changing routes are sent without a CSRF
// token, and the before hook asks the policy before it checks the token, so an
// allowed visitor gets "This form could not be sent" and a refused one gets the
// sign-in redirect, "You do not have access", or a 401/403 from the API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startShoal, run, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// Who asks. "otherMember" is staff of another practice; "mustEnrol" is an
// executive without two-step sign-in yet; "mfaPending" has passed the password
// but not the code; "deactivated" holds a session from before deactivation.
const everyone = ['anonymous', 'member', 'otherMember', 'lead', 'executive', 'admin', 'partner', 'mustEnrol', 'mfaPending', 'deactivated'];
const signedIn = ['member', 'otherMember', 'lead', 'executive', 'admin', 'partner'];
const enrolling = [...signedIn, 'mustEnrol'];
const members = ['member', 'otherMember', 'lead', 'executive', 'admin'];
const leads = ['lead', 'executive', 'admin'];
const executive = ['executive', 'admin'];
const admin = ['admin'];

// route → [sample path, who is allowed]. Sample ids are filled in before().
const matrix = {
  'GET /': ['/', everyone],
  'GET /healthz': ['/healthz', everyone],
  'GET /metrics': ['/metrics', everyone],
  'GET /assets/images/{name}': ['/assets/images/nhsuk-icon-cross.svg', everyone],
  'GET /assets/{hash}/{name}': ['ASSET', everyone],
  'GET /favicon.ico': ['/favicon.ico', everyone],
  'GET /sign-in': ['/sign-in', everyone],
  'POST /sign-in': ['/sign-in', everyone],
  'POST /sign-out': ['/sign-out', enrolling],
  'POST /sign-out-everywhere': ['/sign-out-everywhere', enrolling],
  'POST /session/extend': ['/session/extend', enrolling],
  'GET /account': ['/account', signedIn],
  'GET /account/tokens': ['/account/tokens', signedIn],
  'POST /account/tokens': ['/account/tokens', signedIn],
  'POST /account/tokens/{id}/revoke': ['/account/tokens/999999/revoke', signedIn],
  'GET /api/v1/me': ['/api/v1/me', signedIn],
  'GET /api/v1/tokens': ['/api/v1/tokens', signedIn],
  'DELETE /api/v1/tokens/{id}': ['/api/v1/tokens/999999', signedIn],
  'GET /api/v1/openapi.json': ['/api/v1/openapi.json', everyone],
  'GET /sign-in/mfa': ['/sign-in/mfa', everyone],
  'POST /sign-in/mfa': ['/sign-in/mfa', everyone],
  'GET /account/mfa': ['/account/mfa', enrolling],
  'POST /account/mfa/confirm': ['/account/mfa/confirm', enrolling],
  'POST /account/mfa/recovery-codes': ['/account/mfa/recovery-codes', signedIn],
  'POST /account/mfa/disable': ['/account/mfa/disable', signedIn],
  'POST /admin/people/{id}/mfa-reset': ['/admin/people/VICTIM/mfa-reset', admin],
  // Invitations are sent by practice leads (to their own practice), the executive and
  // administrators; anyone holding a link may open it.
  'GET /invitations': ['/invitations', leads],
  'GET /invitations/new': ['/invitations/new', leads],
  'POST /invitations/new': ['/invitations/new', leads],
  'GET /invitations/accept/{token}': ['/invitations/accept/TOKEN', everyone],
  'POST /invitations/accept/{token}': ['/invitations/accept/TOKEN', everyone],
  'POST /invitations/{id}/revoke': ['/invitations/999999/revoke', leads],
  'GET /password-reset': ['/password-reset', everyone],
  'POST /password-reset': ['/password-reset', everyone],
  'GET /password-reset/{token}': ['/password-reset/TOKEN', everyone],
  'POST /password-reset/{token}': ['/password-reset/TOKEN', everyone],
  'GET /join': ['/join', everyone],
  'POST /join': ['/join', everyone],
  'GET /join/requests': ['/join/requests', leads],
  'POST /join/requests/{id}/approve': ['/join/requests/999999/approve', leads],
  'POST /join/requests/{id}/refuse': ['/join/requests/999999/refuse', leads],
  'GET /admin/settings': ['/admin/settings', admin],
  'POST /admin/settings': ['/admin/settings', admin],
  // The directory: partners get in, but see only the executive and those who chose
  // to be visible to partners (tests/http/directory.test.mjs checks what they see).
  'GET /people': ['/people', signedIn],
  'GET /people/{id}': ['/people/EXECUTIVE', signedIn],
  'GET /account/profile': ['/account/profile', signedIn],
  'POST /account/profile': ['/account/profile', signedIn],
  'GET /admin': ['/admin', admin],
  'GET /admin/people': ['/admin/people', admin],
  'GET /admin/people/{id}': ['/admin/people/VICTIM', admin],
  'POST /admin/people/{id}/role': ['/admin/people/VICTIM/role', admin],
  'POST /admin/people/{id}/memberships': ['/admin/people/VICTIM/memberships', admin],
  'POST /admin/people/{id}/memberships/{org}/remove': ['/admin/people/VICTIM/memberships/PRACTICE/remove', admin],
  'POST /admin/people/{id}/deactivate': ['/admin/people/VICTIM/deactivate', admin],
  'POST /admin/people/{id}/reactivate': ['/admin/people/VICTIM/reactivate', admin],
  // Data protection (tests/http/privacy.test.mjs): everyone signed in exports their own
  // data; administrators export anyone's, remove a deactivated person's details, and
  // set how long records are kept.
  'GET /account/export': ['/account/export', signedIn],
  'GET /account/export.json': ['/account/export.json', signedIn],
  'GET /admin/people/{id}/export': ['/admin/people/VICTIM/export', admin],
  'GET /admin/people/{id}/export.json': ['/admin/people/VICTIM/export.json', admin],
  'POST /admin/people/{id}/anonymise': ['/admin/people/VICTIM/anonymise', admin],
  'GET /admin/retention': ['/admin/retention', admin],
  'POST /admin/retention': ['/admin/retention', admin],
  // The audit trail shows who did what to whom: administrators only.
  'GET /admin/audit': ['/admin/audit', admin],
  'GET /admin/audit.csv': ['/admin/audit.csv', admin],
  'GET /admin/organisations': ['/admin/organisations', admin],
  'POST /admin/organisations': ['/admin/organisations', admin],
  'GET /admin/organisations/new': ['/admin/organisations/new', admin],
  'GET /admin/organisations/import': ['/admin/organisations/import', admin],
  'POST /admin/organisations/import': ['/admin/organisations/import', admin],
  'GET /admin/organisations/{ods}': ['/admin/organisations/Z80001', admin],
  'POST /admin/organisations/{ods}': ['/admin/organisations/Z80001', admin],
  // Pressure returns (tests/http/pressure.test.mjs): a practice's returns are seen by its
  // own staff (the sample is Riverside, Z80001, whose lead and GP are "lead" and "member")
  // and the executive; only its leads send them or choose who may. Return 1 is a demo
  // return of Riverside.
  'GET /pressure': ['/pressure', members],
  'GET /pressure/practices/{ods}': ['/pressure/practices/Z80001', ['member', 'lead', 'executive', 'admin']],
  'GET /pressure/practices/{ods}/return': ['/pressure/practices/Z80001/return', ['lead']],
  'POST /pressure/practices/{ods}/return': ['/pressure/practices/Z80001/return', members],
  'GET /pressure/practices/{ods}/reporters': ['/pressure/practices/Z80001/reporters', ['lead']],
  'POST /pressure/practices/{ods}/reporters': ['/pressure/practices/Z80001/reporters', leads],
  'GET /pressure/returns/{id}': ['/pressure/returns/1', ['member', 'lead', 'executive', 'admin']],
  'GET /pressure/escalations': ['/pressure/escalations', executive],
  'GET /pressure/escalations/{id}': ['/pressure/escalations/999999', executive],
  'POST /pressure/escalations/{id}': ['/pressure/escalations/999999', executive],
  'GET /pressure/periods': ['/pressure/periods', executive],
  'POST /pressure/surges': ['/pressure/surges', executive],
  'POST /pressure/surges/{id}/end': ['/pressure/surges/999999/end', executive],
  'POST /pressure/settings': ['/pressure/settings', executive],
  // Live updates (tests/http/pressure_live.test.mjs) carry no figures: anyone signed in.
  // Asked without "Accept: text/event-stream", an allowed visitor gets a 406 page, not a stream.
  'GET /pressure/live': ['/pressure/live', signedIn],
  // The teleconference briefing (tests/http/pressure_briefing.test.mjs): everyone signed in
  // reads it (partners the suppressed version); the executive writes it and sends it.
  'GET /pressure/briefing': ['/pressure/briefing', signedIn],
  'GET /pressure/briefing.pdf': ['/pressure/briefing.pdf', signedIn],
  'POST /pressure/briefing/items': ['/pressure/briefing/items', executive],
  'POST /pressure/briefing/items/{id}': ['/pressure/briefing/items/999999', executive],
  'POST /pressure/briefing/items/{id}/delete': ['/pressure/briefing/items/999999/delete', executive],
  'GET /pressure/briefing/recipients': ['/pressure/briefing/recipients', executive],
  'POST /pressure/briefing/recipients': ['/pressure/briefing/recipients', executive],
  'POST /pressure/briefing/recipients/{id}/remove': ['/pressure/briefing/recipients/999999/remove', executive],
  'POST /pressure/briefing/send': ['/pressure/briefing/send', executive],
  // Pressure aggregates (tests/http/pressure_summary*.test.mjs): the dashboard, the totals CSV
  // and the summary API for everyone signed in (suppressed unless executive); every return
  // in full for the executive. Another practice's returns through the API answer 404 (as if
  // there were no such practice), which this matrix counts as let through.
  'GET /pressure/dashboard': ['/pressure/dashboard', signedIn],
  'GET /pressure/summary.csv': ['/pressure/summary.csv', signedIn],
  'GET /pressure/returns.csv': ['/pressure/returns.csv', executive],
  'GET /api/v1/pressure/summary': ['/api/v1/pressure/summary', signedIn],
  'GET /api/v1/pressure/returns': ['/api/v1/pressure/returns?practice=Z80001', members],
  'POST /api/v1/pressure/returns': ['/api/v1/pressure/returns', members],
  // Discussions (tests/http/discussions.test.mjs): everyone signed in reaches the pages, and
  // each handler then answers 404 for a space, thread or post the visitor may not see;
  // spaces are arranged by the executive, who also moderates; groups are administered.
  'GET /discussions': ['/discussions', signedIn],
  'GET /discussions/questions': ['/discussions/questions', executive],
  'GET /discussions/spaces/new': ['/discussions/spaces/new', executive],
  'POST /discussions/spaces': ['/discussions/spaces', executive],
  'GET /discussions/spaces/{id}': ['/discussions/spaces/1', signedIn],
  'GET /discussions/spaces/{id}/edit': ['/discussions/spaces/1/edit', executive],
  'POST /discussions/spaces/{id}/edit': ['/discussions/spaces/1/edit', executive],
  'POST /discussions/spaces/{id}/position': ['/discussions/spaces/1/position', executive],
  'GET /discussions/spaces/{id}/threads/new': ['/discussions/spaces/1/threads/new', signedIn],
  'POST /discussions/spaces/{id}/threads': ['/discussions/spaces/1/threads', signedIn],
  'GET /discussions/threads/{id}': ['/discussions/threads/999999', signedIn],
  'POST /discussions/threads/{id}/posts': ['/discussions/threads/999999/posts', signedIn],
  'POST /discussions/threads/{id}/pin': ['/discussions/threads/999999/pin', executive],
  'POST /discussions/threads/{id}/lock': ['/discussions/threads/999999/lock', executive],
  'POST /discussions/threads/{id}/move': ['/discussions/threads/999999/move', executive],
  'GET /discussions/posts/{id}/edit': ['/discussions/posts/999999/edit', signedIn],
  'POST /discussions/posts/{id}/edit': ['/discussions/posts/999999/edit', signedIn],
  'GET /discussions/posts/{id}/history': ['/discussions/posts/999999/history', signedIn],
  'POST /discussions/posts/{id}/delete': ['/discussions/posts/999999/delete', signedIn],
  'GET /discussions/posts/{id}/hide': ['/discussions/posts/999999/hide', executive],
  'POST /discussions/posts/{id}/hide': ['/discussions/posts/999999/hide', executive],
  'POST /discussions/posts/{id}/react': ['/discussions/posts/999999/react', signedIn],
  'POST /discussions/posts/{id}/official': ['/discussions/posts/999999/official', executive],
  'GET /admin/groups': ['/admin/groups', admin],
  'POST /admin/groups': ['/admin/groups', admin],
  'GET /admin/groups/{id}': ['/admin/groups/999999', admin],
  'POST /admin/groups/{id}/members': ['/admin/groups/999999/members', admin],
  'POST /admin/groups/{id}/members/{person}/remove': ['/admin/groups/999999/members/1/remove', admin],
  // Search (tests/http/search.test.mjs): everyone signed in; results are filtered per person.
  'GET /search': ['/search', signedIn],
  // Discussions in the JSON API (tests/http/discussions_api.test.mjs): signed in; each object is
  // then shown or refused by the space's visibility, as on the pages.
  'GET /api/v1/spaces': ['/api/v1/spaces', signedIn],
  'GET /api/v1/spaces/{id}/threads': ['/api/v1/spaces/1/threads', signedIn],
  'POST /api/v1/spaces/{id}/threads': ['/api/v1/spaces/1/threads', signedIn],
  'GET /api/v1/threads/{id}': ['/api/v1/threads/999999', signedIn],
  'POST /api/v1/threads/{id}/posts': ['/api/v1/threads/999999/posts', signedIn],
  'POST /api/v1/posts/{id}/reactions': ['/api/v1/posts/999999/reactions', signedIn],
  'DELETE /api/v1/posts/{id}/reactions/{kind}': ['/api/v1/posts/999999/reactions/agree', signedIn],
  'GET /api/v1/search': ['/api/v1/search?q=winter', signedIn],
  // Feeds (tests/http/feed.test.mjs): keys are managed signed in; a feed checks its own key.
  'GET /discussions/feeds': ['/discussions/feeds', signedIn],
  'POST /discussions/feeds': ['/discussions/feeds', signedIn],
  'POST /discussions/feeds/revoke': ['/discussions/feeds/revoke', signedIn],
  'GET /discussions/spaces/{id}/feed.atom': ['/discussions/spaces/1/feed.atom', everyone],
  // Attachments (tests/http/attachments.test.mjs): signed in; the post's space decides (404 otherwise).
  'GET /discussions/attachments/{id}/{name}': ['/discussions/attachments/999999/file.pdf', signedIn],
  // Notifications (tests/http/notifications.test.mjs): everyone signed in, own rows only;
  // a space's level answers 404 for a space the visitor may not see.
  'GET /notifications': ['/notifications', signedIn],
  'POST /notifications/read': ['/notifications/read', signedIn],
  'GET /notifications/settings': ['/notifications/settings', signedIn],
  'POST /notifications/settings': ['/notifications/settings', signedIn],
  'GET /notifications/spaces/{id}': ['/notifications/spaces/999999', signedIn],
  'POST /notifications/spaces/{id}': ['/notifications/spaces/999999', signedIn],
  'GET /notifications/{id}': ['/notifications/999999', signedIn],
  'POST /notifications/{id}/read': ['/notifications/999999/read', signedIn],
};

/** The routes in src/app/routes.c, as "METHOD /pattern". */
function routesInCode() {
  const source = readFileSync(join(root, 'src', 'app', 'routes.c'), 'utf8');
  const table = source.slice(source.indexOf('app_routes[] = {'), source.indexOf('};', source.indexOf('app_routes[] = {')));
  return [...table.matchAll(/\{"([A-Z]+)",\s*"([^"]+)",/g)].map((m) => `${m[1]} ${m[2]}`);
}

let shoal;
const clients = {};
let sample = {};

async function addPerson(email, role, organisation) {
  const r = await run(['user', 'add', '--db', shoal.db, '--email', email, '--name', email, '--role', role, '--organisation', organisation, '--password-stdin'], { input: 'policy matrix password\n' });
  assert.equal(r.status, 0, r.stderr);
}

before(async () => {
  shoal = await startShoal();
  const as = async (name, email, password) => {
    clients[name] = new Client(shoal.url);
    if (email) await clients[name].signIn(email, password);
  };
  await as('anonymous');
  await as('member', demo.member);
  await as('otherMember', demo.otherMember);
  await as('lead', demo.lead);
  await as('executive', demo.executive);
  await as('admin', demo.admin);
  await as('partner', demo.partner);
  await addPerson('new-exec@wyvern.example', 'executive', 'LMCZ1');
  await as('mustEnrol', 'new-exec@wyvern.example', 'policy matrix password');
  clients.mfaPending = new Client(shoal.url);
  const r = await clients.mfaPending.post('/sign-in', { email: demo.executive, password: 'wyvern-demo-2026' }, { from: '/sign-in' });
  assert.match(r.location, /^\/sign-in\/mfa/);
  await addPerson('leaving@wyvern.example', 'member', 'Z80003');
  await as('deactivated', 'leaving@wyvern.example', 'policy matrix password');
  sql(shoal.db, "UPDATE people SET deactivated_at = 1 WHERE email = 'leaving@wyvern.example'");
  await addPerson('victim@wyvern.example', 'member', 'Z80003');
  const home = await clients.anonymous.get('/');
  sample = {
    ASSET: home.text.match(/href="(\/assets\/[0-9a-f]{16}\/app\.css)"/)[1],
    VICTIM: sql(shoal.db, "SELECT id FROM people WHERE email = 'victim@wyvern.example'"),
    EXECUTIVE: sql(shoal.db, `SELECT id FROM people WHERE email = '${demo.executive}'`),
    PRACTICE: sql(shoal.db, "SELECT id FROM organisations WHERE ods_code = 'Z80003'"),
    TOKEN: 'A'.repeat(43),
  };
});

after(async () => {
  await shoal.stop();
});

/** Asks route as visitor; returns true when the policy let the request through. */
async function allowed(visitor, method, path) {
  const c = clients[visitor];
  const r = await c.request(path, { method, form: method === 'GET' ? undefined : {} });
  if (r.status === 401) return false;
  if (r.status === 303 && r.location?.startsWith('/sign-in?next=')) return false;
  if (r.status === 303 && r.location === '/account/mfa' && visitor === 'mustEnrol') return false;
  if (r.status === 403) {
    if (/This form could not be sent|missing or wrong CSRF token/.test(r.text)) return true;
    return false;
  }
  return true;
}

test('every route in routes.c is in the access matrix, and every row is a route', () => {
  const code = routesInCode();
  assert.deepEqual(code.filter((r) => !(r in matrix)), [], 'routes missing from the matrix');
  assert.deepEqual(Object.keys(matrix).filter((r) => !code.includes(r)), [], 'matrix rows that are not routes');
});

for (const [route, [path, who]] of Object.entries(matrix)) {
  test(`access: ${route}`, async () => {
    const [method] = route.split(' ');
    const concrete = path.replace(/ASSET|VICTIM|EXECUTIVE|PRACTICE|TOKEN/g, (k) => sample[k]);
    const wrong = [];
    for (const visitor of everyone) {
      const got = await allowed(visitor, method, concrete);
      if (got !== who.includes(visitor)) wrong.push(`${visitor} ${got ? 'allowed' : 'refused'}`);
    }
    assert.deepEqual(wrong, [], `${route} (${concrete})`);
  });
}

test('API tokens: the same rules with a bearer token, and nothing for a deactivated person', async () => {
  const token = async (email) => {
    const r = await run(['token', 'create', '--db', shoal.db, '--email', email, '--scope', 'read']);
    return r.status === 0 ? r.stdout.trim() : null;
  };
  const partner = await token(demo.partner);
  assert.ok(partner, 'a partner can hold a read token');
  const r = await fetch(shoal.url + '/api/v1/me', { headers: { authorization: `Bearer ${partner}` } });
  assert.equal(r.status, 200);
  await addPerson('token-leaver@wyvern.example', 'member', 'Z80004');
  const leaver = await token('token-leaver@wyvern.example');
  assert.equal((await fetch(shoal.url + '/api/v1/me', { headers: { authorization: `Bearer ${leaver}` } })).status, 200);
  sql(shoal.db, "UPDATE people SET deactivated_at = 1 WHERE email = 'token-leaver@wyvern.example'");
  assert.equal((await fetch(shoal.url + '/api/v1/me', { headers: { authorization: `Bearer ${leaver}` } })).status, 401);
});
