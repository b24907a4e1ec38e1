// tests/http/discussions_api.test.mjs — discussions in the JSON API
// (docs/api.md, "Discussions"): each role's token sees exactly the spaces,
// threads and search results its holder sees on the pages; starting a thread
// and replying behave as the forms (Markdown rendered, mentions stored,
// locked threads refused, the forms' messages per field); reactions; read
// tokens cannot write; every answer and error is JSON.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, run, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let shoal;
const space = {};
const tokens = {};
before(async () => {
  shoal = await startShoal();
  for (const row of sql(shoal.db, 'SELECT id, name FROM spaces').split('\n')) {
    const [id, name] = row.split('|');
    space[name] = id;
  }
  for (const who of ['member', 'otherMember', 'lead', 'executive', 'admin', 'partner']) {
    for (const scope of who === 'partner' ? ['read'] : ['read', 'write']) {
      const r = await run(['token', 'create', '--db', shoal.db, '--email', demo[who], '--scope', scope, '--name', 'test']);
      assert.equal(r.status, 0, r.stderr);
      tokens[`${who}:${scope}`] = r.stdout.trim();
    }
  }
});
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0, 'shoal stops cleanly on SIGTERM');
});

async function api(path, who, { method = 'GET', body, scope } = {}) {
  const headers = { authorization: `Bearer ${tokens[`${who}:${scope || (method === 'GET' ? 'read' : 'write')}`]}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(shoal.url + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  assert.match(res.headers.get('content-type') || '', /^application\/json/, `${method} ${path}: JSON`);
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : null, text };
}

const expected = {
  member: ['General practice strategy', 'Winter planning with partners'],
  otherMember: ['General practice strategy', 'Winter planning with partners'],
  lead: ['General practice strategy', 'Practice managers', 'Winter planning with partners'],
  executive: ['General practice strategy', 'Practice managers', 'Executive only', 'Winter planning with partners'],
  admin: ['General practice strategy', 'Practice managers', 'Executive only', 'Winter planning with partners'],
  partner: ['Winter planning with partners'],
};

test('each role lists exactly its spaces, and opens only their threads', async () => {
  for (const [who, names] of Object.entries(expected)) {
    const r = await api('/api/v1/spaces', who);
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.spaces.map((s) => s.name).sort(), [...names].sort(), `${who}'s spaces`);
    for (const name of Object.keys(space)) {
      const t = await api(`/api/v1/spaces/${space[name]}/threads`, who);
      const thread = sql(shoal.db, `SELECT min(id) FROM threads WHERE space_id = ${space[name]}`);
      const one = await api(`/api/v1/threads/${thread}`, who);
      if (names.includes(name)) {
        assert.equal(t.status, 200, `${who} lists ${name}`);
        assert.ok(t.json.threads.length > 0);
        assert.equal(one.status, 200);
        assert.equal(one.json.thread.space.name, name);
      } else {
        assert.equal(t.status, 404, `${who} cannot list ${name}`);
        assert.deepEqual(Object.keys(t.json), ['error']);
        assert.equal(one.status, 404, `${who} cannot open a thread in ${name}`);
        const w = await api(`/api/v1/spaces/${space[name]}/threads`, who, { method: 'POST', body: { title: 'x', body: 'y' }, scope: who === 'partner' ? 'read' : 'write' });
        assert.ok([403, 404].includes(w.status), `${who} cannot start a thread in ${name}: ${w.status}`);
      }
    }
  }
});

test('starting a thread and replying behave as the forms', async () => {
  const r = await api(`/api/v1/spaces/${space['General practice strategy']}/threads`, 'member', {
    method: 'POST',
    body: { title: 'From a script', body: 'Hello **world**, @[Jo Evans (practice nurse)]. <script>x</script> [bad](javascript:alert(1))', question: true },
  });
  assert.equal(r.status, 201, r.text);
  assert.match(r.headers.get('location'), /^\/api\/v1\/threads\/\d+$/);
  const { thread_id, post_id } = r.json;
  assert.match(r.json.url, new RegExp(`/discussions/threads/${thread_id}\\?page=1#post-${post_id}$`));
  const t = await api(`/api/v1/threads/${thread_id}`, 'otherMember');
  assert.equal(t.status, 200);
  assert.equal(t.json.thread.title, 'From a script');
  assert.equal(t.json.thread.question, true);
  const p = t.json.posts[0];
  assert.match(p.body_html, /<strong>world<\/strong>/, 'rendered Markdown');
  assert.ok(!p.body_html.includes('<script>'), 'no raw HTML');
  assert.ok(!p.body_html.includes('javascript:'), 'no javascript: link');
  assert.match(p.body_html, /href="\/people\/\d+"/, 'the mention is a link');
  assert.equal(sql(shoal.db, `SELECT count(*) FROM post_mentions WHERE post_id = ${post_id}`), '1', 'and is stored for notifications');
  // The page shows the same thread.
  const c = new Client(shoal.url);
  await c.signIn(demo.otherMember);
  assert.match((await c.get(`/discussions/threads/${thread_id}?page=1`)).text, /From a script/);

  const reply = await api(`/api/v1/threads/${thread_id}/posts`, 'otherMember', { method: 'POST', body: { body: 'A reply from the API' } });
  assert.equal(reply.status, 201, reply.text);
  const again = await api(`/api/v1/threads/${thread_id}`, 'member');
  assert.deepEqual(again.json.posts.map((x) => x.body_markdown), [t.json.posts[0].body_markdown, 'A reply from the API']);
  assert.equal(again.json.thread.posts, 2);
  // The same search finds it, through the API too.
  const s = await api('/api/v1/search?q=script', 'lead');
  assert.ok(s.json.results.some((x) => x.post_id === post_id), 'found by search');
  assert.equal((await api('/api/v1/search?q=script', 'partner')).json.results.filter((x) => x.thread_id === thread_id).length, 0, 'not by a partner');
});

test('bad input gets the forms\' messages, per field, and nothing is stored', async () => {
  const url = `/api/v1/spaces/${space['General practice strategy']}/threads`;
  const before = sql(shoal.db, 'SELECT count(*) FROM threads');
  let r = await api(url, 'member', { method: 'POST', body: { title: '', body: '' } });
  assert.equal(r.status, 400);
  assert.equal(r.json.errors.title, 'Enter a title for the thread');
  assert.equal(r.json.errors.body, 'Enter your message');
  r = await api(url, 'member', { method: 'POST', body: { title: 'x'.repeat(201), body: 'y'.repeat(50001) } });
  assert.equal(r.status, 400);
  assert.match(r.json.errors.title, /200 characters or fewer/);
  assert.match(r.json.errors.body, /50,000 characters or fewer \(it has 50001\)/);
  r = await api(url, 'member', { method: 'POST', body: { title: 'Hi', body: 'Hello @[Nobody Here]' } });
  assert.equal(r.status, 400);
  assert.match(r.json.errors.body, /Nobody called Nobody Here/);
  r = await api(url, 'member', { method: 'POST', body: { title: 5, body: 'x' } });
  assert.equal(r.status, 400);
  r = await api(url, 'member', { method: 'POST', body: '[1, 2]' });
  assert.equal(r.status, 400);
  r = await api(url, 'member', { method: 'POST', body: '{"title": ' });
  assert.equal(r.status, 400);
  r = await api(url, 'member', { method: 'POST', body: '['.repeat(40) + ']'.repeat(40) });
  assert.equal(r.status, 400);
  r = await api(url, 'member', { method: 'POST', body: { title: 'Read only', body: 'x' }, scope: 'read' });
  assert.equal(r.status, 403);
  assert.equal(sql(shoal.db, 'SELECT count(*) FROM threads'), before, 'nothing stored');
  assert.equal((await api('/api/v1/spaces/abc/threads', 'member')).status, 404);
  assert.equal((await api('/api/v1/spaces/007/threads', 'member')).status, 404);
  assert.equal((await api(`${url}?page=0`, 'member')).status, 400);
});

test("a thread's posts come 50 a page, each page from where the last one ended", async () => {
  const r = await api(`/api/v1/spaces/${space['General practice strategy']}/threads`, 'member', { method: 'POST', body: { title: 'Paged', body: 'Reply 1' } });
  const { thread_id } = r.json;
  // 163 posts: pages 3 and 4 are in the thread's second half, counted from its end.
  for (let i = 2; i <= 163; i++) {
    const x = await api(`/api/v1/threads/${thread_id}/posts`, 'member', { method: 'POST', body: { body: `Reply ${i}` } });
    assert.equal(x.status, 201, x.text);
  }
  const bodies = async (page) => {
    const t = await api(`/api/v1/threads/${thread_id}?page=${page}`, 'otherMember');
    assert.equal(t.status, 200, t.text);
    return { texts: t.json.posts.map((p) => p.body_markdown), next: t.json.next_page };
  };
  const want = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => `Reply ${from + i}`);
  assert.deepEqual(await bodies(1), { texts: want(1, 50), next: 2 });
  assert.deepEqual(await bodies(2), { texts: want(51, 100), next: 3 });
  assert.deepEqual(await bodies(3), { texts: want(101, 150), next: 4 });
  assert.deepEqual(await bodies(4), { texts: want(151, 163), next: null });
  assert.deepEqual(await bodies(5), { texts: [], next: null });
});

// A post carries its counts (migration 0015): everyone pressing at once must leave
// them equal to the reactions themselves.
test('reactions pressed at once by five people are all counted', async () => {
  const r = await api(`/api/v1/spaces/${space['General practice strategy']}/threads`, 'member', { method: 'POST', body: { title: 'All at once', body: 'Agree?' } });
  const { thread_id, post_id } = r.json;
  const people = ['member', 'otherMember', 'lead', 'executive', 'admin'];
  const presses = people.flatMap((who) => ['agree', 'thanks', 'agree'].map((kind) =>
    api(`/api/v1/posts/${post_id}/reactions`, who, { method: 'POST', body: { kind } })));
  for (const x of await Promise.all(presses)) assert.equal(x.status, 200, x.text);
  await Promise.all(people.slice(0, 2).map((who) => api(`/api/v1/posts/${post_id}/reactions/thanks`, who, { method: 'DELETE' })));
  const t = await api(`/api/v1/threads/${thread_id}`, 'member');
  assert.deepEqual(t.json.posts[0].reactions, { agree: 5, thanks: 3 });
  assert.equal(sql(shoal.db, `SELECT count(*) FROM post_reactions WHERE post_id = ${post_id}`), '8');
});

test('a locked thread takes no replies; reactions add and take back', async () => {
  const r = await api(`/api/v1/spaces/${space['General practice strategy']}/threads`, 'member', { method: 'POST', body: { title: 'Lock me', body: 'Opening' } });
  const { thread_id, post_id } = r.json;
  let x = await api(`/api/v1/posts/${post_id}/reactions`, 'otherMember', { method: 'POST', body: { kind: 'agree' } });
  assert.equal(x.status, 200, x.text);
  assert.deepEqual(x.json.reactions, { agree: 1, thanks: 0 });
  x = await api(`/api/v1/posts/${post_id}/reactions`, 'otherMember', { method: 'POST', body: { kind: 'agree' } });
  assert.deepEqual(x.json.reactions, { agree: 1, thanks: 0 }, 'again changes nothing');
  x = await api(`/api/v1/posts/${post_id}/reactions`, 'lead', { method: 'POST', body: { kind: 'thanks' } });
  assert.deepEqual(x.json.reactions, { agree: 1, thanks: 1 });
  x = await api(`/api/v1/posts/${post_id}/reactions/agree`, 'otherMember', { method: 'DELETE' });
  assert.deepEqual(x.json.reactions, { agree: 0, thanks: 1 });
  x = await api(`/api/v1/posts/${post_id}/reactions/agree`, 'otherMember', { method: 'DELETE' });
  assert.deepEqual(x.json.reactions, { agree: 0, thanks: 1 }, 'taking back again changes nothing');
  assert.equal((await api(`/api/v1/posts/${post_id}/reactions`, 'otherMember', { method: 'POST', body: { kind: 'love' } })).status, 400);
  assert.equal((await api(`/api/v1/posts/${post_id}/reactions`, 'partner', { method: 'POST', body: { kind: 'agree' }, scope: 'read' })).status, 403);
  const t = await api(`/api/v1/threads/${thread_id}`, 'member');
  assert.deepEqual(t.json.posts[0].reactions, { agree: 0, thanks: 1 });

  const c = new Client(shoal.url);
  await c.signIn(demo.executive);
  assert.equal((await c.post(`/discussions/threads/${thread_id}/lock`, {}, { from: `/discussions/threads/${thread_id}?page=1` })).status, 303);
  x = await api(`/api/v1/threads/${thread_id}/posts`, 'otherMember', { method: 'POST', body: { body: 'Too late' } });
  assert.equal(x.status, 403);
  assert.match(x.json.error, /locked/);
  // A hidden space's post: as unknown as none.
  const secret = sql(shoal.db, `SELECT min(p.id) FROM posts p WHERE p.space_id = ${space['Executive only']}`);
  assert.equal((await api(`/api/v1/posts/${secret}/reactions`, 'member', { method: 'POST', body: { kind: 'agree' } })).status, 404);
});

test('deleted and hidden posts keep their place but not their text', async () => {
  const r = await api(`/api/v1/spaces/${space['General practice strategy']}/threads`, 'member', { method: 'POST', body: { title: 'Removal', body: 'Opening' } });
  const reply = await api(`/api/v1/threads/${r.json.thread_id}/posts`, 'otherMember', { method: 'POST', body: { body: 'Secret text to hide' } });
  const c = new Client(shoal.url);
  await c.signIn(demo.executive);
  assert.equal((await c.post(`/discussions/posts/${reply.json.post_id}/hide`, { reason: 'Off topic' }, { from: '/discussions' })).status, 303);
  const t = await api(`/api/v1/threads/${r.json.thread_id}`, 'member');
  const p = t.json.posts[1];
  assert.equal(p.state, 'hidden');
  assert.equal(p.hidden_reason, 'Off topic');
  assert.equal(p.body_html, null);
  assert.equal(p.body_markdown, null);
  assert.ok(!t.text.includes('Secret text'));
});

test('search: words, filters and bad input', async () => {
  let r = await api('/api/v1/search?q=winter', 'partner');
  assert.equal(r.status, 200);
  for (const x of r.json.results) assert.equal(x.space.name, 'Winter planning with partners');
  r = await api(`/api/v1/search?q=winter&space=${space['Executive only']}`, 'member');
  assert.equal(r.status, 400);
  assert.equal((await api('/api/v1/search', 'member')).status, 400);
  assert.equal((await api(`/api/v1/search?q=${'x'.repeat(201)}`, 'member')).status, 400);
  assert.equal((await api('/api/v1/search?q=%22NEAR(', 'member')).status, 200);
  assert.equal((await api('/api/v1/search?q=a&page=51', 'member')).status, 400);
});
