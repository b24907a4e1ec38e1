// tests/http/search.test.mjs — search over discussions (docs/discussions.md,
// "Search"): each role finds only what it may see (spaces, threads, titles and
// posts), edits, deletions and hidden posts leave the results at once, the
// snippets are escaped before they are marked, filters by space, author and
// date, a common word's newest matches come first and a rare word's old post is
// still found, and untrusted words (FTS5 syntax, over-long, control characters) get a
// clear answer, never a 500.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, sql, backend } from '../lib/shoal.mjs';
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

const clients = {};
async function as(who) {
  if (clients[who]) return clients[who];
  const c = new Client(shoal.url);
  const r = await c.signIn(demo[who]);
  assert.equal(r.status, 303, `${who} signs in`);
  clients[who] = c;
  return c;
}

async function startThread(who, spaceName, title, body) {
  const c = await as(who);
  const r = await c.post(`/discussions/spaces/${space[spaceName]}/threads`, { title, body }, { from: `/discussions/spaces/${space[spaceName]}/threads/new` });
  assert.equal(r.status, 303, `${who} starts "${title}": ${r.text.slice(0, 300)}`);
  return { thread: r.location.match(/threads\/(\d+)/)[1], post: r.location.match(/#post-(\d+)$/)[1] };
}

async function reply(who, thread, body) {
  const c = await as(who);
  const r = await c.post(`/discussions/threads/${thread}/posts`, { body }, { from: `/discussions/threads/${thread}?page=1` });
  assert.equal(r.status, 303, `${who} replies: ${r.text.slice(0, 300)}`);
  return r.location.match(/#post-(\d+)$/)[1];
}

async function search(who, params) {
  const c = await as(who);
  const r = await c.get(`/search?${new URLSearchParams(params)}`);
  const posts = [...r.text.matchAll(/href="\/discussions\/threads\/\d+\?page=\d+#post-(\d+)"/g)].map((m) => m[1]);
  return { ...r, posts };
}

// Who sees which demo space (docs/discussions.md, "Who sees what").
const expected = {
  member: ['General practice strategy', 'Winter planning with partners'],
  otherMember: ['General practice strategy', 'Winter planning with partners'],
  lead: ['General practice strategy', 'Practice managers', 'Winter planning with partners'],
  executive: ['General practice strategy', 'Practice managers', 'Executive only', 'Winter planning with partners'],
  admin: ['General practice strategy', 'Practice managers', 'Executive only', 'Winter planning with partners'],
  partner: ['Winter planning with partners'],
};

test('each role finds exactly the threads, titles and posts of the spaces it sees', async () => {
  const made = {};
  for (const name of Object.keys(space)) {
    // The word is in one space's title and another post's body, so both kinds of match count.
    made[name] = await startThread('executive', name, `Quarkfish plan for ${name}`, `Opening words about ${name}.`);
    made[name].reply = await reply('executive', made[name].thread, `A quarkfish reply in ${name}.`);
  }
  for (const [who, names] of Object.entries(expected)) {
    const r = await search(who, { q: 'quarkfish' });
    assert.equal(r.status, 200, `${who} searches`);
    const want = names.flatMap((n) => [made[n].post, made[n].reply]).sort();
    assert.deepEqual([...r.posts].sort(), want, `${who} finds the posts of exactly their spaces`);
    for (const name of Object.keys(space)) {
      if (names.includes(name)) continue;
      assert.ok(!r.text.includes(`for ${name}`), `${who} never sees the title of a thread in ${name}`);
      assert.ok(!r.text.includes(`reply in ${name}`), `${who} never sees a snippet from ${name}`);
      assert.ok(!r.text.includes(`>${name}</option>`), `${who} is not offered ${name} as a filter`);
    }
    // A space one cannot see is refused like one that does not exist.
    const hidden = Object.keys(space).find((n) => !names.includes(n));
    if (hidden) {
      const s = await search(who, { q: 'quarkfish', space: space[hidden] });
      assert.equal(s.status, 400);
      assert.match(s.text, /Choose a space from the list/);
      assert.equal(s.posts.length, 0);
    }
  }
});

test('edits, deletions and hidden posts leave the results at once', async () => {
  const { thread } = await startThread('member', 'General practice strategy', 'Estates again', 'Opening post about estates.');
  const post = await reply('member', thread, 'Mention of a zorbling here.');
  assert.deepEqual((await search('otherMember', { q: 'zorbling' })).posts, [post]);
  const member = await as('member');
  let r = await member.post(`/discussions/posts/${post}/edit`, { body: 'Now about a wombleton instead.' }, { from: `/discussions/posts/${post}/edit` });
  assert.equal(r.status, 303);
  assert.deepEqual((await search('otherMember', { q: 'zorbling' })).posts, [], 'the replaced text is not found');
  assert.deepEqual((await search('otherMember', { q: 'wombleton' })).posts, [post], 'the new text is');
  r = await member.post(`/discussions/posts/${post}/delete`, {}, { from: `/discussions/threads/${thread}?page=1` });
  assert.equal(r.status, 303);
  assert.deepEqual((await search('otherMember', { q: 'wombleton' })).posts, [], 'a deleted post is gone');
  assert.deepEqual((await search('member', { q: 'wombleton' })).posts, [], 'even for its author');

  const other = await reply('otherMember', thread, 'Something rude about flibbertigibbets.');
  assert.deepEqual((await search('member', { q: 'flibbertigibbets' })).posts, [other]);
  const exec = await as('executive');
  r = await exec.post(`/discussions/posts/${other}/hide`, { reason: 'Not kind' }, { from: `/discussions/posts/${other}/hide` });
  assert.equal(r.status, 303);
  for (const who of ['member', 'otherMember', 'executive']) {
    assert.deepEqual((await search(who, { q: 'flibbertigibbets' })).posts, [], `a hidden post is gone for ${who}`);
  }
});

// New posts reach the index in batches (migration 0014): a post changed before any
// search or indexing ran must still be found by its new words only.
test('a post edited, deleted or hidden straight after it is written is found as it is now', async () => {
  const { thread } = await startThread('member', 'General practice strategy', 'Rota gaps', 'Opening post about rotas.');
  const edited = await reply('member', thread, 'First words: gribbleworth.');
  const deleted = await reply('member', thread, 'Soon gone: snorkelwick.');
  const hidden = await reply('otherMember', thread, 'Soon hidden: wafflethorpe.');
  const member = await as('member');
  let r = await member.post(`/discussions/posts/${edited}/edit`, { body: 'Second words: plinkerton.' }, { from: `/discussions/posts/${edited}/edit` });
  assert.equal(r.status, 303);
  r = await member.post(`/discussions/posts/${deleted}/delete`, {}, { from: `/discussions/threads/${thread}?page=1` });
  assert.equal(r.status, 303);
  r = await (await as('executive')).post(`/discussions/posts/${hidden}/hide`, { reason: 'Not kind' }, { from: `/discussions/posts/${hidden}/hide` });
  assert.equal(r.status, 303);
  for (const who of ['member', 'otherMember', 'executive']) {
    assert.deepEqual((await search(who, { q: 'gribbleworth' })).posts, [], `the first words are not found by ${who}`);
    const now = await search(who, { q: 'plinkerton' });
    assert.deepEqual(now.posts, [edited], `the new words are found by ${who}`);
    assert.match(now.text, /Second words: <mark>plinkerton<\/mark>/, 'and are the snippet');
    assert.doesNotMatch(now.text, /gribbleworth/);
    assert.deepEqual((await search(who, { q: 'snorkelwick' })).posts, [], `a deleted post is not found by ${who}`);
    assert.deepEqual((await search(who, { q: 'wafflethorpe' })).posts, [], `a hidden post is not found by ${who}`);
  }
});

test('on SQLite, new posts are indexed in the background without waiting for a search', { skip: backend !== 'sqlite' }, async () => {
  const { thread } = await startThread('member', 'General practice strategy', 'Queue', 'Opening post, queued.');
  await reply('member', thread, 'A reply, queued too.');
  let waiting;
  for (let i = 0; i < 50; i++) { // the jobs thread runs every 2 s
    waiting = Number(sql(shoal.db, 'SELECT count(*) FROM search_queue'));
    if (!waiting) break;
    await new Promise((done) => setTimeout(done, 100));
  }
  assert.equal(waiting, 0, 'no post is left waiting');
  assert.equal(sql(shoal.db, `SELECT count(*) FROM post_search WHERE rowid IN (SELECT id FROM posts WHERE thread_id = ${thread})`), '2');
});

test('a moved thread is found by the audience of its new space only', async () => {
  const { post } = await startThread('executive', 'General practice strategy', 'Moving soon', 'The grumbleweed budget.');
  assert.deepEqual((await search('member', { q: 'grumbleweed' })).posts, [post]);
  const exec = await as('executive');
  const thread = sql(shoal.db, `SELECT thread_id FROM posts WHERE id = ${post}`);
  const r = await exec.post(`/discussions/threads/${thread}/move`, { space: space['Executive only'] }, { from: `/discussions/threads/${thread}?page=1` });
  assert.equal(r.status, 303, r.text.slice(0, 200));
  assert.deepEqual((await search('member', { q: 'grumbleweed' })).posts, []);
  assert.deepEqual((await search('executive', { q: 'grumbleweed' })).posts, [post]);
});

test('snippets are escaped before the matched words are marked', async () => {
  const body = 'Look: <script>alert(1)</script> <b>bold</b> & the snozzberry "quote" \u0002x\u0003 <mark>';
  const { post } = await startThread('member', 'General practice strategy', 'Escaping <i>test</i>', body);
  const r = await search('otherMember', { q: 'snozzberry' });
  assert.deepEqual(r.posts, [post]);
  assert.ok(!r.text.includes('<script>alert'), 'no script');
  assert.ok(!r.text.includes('<b>bold'), 'no markup from the post');
  assert.ok(!r.text.includes('<i>test'), 'no markup from the title');
  // SQLite shows the tags escaped; PostgreSQL's ts_headline drops them as markup.
  assert.match(r.text, /(&lt;script&gt;)?alert\(1\)/);
  assert.match(r.text, /<mark>snozzberry<\/mark>/);
  const opened = (r.text.match(/<mark>/g) || []).length;
  const closed = (r.text.match(/<\/mark>/g) || []).length;
  assert.equal(opened, closed, 'marks are balanced');
  const t = await search('otherMember', { q: 'escaping' });
  assert.match(t.text, /<mark>Escaping<\/mark>\s*(&lt;i&gt;)?test/, 'a title match is marked in the title');
});

test('filters by space, author and date, with UK dates', async () => {
  const a = await startThread('member', 'General practice strategy', 'Filter one', 'The plonkwidget question.');
  const b = await startThread('lead', 'Practice managers', 'Filter two', 'Another plonkwidget question.');
  let r = await search('lead', { q: 'plonkwidget' });
  assert.deepEqual([...r.posts].sort(), [a.post, b.post].sort());
  r = await search('lead', { q: 'plonkwidget', space: space['Practice managers'] });
  assert.deepEqual(r.posts, [b.post]);
  const author = sql(shoal.db, `SELECT a.name FROM posts p JOIN people a ON a.id = p.author_id WHERE p.id = ${a.post}`);
  r = await search('lead', { q: 'plonkwidget', author: author.split(' ').pop().toLowerCase() });
  assert.deepEqual(r.posts, [a.post], 'part of a name, any case');
  r = await search('lead', { q: 'plonkwidget', author: '%' });
  assert.deepEqual(r.posts, [], '% is a character, not a wildcard');
  sql(shoal.db, `UPDATE posts SET created_at = 1767225600 WHERE id = ${a.post}`); // 1 January 2026 00:00 UTC
  r = await search('lead', { q: 'plonkwidget', 'to-day': '1', 'to-month': '1', 'to-year': '2026' });
  assert.deepEqual(r.posts, [a.post], 'the whole of the "to" day');
  r = await search('lead', { q: 'plonkwidget', 'from-day': '2', 'from-month': '1', 'from-year': '2026' });
  assert.deepEqual(r.posts, [b.post]);
  r = await search('lead', { q: 'plonkwidget', 'from-day': '31', 'from-month': '2', 'from-year': '2026' });
  assert.equal(r.status, 400);
  assert.match(r.text, /From must be a real date/);
  assert.match(r.text, /value="31"/, 'what was typed is kept');
  r = await search('lead', { q: 'plonkwidget', 'to-day': '1', 'to-year': '2026' });
  assert.equal(r.status, 400);
  assert.match(r.text, /To must include a day, month and year/);
  r = await search('lead', { q: 'plonkwidget', 'from-day': '2', 'from-month': '1', 'from-year': '2026', 'to-day': '1', 'to-month': '1', 'to-year': '2026' });
  assert.equal(r.status, 400);
  assert.match(r.text, /To must be the same as or after From/);
});

test('a common word finds its newest posts first, and a rare word its old post', async () => {
  // On PostgreSQL the candidates are looked for among the newest posts first, in a window
  // that widens (tests/unit/test_search.c tries small windows); either way, the same answer.
  const { thread, post: old } = await startThread('member', 'General practice strategy', 'Birdwatch', 'An old note about a ptarmigan.');
  const wagtails = [];
  for (let i = 0; i < 24; i++) wagtails.push(await reply(i % 2 ? 'member' : 'otherMember', thread, `A wagtail again, number ${i + 10}.`));
  const newest = [...wagtails].reverse();
  let r = await search('otherMember', { q: 'wagtail' });
  assert.deepEqual(r.posts, newest.slice(0, 20), 'equally good matches, newest first');
  r = await search('otherMember', { q: 'wagtail', page: '2' });
  assert.deepEqual(r.posts, newest.slice(20));
  r = await search('otherMember', { q: 'ptarmigan' });
  assert.deepEqual(r.posts, [old], 'the old post with a rare word');
  r = await search('otherMember', { q: 'birdwatch' });
  assert.deepEqual(r.posts, [old], 'a title counts for its opening post');
});

test('untrusted words: search syntax, length and control characters never make a 500', async () => {
  await startThread('member', 'General practice strategy', 'Syntax', 'Plain words here: NEAR and OR and stars.');
  const nasty = ['"', '"unbalanced', 'NEAR(', 'a OR', 'OR', '*', 'title:near', 'body:x', '-', '--', '^x', '(', ')', 'a AND NOT', '""', "'", '\\', 'x"y', '{title body}:x', '+', 'near/2', '…', '💥', '<script>', 'NEAR(a b, 3)', '&amp;', ' ', '-near', 'stars*'];
  for (const q of nasty) {
    const r = await search('member', { q });
    assert.equal(r.status, 200, `q=${JSON.stringify(q)}: ${r.status}`);
    assert.ok(!r.text.includes('<script>'), 'the words are escaped when shown again');
  }
  let r = await search('member', { q: 'NEAR' });
  assert.equal(r.posts.length, 1, 'an FTS5 keyword is just a word');
  r = await search('member', { q: 'x'.repeat(201) });
  assert.equal(r.status, 400);
  assert.match(r.text, /Search words must be 200 characters or fewer/);
  assert.match(r.text, new RegExp(`value="${'x'.repeat(201)}"`), 'what was typed is kept');
  r = await search('member', { q: 'a\u0001b' });
  assert.equal(r.status, 400);
  r = await search('member', { q: Array.from({ length: 21 }, (_, i) => `w${i}`).join(' ') });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter 20 words or fewer/);
  r = await search('member', { q: 'plain', page: '0' });
  assert.equal(r.status, 404);
  r = await search('member', { q: 'plain', page: '2' });
  assert.equal(r.status, 200);
  assert.match(r.text, /There are no more results/);
  r = await search('member', {});
  assert.equal(r.status, 200, 'the empty form');
  assert.match(r.text, /Search discussions/);
});

test('signed out, search is the sign-in page', async () => {
  const r = await new Client(shoal.url).get('/search?q=winter');
  assert.equal(r.status, 303);
});
