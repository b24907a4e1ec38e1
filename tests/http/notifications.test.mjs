// tests/http/notifications.test.mjs — notifications as members, partners and the
// executive meet them: replies, mentions, official responses and new threads in
// watched spaces reach only people who may see the space; muted spaces say
// nothing; the header badge counts; marking one and all read; email preferences
// with their bad input; the immediate email (escaped HTML, plain text, links);
// and the digest (`shoal digest send --at T`): one email per person per period,
// holding only what that person may see, never sent twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoal, sql, run } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

const BASE = 'https://shoal.example.org';
const mailDir = join(mkdtempSync(join(tmpdir(), 'shoal-notify-')), 'mail');
const env = { SHOAL_MAIL_DIR: mailDir, SHOAL_BASE_URL: BASE };

let shoal;
const space = {};
const name = {};
before(async () => {
  shoal = await startShoal({ env });
  for (const row of sql(shoal.db, 'SELECT id, name FROM spaces').split('\n')) {
    const [id, n] = row.split('|');
    space[n] = id;
  }
  for (const [who, email] of Object.entries(demo)) name[who] = sql(shoal.db, `SELECT name FROM people WHERE email = '${email}'`);
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

const personId = (who) => sql(shoal.db, `SELECT id FROM people WHERE email = '${demo[who]}'`);
const threadOf = (title) => sql(shoal.db, `SELECT id FROM threads WHERE title = '${title.replace(/'/g, "''")}'`);
const noticesOf = (who, thread) =>
  sql(shoal.db, `SELECT kind FROM notifications WHERE person_id = ${personId(who)} AND thread_id = ${thread} ORDER BY id`).split('\n').filter(Boolean);

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

async function setLevel(who, spaceName, level) {
  const c = await as(who);
  const r = await c.post(`/notifications/spaces/${space[spaceName]}`, { level }, { from: `/notifications/spaces/${space[spaceName]}` });
  assert.equal(r.status, 303, `${who} sets ${spaceName} to ${level}: ${r.text.slice(0, 300)}`);
}

async function setEmail(who, email) {
  const c = await as(who);
  const r = await c.post('/notifications/settings', { email }, { from: '/notifications/settings' });
  assert.equal(r.status, 303, `${who} chooses ${email}`);
}

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function badge(html) {
  const m = html.match(/id="notifications-badge">(\d+)(\+?)/);
  return m ? Number(m[1]) : 0;
}

/** The .eml files in mailDir as { to, subject, body } with quoted-printable decoded. */
function mails() {
  if (!existsSync(mailDir)) return [];
  return readdirSync(mailDir).filter((f) => f.endsWith('.eml')).map((f) => {
    const data = readFileSync(join(mailDir, f), 'utf8');
    const at = data.indexOf('\r\n\r\n');
    const headers = {};
    for (const line of data.slice(0, at).replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const raw = data.slice(at + 4).replace(/=\r\n/g, '');
    const body = Buffer.from(raw.replace(/=([0-9A-F]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
    return { file: f, headers, to: headers.to, subject: headers.subject, body, raw: data };
  });
}

async function waitForMail(pred, ms = 15000) {
  const until = Date.now() + ms;
  for (;;) {
    const found = mails().filter(pred);
    if (found.length || Date.now() > until) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a reply notifies the thread author, a mention the person mentioned; the badge counts; mark read', async () => {
  const id = await startThread('member', 'General practice strategy', 'Notify: rota sharing', 'Shall we share locum rotas?');
  await reply('otherMember', id, `Yes, and @[${name.lead}] has a spreadsheet.`);
  assert.deepEqual(noticesOf('member', id), ['reply']);
  assert.deepEqual(noticesOf('lead', id), ['mention']);
  assert.deepEqual(noticesOf('otherMember', id), [], 'nobody hears about their own post');

  const member = await as('member');
  let page = await member.get('/notifications');
  assert.equal(page.status, 200);
  assert.match(page.text, new RegExp(`${esc(name.otherMember)} replied to your thread <a href="/notifications/\\d+">Notify: rota sharing</a>`));
  const before = badge(page.text);
  assert.ok(before >= 1, 'the header badge shows unread notifications');
  const lead = await as('lead');
  assert.match((await lead.get('/notifications')).text, /mentioned you in <a[^>]*>Notify: rota sharing/);

  // Opening one marks it read and goes to the post.
  const nid = sql(shoal.db, `SELECT id FROM notifications WHERE person_id = ${personId('member')} AND thread_id = ${id}`);
  const open = await member.get(`/notifications/${nid}`);
  assert.equal(open.status, 303);
  assert.match(open.location, new RegExp(`^/discussions/threads/${id}\\?page=1#post-\\d+$`));
  page = await member.get('/discussions');
  assert.equal(badge(page.text), before - 1, 'the badge counts one fewer');
  // Someone else's notification is not there for you: 404.
  const leadNid = sql(shoal.db, `SELECT id FROM notifications WHERE person_id = ${personId('lead')} AND thread_id = ${id}`);
  assert.equal((await member.post(`/notifications/${leadNid}/read`, {}, { from: '/notifications' })).status, 404);
  assert.equal((await member.get(`/notifications/${leadNid}`)).status, 404);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM notifications WHERE id = ${leadNid} AND read_at IS NULL`), '1');
  // Mark one read, then all.
  assert.equal((await lead.post(`/notifications/${leadNid}/read`, {}, { from: '/notifications' })).status, 303);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM notifications WHERE id = ${leadNid} AND read_at IS NULL`), '0');
  await reply('otherMember', id, 'One more thing.');
  assert.ok(badge((await member.get('/notifications')).text) >= 1);
  const all = await member.post('/notifications/read', {}, { from: '/notifications' });
  assert.equal(all.status, 303);
  page = await member.get(all.location);
  assert.match(page.text, /Your notifications are marked as read/);
  assert.equal(badge(page.text), 0, 'no badge once all are read');
  assert.doesNotMatch(page.text, /id="notifications-badge"/);
});

test('mentions and replies never reach people who cannot see the space', async () => {
  // The executive mentions a member and a partner in an executive-only space.
  const secret = await startThread('executive', 'Executive only', 'Notify: secret budget line', `Ask @[${name.member}] and @[${name.partner}] later.`);
  assert.deepEqual(noticesOf('member', secret), []);
  assert.deepEqual(noticesOf('partner', secret), []);
  // A partner mentioned in a members-only space hears nothing either.
  const members = await startThread('lead', 'General practice strategy', 'Notify: members only', `Not for @[${name.partner}] to see.`);
  assert.deepEqual(noticesOf('partner', members), []);
  const partner = await as('partner');
  const page = await partner.get('/notifications');
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /secret budget line|members only/);
  // A thread moved out of sight takes its notices with it from the list.
  const shared = await startThread('executive', 'Winter planning with partners', 'Notify: moved away', `Over to @[${name.partner}].`);
  assert.deepEqual(noticesOf('partner', shared), ['mention']);
  assert.match((await partner.get('/notifications')).text, /moved away/);
  const exec = await as('executive');
  assert.equal((await exec.post(`/discussions/threads/${shared}/move`, { space: space['Executive only'] }, { from: `/discussions/threads/${shared}?page=1` })).status, 303);
  assert.doesNotMatch((await partner.get('/notifications')).text, /moved away/);
});

test('official responses reach the asker and everyone who posted; watching and muting a space', async () => {
  const id = await startThread('member', 'General practice strategy', 'Notify: will the ICB fund phlebotomy?', 'A question for the executive.', { question: 'on' });
  await reply('otherMember', id, 'We would like to know too.');
  const official = await reply('executive', id, 'Yes, from April.');
  const exec = await as('executive');
  assert.equal((await exec.post(`/discussions/posts/${official}/official`, {}, { from: `/discussions/threads/${id}?page=1` })).status, 303);
  assert.ok(noticesOf('member', id).includes('official'));
  assert.deepEqual(noticesOf('otherMember', id), ['official']);
  assert.match((await (await as('member')).get('/notifications')).text, /gave the official response from the executive in <a[^>]*>Notify: will the ICB fund phlebotomy\?/);

  // Watching: every new thread. Partners cannot watch a space they cannot see (404).
  const c = await as('otherMember');
  const form = await c.get(`/notifications/spaces/${space['General practice strategy']}`);
  assert.equal(form.status, 200);
  assert.match(form.text, /value="normal" checked/);
  await setLevel('otherMember', 'General practice strategy', 'watching');
  assert.match((await c.get(`/notifications/spaces/${space['General practice strategy']}`)).text, /value="watching" checked/);
  const watched = await startThread('lead', 'General practice strategy', 'Notify: new thread for watchers', 'Hello all.');
  assert.deepEqual(noticesOf('otherMember', watched), ['thread']);
  assert.deepEqual(noticesOf('member', watched), [], 'normal: no notice of new threads');
  const partner = await as('partner');
  assert.equal((await partner.get(`/notifications/spaces/${space['Executive only']}`)).status, 404);
  assert.equal((await partner.post(`/notifications/spaces/${space['Executive only']}`, { level: 'watching' }, { from: '/notifications' })).status, 404);
  // Bad input: a clear message on the field, 400.
  const bad = await c.post(`/notifications/spaces/${space['General practice strategy']}`, { level: 'loud' }, { from: `/notifications/spaces/${space['General practice strategy']}` });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /There is a problem/);
  assert.match(bad.text, /Choose watching, normal or muted/);

  // Muted: nothing, not even a reply or a mention.
  await setLevel('member', 'General practice strategy', 'muted');
  const before = noticesOf('member', id).length;
  await reply('otherMember', id, `Thanks @[${name.member}].`);
  assert.equal(noticesOf('member', id).length, before);
  await setLevel('member', 'General practice strategy', 'normal');
  await reply('otherMember', id, 'And again.');
  assert.equal(noticesOf('member', id).length, before + 1);
});

test('email preferences: weekly by default, bad input kept out, immediate email escaped and linked', async () => {
  const c = await as('otherMember');
  let page = await c.get('/notifications/settings');
  assert.equal(page.status, 200);
  assert.match(page.text, /value="weekly" checked/);
  const bad = await c.post('/notifications/settings', { email: 'hourly' }, { from: '/notifications/settings' });
  assert.equal(bad.status, 400);
  assert.match(bad.text, /Choose when Shoal should email you/);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM notification_preferences WHERE person_id = ${personId('otherMember')}`), '0');
  const saved = await c.post('/notifications/settings', { email: 'immediately' }, { from: '/notifications/settings' });
  assert.equal(saved.status, 303);
  page = await c.get(saved.location);
  assert.match(page.text, /value="immediately" checked/);
  assert.match(page.text, /Your email choice has been saved/);

  const title = 'Notify: <script>alert(1)</script> & "quotes"';
  const id = await startThread('otherMember', 'General practice strategy', title, 'Escaping check.');
  const post = await reply('lead', id, 'A reply that should be emailed at once.');
  const found = await waitForMail((m) => m.to === demo.otherMember && m.body.includes(`#post-${post}`));
  assert.equal(found.length, 1, 'one immediate email');
  const m = found[0];
  assert.match(m.subject, /replied to your thread/);
  assert.match(m.raw, /multipart\/alternative/);
  assert.ok(m.body.includes(`${BASE}/discussions/threads/${id}?page=1#post-${post}`), 'a link straight to the post');
  assert.ok(m.body.includes(`${BASE}/notifications/settings`), 'one link to change preferences');
  assert.ok(m.body.includes('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;'), 'the title is escaped in HTML');
  assert.ok(!/<script>alert/.test(m.body.split('text/html')[1] || ''), 'no raw markup from the title in the HTML part');
  // Weekly people got no immediate email.
  assert.equal(mails().filter((x) => x.to === demo.lead && /replied|mentioned/.test(x.subject || '')).length, 0);
});

test('digest: one email per person with only what they may see, once per period', async () => {
  const exec = await startThread('executive', 'Executive only', 'Notify digest: executive eyes only', 'Private.');
  const shared = await startThread('executive', 'Winter planning with partners', 'Notify digest: shared winter plan', 'For everyone.');
  assert.ok(exec && shared);
  await setEmail('admin', 'daily');
  await setEmail('lead', 'never');
  const before = new Set(mails().map((m) => m.file));
  // Just after the next Monday 07:00 London: a week from now would be past the
  // job's 24-hour grace on any day but Monday, and nothing would be sent.
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  let h = Math.floor(Date.now() / 3600000) + 1;
  for (;; h++) {
    const p = Object.fromEntries(parts.formatToParts(new Date(h * 3600000)).map((x) => [x.type, x.value]));
    if (p.weekday === 'Mon' && p.hour === '07' && p.minute === '00') break;
  }
  const at = h * 3600 + 60;
  const r = await run(['digest', 'send', '--db', shoal.db, '--at', String(at)], { env });
  assert.equal(r.status, 0, r.stderr);
  const digests = mails().filter((m) => !before.has(m.file) && /digest of discussions/.test(m.subject || ''));
  const byTo = {};
  for (const m of digests) (byTo[m.to] ||= []).push(m);
  for (const [to, list] of Object.entries(byTo)) assert.equal(list.length, 1, `one digest for ${to}`);
  // Weekly people (the default) get one; "never" and "immediately" people do not.
  for (const who of ['member', 'partner', 'executive']) assert.ok(byTo[demo[who]], `${who} gets a weekly digest`);
  assert.ok(!byTo[demo.lead], 'never: no digest');
  assert.ok(!byTo[demo.otherMember], 'immediately: no digest');
  assert.ok(!byTo[demo.deactivated], 'deactivated people get nothing');
  const partner = byTo[demo.partner][0].body;
  assert.match(partner, /Notify digest: shared winter plan/);
  assert.doesNotMatch(partner, /executive eyes only|Notify: rota sharing|members only|phlebotomy/);
  const member = byTo[demo.member][0].body;
  assert.match(member, /Notify: rota sharing/);
  assert.match(member, /Notify digest: shared winter plan/);
  assert.doesNotMatch(member, /executive eyes only|secret budget line/);
  assert.match(member, /Official responses from the executive/);
  assert.match(member, /phlebotomy/);
  assert.match(member, /Most active discussions/);
  assert.ok(member.includes(`${BASE}/discussions/threads/${shared}`), 'links straight to each item');
  assert.ok(member.includes(`${BASE}/notifications/settings`), 'one link to change preferences');
  assert.match(byTo[demo.executive][0].body, /executive eyes only/);
  assert.match(byTo[demo.member][0].raw, /multipart\/alternative/);
  // Again, as another node would: nothing more.
  const sent = sql(shoal.db, 'SELECT count(*) FROM digests_sent');
  const again = await run(['digest', 'send', '--db', shoal.db, '--at', String(at + 60)], { env });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /0 digests queued/);
  assert.equal(sql(shoal.db, 'SELECT count(*) FROM digests_sent'), sent);
  assert.equal(sql(shoal.db, `SELECT count(*) FROM digests_sent WHERE person_id = ${personId('member')} AND period = 'weekly' AND period_end > ${Math.floor(Date.now() / 1000)}`), '1');
  // Bad --at: exit 2 with one line.
  const bad = await run(['digest', 'send', '--db', shoal.db, '--at', 'tomorrow'], { env });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--at takes a time in Unix seconds/);
});
