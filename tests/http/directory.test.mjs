// tests/http/directory.test.mjs — the directory of people as members and
// partners meet it: who each can find, what a partner must never learn (not
// even that a profile exists), searching, and editing one's own profile.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let shoal;
const ids = {};
const clients = {};

before(async () => {
  shoal = await startShoal();
  for (const [who, email] of Object.entries(demo)) ids[who] = Number(sql(shoal.db, `SELECT id FROM people WHERE email = '${email}'`));
  for (const who of ['member', 'otherMember', 'lead', 'partner']) {
    clients[who] = new Client(shoal.url);
    assert.equal((await clients[who].signIn(demo[who])).status, 303, who);
  }
});
after(async () => {
  await shoal.stop();
});

/** The names listed on a directory page. */
const names = (html) => [...html.matchAll(/<h3[^>]*><a href="\/people\/(\d+)">([^<]+)<\/a><\/h3>/g)].map((m) => m[2].replace(/&#39;/g, "'"));

test('a member sees every active person, with role and organisations', async () => {
  const r = await clients.member.get('/people');
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>People<\/h1>/);
  const listed = names(r.text);
  for (const name of ['Alex Admin', 'Dr Priya Shah (LMC chair)', 'Sam Patel (practice manager)', 'Dr Morgan Lee', 'Jo Evans (practice nurse)', "Chris O'Neill (practice manager)", 'Rowan Hughes (ICB primary care lead)']) {
    assert.ok(listed.includes(name), `${name} is listed`);
  }
  assert.ok(!listed.includes('Former Staff'), 'deactivated people are not listed');
  assert.match(r.text, /Member: Riverside Medical Centre \(lead\)/, 'leads are marked');
  assert.match(r.text, /Executive team: Wyvern Local Medical Committee/);
});

test('a member of another practice sees the same directory', async () => {
  const mine = names((await clients.member.get('/people')).text);
  const theirs = names((await clients.otherMember.get('/people')).text);
  assert.deepEqual(theirs, mine);
  const profile = await clients.otherMember.get(`/people/${ids.member}`);
  assert.equal(profile.status, 200);
  assert.match(profile.text, /<h1>Dr Morgan Lee<\/h1>/);
  assert.match(profile.text, /Riverside Medical Centre/);
});

test('a partner sees only the executive and people visible to partners', async () => {
  const r = await clients.partner.get('/people');
  assert.equal(r.status, 200);
  assert.match(r.text, /You can see the collective's executive team, and the people who chose to be visible to partners/);
  const listed = names(r.text).sort();
  // The demo makes its practice leads visible to partners.
  assert.deepEqual(listed, ["Chris O'Neill (practice manager)", 'Dr Priya Shah (LMC chair)', 'Sam Patel (practice manager)']);
  // Search cannot find anyone else either.
  const search = await clients.partner.get('/people?q=morgan');
  assert.deepEqual(names(search.text), []);
  assert.match(search.text, /Nobody you can see matches your search/);
  assert.deepEqual(names((await clients.partner.get('/people?q=riverside')).text), ['Sam Patel (practice manager)']);
});

test("a partner gets the same 404 for a member's profile as for one that does not exist", async () => {
  const hidden = await clients.partner.get(`/people/${ids.member}`);
  const missing = await clients.partner.get('/people/999999');
  assert.equal(hidden.status, 404);
  assert.equal(missing.status, 404);
  const strip = (html) => html.replace(/<input type="hidden" name="csrf"[^>]*>/g, '').replace(/data-session-seconds="\d+"/, '').replace(/value="\/people\/\d+"/, '');
  assert.equal(strip(hidden.text), strip(missing.text), 'nothing tells the two apart');
  assert.doesNotMatch(hidden.text, /Morgan/);
  assert.equal((await clients.partner.get(`/people/${ids.executive}`)).status, 200);
  assert.equal((await clients.partner.get(`/people/${ids.admin}`)).status, 404);
  // Their own profile is always there, visible to partners or not.
  const own = await clients.partner.get(`/people/${ids.partner}`);
  assert.equal(own.status, 200);
  assert.match(own.text, /Partners do not see you/);
});

test('deactivated and unknown people are not found; bad ids are 404s', async () => {
  for (const path of [`/people/${ids.deactivated}`, '/people/0', '/people/abc', '/people/12345678901234567890', '/people/-1']) {
    assert.equal((await clients.member.get(path)).status, 404, path);
  }
});

test('signing in is required', async () => {
  const r = await new Client(shoal.url).get('/people');
  assert.equal(r.status, 303);
  assert.equal(r.location, '/sign-in?next=/people');
  assert.equal((await new Client(shoal.url).get('/account/profile')).status, 303);
});

test('searching by name, job title, organisation and what people can help with', async () => {
  let r = await clients.member.get('/people?q=castlegate');
  assert.deepEqual(names(r.text), ['Jo Evans (practice nurse)'], 'by organisation');
  r = await clients.member.get('/people?q=PRIYA');
  assert.deepEqual(names(r.text), ['Dr Priya Shah (LMC chair)'], 'by name, any case');
  r = await clients.member.get('/people?q=100%25');
  assert.deepEqual(names(r.text), [], '% is text, not a wildcard');
  assert.match(r.text, /value="100%"/, 'the search is kept in the box');
  r = await clients.member.get('/people?q=%FF%FE');
  assert.equal(r.status, 400, 'bytes that are not text');
  assert.match(r.text, /value=""/);
  r = await clients.member.get(`/people?q=${'x'.repeat(201)}`);
  assert.equal(r.status, 400);
  assert.match(r.text, /<a href="#q">Search text must be 200 characters or fewer/);
});

test('editing one\'s profile: saved, audited, searchable, and shown to partners only when chosen', async () => {
  let r = await clients.member.get('/account/profile');
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1>Your profile<\/h1>/);
  assert.match(r.text, /<input class="nhsuk-checkboxes__input" id="visible-to-partners" name="visible-to-partners" type="checkbox" value="yes">/);
  r = await clients.member.post('/account/profile', { 'job-title': '  Salaried GP  ', 'can-help-with': 'Diabetes pathway\r\nMinor surgery <b>clinics</b>', 'visible-to-partners': 'yes' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/account/profile?saved=1');
  r = await clients.member.get(r.location);
  assert.match(r.text, /Your profile has been saved/);
  assert.match(r.text, /value="Salaried GP"/);
  assert.match(r.text, /id="visible-to-partners" name="visible-to-partners" type="checkbox" value="yes" checked>/);

  const profile = await clients.otherMember.get(`/people/${ids.member}`);
  assert.match(profile.text, /Salaried GP/);
  assert.match(profile.text, /<p>Diabetes pathway<\/p>/);
  assert.match(profile.text, /<p>Minor surgery &lt;b&gt;clinics&lt;\/b&gt;<\/p>/, 'escaped, one paragraph a line');
  assert.deepEqual(names((await clients.otherMember.get('/people?q=diabetes')).text), ['Dr Morgan Lee']);
  assert.deepEqual(names((await clients.otherMember.get('/people?q=salaried')).text), ['Dr Morgan Lee']);

  // Now visible to partners.
  assert.equal((await clients.partner.get(`/people/${ids.member}`)).status, 200);
  assert.ok(names((await clients.partner.get('/people')).text).includes('Dr Morgan Lee'));

  const audit = sql(shoal.db, `SELECT detail FROM audit_log WHERE action = 'profile-updated' AND actor_id = ${ids.member}`);
  assert.match(audit, /job title: "" -> "Salaried GP"/);
  assert.match(audit, /visible to partners: no -> yes/);

  // And hidden again.
  r = await clients.member.post('/account/profile', { 'job-title': 'Salaried GP', 'can-help-with': 'Diabetes pathway' });
  assert.equal(r.status, 303);
  assert.equal((await clients.partner.get(`/people/${ids.member}`)).status, 404);
  const second = sql(shoal.db, `SELECT detail FROM audit_log WHERE action = 'profile-updated' AND actor_id = ${ids.member} ORDER BY id DESC LIMIT 1`);
  assert.match(second, /visible to partners: yes -> no/);
  assert.doesNotMatch(second, /job title/, 'only what changed');
});

test('a profile with problems is not saved, and what was typed is kept', async () => {
  const before = sql(shoal.db, `SELECT job_title FROM people WHERE id = ${ids.lead}`);
  const r = await clients.lead.post('/account/profile', { 'job-title': 'x'.repeat(201), 'can-help-with': 'y'.repeat(4001), 'visible-to-partners': 'yes' }, { from: '/account/profile' });
  assert.equal(r.status, 400);
  assert.match(r.text, /There is a problem/);
  assert.match(r.text, /<a href="#job-title">Job title must be 200 characters or fewer<\/a>/);
  assert.match(r.text, /<a href="#can-help-with">What you can help with must be 4,000 characters or fewer<\/a>/);
  assert.match(r.text, new RegExp(`value="${'x'.repeat(201)}"`));
  assert.match(r.text, new RegExp(`>${'y'.repeat(4001)}</textarea>`));
  assert.match(r.text, /<title>Error: Your profile/);
  assert.equal(sql(shoal.db, `SELECT job_title FROM people WHERE id = ${ids.lead}`), before, 'nothing saved');
  const multi = await clients.lead.post('/account/profile', { 'job-title': 'Practice\nmanager', 'can-help-with': '' });
  assert.equal(multi.status, 400);
  assert.match(multi.text, /Job title must be on one line/);
});

test('a profile form without the CSRF token is refused', async () => {
  const r = await clients.member.request('/account/profile', { method: 'POST', form: { 'job-title': 'Hacked' } });
  assert.equal(r.status, 403);
  assert.notEqual(sql(shoal.db, `SELECT job_title FROM people WHERE id = ${ids.member}`), 'Hacked');
});
