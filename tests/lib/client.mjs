// tests/lib/client.mjs — a cookie-keeping HTTP client that signs in the way a
// browser does (form, CSRF token, session cookie), for HTTP tests of pages.
import { createHmac } from 'node:crypto';

/** The demo accounts (src/app/demo/demo.c). */
export const DEMO_PASSWORD = 'wyvern-demo-2026';
export const DEMO_TOTP_SECRET = 'JBSWY3DPEHPK3PXP';
export const demo = {
  admin: 'admin@wyvern.example',
  executive: 'chair@wyvern.example',
  lead: 'lead@riverside.wyvern.example',
  member: 'gp@riverside.wyvern.example',
  otherMember: 'nurse@castlegate.wyvern.example',
  otherLead: 'lead@harbour.wyvern.example',
  partner: 'partner@icb.wyvern.example',
  deactivated: 'left@riverside.wyvern.example',
};

/** RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for a base32 secret, at time t (ms). */
export function totp(secret, t = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(t / 30000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(code).padStart(6, '0');
}

// Each TOTP time step is accepted once per person (replay protection), and the
// server accepts the step before and after the current one. To sign the same
// person in twice within 30 seconds, use the next step; beyond that, wait.
const lastStep = new Map();
async function freshCode(key, secret) {
  for (;;) {
    const now = Math.floor(Date.now() / 30000);
    const step = Math.max(now, (lastStep.get(key) ?? -1) + 1);
    if (step <= now + 1) {
      lastStep.set(key, step);
      return totp(secret, step * 30000);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export class Client {
  constructor(base) {
    this.base = base;
    this.cookies = new Map();
    this.csrf = null;
  }

  remember(res) {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const [name, value] = pair.split('=');
      if (attrs.some((a) => /max-age=0/i.test(a)) || value === '') this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value.trim());
    }
  }

  /** Sends a request with the client's cookies; keeps cookies it is given; never follows redirects. */
  async request(path, { method = 'GET', form, headers = {}, body } = {}) {
    const h = { ...headers };
    if (this.cookies.size) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (form) {
      h['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(form).toString();
    }
    const res = await fetch(this.base + path, { method, headers: h, body, redirect: 'manual' });
    this.remember(res);
    const text = await res.text();
    const m = text.match(/name="csrf" value="([^"]+)"/);
    if (m) this.csrf = m[1];
    return { status: res.status, headers: res.headers, text, location: res.headers.get('location') };
  }

  get(path, options) {
    return this.request(path, options);
  }

  /** Posts a form with the CSRF token of the last page seen (fetching `from` first if given). */
  async post(path, fields = {}, { from } = {}) {
    if (from || !this.csrf) await this.get(from || path);
    return this.request(path, { method: 'POST', form: { csrf: this.csrf, ...fields } });
  }

  /** Signs in with a password and, when asked for it, a TOTP code from secret. */
  async signIn(email, password = DEMO_PASSWORD, { secret = DEMO_TOTP_SECRET } = {}) {
    let r = await this.post('/sign-in', { email, password }, { from: '/sign-in' });
    if (r.status === 303 && r.location.startsWith('/sign-in/mfa')) {
      await this.get(r.location);
      r = await this.post('/sign-in/mfa', { code: await freshCode(`${this.base} ${email}`, secret) });
    }
    return r;
  }
}
