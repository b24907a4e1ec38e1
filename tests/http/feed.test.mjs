// tests/http/feed.test.mjs — private Atom feeds of spaces (docs/discussions.md,
// "Feeds"): a feed key is made on /discussions/feeds and shown once, as one
// address per space the person sees; each feed is well-formed Atom (checked by
// xmllint) holding only standing posts of that space; spaces the person cannot
// see, wrong and revoked keys, and deactivated people all get the same 404.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startShoal, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let shoal;
const space = {};
before(async () => {
  shoal = await startShoal();
  for (const row of sql(shoal.db, 'SELECT id, name FROM spaces').split('\n')) {
    const [id, name] = row.split('|');
    space[name] = id;
  }
});
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0, 'shoal stops cleanly on SIGTERM');
});

async function as(who) {
  const c = new Client(shoal.url);
  assert.equal((await c.signIn(demo[who])).status, 303);
  return c;
}

/** Makes who's feed key; returns { name: url } for each space shown. */
async function makeKey(c) {
  const r = await c.post('/discussions/feeds', {}, { from: '/discussions/feeds' });
  assert.equal(r.status, 200, r.text.slice(0, 300));
  const urls = {};
  for (const m of r.text.matchAll(/<label class="nhsuk-label nhsuk-label--s" for="feed-\d+">([^<]+)<\/label>\n<input[^>]* value="([^"]+)"/g)) {
    urls[m[1].replace(/&#39;/g, "'").replace(/&amp;/g, '&')] = m[2].replace(/&amp;/g, '&');
  }
  return urls;
}

async function fetchFeed(url) {
  const u = new URL(url);
  const res = await fetch(shoal.url + u.pathname + u.search);
  return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), text: await res.text() };
}

function wellFormed(xml) {
  // xmllint exits non-zero on anything that is not well-formed XML.
  execFileSync('xmllint', ['--noout', '-'], { input: xml });
}

const expected = {
  member: ['General practice strategy', 'Winter planning with partners'],
  lead: ['General practice strategy', 'Practice managers', 'Winter planning with partners'],
  executive: ['General practice strategy', 'Practice managers', 'Executive only', 'Winter planning with partners'],
  partner: ['Winter planning with partners'],
};

test('each person gets the addresses of exactly their spaces, and each feed is valid Atom', async () => {
  for (const [who, names] of Object.entries(expected)) {
    const c = await as(who);
    const page = await c.get('/discussions/feeds');
    assert.equal(page.status, 200);
    assert.match(page.text, /You have no feed key/);
    const urls = await makeKey(c);
    assert.deepEqual(Object.keys(urls).sort(), [...names].sort(), `${who}'s feeds`);
    for (const name of names) {
      const f = await fetchFeed(urls[name]);
      assert.equal(f.status, 200, `${who} reads ${name}`);
      assert.match(f.type, /^application\/atom\+xml/);
      assert.match(f.cache, /no-store/);
      wellFormed(f.text);
      assert.match(f.text, /<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
      assert.match(f.text, /<entry>/);
      const count = Number(sql(shoal.db, `SELECT count(*) FROM posts WHERE space_id = ${space[name]} AND deleted_at IS NULL AND hidden_at IS NULL`));
      assert.equal((f.text.match(/<entry>/g) || []).length, Math.min(count, 30));
    }
    // The same key, on a space the person cannot see: as if it did not exist.
    const key = new URL(Object.values(urls)[0]).searchParams.get('token');
    for (const name of Object.keys(space).filter((n) => !names.includes(n))) {
      const f = await fetch(`${shoal.url}/discussions/spaces/${space[name]}/feed.atom?token=${key}`);
      assert.equal(f.status, 404, `${who} cannot read ${name}`);
    }
  }
});

test('removed posts leave the feed; markup and odd characters stay well-formed', async () => {
  const c = await as('otherMember');
  const urls = await makeKey(c);
  const url = urls['General practice strategy'];
  let r = await c.post(`/discussions/spaces/${space['General practice strategy']}/threads`, { title: 'Feed <test> & "quotes" \u0007', body: 'Body with <b>tags</b> & ]]> and \u0001 control' }, { from: '/discussions' });
  if (r.status !== 303) {
    // A title with a control character may be refused by the form: try without.
    r = await c.post(`/discussions/spaces/${space['General practice strategy']}/threads`, { title: 'Feed <test> & "quotes"', body: 'Body with <b>tags</b> & ]]> and \u0001 control' }, { from: '/discussions' });
  }
  assert.equal(r.status, 303, r.text.slice(0, 300));
  const post = r.location.match(/#post-(\d+)$/)[1];
  let f = await fetchFeed(url);
  wellFormed(f.text);
  assert.match(f.text, /Feed &lt;test&gt; &amp; &quot;quotes&quot;/);
  assert.ok(f.text.includes(`/discussions/posts/${post}</id>`));
  r = await c.post(`/discussions/posts/${post}/delete`, {}, { from: '/discussions' });
  assert.equal(r.status, 303);
  f = await fetchFeed(url);
  assert.ok(!f.text.includes(`/discussions/posts/${post}</id>`), 'a deleted post leaves the feed');
  assert.ok(!f.text.includes('Body with'), 'and its text with it');
});

test('a new key or stopping the feeds ends the old addresses; wrong keys are 404', async () => {
  const c = await as('member');
  const audited = (action) => Number(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = '${action}' AND actor = '${demo.member}'`));
  const made = audited('discussion-feed-key-created');
  const first = await makeKey(c);
  const url = first['General practice strategy'];
  assert.equal((await fetchFeed(url)).status, 200);
  const second = await makeKey(c);
  assert.equal((await fetchFeed(url)).status, 404, 'the old key stops');
  assert.equal((await fetchFeed(second['General practice strategy'])).status, 200);
  const page = await c.get('/discussions/feeds');
  assert.match(page.text, /You made your feed key on/);
  assert.ok(!page.text.includes('token='), 'addresses are shown only once');
  const r = await c.post('/discussions/feeds/revoke', {}, { from: '/discussions/feeds' });
  assert.equal(r.status, 303);
  assert.equal((await fetchFeed(second['General practice strategy'])).status, 404, 'stopped');
  assert.match((await c.get('/discussions/feeds?notice=revoked')).text, /Your feeds have stopped/);
  assert.equal(audited('discussion-feed-key-created'), made + 2, 'each key is audited');
  assert.equal(audited('discussion-feed-key-revoked'), 1);
  for (const token of ['', 'x', 'feed_' + 'a'.repeat(43), 'feed_' + 'a'.repeat(42) + '!', 'shoal_' + 'a'.repeat(43), '%00'.repeat(10)]) {
    const f = await fetch(`${shoal.url}/discussions/spaces/${space['General practice strategy']}/feed.atom?token=${token}`);
    assert.equal(f.status, 404, `token ${token}`);
  }
  assert.equal((await fetch(`${shoal.url}/discussions/spaces/${space['General practice strategy']}/feed.atom`)).status, 404);
});

test('a deactivated person\'s feeds stop at once', async () => {
  const c = await as('lead');
  const urls = await makeKey(c);
  const url = urls['Practice managers'];
  assert.equal((await fetchFeed(url)).status, 200);
  sql(shoal.db, `UPDATE people SET deactivated_at = 1 WHERE email = '${demo.lead}'`);
  assert.equal((await fetchFeed(url)).status, 404);
  sql(shoal.db, `UPDATE people SET deactivated_at = NULL WHERE email = '${demo.lead}'`);
});
