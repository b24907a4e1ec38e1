// tests/http/pressure_briefing.test.mjs — the teleconference briefing as the
// executive and partners meet it: the page and the PDF carry the same numbers
// (and those are the returns in the database), partners get only the
// suppressed version, the executive writes themes (starting from returns'
// comments), asks and actions with clear errors, keeps a distribution list, and
// emails the partners' version with the PDF attached; sends are audited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startShoal, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const FROM = 'Wyvern Vale GP Collective <no-reply@shoal.example>';
// How summary.c shows a count it hides from partners.
const HIDDEN = /^(suppressed|fewer than 3|hidden)$/;

/** tests/lib/smtp_sink.py, as in mail.test.mjs: resolves to { url, next(), stop() }. */
function startSmtpSink() {
  const child = spawn(python, [join(here, '..', 'lib', 'smtp_sink.py')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const messages = [];
  const waiters = [];
  let out = '';
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => reject(new Error(`SMTP sink exited (${code})`)));
    child.stdout.on('data', (d) => {
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const port = line.match(/^PORT (\d+)$/);
        if (port) {
          resolve({
            url: `smtp://127.0.0.1:${port[1]}`,
            next(ms = 15000) {
              if (messages.length) return Promise.resolve(messages.shift());
              return new Promise((res, rej) => {
                const t = setTimeout(() => rej(new Error(`no mail arrived within ${ms} ms`)), ms);
                waiters.push((m) => { clearTimeout(t); res(m); });
              });
            },
            stop() { child.kill('SIGTERM'); },
          });
        } else if (line.trim()) {
          const m = JSON.parse(line);
          const w = waiters.shift();
          if (w) w(m); else messages.push(m);
        }
      }
    });
  });
}

let shoal;
let sink;
before(async () => {
  sink = await startSmtpSink();
  shoal = await startShoal({ extraArgs: ['--smtp-url', sink.url, '--mail-from', FROM] });
});
after(async () => {
  sink?.stop();
  if (shoal) {
    const { code } = await shoal.stop();
    assert.equal(code, 0, 'shoal stops cleanly on SIGTERM');
  }
});

async function as(who) {
  const c = new Client(shoal.url);
  const r = await c.signIn(demo[who]);
  assert.equal(r.status, 303, `${who} signs in`);
  return c;
}

async function sendReturn(lead, ods, fields) {
  const form = `/pressure/practices/${ods}/return`;
  const page = await lead.get(form);
  const period = page.text.match(/name="period" value="(\d+)"/)[1];
  const r = await lead.post(form, { period, ...fields });
  assert.equal(r.status, 303, 'the return is saved');
  return period;
}

/** The PDF at path as client sees it, as text (pdftotext), whitespace squeezed. */
async function pdfText(client, path) {
  const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const res = await fetch(shoal.url + path, { headers: { cookie } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/pdf');
  return pdfToText(Buffer.from(await res.arrayBuffer()));
}

function pdfToText(bytes) {
  assert.equal(bytes.subarray(0, 5).toString(), '%PDF-', 'a PDF file');
  const file = join(mkdtempSync(join(tmpdir(), 'shoal-pdf-')), 'b.pdf');
  writeFileSync(file, bytes);
  const info = execFileSync('pdfinfo', [file]).toString();
  const text = execFileSync('pdftotext', ['-layout', file, '-']).toString();
  return { info, text: text.replace(/[ \t]+/g, ' '), squeezed: text.replace(/\s+/g, ' ') };
}

/** The numbers on the page: return rate, Amber or above, patients, and each level's row. */
function pageNumbers(html) {
  const dd = (id) => html.match(new RegExp(`id="${id}">([^<]*)<`))[1];
  const levels = {};
  for (const m of html.matchAll(/nhsuk-tag[^"]*">(Green|Amber|Red|Black)<\/strong> OPEL \d<\/th>\s*<td class="nhsuk-table__cell">([^<]*)<\/td>\s*<td class="nhsuk-table__cell">([^<]*)<\/td>\s*<td class="nhsuk-table__cell">([^<]*)<\/td>/g))
    levels[m[1]] = [m[2], m[3], m[4]];
  return { rate: dd('return-rate'), amber: dd('amber-or-above'), patients: dd('patients-covered'), levels };
}

let period;

test('the PDF opens, and its numbers are the page\'s and the database\'s', async () => {
  const lead = await as('lead');
  const otherLead = await as('otherLead');
  period = await sendReturn(lead, 'Z80001', { level: '3', comments: 'Phones down all Tuesday at Riverside Medical Centre' });
  await sendReturn(otherLead, 'Z80014', { level: '4', support_other: 'Locum GPs for two weeks' });
  const executive = await as('executive');
  const page = await executive.get(`/pressure/briefing?period=${period}`);
  assert.equal(page.status, 200);
  assert.match(page.text, /Executive version/);
  const numbers = pageNumbers(page.text);
  // The executive version counts every return of the period, as stored.
  const returned = sql(shoal.db, `SELECT count(*) FROM pressure_returns WHERE period_id = ${period}`);
  const practices = sql(shoal.db, "SELECT count(*) FROM organisations WHERE kind = 'practice'");
  assert.match(numbers.rate, new RegExp(`^${returned} of ${practices} practices`));
  for (const [word, level] of [['Green', 1], ['Amber', 2], ['Red', 3], ['Black', 4]]) {
    const n = sql(shoal.db, `SELECT count(*) FROM pressure_returns WHERE period_id = ${period} AND level = ${level}`);
    assert.match(numbers.levels[word][0], new RegExp(`^${n}\\b`), `${word} this period`);
  }
  const pdf = await pdfText(executive, `/pressure/briefing.pdf?period=${period}`);
  assert.match(pdf.info, /Pages:\s+1\n/, 'one page');
  assert.match(pdf.info, /Title:\s+Winter pressures briefing/);
  assert.ok(pdf.squeezed.includes(`Return rate: ${numbers.rate}`), `return rate ${numbers.rate} in the PDF`);
  assert.ok(pdf.squeezed.includes(`Practices at Amber or above: ${numbers.amber}`));
  assert.ok(pdf.squeezed.includes(`Amber or above: ${numbers.patients}`));
  for (const [word, cells] of Object.entries(numbers.levels)) {
    const row = new RegExp(`${word} \\(OPEL \\d\\) ${cells.map((c) => c.replace(/[()+]/g, '\\$&')).join(' ')}`);
    assert.match(pdf.text, row, `${word} row in the PDF`);
  }
  assert.match(pdf.squeezed, /Executive version: not for circulation/);
  // The executive's view of the executive version is audited as a view of returns.
  assert.ok(Number(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = 'pressure-return-viewed' AND subject = 'pressure-briefing:${period}'`)) >= 2);
});

test('partners get the suppressed version only, in the page and the PDF', async () => {
  const partner = await as('partner');
  const page = await partner.get(`/pressure/briefing?period=${period}`);
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /Executive version|Comments from this period|Phones down|Locum GPs|Add a theme/);
  const numbers = pageNumbers(page.text);
  // Two returns: one Red, one Black: groups of fewer than 3 are never shown to partners.
  assert.match(numbers.levels.Red[0], HIDDEN);
  assert.match(numbers.levels.Black[0], HIDDEN);
  const pdf = await pdfText(partner, `/pressure/briefing.pdf?period=${period}`);
  assert.ok(pdf.squeezed.includes(`Return rate: ${numbers.rate}`));
  assert.match(pdf.text, new RegExp(`Red \\(OPEL 3\\) ${numbers.levels.Red[0]}`));
  assert.doesNotMatch(pdf.squeezed, /Executive version|Riverside|Harbour/);
  // Asking for the executive version changes nothing for a partner.
  const forced = await pdfText(partner, `/pressure/briefing.pdf?period=${period}&version=executive`);
  assert.doesNotMatch(forced.squeezed, /Executive version/);
  // Nor can a partner change the briefing.
  const r = await partner.post('/pressure/briefing/items', { period, kind: 'theme', body: 'x' }, { from: '/account' });
  assert.equal(r.status, 403);
});

test('themes start from returns\' comments; bad input gets a clear message and keeps what was typed', async () => {
  const executive = await as('executive');
  let page = await executive.get(`/pressure/briefing?period=${period}`);
  assert.match(page.text, /Phones down all Tuesday at Riverside Medical Centre/);
  assert.match(page.text, /Support asked for: Locum GPs for two weeks/);
  const from = page.text.match(/href="\/pressure\/briefing\?period=\d+&amp;from=(\d+)#new-theme"/)[1];
  page = await executive.get(`/pressure/briefing?period=${period}&from=${from}`);
  assert.match(page.text, /id="new-theme" name="body"[^>]*>Phones down all Tuesday at Riverside Medical Centre<\/textarea>/);
  let r = await executive.post('/pressure/briefing/items', { period, kind: 'theme', body: '' });
  assert.equal(r.status, 400);
  assert.match(r.text, /There is a problem/);
  assert.match(r.text, /<a href="#new-theme">Enter the theme<\/a>/);
  const long = 'Telephony failures. '.repeat(60);
  r = await executive.post('/pressure/briefing/items', { period, kind: 'theme', body: long });
  assert.equal(r.status, 400);
  assert.match(r.text, /The theme must be 1,000 characters or fewer/);
  assert.ok(r.text.includes(`${long}</textarea>`), 'what was typed is kept');
  r = await executive.post('/pressure/briefing/items', { period, kind: 'theme', body: 'Telephone outages in several practices <b>this week</b>' });
  assert.equal(r.status, 303);
  assert.match(r.location, /changed=1#themes$/);
  r = await executive.post('/pressure/briefing/items', { period, kind: 'ask', body: '111 to stop booking beyond the cap' });
  assert.equal(r.status, 303);
  r = await executive.post('/pressure/briefing/items', { period, kind: 'action', body: 'ICB to confirm winter locum funding' });
  assert.equal(r.status, 303);
  r = await executive.post('/pressure/briefing/items', { period, kind: 'opinion', body: 'x' });
  assert.equal(r.status, 400);
  page = await executive.get(`/pressure/briefing?period=${period}`);
  assert.match(page.text, /Telephone outages in several practices &lt;b&gt;this week&lt;\/b&gt;/);
  // The action is changed, then a bad change is refused with the words kept.
  const action = sql(shoal.db, "SELECT id FROM briefing_items WHERE kind = 'action'");
  r = await executive.post(`/pressure/briefing/items/${action}`, { body: 'ICB confirmed winter locum funding: done' });
  assert.equal(r.status, 303);
  r = await executive.post(`/pressure/briefing/items/${action}`, { body: '' });
  assert.equal(r.status, 400);
  assert.match(r.text, new RegExp(`<a href="#item-${action}">Enter the action</a>`));
  r = await executive.post('/pressure/briefing/items/999999', { body: 'x' });
  assert.equal(r.status, 404);
  const pdf = await pdfText(executive, `/pressure/briefing.pdf?period=${period}&version=partners`);
  assert.match(pdf.squeezed, /Telephone outages in several practices <b>this week<\/b>/);
  assert.match(pdf.squeezed, /111 to stop booking beyond the cap/);
  assert.match(pdf.squeezed, /ICB confirmed winter locum funding: done/);
  assert.doesNotMatch(pdf.squeezed, /Phones down|Riverside/);
  // A removed ask is gone.
  const ask = sql(shoal.db, "SELECT id FROM briefing_items WHERE kind = 'ask'");
  r = await executive.post(`/pressure/briefing/items/${ask}/delete`, {});
  assert.equal(r.status, 303);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM briefing_items WHERE kind = 'ask'"), '0');
  assert.equal(sql(shoal.db, `SELECT count(*) FROM audit_log WHERE action = 'pressure-briefing-changed'`), '5');
});

test('the executive keeps a distribution list and emails the partners\' version with the PDF attached', async () => {
  const executive = await as('executive');
  let r = await executive.post('/pressure/briefing/send', { period }, { from: `/pressure/briefing?period=${period}` });
  assert.equal(r.status, 400, 'nothing to send to yet');
  assert.match(r.text, /Add at least one address to the distribution list before sending/);
  r = await executive.post('/pressure/briefing/recipients', { name: 'Sam Patel, Wyvern ICB', email: 'not an address' }, { from: '/pressure/briefing/recipients' });
  assert.equal(r.status, 400);
  assert.match(r.text, /Enter an email address in the correct format/);
  assert.match(r.text, /value="Sam Patel, Wyvern ICB"/);
  assert.match(r.text, /value="not an address"/);
  r = await executive.post('/pressure/briefing/recipients', { name: 'Sam Patel, Wyvern ICB', email: 'sam.patel@icb.example' });
  assert.equal(r.status, 303);
  r = await executive.post('/pressure/briefing/recipients', { name: 'Duty manager, Wyvern Hospital', email: 'duty@hospital.example' });
  assert.equal(r.status, 303);
  r = await executive.post('/pressure/briefing/recipients', { name: 'Again', email: 'SAM.PATEL@icb.example' });
  assert.equal(r.status, 400);
  assert.match(r.text, /already on the list/);
  r = await executive.get('/pressure/briefing/recipients');
  assert.match(r.text, /duty@hospital.example/);
  r = await executive.post('/pressure/briefing/send', { period }, { from: `/pressure/briefing?period=${period}` });
  assert.equal(r.status, 303);
  // Other mail (sign-in notices, reminders) goes through the same sink: take the briefings.
  const got = [];
  while (got.length < 2) {
    const m = await sink.next();
    if (/Subject: Winter pressures briefing/.test(m.data)) got.push(m);
  }
  assert.deepEqual(got.map((m) => m.rcpt_tos[0]).sort(), ['duty@hospital.example', 'sam.patel@icb.example']);
  for (const m of got) {
    assert.match(m.data, /Subject: Winter pressures briefing: general practice/);
    assert.match(m.data, /Content-Type: multipart\/mixed/);
    assert.match(m.data, /Content-Type: application\/pdf; name="briefing-\d+\.pdf"/);
    assert.match(m.data, /Content-Disposition: attachment; filename="briefing-\d+\.pdf"/);
    const base64 = m.data.split(/Content-Transfer-Encoding: base64\r?\n\r?\n/)[1].split(/\r?\n--/)[0];
    const pdf = pdfToText(Buffer.from(base64.replace(/\s+/g, ''), 'base64'));
    assert.match(pdf.squeezed, /Aggregates only/);
    assert.doesNotMatch(pdf.squeezed, /Executive version|Riverside|Phones down/);
    assert.match(pdf.squeezed, /Telephone outages in several practices/);
  }
  assert.equal(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'pressure-briefing-sent'"), '1');
  assert.equal(sql(shoal.db, `SELECT recipients FROM briefing_sends WHERE period_id = ${period}`), '2');
  const page = await executive.get(`/pressure/briefing?period=${period}`);
  assert.match(page.text, /Last sent .* to 2 addresses/);
  // Removing an address.
  const id = sql(shoal.db, "SELECT id FROM briefing_recipients WHERE email = 'duty@hospital.example'");
  r = await executive.post(`/pressure/briefing/recipients/${id}/remove`, {}, { from: '/pressure/briefing/recipients' });
  assert.equal(r.status, 303);
  assert.equal(sql(shoal.db, 'SELECT count(*) FROM briefing_recipients'), '1');
});

test('unknown periods are 404, not an error', async () => {
  const partner = await as('partner');
  assert.equal((await partner.get('/pressure/briefing?period=999999')).status, 404);
  assert.equal((await partner.get('/pressure/briefing?period=abc')).status, 404);
  assert.equal((await partner.get('/pressure/briefing.pdf?period=999999')).status, 404);
});
