// tests/lib/smtp.mjs — a real SMTP server on loopback for tests (tests/lib/smtp_sink.py,
// Debian's python3-aiosmtpd), and a reader for the MIME messages Shoal sends
// (src/mail/mail.c: multipart/alternative, quoted-printable parts), so that a
// test can look at the plain-text and HTML parts of what was delivered.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// Debian's python3 has aiosmtpd; a python3 earlier on PATH (pyenv) may not.
const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/**
 * Starts the sink; resolves to { url, messages, waitFor(pred, ms), next(ms), pending(), stop() }.
 * messages holds every message received so far, in order, as the sink saw it
 * ({ mail_from, rcpt_tos, data }); nothing is ever taken out. next() reads them
 * one at a time in order, waiting for one to arrive; pending() counts those
 * not yet read by next().
 */
export function startSmtpSink() {
  const child = spawn(python, [join(here, 'smtp_sink.py')], { stdio: ['ignore', 'pipe', 'pipe'] });
  const messages = [];
  let read = 0; // how many next() has returned
  let stderr = '';
  let out = '';
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`SMTP sink did not start: ${stderr}`)), 10000);
    child.on('exit', (code) => reject(new Error(`SMTP sink exited (${code}): ${stderr}`)));
    child.stdout.on('data', (d) => {
      out += d;
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const port = line.match(/^PORT (\d+)$/);
        if (!port) {
          messages.push(JSON.parse(line));
          continue;
        }
        clearTimeout(timer);
        resolve({
          url: `smtp://127.0.0.1:${port[1]}`,
          messages,
          /** Waits until pred(messages) is true (or ms pass); returns the messages. */
          async waitFor(pred, ms = 15000) {
            const until = Date.now() + ms;
            while (!pred(messages) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
            return messages;
          },
          /** The next message not yet read by next(), waiting up to ms for it. */
          async next(ms = 10000) {
            const until = Date.now() + ms;
            while (messages.length <= read) {
              if (Date.now() >= until) throw new Error(`no mail arrived within ${ms} ms`);
              await new Promise((r) => setTimeout(r, 50));
            }
            return messages[read++];
          },
          pending() {
            return messages.length - read;
          },
          stop() {
            child.kill('SIGTERM');
          },
        });
      }
    });
  });
}

/** Quoted-printable (RFC 2045) to text, read as UTF-8, with the CRLF line ends made LF again. */
export function decodeQuotedPrintable(s) {
  const bytes = [];
  const raw = s.replace(/=\r\n/g, '');
  for (let i = 0; i < raw.length; i++) {
    const hex = raw[i] === '=' ? raw.slice(i + 1, i + 3) : '';
    if (/^[0-9A-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(raw[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8').replace(/\r\n/g, '\n');
}

function headersOf(block) {
  const headers = {};
  for (const line of block.replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/**
 * Reads a message as Shoal builds it: { headers, text, html } with the parts of
 * a multipart/alternative message decoded (html is null for a plain message).
 * Fails the test if the structure is not what mail.c promises.
 */
export function parseMessage(data) {
  const at = data.indexOf('\r\n\r\n');
  assert.ok(at > 0, 'headers end with an empty line');
  const headers = headersOf(data.slice(0, at));
  const body = data.slice(at + 4);
  const type = headers['content-type'] || '';
  const boundary = type.match(/^multipart\/alternative; boundary="([^"]+)"$/);
  if (!boundary) {
    assert.match(type, /^text\/plain; charset=UTF-8$/);
    return { headers, text: decodeQuotedPrintable(body), html: null };
  }
  const parts = body.split(`--${boundary[1]}`);
  // Before the first boundary: nothing; after the last ("--"): the closing.
  assert.equal(parts[0], '', 'nothing before the first part');
  assert.match(parts[parts.length - 1], /^--\r\n$/, 'the closing boundary ends the message');
  const found = {};
  for (const part of parts.slice(1, -1)) {
    const end = part.indexOf('\r\n\r\n');
    const h = headersOf(part.slice(2, end)); // skip the CRLF after the boundary
    assert.equal(h['content-transfer-encoding'], 'quoted-printable');
    const kind = h['content-type'].match(/^text\/(plain|html); charset=UTF-8$/);
    assert.ok(kind, `a text part: ${h['content-type']}`);
    assert.ok(!found[kind[1]], `one ${kind[1]} part`);
    found[kind[1]] = decodeQuotedPrintable(part.slice(end + 4));
  }
  assert.ok(found.plain, 'a plain-text part');
  assert.ok(found.html, 'an HTML part');
  return { headers, text: found.plain, html: found.html };
}
