// tests/http/mail.test.mjs — email as an IT lead and a member meet it: `shoal
// mail test` delivers through a real SMTP server on loopback (aiosmtpd), a
// missing server is a clear failure with the message kept for retry, without
// smtp_url mail lands as .eml files, and a running `shoal serve` delivers mail
// that another process queued (its jobs thread).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { run, freshDatabase, startShoal } from '../lib/shoal.mjs';
import { startSmtpSink } from '../lib/smtp.mjs';

const FROM = 'Wyvern Vale GP Collective <no-reply@shoal.example>';

/** Splits a message into its unfolded headers (lower-case names) and body. */
function parse(data) {
  const at = data.indexOf('\r\n\r\n');
  assert.ok(at > 0, 'headers end with an empty line');
  const headers = {};
  for (const line of data.slice(0, at).replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: data.slice(at + 4) };
}

/** A loopback port with nothing listening on it. */
async function closedPort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

async function migrated() {
  const db = freshDatabase('mail');
  const r = await run(['migrate', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  return db;
}

let sink;
before(async () => {
  sink = await startSmtpSink();
});
after(() => sink.stop());

test('shoal mail test delivers over SMTP: envelope, To, Subject and body', async () => {
  const db = await migrated();
  const r = await run(['mail', 'test', '--db', db, '--smtp-url', sink.url, '--mail-from', FROM, '--to', 'it.lead@example.org']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /1 sent, 0 failed/);
  assert.match(r.stdout, /sent to it\.lead@example\.org over SMTP/);
  const m = await sink.next();
  assert.equal(m.mail_from, 'no-reply@shoal.example');
  assert.deepEqual(m.rcpt_tos, ['it.lead@example.org']);
  const { headers, body } = parse(m.data);
  assert.equal(headers.to, 'it.lead@example.org');
  assert.equal(headers.subject, 'Shoal test message');
  assert.equal(headers.from, FROM);
  assert.equal(headers['mime-version'], '1.0');
  assert.match(headers['message-id'], /^<shoal\.\d+\.\d+@shoal\.example>$/);
  assert.match(headers.date, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d \+0000$/);
  assert.match(headers['content-type'], /^multipart\/alternative; boundary="=_shoal_alternative"$/);
  assert.match(body, /Content-Type: text\/plain; charset=UTF-8\r\n/);
  assert.match(body, /Content-Type: text\/html; charset=UTF-8\r\n/);
  assert.match(body, /This is a test message from Shoal\./);
  assert.match(body, /<p>This is a test message from Shoal\.<\/p>/);
  // Sent once: a second run has nothing due.
  const again = await run(['mail', 'test', '--db', db, '--smtp-url', sink.url, '--to', 'second@example.org']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /1 sent, 0 failed/);
  assert.deepEqual((await sink.next()).rcpt_tos, ['second@example.org']);
  assert.equal(sink.pending(), 0);
});

test('a mail server that is not there: exit 1 with the reason, and the message kept for retry', async () => {
  const db = await migrated();
  const port = await closedPort();
  const r = await run(['mail', 'test', '--db', db, '--smtp-url', `smtp://127.0.0.1:${port}`, '--to', 'it.lead@example.org']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /0 sent, 1 failed/);
  assert.match(r.stderr, /the test message was not delivered: SMTP: .*connect/i);
  // Not due again for a minute, so a second run does not retry it at once…
  const again = await run(['mail', 'test', '--db', db, '--smtp-url', sink.url, '--to', 'other@example.org']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /1 sent, 0 failed/);
  assert.deepEqual((await sink.next()).rcpt_tos, ['other@example.org']);
  assert.equal(sink.pending(), 0);
});

test('without smtp_url, mail is written as .eml files into mail_dir', async () => {
  const db = await migrated();
  const dir = join(mkdtempSync(join(tmpdir(), 'shoal-mail-')), 'mail');
  const r = await run(['mail', 'test', '--db', db, '--to', 'it.lead@example.org'], { env: { SHOAL_MAIL_DIR: dir } });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /written to .*mail/);
  const files = readdirSync(dir);
  assert.equal(files.length, 1);
  assert.match(files[0], /^\d+-\d+\.eml$/);
  const { headers, body } = parse(readFileSync(join(dir, files[0]), 'utf8'));
  assert.equal(headers.to, 'it.lead@example.org');
  assert.equal(headers.subject, 'Shoal test message');
  assert.match(body, /This is a test message from Shoal\./);
});

test('bad input to shoal mail test is one line and exit 2', async () => {
  for (const args of [['mail', 'test'], ['mail', 'test', '--to', 'a@b.example\r\nBcc: x@y'], ['mail', 'test', '--to', 'not-an-address']]) {
    const r = await run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('shoal serve delivers mail queued by another process within seconds (the jobs thread)', async () => {
  const shoal = await startShoal({ demo: false, extraArgs: ['--smtp-url', sink.url, '--mail-from', FROM] });
  try {
    const r = await run(['mail', 'test', '--queue-only', '--db', shoal.db, '--to', 'member@example.org']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /queued test message \d+ to member@example\.org/);
    const m = await sink.next(12000); // the 5 s tick, with room for a busy machine
    assert.deepEqual(m.rcpt_tos, ['member@example.org']);
    const { headers, body } = parse(m.data);
    assert.equal(headers.to, 'member@example.org');
    assert.equal(headers.subject, 'Shoal test message');
    assert.match(body, /This is a test message from Shoal\./);
  } finally {
    const t0 = Date.now();
    const { code } = await shoal.stop();
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 5000, 'stops promptly');
  }
  assert.match(shoal.log(), /mail \d+ sent over SMTP/);
});
