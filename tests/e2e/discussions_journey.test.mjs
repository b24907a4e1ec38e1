// tests/e2e/discussions_journey.test.mjs — the "done when" journey of
// discussions (issue 4) in a real browser, four people in their own browser
// contexts, axe on every page:
//
//   1. Dr Morgan Lee (a member) starts a thread and marks it a question for the executive;
//   2. Jo Evans (another member) replies and mentions Sam Patel (a practice manager);
//   3. Sam Patel sees the mention: the badge, the list, the post it is about;
//   4. the chair (executive) finds the question in the queue, replies, and marks the
//      reply the official response;
//   5. Dr Lee sees the notifications (badge count and list), opens the official one
//      and finds the response at the top of the thread;
//   6. the weekly digest goes out over SMTP (a real server on loopback): Dr Lee's
//      holds the new thread and the official response, and its link opens the
//      response; the partner's holds neither.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoal, run } from '../lib/shoal.mjs';
import { launch, newPage, visit, checkAccessibility, signInWithBrowser } from '../lib/browser.mjs';
import { demo, DEMO_PASSWORD, DEMO_TOTP_SECRET } from '../lib/client.mjs';
import { startSmtpSink, parseMessage } from '../lib/smtp.mjs';

const title = 'Digest journey: one locum rate across the PCN?';
const MEMBER = 'Dr Morgan Lee';
const COLLEAGUE = 'Jo Evans (practice nurse)';
const MANAGER = 'Sam Patel (practice manager)';

let sink;
let shoal;
let browser;
let env;
before(async () => {
  sink = await startSmtpSink();
  env = {
    SHOAL_SMTP_URL: sink.url,
    SHOAL_BASE_URL: 'https://shoal.example.org',
    SHOAL_MAIL_DIR: join(mkdtempSync(join(tmpdir(), 'shoal-journey-')), 'mail'),
  };
  shoal = await startShoal({ env });
  browser = await launch();
});
after(async () => {
  await browser?.close();
  sink?.stop();
  await shoal?.stop();
});

/** Goes to Discussions from the header, then into the members' space. */
async function openSpace(page) {
  await visit(page, shoal.url + '/discussions');
  await page.getByRole('link', { name: 'General practice strategy', exact: true }).click();
  await page.waitForURL(/\/discussions\/spaces\/\d+$/);
  await checkAccessibility(page);
}

/** The unread count the header badge shows (0 when there is no badge). */
async function badge(page) {
  const b = page.locator('#notifications-badge');
  return (await b.count()) ? Number((await b.innerText()).match(/\d+/)[0]) : 0;
}

/** The first Monday 07:00 in London strictly after t (ms), in seconds: a weekly digest's end. */
function nextWeeklySend(t) {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  for (let h = Math.floor(t / 3600000) + 1; ; h++) {
    const p = Object.fromEntries(parts.formatToParts(new Date(h * 3600000)).map((x) => [x.type, x.value]));
    if (p.weekday === 'Mon' && p.hour === '07' && p.minute === '00') return h * 3600;
  }
}

test('ask the executive, reply with a mention, the official response, notifications, and the digest', async () => {
  // 1. A member starts a thread and marks it a question for the executive.
  const member = await newPage(browser);
  await signInWithBrowser(member, shoal.url, demo.member, DEMO_PASSWORD);
  await openSpace(member);
  await member.getByRole('link', { name: 'Start a thread' }).click();
  await member.waitForLoadState();
  await checkAccessibility(member);
  await member.getByLabel('Title').fill(title);
  await member.getByLabel('Your message').fill('Practices are paying between £85 and £110 an hour for the same locums. Could the executive negotiate one rate for the PCN?');
  await member.getByLabel('This is a question for the executive').check();
  await member.getByRole('button', { name: 'Start the thread' }).click();
  await member.waitForURL(/\/discussions\/threads\/\d+\?page=1#post-\d+$/);
  await checkAccessibility(member);
  assert.equal(await member.locator('h1').innerText(), title);
  assert.match(await member.locator('main').innerText(), /Question for the executive/);
  const threadPath = new URL(member.url()).pathname;
  assert.equal(await badge(member), 0, 'nothing to tell the author yet');

  // 2. Another member replies and mentions a practice manager.
  const colleague = await newPage(browser);
  await signInWithBrowser(colleague, shoal.url, demo.otherMember, DEMO_PASSWORD);
  await openSpace(colleague);
  await colleague.getByRole('link', { name: title }).click();
  await colleague.waitForURL(/\/discussions\/threads\/\d+\?page=1#post-\d+$/);
  await checkAccessibility(colleague);
  await colleague.getByLabel('Reply').fill(`Castlegate would sign up. @[${MANAGER}] has the figures from last winter.`);
  await colleague.getByRole('button', { name: 'Post the reply' }).click();
  await colleague.waitForURL(/#post-\d+$/);
  await checkAccessibility(colleague);
  const mention = colleague.locator('main a', { hasText: MANAGER });
  assert.match(await mention.first().getAttribute('href'), /^\/people\/\d+$/, 'the mention links to the person');

  // 3. The practice manager sees the mention: badge, list, and the post.
  const manager = await newPage(browser);
  await signInWithBrowser(manager, shoal.url, demo.lead, DEMO_PASSWORD);
  await visit(manager, shoal.url + '/discussions');
  assert.equal(await badge(manager), 1);
  await manager.getByRole('link', { name: /Notifications 1 unread/ }).click();
  await manager.waitForURL(shoal.url + '/notifications');
  await checkAccessibility(manager);
  const notice = manager.locator('main li', { hasText: title });
  assert.match(await notice.innerText(), new RegExp(`${COLLEAGUE.replace(/[()]/g, '\\$&')} mentioned you in ${title.replace(/\?/g, '\\?')} in General practice strategy`));
  await notice.getByRole('link', { name: title }).click();
  await manager.waitForURL(new RegExp(`${threadPath}\\?page=1#post-\\d+$`));
  await checkAccessibility(manager);
  const anchor = new URL(manager.url()).hash;
  assert.match(await manager.locator(anchor).innerText(), /Castlegate would sign up/, 'the notification opens the post that mentions them');
  assert.equal(await badge(manager), 0, 'opened: read');

  // 4. The executive answers from the queue and marks the answer official.
  const exec = await newPage(browser);
  await signInWithBrowser(exec, shoal.url, demo.executive, DEMO_PASSWORD, { secret: DEMO_TOTP_SECRET });
  await visit(exec, shoal.url + '/discussions');
  await exec.getByRole('link', { name: /Questions for the executive awaiting a response/ }).click();
  await exec.waitForURL(shoal.url + '/discussions/questions');
  await checkAccessibility(exec);
  await exec.getByRole('link', { name: title }).click();
  await exec.waitForLoadState();
  await checkAccessibility(exec);
  await exec.getByLabel('Reply').fill('Yes. The executive will propose one locum rate to the LMC in January and report back here.');
  await exec.getByRole('button', { name: 'Post the reply' }).click();
  await exec.waitForURL(/#post-\d+$/);
  await checkAccessibility(exec);
  await exec.getByRole('button', { name: /Mark as the official response/ }).last().click();
  await exec.waitForURL(/notice=official/);
  await checkAccessibility(exec);
  await visit(exec, shoal.url + '/discussions/questions');
  assert.doesNotMatch(await exec.locator('main').innerText(), /one locum rate/, 'answered: out of the queue');

  // 5. The member who asked sees the notifications and the response at the top.
  await visit(member, shoal.url + '/discussions');
  // A reply from the colleague, a reply from the executive, and its official marking.
  assert.equal(await badge(member), 3);
  await member.getByRole('link', { name: /Notifications 3 unread/ }).click();
  await member.waitForURL(shoal.url + '/notifications');
  await checkAccessibility(member);
  const list = await member.locator('main').innerText();
  assert.match(list, /You have 3 unread/);
  assert.match(list, new RegExp(`${COLLEAGUE.replace(/[()]/g, '\\$&')} replied to your thread`));
  assert.match(list, /Dr Priya Shah \(LMC chair\) gave the official response from the executive in/);
  await member.locator('main li', { hasText: 'gave the official response' }).getByRole('link', { name: title }).click();
  await member.waitForURL(new RegExp(`${threadPath}\\?page=1#post-\\d+$`));
  await checkAccessibility(member);
  const official = member.locator('#official-response');
  assert.match(await official.innerText(), /Official response from the executive/);
  assert.match(await official.innerText(), /propose one locum rate to the LMC in January/);
  const top = await official.boundingBox();
  const firstPost = await member.locator('main .nhsuk-card').nth(1).boundingBox();
  assert.ok(top.y < firstPost.y, 'the official response is above the posts');
  assert.match(await member.locator('main').innerText(), /Answered by the executive/);
  assert.equal(await badge(member), 2, 'the official notice is read; the replies are not yet');
  await visit(member, shoal.url + '/notifications');
  await member.getByRole('button', { name: 'Mark all as read' }).click();
  await member.waitForLoadState();
  await checkAccessibility(member);
  assert.equal(await badge(member), 0);

  // 6. The weekly digest, delivered over SMTP, as at just after next Monday 07:00.
  const end = nextWeeklySend(Date.now());
  const r = await run(['digest', 'send', '--db', shoal.db, '--at', String(end + 60)], { env });
  assert.equal(r.status, 0, r.stderr);
  const digestFor = (email) =>
    sink.messages.find((m) => m.rcpt_tos.includes(email) && parseMessage(m.data).text.includes(title));
  await sink.waitFor(() => digestFor(demo.member) && digestFor(demo.lead));
  const mail = parseMessage(digestFor(demo.member).data);
  assert.equal(mail.headers.subject, 'Your weekly digest of discussions');
  const id = threadPath.match(/(\d+)$/)[1];
  assert.match(mail.text, new RegExp(`New threads\\n- ${title.replace(/\?/g, '\\?')} \\(General practice strategy, started by ${MEMBER}\\)`));
  const link = `https://shoal.example.org/discussions/threads/${id}?page=1#official-response`;
  assert.ok(mail.text.includes(`Official responses from the executive\n- ${title} (General practice strategy)\n  ${link}`), mail.text);
  assert.ok(mail.html.includes(`<a href="${link}">${title}</a>`), 'the HTML part links to the response too');
  assert.ok(!sink.messages.some((m) => m.rcpt_tos.includes(demo.partner) && parseMessage(m.data).text.includes(title)), 'a partner is not told about a members-only thread');
  // The digest's link, followed in the browser, opens the response.
  await visit(member, shoal.url + link.slice('https://shoal.example.org'.length));
  assert.match(await member.locator('#official-response').innerText(), /propose one locum rate/);
});
