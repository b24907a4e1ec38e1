// tests/http/discussions.test.mjs — discussions as members, partners and the
// executive meet them: who sees which space (in the lists, filtered in SQL, and
// by direct URL, decided by policy_may_see_space: the two must agree), threads
// and replies in Markdown with their limits, edits with history, deletion and
// hiding, locking, moving, reactions, quoting, mentions, questions for the
// executive with the official response on top and the queue, unread counts,
// opening at the first unread post, paging, groups, and CSRF.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
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

const clients = {};
async function as(who) {
  if (clients[who]) return clients[who];
  const c = new Client(shoal.url);
  const r = await c.signIn(demo[who]);
  assert.equal(r.status, 303, `${who} signs in`);
  clients[who] = c;
  return c;
}

function threadOf(title) {
  return sql(shoal.db, `SELECT id FROM threads WHERE title = '${title.replace(/'/g, "''")}'`);
}

async function startThread(who, spaceName, title, body, extra = {}) {
  const c = await as(who);
  const r = await c.post(`/discussions/spaces/${space[spaceName]}/threads`, { title, body, ...extra }, { from: `/discussions/spaces/${space[spaceName]}/threads/new` });
  assert.equal(r.status, 303, `${who} starts "${title}": ${r.text.slice(0, 300)}`);
  return threadOf(title);
}

async function reply(who, thread, body) {
  const c = await as(who);
  const r = await c.post(`/discussions/threads/${thread}/posts`, { body }, { from: `/discussions/threads/${thread}?page=1` });
  assert.equal(r.status, 303, `${who} replies: ${r.text.slice(0, 300)}`);
  return { location: r.location, id: r.location.match(/#post-(\d+)$/)[1] };
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

test('each role sees exactly its spaces, in the list (SQL) and by direct URL (policy), and the two agree', async () => {
  for (const [who, names] of Object.entries(expected)) {
    const c = await as(who);
    const r = await c.get('/discussions');
    assert.equal(r.status, 200);
    const listed = Object.keys(space).filter((n) => r.text.includes(`href="/discussions/spaces/${space[n]}"`));
    assert.deepEqual(listed.sort(), [...names].sort(), `${who}'s list of spaces`);
    for (const name of Object.keys(space)) {
      const page = await c.get(`/discussions/spaces/${space[name]}`);
      const sees = page.status === 200;
      assert.equal(sees, names.includes(name), `${who} opening ${name} directly: ${page.status}`);
      assert.equal(sees, listed.includes(name), `the list and the direct URL agree for ${who} on ${name}`);
      if (!sees) assert.equal(page.status, 404, 'a space one may not see does not exist');
      // A thread in it, and its new-thread form, follow the space.
      const thread = sql(shoal.db, `SELECT min(id) FROM threads WHERE space_id = ${space[name]}`);
      const t = await c.get(`/discussions/threads/${thread}?page=1`);
      assert.equal(t.status, sees ? 200 : 404, `${who} opening a thread in ${name}`);
      const f = await c.get(`/discussions/spaces/${space[name]}/threads/new`);
      assert.equal(f.status, sees ? 200 : 404, `${who} opening the new-thread form of ${name}`);
    }
  }
  // Nor can one post into a space one cannot see, or reply to its threads.
  const member = await as('member');
  let r = await member.post(`/discussions/spaces/${space['Executive only']}/threads`, { title: 'Sneaky', body: 'In' }, { from: '/discussions' });
  assert.equal(r.status, 404);
  const secret = sql(shoal.db, `SELECT min(id) FROM threads WHERE space_id = ${space['Executive only']}`);
  r = await member.post(`/discussions/threads/${secret}/posts`, { body: 'In' }, { from: '/discussions' });
  assert.equal(r.status, 404);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM threads WHERE title = 'Sneaky'"), '0');
  // The executive's thread title never shows on a page a member sees.
  r = await member.get('/discussions/questions');
  assert.equal(r.status, 403);
});

test('a partner posts in the shared space only, and cannot mark a question for the executive', async () => {
  const partner = await as('partner');
  const r = await partner.get(`/discussions/spaces/${space['Winter planning with partners']}/threads/new`);
  assert.equal(r.status, 200);
  assert.doesNotMatch(r.text, /question for the executive/);
  const id = await startThread('partner', 'Winter planning with partners', 'Flu vaccine supply', 'Supplies arrive on **Monday**.', { question: '1' });
  assert.equal(sql(shoal.db, `SELECT question FROM threads WHERE id = ${id}`), '0');
});

test('Markdown is rendered once and safely: raw HTML, javascript: links and image handlers are neutralised', async () => {
  const body = [
    '# Heading', '', '<script>alert(1)</script>', '', '<img src=x onerror=alert(2)>', '',
    '[click](javascript:alert(3))', '', '![pic](javascript:alert(4))', '', '![logo](https://example.org/logo.png)', '',
    '| a | b |', '|---|---|', '| 1 | 2 |', '', '~~old~~ and www.example.org',
  ].join('\n');
  const id = await startThread('member', 'General practice strategy', 'Markdown safety', body);
  const html = sql(shoal.db, `SELECT body_html FROM posts WHERE thread_id = ${id}`);
  assert.doesNotMatch(html, /<script|onerror|javascript:|<img/i);
  assert.match(html, /<table>/);
  assert.match(html, /<del>old<\/del>/);
  assert.match(html, /<a href="http:\/\/www\.example\.org">/);
  assert.match(html, /<a href="https:\/\/example\.org\/logo\.png">logo<\/a>/, 'an image becomes a link');
  const page = await (await as('otherMember')).get(`/discussions/threads/${id}?page=1`);
  assert.doesNotMatch(page.text, /<script>alert|onerror=|href="javascript:/);
  assert.equal(sql(shoal.db, `SELECT body_source FROM posts WHERE thread_id = ${id}`), body, 'the source is kept as typed');
});

test('empty, oversized and badly mentioned posts get a clear message, status 400, and keep what was typed', async () => {
  const member = await as('member');
  const url = `/discussions/spaces/${space['General practice strategy']}/threads`;
  let r = await member.post(url, { title: '  ', body: '   ' }, { from: url + '/new' });
  assert.equal(r.status, 400);
  assert.match(r.text, /There is a problem/);
  assert.match(r.text, /Enter a title for the thread/);
  assert.match(r.text, /Enter your message/);
  assert.match(r.text, /<title>Error:/);
  const long = 'é'.repeat(50001);
  r = await member.post(url, { title: 'Too long <kept>', body: long }, { from: url + '/new' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Your message must be 50,000 characters or fewer \(it has 50001\)/);
  assert.ok(r.text.includes(long), 'the long text is kept');
  assert.match(r.text, /value="Too long &lt;kept&gt;"/);
  // Exactly 50,000 characters is fine.
  await startThread('member', 'General practice strategy', 'Exactly at the limit', 'x'.repeat(50000));
  r = await member.post(url, { title: 'Mention', body: 'Hello @[Nobody Of That Name]' }, { from: url + '/new' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Nobody called Nobody Of That Name can be mentioned/);
  assert.match(r.text, /Hello @\[Nobody Of That Name\]<\/textarea>/);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM threads WHERE title IN ('Mention', 'Too long <kept>', '  ')"), '0', 'nothing stored half-way');
  // The same on a reply.
  const thread = threadOf('Exactly at the limit');
  r = await member.post(`/discussions/threads/${thread}/posts`, { body: 'y'.repeat(50001) });
  assert.equal(r.status, 400);
  assert.match(r.text, /50,000 characters or fewer/);
  assert.ok(r.text.includes('y'.repeat(50001)));
});

test('mentions link to the person and are stored; quoting pre-fills the reply box', async () => {
  const id = await startThread('otherMember', 'General practice strategy', 'Mentions', 'Over to @[Dr Morgan Lee] and @[sam patel (practice manager)].');
  const post = sql(shoal.db, `SELECT min(id) FROM posts WHERE thread_id = ${id}`);
  const morgan = sql(shoal.db, `SELECT id FROM people WHERE email = '${demo.member}'`);
  const sam = sql(shoal.db, `SELECT id FROM people WHERE email = '${demo.lead}'`);
  assert.match(sql(shoal.db, `SELECT body_html FROM posts WHERE id = ${post}`), new RegExp(`<a href="/people/${morgan}">@Dr Morgan Lee</a>`));
  assert.equal(sql(shoal.db, `SELECT person_id FROM post_mentions WHERE post_id = ${post} ORDER BY person_id`), [morgan, sam].sort((a, b) => a - b).join('\n'));
  const member = await as('member');
  const r = await member.get(`/discussions/threads/${id}?page=1&quote=${post}`);
  assert.equal(r.status, 200);
  assert.match(r.text, /<textarea[^>]*name="body"[^>]*>&gt; Jo Evans \(practice nurse\) wrote:\n&gt;\n&gt; Over to @\[Dr Morgan Lee\]/);
});

test('edits keep a visible history; authors delete their own posts and a tombstone stays', async () => {
  const id = await startThread('member', 'General practice strategy', 'Edit me', 'First version');
  const post = sql(shoal.db, `SELECT min(id) FROM posts WHERE thread_id = ${id}`);
  const member = await as('member');
  const other = await as('otherMember');
  assert.equal((await other.get(`/discussions/posts/${post}/edit`)).status, 403, 'only the author edits');
  assert.equal((await other.post(`/discussions/posts/${post}/edit`, { body: 'Hijack' }, { from: '/discussions' })).status, 403);
  let r = await member.post(`/discussions/posts/${post}/edit`, { body: 'Second version' }, { from: `/discussions/posts/${post}/edit` });
  assert.equal(r.status, 303);
  r = await other.get(`/discussions/threads/${id}?page=1`);
  assert.match(r.text, /Second version/);
  assert.match(r.text, new RegExp(`href="/discussions/posts/${post}/history">edited`));
  r = await other.get(`/discussions/posts/${post}/history`);
  assert.equal(r.status, 200);
  assert.match(r.text, /Current version/);
  assert.match(r.text, /Second version/);
  assert.match(r.text, /First version/);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = 'discussion-post-edited' AND subject = 'post:${post}'`), '1');
  // Deleting: not someone else's.
  assert.equal((await other.post(`/discussions/posts/${post}/delete`, {}, { from: '/discussions' })).status, 403);
  r = await member.post(`/discussions/posts/${post}/delete`, {}, { from: `/discussions/threads/${id}?page=1` });
  assert.equal(r.status, 303);
  r = await other.get(`/discussions/threads/${id}?page=1`);
  assert.match(r.text, /This post was deleted by its author/);
  assert.doesNotMatch(r.text, /Second version/);
  assert.equal((await other.get(`/discussions/posts/${post}/history`)).status, 404, 'no history of a deleted post');
  assert.equal(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = 'discussion-post-deleted' AND subject = 'post:${post}'`), '1');
});

test('moderators hide a post with a reason, pin, lock (no replies) and move threads; all audited', async () => {
  const id = await startThread('otherMember', 'General practice strategy', 'Moderate me', 'Something unkind');
  const post = sql(shoal.db, `SELECT min(id) FROM posts WHERE thread_id = ${id}`);
  const member = await as('member');
  const exec = await as('executive');
  assert.equal((await member.get(`/discussions/posts/${post}/hide`)).status, 403);
  let r = await exec.post(`/discussions/posts/${post}/hide`, { reason: '' }, { from: `/discussions/posts/${post}/hide` });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter the reason for hiding the post/);
  r = await exec.post(`/discussions/posts/${post}/hide`, { reason: 'Personal remarks about a colleague' });
  assert.equal(r.status, 303);
  r = await member.get(`/discussions/threads/${id}?page=1`);
  assert.match(r.text, /This post was hidden by a moderator. Reason: Personal remarks about a colleague/);
  assert.doesNotMatch(r.text, /Something unkind/);
  // Pin.
  r = await exec.post(`/discussions/threads/${id}/pin`, {}, { from: `/discussions/threads/${id}?page=1` });
  assert.equal(r.status, 303);
  assert.equal(sql(shoal.db, `SELECT pinned FROM threads WHERE id = ${id}`), '1');
  r = await member.get(`/discussions/spaces/${space['General practice strategy']}`);
  assert.ok(r.text.indexOf('Moderate me') < r.text.indexOf('Enhanced access from April'), 'a pinned thread comes first');
  // Lock: no replies, from anyone.
  r = await exec.post(`/discussions/threads/${id}/lock`, {}, { from: `/discussions/threads/${id}?page=1` });
  assert.equal(r.status, 303);
  r = await member.post(`/discussions/threads/${id}/posts`, { body: 'Late reply' }, { from: `/discussions/threads/${id}?page=1` });
  assert.equal(r.status, 403);
  assert.match(r.text, /This thread is locked/);
  r = await member.get(`/discussions/threads/${id}?page=1`);
  assert.match(r.text, /This thread is locked: nobody can reply to it/);
  assert.doesNotMatch(r.text, /Post the reply/);
  // Members cannot moderate.
  for (const action of ['pin', 'lock', 'move'])
    assert.equal((await member.post(`/discussions/threads/${id}/${action}`, { space: space['Executive only'] }, { from: '/discussions' })).status, 403);
  // Move to the executive's space: the member loses sight of it.
  r = await exec.post(`/discussions/threads/${id}/move`, { space: space['Executive only'] }, { from: `/discussions/threads/${id}?page=1` });
  assert.equal(r.status, 303);
  assert.equal(r.location, `/discussions/spaces/${space['Executive only']}?notice=moved`);
  assert.equal(sql(shoal.db, `SELECT DISTINCT space_id FROM posts WHERE thread_id = ${id}`), space['Executive only'], 'the posts follow');
  assert.equal((await member.get(`/discussions/threads/${id}?page=1`)).status, 404);
  r = await exec.post(`/discussions/threads/${id}/move`, { space: '999999' }, { from: `/discussions/threads/${id}?page=1` });
  assert.equal(r.status, 400);
  const audited = sql(shoal.db, `SELECT action FROM audit_log WHERE subject IN ('thread:${id}', 'post:${post}') ORDER BY id`).split('\n');
  assert.deepEqual(audited, ['discussion-post-hidden', 'discussion-thread-pinned', 'discussion-thread-locked', 'discussion-thread-moved']);
});

test('reactions: one per person per kind, a second press takes it back, counts shown', async () => {
  const id = await startThread('member', 'General practice strategy', 'React to me', 'Agree?');
  const post = sql(shoal.db, `SELECT min(id) FROM posts WHERE thread_id = ${id}`);
  const other = await as('otherMember');
  const lead = await as('lead');
  await other.post(`/discussions/posts/${post}/react`, { kind: 'agree' }, { from: `/discussions/threads/${id}?page=1` });
  await lead.post(`/discussions/posts/${post}/react`, { kind: 'agree' }, { from: `/discussions/threads/${id}?page=1` });
  await lead.post(`/discussions/posts/${post}/react`, { kind: 'thanks' }, { from: `/discussions/threads/${id}?page=1` });
  let r = await other.get(`/discussions/threads/${id}?page=1`);
  assert.match(r.text, /Agree: 2. Thanks: 1./);
  assert.match(r.text, /aria-pressed="true">Agree/);
  await other.post(`/discussions/posts/${post}/react`, { kind: 'agree' }, { from: `/discussions/threads/${id}?page=1` });
  r = await other.get(`/discussions/threads/${id}?page=1`);
  assert.match(r.text, /Agree: 1. Thanks: 1./);
  assert.match(r.text, /aria-pressed="false">Agree/);
  assert.match(r.text, /aria-pressed="false">Thanks/);
  r = await lead.get(`/discussions/threads/${id}?page=1`);
  assert.match(r.text, /aria-pressed="true">Agree/, 'the lead still agrees');
  assert.match(r.text, /aria-pressed="true">Thanks/);
  r = await other.post(`/discussions/posts/${post}/react`, { kind: 'love' }, { from: `/discussions/threads/${id}?page=1` });
  assert.equal(r.status, 400);
});

// A page looks up the viewer's reactions in the range of its posts' ids; a post of
// another thread written in between is in that range, and is not on the page.
test("my reaction to a post of another thread does not show as mine, nor count, on this one", async () => {
  const id = await startThread('member', 'General practice strategy', 'Interleaved', 'First here');
  const other = await startThread('member', 'General practice strategy', 'In between', 'Elsewhere');
  const lead = await as('lead');
  await reply('member', id, 'Second here');
  const between = sql(shoal.db, `SELECT min(id) FROM posts WHERE thread_id = ${other}`);
  const [first, last] = sql(shoal.db, `SELECT min(id) || ' ' || max(id) FROM posts WHERE thread_id = ${id}`).split(' ').map(Number);
  assert.ok(first < Number(between) && Number(between) < last, 'the other thread\'s post lies between this one\'s');
  await lead.post(`/discussions/posts/${between}/react`, { kind: 'agree' }, { from: `/discussions/threads/${other}?page=1` });
  await lead.post(`/discussions/posts/${last}/react`, { kind: 'thanks' }, { from: `/discussions/threads/${id}?page=1` });
  const r = await lead.get(`/discussions/threads/${id}?page=1`);
  assert.equal((r.text.match(/Agree: 0. Thanks: 0./g) || []).length, 1);
  assert.equal((r.text.match(/Agree: 0. Thanks: 1./g) || []).length, 1);
  assert.doesNotMatch(r.text, /aria-pressed="true">Agree/);
  assert.equal((r.text.match(/aria-pressed="true">Thanks/g) || []).length, 1);
});

test('a member asks the executive; the official response shows at the top; the queue is oldest first with ages', async () => {
  const exec = await as('executive');
  let r = await exec.get('/discussions/questions');
  assert.equal(r.status, 200);
  // The demo's unanswered question is there with its age; the answered one is not.
  assert.match(r.text, /ICB consultation on the primary care estates strategy/);
  assert.match(r.text, /3 days/);
  assert.doesNotMatch(r.text, /Enhanced access from April/);
  const id = await startThread('member', 'General practice strategy', 'Will the executive support a local enhanced service for phlebotomy?', 'We need an answer before March.', { question: '1' });
  r = await exec.get('/discussions/questions');
  assert.ok(r.text.indexOf('ICB consultation') < r.text.indexOf('local enhanced service for phlebotomy'), 'oldest first');
  assert.match(r.text, /less than an hour/);
  await reply('otherMember', id, 'We would like this too.');
  const official = await reply('executive', id, 'Yes: the executive will put it to the ICB in February.');
  // A member's post cannot be made official, nor can a member mark one.
  const memberPost = sql(shoal.db, `SELECT min(id) FROM posts WHERE thread_id = ${id}`);
  assert.equal((await exec.post(`/discussions/posts/${memberPost}/official`, {}, { from: '/discussions' })).status, 403);
  assert.equal((await (await as('member')).post(`/discussions/posts/${official.id}/official`, {}, { from: '/discussions' })).status, 403);
  r = await exec.post(`/discussions/posts/${official.id}/official`, {}, { from: `/discussions/threads/${id}?page=1` });
  assert.equal(r.status, 303);
  r = await (await as('member')).get(`/discussions/threads/${id}?page=1`);
  const top = r.text.indexOf('Official response from the executive');
  assert.ok(top > 0 && top < r.text.indexOf('We need an answer before March'), 'the official response is above the thread');
  assert.match(r.text.slice(top, top + 600), /Yes: the executive will put it to the ICB in February/);
  r = await exec.get('/discussions/questions');
  assert.doesNotMatch(r.text, /phlebotomy/, 'answered questions leave the queue');
  assert.equal(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = 'discussion-official-response' AND subject = 'thread:${id}'`), '1');
  // If the official response is deleted, the question goes back to the queue.
  r = await exec.post(`/discussions/posts/${official.id}/delete`, {}, { from: `/discussions/threads/${id}?page=1` });
  assert.equal(r.status, 303);
  r = await exec.get('/discussions/questions');
  assert.match(r.text, /phlebotomy/);
  r = await (await as('member')).get(`/discussions/threads/${id}?page=1`);
  assert.doesNotMatch(r.text, /Official response from the executive/);
});

test('unread counts, "new since your last visit", opening at the first unread post, and paging', async () => {
  const id = await startThread('lead', 'General practice strategy', 'A long thread', 'Post 1');
  const other = await as('otherMember');
  // Never opened: the space list counts it, the thread list says it is new.
  let r = await other.get(`/discussions/spaces/${space['General practice strategy']}`);
  assert.match(r.text, new RegExp(`href="/discussions/threads/${id}">A long thread</a> <strong class="nhsuk-tag nhsuk-tag--blue">New since your last visit`));
  r = await other.get(`/discussions/threads/${id}`);
  assert.equal(r.status, 303);
  const first = sql(shoal.db, `SELECT min(id) FROM posts WHERE thread_id = ${id}`);
  assert.equal(r.location, `/discussions/threads/${id}?page=1#post-${first}`);
  await other.get(r.location); // read
  r = await other.get(`/discussions/spaces/${space['General practice strategy']}`);
  assert.doesNotMatch(r.text, new RegExp(`A long thread</a> <strong`));
  // 59 more posts: two pages of 50.
  for (let i = 2; i <= 60; i++) await reply('lead', id, `Post ${i}`);
  r = await other.get('/discussions');
  assert.match(r.text, /\d+ new<\/strong>/);
  r = await other.get(`/discussions/spaces/${space['General practice strategy']}`);
  assert.match(r.text, /A long thread<\/a> <strong class="nhsuk-tag nhsuk-tag--blue">59 new since your last visit/);
  r = await other.get(`/discussions/threads/${id}`);
  const second = sql(shoal.db, `SELECT id FROM posts WHERE thread_id = ${id} ORDER BY id LIMIT 1 OFFSET 1`);
  assert.equal(r.location, `/discussions/threads/${id}?page=1#post-${second}`, 'opens at the first unread post');
  r = await other.get(`/discussions/threads/${id}?page=1`);
  assert.match(r.text, /New since your last visit/);
  assert.ok(r.text.indexOf('New since your last visit') < r.text.indexOf(`id="post-${second}"`));
  assert.match(r.text, /Post 50</);
  assert.doesNotMatch(r.text, /Post 51</);
  assert.match(r.text, /nhsuk-pagination/);
  assert.match(r.text, new RegExp(`href="/discussions/threads/${id}\\?page=2"`));
  // Having read page 1, the thread opens on page 2 at post 51.
  r = await other.get(`/discussions/threads/${id}`);
  const p51 = sql(shoal.db, `SELECT id FROM posts WHERE thread_id = ${id} ORDER BY id LIMIT 1 OFFSET 50`);
  assert.equal(r.location, `/discussions/threads/${id}?page=2#post-${p51}`);
  r = await other.get(`/discussions/threads/${id}?page=2`);
  assert.match(r.text, /Post 51</);
  assert.doesNotMatch(r.text, /Post 50</);
  assert.match(r.text, /Post 60</);
  assert.match(r.text, /page 2 of 2/i);
  assert.equal((await other.get(`/discussions/threads/${id}?page=3`)).status, 404);
  assert.equal((await other.get(`/discussions/threads/${id}?page=x`)).status, 400);
  // All read: opens at the newest post.
  r = await other.get(`/discussions/threads/${id}`);
  const last = sql(shoal.db, `SELECT max(id) FROM posts WHERE thread_id = ${id}`);
  assert.equal(r.location, `/discussions/threads/${id}?page=2#post-${last}`);
  // Reading page 1 again does not make page 2 unread.
  await other.get(`/discussions/threads/${id}?page=1`);
  r = await other.get(`/discussions/spaces/${space['General practice strategy']}`);
  assert.doesNotMatch(r.text, /A long thread<\/a> <strong/);
});

test('executives create, change and order spaces; administrators manage groups a space can be limited to', async () => {
  const exec = await as('executive');
  const admin = await as('admin');
  const member = await as('member');
  assert.equal((await member.get('/discussions/spaces/new')).status, 403);
  let r = await exec.post('/discussions/spaces', { name: '', visibility: 'group', group: '' }, { from: '/discussions/spaces/new' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter a name for the space/);
  assert.match(r.text, /Select the group that can see the space/);
  // A group with the member in it.
  r = await admin.post('/admin/groups', { name: 'Riverside PCN clinicians' }, { from: '/admin/groups' });
  assert.equal(r.status, 303);
  const group = sql(shoal.db, "SELECT id FROM discussion_groups WHERE name = 'Riverside PCN clinicians'");
  r = await admin.post(`/admin/groups/${group}/members`, { email: 'nobody@example.org' }, { from: `/admin/groups/${group}` });
  assert.equal(r.status, 400);
  assert.match(r.text, /Nobody with an active account has that email address/);
  assert.match(r.text, /value="nobody@example.org"/);
  r = await admin.post(`/admin/groups/${group}/members`, { email: demo.member.toUpperCase() });
  assert.equal(r.status, 303);
  r = await admin.post('/admin/groups', { name: 'Riverside PCN clinicians' }, { from: '/admin/groups' });
  assert.equal(r.status, 400);
  assert.match(r.text, /already a group with that name/);
  r = await exec.post('/discussions/spaces', { name: 'Riverside clinical', description: 'For the PCN', visibility: 'group', group }, { from: '/discussions/spaces/new' });
  assert.equal(r.status, 303);
  const id = sql(shoal.db, "SELECT id FROM spaces WHERE name = 'Riverside clinical'");
  assert.equal((await member.get(`/discussions/spaces/${id}`)).status, 200, 'a group member sees it');
  assert.equal((await (await as('otherMember')).get(`/discussions/spaces/${id}`)).status, 404, 'others do not');
  assert.match((await member.get('/discussions')).text, /Riverside clinical/);
  // Change it to executive only.
  r = await exec.post(`/discussions/spaces/${id}/edit`, { name: 'Riverside clinical (closed)', description: '', visibility: 'executive' }, { from: `/discussions/spaces/${id}/edit` });
  assert.equal(r.status, 303);
  assert.equal((await member.get(`/discussions/spaces/${id}`)).status, 404);
  // Order: move it up one place.
  const before = sql(shoal.db, 'SELECT id FROM spaces ORDER BY position, id').split('\n');
  r = await exec.post(`/discussions/spaces/${id}/position`, { direction: 'up' }, { from: '/discussions' });
  assert.equal(r.status, 303);
  const after = sql(shoal.db, 'SELECT id FROM spaces ORDER BY position, id').split('\n');
  assert.equal(after.indexOf(id), before.indexOf(id) - 1);
  // Removing the member from the group.
  r = await admin.post(`/admin/groups/${group}/members/${sql(shoal.db, `SELECT id FROM people WHERE email = '${demo.member}'`)}/remove`, {}, { from: `/admin/groups/${group}` });
  assert.equal(r.status, 303);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM discussion_group_members WHERE group_id = ${group}`), '0');
  const audited = sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action LIKE 'discussion-space-%' OR action LIKE 'discussion-group-%'");
  assert.ok(Number(audited) >= 5, `space and group changes are audited (${audited})`);
});

test('every form needs the session CSRF token', async () => {
  const member = await as('member');
  const thread = threadOf('Enhanced access from April: how are you staffing Saturday clinics?');
  const r = await member.request(`/discussions/threads/${thread}/posts`, { method: 'POST', form: { body: 'No token' } });
  assert.equal(r.status, 403);
  const r2 = await member.request(`/discussions/threads/${thread}/posts`, { method: 'POST', form: { csrf: 'wrong', body: 'Wrong token' } });
  assert.equal(r2.status, 403);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM posts WHERE body_source IN ('No token', 'Wrong token')"), '0');
});
