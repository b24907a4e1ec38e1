// tests/http/pressure_summary.test.mjs — pressure aggregates by audience: a
// partner (and staff of another practice) sees the totals with a small group
// suppressed and no practice's figures by page, API or export; the suppressed
// figures cannot be recomputed from the visible ones; practices that agreed
// are named; the executive sees practices and downloads every return, audited,
// with spreadsheet formulas defused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startShoal, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let shoal;
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0, 'shoal stops cleanly on SIGTERM');
});

async function as(who) {
  const c = new Client(shoal.url);
  const r = await c.signIn(demo[who]);
  assert.equal(r.status, 303, `${who} signs in`);
  return c;
}

async function sendReturn(client, ods, fields) {
  let r = await client.get(`/pressure/practices/${ods}/return`);
  assert.equal(r.status, 200, `the return form of ${ods} opens`);
  const period = r.text.match(/name="period" value="(\d+)"/)[1];
  r = await client.post(`/pressure/practices/${ods}/return`, { period, ...fields });
  assert.equal(r.status, 303, `the return of ${ods} is sent`);
  return period;
}

// This week: Harbour alone at Black (a group of one), Riverside Red and named with its
// agreement, a third practice Green. Sent once, before the tests that read them.
let period;
before(async () => {
  shoal = await startShoal();
  const harbour = await as('otherLead');
  period = await sendReturn(harbour, 'Z80014', { level: '4', incident: 'critical', incident_detail: 'Flooded surgery', comments: 'Harbour flood' });
  const riverside = await as('lead');
  await sendReturn(riverside, 'Z80001', { level: '3', consent: 'yes', comments: '=HYPERLINK("http://evil.example","click")' });
});

test('a partner sees totals with the single Black practice suppressed, and no practice but the one that agreed', async () => {
  const partner = await as('partner');
  const r = await partner.get('/pressure/dashboard');
  assert.equal(r.status, 200);
  assert.match(r.text, /Pressure dashboard/);
  assert.match(r.text, /suppressed/);
  assert.match(r.text, /fewer than 3 practices/);
  assert.doesNotMatch(r.text, /Harbour Medical Practice|Z80014|Harbour flood|Flooded surgery/);
  // Riverside agreed to be named this period.
  assert.match(r.text, /Practices named with their agreement/);
  assert.match(r.text, /Riverside Medical Centre/);
  // The collective's Black count is not a number on the page.
  const row = r.text.match(/Black<\/strong> \(OPEL 4\)<\/td><td class="nhsuk-table__cell">([^<]*)</);
  assert.ok(row, 'the level table has a Black row');
  assert.equal(row[1], 'suppressed');
});

test('the executive sees every practice by name, and the view is audited', async () => {
  const exec = await as('executive');
  const r = await exec.get('/pressure/dashboard');
  assert.equal(r.status, 200);
  assert.match(r.text, /Harbour Medical Practice/);
  assert.match(r.text, /Declared against calculated/);
  const row = r.text.match(/Black<\/strong> \(OPEL 4\)<\/td><td class="nhsuk-table__cell">([^<]*)</);
  assert.equal(row[1], '1');
  assert.ok(Number(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'pressure-return-viewed' AND subject = 'pressure-dashboard'")) >= 1);
});

// The heatmap's rows by name, each with its link (if any) and its cells, oldest week first.
function heatmap(html) {
  const start = html.indexOf('<h2>Heatmap by week</h2>');
  assert.ok(start >= 0, 'the dashboard has a heatmap');
  const table = html.slice(start, html.indexOf('</table>', start));
  return [...table.matchAll(/<th scope="row">(?:<a href="([^"]*)">)?([^<]*)(?:<\/a>)?<\/th>\n((?:<td>.*<\/td>\n)+)/g)]
    .map(([, href, name, cells]) => ({ href, name, cells: [...cells.matchAll(/<td>(?:<strong class="nhsuk-tag ([^"]*)">)?([^<]*)/g)].map(([, tag, text]) => ({ tag, text })) }));
}

test('the executive\'s heatmap shows each practice at Red or Black week by week, linked to its page; a partner\'s shows localities', async () => {
  const rows = heatmap((await (await as('executive')).get('/pressure/dashboard')).text);
  const harbour = rows.find((r) => r.name === 'Harbour Medical Practice');
  assert.ok(harbour, 'Harbour, Black this week, has a row');
  assert.equal(harbour.href, '/pressure/practices/Z80014');
  assert.deepEqual(harbour.cells.at(-1), { tag: 'nhsuk-tag--white', text: 'Black' }, 'this week is the last column');
  const riverside = rows.find((r) => r.name === 'Riverside Medical Centre');
  assert.deepEqual(riverside.cells.at(-1), { tag: 'nhsuk-tag--red', text: 'Red' });
  for (const r of rows) {
    assert.ok(r.cells.every((c) => (c.tag ? ['Green', 'Amber', 'Red', 'Black'].includes(c.text) : c.text === 'no return')), `${r.name}: a level or "no return" each week`);
    assert.ok(r.cells.some((c) => c.text === 'Red' || c.text === 'Black'), `${r.name} was at Red or Black in a week shown`);
  }

  const partnerRows = heatmap((await (await as('partner')).get('/pressure/dashboard')).text);
  assert.ok(partnerRows.length > 0, 'the partner sees localities');
  assert.ok(partnerRows.every((r) => !r.href), 'no row links to a practice');
  assert.ok(!partnerRows.some((r) => /Harbour|Riverside/.test(r.name)));
});

test('a partner cannot reach a practice\'s figures by page, API or export', async () => {
  const partner = await as('partner');
  const id = sql(shoal.db, "SELECT r.id FROM pressure_returns r JOIN organisations o ON o.id = r.organisation_id WHERE o.ods_code = 'Z80014' ORDER BY r.id DESC LIMIT 1");
  for (const path of ['/pressure/practices/Z80014', `/pressure/returns/${id}`, '/pressure/returns.csv', `/pressure/returns.csv?period=${period}`]) {
    const r = await partner.get(path);
    assert.equal(r.status, 403, `${path} is refused`);
    assert.doesNotMatch(r.text, /Harbour flood|Flooded surgery/);
  }
  let r = await partner.get('/api/v1/pressure/returns?practice=Z80014');
  assert.equal(r.status, 403);
  r = await partner.get('/pressure/summary.csv');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/csv/);
  assert.doesNotMatch(r.text, /Z80014|Harbour Medical Practice/);
  assert.match(r.text, /named practice,Z80001,Riverside Medical Centre/);
  r = await partner.get(`/api/v1/pressure/summary?period=${period}`);
  assert.equal(r.status, 200);
  const s = JSON.parse(r.text);
  assert.equal(s.collective.levels.black, null, 'the Black count is suppressed');
  assert.ok(s.collective.suppressed.includes('black'));
  assert.doesNotMatch(r.text, /Z80014|Harbour Medical Practice/);
  assert.deepEqual(s.named_practices.map((p) => p.ods_code), ['Z80001']);
  r = await partner.get('/api/v1/pressure/summary?period=abc');
  assert.equal(r.status, 400);
  r = await partner.get('/api/v1/pressure/summary?period=999999');
  assert.equal(r.status, 404);
});

test('staff of another practice see the same aggregates, and another practice\'s returns look like none', async () => {
  const nurse = await as('otherMember'); // Castlegate
  let r = await nurse.get('/pressure/dashboard');
  assert.equal(r.status, 200);
  assert.doesNotMatch(r.text, /Harbour Medical Practice|Harbour flood/);
  r = await nurse.get('/api/v1/pressure/returns?practice=Z80014');
  assert.equal(r.status, 404);
  r = await nurse.get('/api/v1/pressure/returns?practice=NOSUCH');
  assert.equal(r.status, 404);
  r = await nurse.get('/api/v1/pressure/returns');
  assert.equal(r.status, 400);
  // The practice's own staff read their own returns.
  const gp = await as('member'); // Riverside
  r = await gp.get('/api/v1/pressure/returns?practice=Z80001');
  assert.equal(r.status, 200);
  const list = JSON.parse(r.text);
  assert.equal(list.practice, 'Z80001');
  assert.equal(list.returns[0].level, 3);
});

test('no suppressed figure can be recomputed from the visible ones (adversarial check)', async () => {
  const partner = await as('partner');
  // Every week the demo holds, and this one.
  const ids = sql(shoal.db, "SELECT id FROM pressure_periods WHERE kind = 'weekly' ORDER BY reference_day DESC LIMIT 20").split('\n');
  let hiddenSeen = 0;
  for (const id of ids) {
    const s = JSON.parse((await partner.get(`/api/v1/pressure/summary?period=${id}`)).text);
    const groups = [s.collective, ...s.localities];
    const equations = [];
    for (const g of groups) equations.push({ total: g.returned, parts: ['green', 'amber', 'red', 'black'].map((l) => g.levels[l]), where: `${g.name} returned` });
    for (const l of ['green', 'amber', 'red', 'black'])
      equations.push({ total: s.collective.levels[l], parts: s.localities.map((g) => g.levels[l]), where: `collective ${l}` });
    equations.push({ total: s.collective.returned, parts: s.pcns.map((g) => g.returned), where: 'collective returned by PCN' });
    for (const e of equations) {
      const cells = [e.total, ...e.parts];
      const hidden = cells.filter((x) => x === null).length;
      hiddenSeen += hidden;
      // One unknown in a sum is found by subtraction.
      assert.notEqual(hidden, 1, `period ${id}: ${e.where} gives a suppressed figure away`);
    }
    // A figure of 1 or 2 is never shown, except for practices that agreed to be named.
    const named = s.named_practices.length;
    for (const g of groups)
      for (const l of ['green', 'amber', 'red', 'black']) {
        const v = g.levels[l];
        if (v !== null && v > 0 && v < 3) assert.ok(named > 0, `period ${id}: ${g.name} ${l} shows ${v}`);
      }
  }
  assert.ok(hiddenSeen > 0, 'the demo has suppressed figures to attack');
});

test('the executive downloads every return in full, formulas defused, and the download is audited', async () => {
  const exec = await as('executive');
  const r = await exec.get(`/pressure/returns.csv?period=${period}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-disposition'), /attachment; filename="shoal-pressure-returns-/);
  assert.match(r.text, /^ods_code,practice,level,/);
  assert.match(r.text, /Z80014,Harbour Medical Practice,4,/);
  assert.match(r.text, /"'=HYPERLINK\(""http:\/\/evil\.example"",""click""\)"/, 'the formula starts with an apostrophe');
  assert.doesNotMatch(r.text, /,=HYPERLINK/);
  assert.equal(sql(shoal.db, "SELECT count(*) FROM audit_log WHERE action = 'pressure-returns-exported'"), '1');
  // The executive's totals file is the partners' one: a file of totals travels.
  const totals = await exec.get('/pressure/summary.csv');
  assert.doesNotMatch(totals.text, /Z80014/);
});
