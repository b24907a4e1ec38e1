// tests/http/digest_smtp.test.mjs — the discussion digest as its readers receive
// it: Shoal (`shoal serve` and `shoal digest send --at`) configured to deliver
// through a real SMTP server on loopback (tests/lib/smtp_sink.py), and each
// reader's message checked against what that reader may open in the web app.
//
// The week: a member asks the executive in an all-members space, a colleague
// replies and mentions a practice manager, a reply is hidden by a moderator,
// the executive answers officially; threads start in a group space, the
// executive-only space and the space shared with partners; a thread's opening
// post is hidden; a thread moves to the executive-only space; the partner joins
// a group; one person mutes a space, one chooses never. Then, for every
// reader, the digest's sections must list exactly the threads that reader can
// open (asked of the pages, so policy_may_see_space and the digest's SQL must
// agree), every link must open for them, and the message must have a plain-text
// and an HTML part with the same items and one link to change preferences.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoal, sql, run } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';
import { startSmtpSink, parseMessage } from '../lib/smtp.mjs';

const BASE = 'https://shoal.example.org';
const FROM = 'Wyvern Vale GP Collective <no-reply@shoal.example>';
const HEADINGS = ['New threads', 'Official responses from the executive', 'Most active discussions'];
const HIDDEN_WORDS = 'Unkind remarks about Bridge Street that a moderator hid';

let sink;
let shoal;
let env;
const space = {};
const name = {};
const clients = {};

before(async () => {
  sink = await startSmtpSink();
  env = {
    SHOAL_SMTP_URL: sink.url,
    SHOAL_MAIL_FROM: FROM,
    SHOAL_BASE_URL: BASE,
    // Only used if SMTP were not configured: keeps stray .eml files out of the tree.
    SHOAL_MAIL_DIR: join(mkdtempSync(join(tmpdir(), 'shoal-digest-')), 'mail'),
  };
  shoal = await startShoal({ env });
  for (const row of sql(shoal.db, 'SELECT id, name FROM spaces').split('\n')) {
    const [id, n] = row.split('|');
    space[n] = id;
  }
  for (const [who, email] of Object.entries(demo)) name[who] = sql(shoal.db, `SELECT name FROM people WHERE email = '${email}'`);
});

after(async () => {
  sink?.stop();
  if (shoal) {
    const { code } = await shoal.stop();
    assert.equal(code, 0, 'shoal stops cleanly on SIGTERM');
  }
});

async function as(who) {
  if (clients[who]) return clients[who];
  const c = new Client(shoal.url);
  const r = await c.signIn(demo[who]);
  assert.equal(r.status, 303, `${who} signs in`);
  clients[who] = c;
  return c;
}

const threadOf = (title) => sql(shoal.db, `SELECT id FROM threads WHERE title = '${title.replace(/'/g, "''")}'`);
const firstPostOf = (thread) => sql(shoal.db, `SELECT min(id) FROM posts WHERE thread_id = ${thread}`);

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
  return r.location.match(/#post-(\d+)$/)[1];
}

async function hide(post, reason) {
  const exec = await as('executive');
  const r = await exec.post(`/discussions/posts/${post}/hide`, { reason }, { from: `/discussions/posts/${post}/hide` });
  assert.equal(r.status, 303, `the executive hides post ${post}: ${r.text.slice(0, 300)}`);
}

/**
 * The first Monday 07:00 in London strictly after t (ms): the end of the weekly
 * period that `shoal digest send --at` (just after it) sends. London is a whole
 * number of hours from UTC, so the candidates are whole UTC hours.
 */
function nextWeeklySend(t) {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  for (let h = Math.floor(t / 3600000) + 1; ; h++) {
    const p = Object.fromEntries(parts.formatToParts(new Date(h * 3600000)).map((x) => [x.type, x.value]));
    if (p.weekday === 'Mon' && p.hour === '07' && p.minute === '00') return h * 3600;
  }
}

/** "7 December 2026 at 7:00am", as src/core/time.c writes a London date and time. */
function londonDateTime(seconds) {
  const date = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'long', year: 'numeric' }).format(new Date(seconds * 1000));
  return `${date} at 7:00am`;
}

const decode = (s) => s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** The digest's plain-text sections: { heading: [{ line, link }] }. */
function textSections(text) {
  const lines = text.split(/\r?\n/);
  const out = {};
  let current = null;
  for (let i = 0; i < lines.length; i++) {
    if (HEADINGS.includes(lines[i])) {
      assert.ok(!out[lines[i]], `one "${lines[i]}" section`);
      current = out[lines[i]] = [];
    } else if (lines[i].startsWith('- ')) {
      assert.ok(current, `an item under a heading: ${lines[i]}`);
      const link = lines[i + 1].match(/^ {2}(\S+)$/);
      assert.ok(link, `a link on the line after "${lines[i]}"`);
      current.push({ line: lines[i], link: link[1] });
      i++;
    }
  }
  return out;
}

/** The digest's HTML sections: { heading: [{ title, link }] }. */
function htmlSections(html) {
  const out = {};
  for (const [, heading, items] of html.matchAll(/<h2>([^<]*)<\/h2><ul>(.*?)<\/ul>/gs)) {
    assert.ok(HEADINGS.includes(heading), `a known heading: ${heading}`);
    out[heading] = [...items.matchAll(/<li><a href="([^"]*)">([^<]*)<\/a> \([^<]*\)<\/li>/g)].map(([, link, title]) => ({
      link: decode(link),
      title: decode(title),
    }));
    assert.equal(out[heading].length, (items.match(/<li>/g) || []).length, `every item of "${heading}" is a link`);
  }
  return out;
}

const threadIdOf = (link) => {
  const m = link.match(/^https:\/\/shoal\.example\.org\/discussions\/threads\/(\d+)(\?page=1#official-response)?$/);
  assert.ok(m, `a link straight to a thread on base_url: ${link}`);
  return m[1];
};

test('the weekly digest over SMTP holds exactly what each reader may see', async () => {
  // A member asks the executive; a colleague replies and mentions a practice
  // manager; the executive answers officially; a moderator hides one reply.
  const question = await startThread('member', 'General practice strategy', 'Digest: one locum rate across the PCN?', 'Could the executive negotiate a single locum rate?', { question: 'on' });
  await reply('otherMember', question, `Castlegate would sign up. @[${name.lead}] has the figures.`);
  const hidden = await reply('otherMember', question, HIDDEN_WORDS);
  await hide(hidden, 'Personal remarks');
  const official = await reply('executive', question, 'Yes: the executive will propose one rate to the LMC in January.');
  const exec = await as('executive');
  assert.equal((await exec.post(`/discussions/posts/${official}/official`, {}, { from: `/discussions/threads/${question}?page=1` })).status, 303);
  // Threads in each kind of space.
  const group = await startThread('lead', 'Practice managers', 'Digest: managers-only estates rota <script>alert(1)</script> & "A&E"', 'For practice managers only.');
  const secret = await startThread('executive', 'Executive only', 'Digest: executive-only budget line', 'Not for members.');
  const shared = await startThread('executive', 'Winter planning with partners', 'Digest: shared winter surge plan', 'For the ICB and the trusts too.');
  await reply('partner', shared, 'The ICB will fund two extra sessions a week.');
  // A thread whose opening post a moderator hid: nothing of it is advertised.
  const moderated = await startThread('otherMember', 'General practice strategy', 'Digest: thread hidden by a moderator', 'Something that should not have been posted.');
  await hide(firstPostOf(moderated), 'Posted by mistake');
  // A thread moved out of the members' sight, and a partner who joins a group: neither
  // may show them anything (a partner sees only spaces shared with partners).
  const moved = await startThread('member', 'General practice strategy', 'Digest: moved to the executive', 'This belongs with the executive.');
  assert.equal((await exec.post(`/discussions/threads/${moved}/move`, { space: space['Executive only'] }, { from: `/discussions/threads/${moved}?page=1` })).status, 303);
  const groupId = sql(shoal.db, "SELECT id FROM discussion_groups WHERE name = 'Practice managers'");
  const added = await (await as('admin')).post(`/admin/groups/${groupId}/members`, { email: demo.partner }, { from: `/admin/groups/${groupId}` });
  assert.equal(added.status, 303, `the partner joins the group: ${added.text.slice(0, 300)}`);
  // Choices: the second practice manager mutes the members' space; the administrator wants no email.
  const lead2 = await as('otherLead');
  assert.equal((await lead2.post(`/notifications/spaces/${space['General practice strategy']}`, { level: 'muted' }, { from: `/notifications/spaces/${space['General practice strategy']}` })).status, 303);
  assert.equal((await (await as('admin')).post('/notifications/settings', { email: 'never' }, { from: '/notifications/settings' })).status, 303);

  // Send the weekly digest as at one minute after the next Monday 07:00 London.
  const end = nextWeeklySend(Date.now());
  const start = end - 7 * 86400;
  const periodLine = `to ${londonDateTime(end)}.`;
  const ours = (m) => parseMessage(m.data).text.includes(periodLine);
  const r = await run(['digest', 'send', '--db', shoal.db, '--at', String(end + 60)], { env });
  assert.equal(r.status, 0, r.stderr);
  const queued = Number(r.stdout.match(/(\d+) digests queued/)[1]);
  const readers = ['executive', 'lead', 'member', 'otherMember', 'otherLead', 'partner'];
  assert.equal(queued, readers.length, `one digest for each weekly reader: ${r.stdout}`);
  // `shoal serve`'s jobs thread may deliver some of them: wait for all to arrive.
  await sink.waitFor((ms) => ms.filter(ours).length >= queued);
  const digests = sink.messages.filter(ours);
  assert.equal(digests.length, queued, 'every digest queued arrived over SMTP, once');

  // What the database holds for the period, before anyone's rule is applied.
  const rows = (q) => sql(shoal.db, q).split('\n').filter(Boolean).map((l) => l.split('|'));
  const created = rows(`SELECT t.id, t.space_id, (SELECT count(*) FROM posts f WHERE f.id = (SELECT min(id) FROM posts g WHERE g.thread_id = t.id) AND f.deleted_at IS NULL AND f.hidden_at IS NULL) FROM threads t WHERE t.created_at >= ${start} AND t.created_at < ${end} ORDER BY t.id`);
  const answered = rows(`SELECT t.id, t.space_id FROM threads t WHERE t.official_post_id IS NOT NULL AND t.answered_at >= ${start} AND t.answered_at < ${end} ORDER BY t.answered_at, t.id`);
  const active = rows(`SELECT t.id, t.space_id, count(*) FROM posts p JOIN threads t ON t.id = p.thread_id WHERE p.created_at >= ${start} AND p.created_at < ${end} AND p.deleted_at IS NULL AND p.hidden_at IS NULL GROUP BY t.id, t.space_id ORDER BY count(*) DESC, t.id`);
  const allThreads = new Set([...created, ...answered, ...active].map((x) => x[0]));
  const titles = Object.fromEntries(rows('SELECT id, title FROM threads'));

  for (const who of readers) {
    const list = digests.filter((m) => m.rcpt_tos.includes(demo[who]));
    assert.equal(list.length, 1, `one digest for ${who}`);
    const m = list[0];
    assert.equal(m.mail_from, 'no-reply@shoal.example');
    assert.deepEqual(m.rcpt_tos, [demo[who]]);
    const { headers, text, html } = parseMessage(m.data);
    assert.equal(headers.to, demo[who]);
    assert.equal(headers.from, FROM);
    assert.equal(headers.subject, 'Your weekly digest of discussions');
    assert.match(html, /^<!DOCTYPE html><html lang="en-GB"><body>/);

    // What this reader may open, asked of the web app (404 is "not there for you").
    const c = await as(who);
    const sees = {};
    for (const id of allThreads) {
      const page = await c.get(`/discussions/threads/${id}?page=1`);
      assert.ok([200, 404].includes(page.status), `thread ${id} for ${who}: ${page.status}`);
      sees[id] = page.status === 200;
    }
    const muted = new Set(rows(`SELECT space_id FROM space_subscriptions s JOIN people u ON u.id = s.person_id WHERE u.email = '${demo[who]}' AND s.level = 'muted'`).map((x) => x[0]));
    const readable = ([id, spaceId]) => sees[id] && !muted.has(spaceId);
    const expected = {
      'New threads': created.filter((x) => readable(x) && x[2] === '1').map((x) => x[0]),
      'Official responses from the executive': answered.filter(readable).map((x) => x[0]),
      'Most active discussions': active.filter(readable).slice(0, 5).map((x) => x[0]),
    };

    const plain = textSections(text);
    const rich = htmlSections(html);
    for (const heading of HEADINGS) {
      const want = expected[heading];
      const got = (plain[heading] || []).map((i) => threadIdOf(i.link));
      assert.deepEqual(got, want, `${who}: "${heading}" lists exactly what they may see`);
      if (!want.length) assert.ok(!text.includes(heading) && !html.includes(heading), `${who}: no empty "${heading}" section`);
      assert.deepEqual((rich[heading] || []).map((i) => i.link), (plain[heading] || []).map((i) => i.link), `${who}: the HTML part has the same "${heading}" links`);
      for (const [k, item] of (plain[heading] || []).entries()) {
        const id = threadIdOf(item.link);
        assert.ok(item.line.startsWith(`- ${titles[id]} (`), `${who}: the title of thread ${id} in the text`);
        assert.equal(rich[heading][k].title, titles[id], `${who}: the title of thread ${id} in the HTML`);
        assert.equal(item.link.endsWith('#official-response'), heading === 'Official responses from the executive', 'official responses link to the response');
      }
    }
    // Every link opens for its reader, straight to the item.
    for (const heading of HEADINGS) {
      for (const item of plain[heading] || []) {
        const path = item.link.slice(BASE.length);
        const id = threadIdOf(item.link);
        if (path.endsWith('#official-response')) {
          const page = await c.get(path.replace(/#.*$/, ''));
          assert.equal(page.status, 200, `${who} opens ${path}`);
          assert.match(page.text, /id="official-response"/, 'the response is on the page the link opens');
        } else {
          const page = await c.get(path);
          assert.equal(page.status, 303, `${who} opens ${path}`);
          assert.match(page.location, new RegExp(`^/discussions/threads/${id}\\?page=\\d+#post-\\d+$`));
        }
      }
    }
    // One link to change preferences, in each part.
    assert.equal(text.split(`${BASE}/notifications/settings`).length - 1, 1, `${who}: one preferences link in the text`);
    assert.equal(html.split(`href="${BASE}/notifications/settings"`).length - 1, 1, `${who}: one preferences link in the HTML`);
    // Never a hidden post's words, never markup from a title.
    assert.ok(!text.includes(HIDDEN_WORDS) && !html.includes(HIDDEN_WORDS), `${who}: no hidden post`);
    assert.doesNotMatch(html, /<script/i, 'titles are escaped in the HTML part');
  }

  // The cases the brief names, said plainly as well.
  const body = (who) => parseMessage(digests.find((m) => m.rcpt_tos.includes(demo[who])).data).text;
  const member = body('member');
  assert.match(member, /Digest: one locum rate across the PCN\?/);
  assert.ok(textSections(member)['Official responses from the executive'].some((i) => threadIdOf(i.link) === question), 'the official response');
  assert.match(member, /Digest: shared winter surge plan/);
  assert.doesNotMatch(member, /managers-only|executive-only|hidden by a moderator|moved to the executive/, 'a member outside the group and the executive sees none of theirs');
  const partner = body('partner');
  assert.match(partner, /Digest: shared winter surge plan/);
  assert.doesNotMatch(partner, /locum rate|managers-only|executive-only/, 'a partner sees only the shared space, even in a group');
  for (const id of [...created, ...answered, ...active].filter((x) => x[1] !== space['Winter planning with partners']).map((x) => x[0])) {
    assert.ok(!partner.includes(`/discussions/threads/${id}`), `partner: nothing from thread ${id} outside the shared space`);
  }
  assert.match(body('lead'), /Digest: managers-only estates rota/);
  assert.doesNotMatch(body('lead'), /executive-only/);
  assert.match(body('executive'), /Digest: executive-only budget line/);
  assert.match(body('executive'), /Digest: moved to the executive/);
  assert.doesNotMatch(body('otherLead'), /locum rate/, 'a muted space is left out');
  assert.match(body('otherLead'), /managers-only estates rota/);
  assert.ok(!digests.some((m) => m.rcpt_tos.includes(demo.admin)), 'never: no digest');
  assert.ok(!digests.some((m) => m.rcpt_tos.includes(demo.deactivated)), 'deactivated people get nothing');
  assert.ok(group && secret && shared);

  // Run again, as a second node would: nothing more is sent.
  const again = await run(['digest', 'send', '--db', shoal.db, '--at', String(end + 120)], { env });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /0 digests queued/);
  await new Promise((res) => setTimeout(res, 1000));
  assert.equal(sink.messages.filter(ours).length, queued, 'no digest twice');
});
