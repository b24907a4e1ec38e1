// tests/http/organisations_admin.test.mjs — the organisations in the
// administration pages as an administrator meets them: the list (by kind,
// practices under their PCN, searching), adding one, changing one (and the
// import's rules: no loops, nothing stranded), the people who belong to one,
// and importing a pasted CSV file (all or nothing, every problem with its line
// exactly as `shoal import organisations` prints it). Every change is in the
// audit trail with what it was before and after; nobody but an administrator
// reaches any of these pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startShoal, run, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

let shoal;
let admin;
const header = 'ods_code,name,kind,parent_ods_code,list_size\n';

/** Everything the organisations table holds, to show that a refused change wrote nothing. */
const snapshot = () => sql(shoal.db, 'SELECT ods_code, name, kind, parent_id, list_size, updated_at FROM organisations ORDER BY ods_code');
const auditCount = () => Number(sql(shoal.db, 'SELECT COUNT(*) FROM audit_log'));
const lastAudit = (action) => sql(shoal.db, `SELECT actor || ' | ' || subject || ' | ' || detail FROM audit_log WHERE action = '${action}' ORDER BY id DESC LIMIT 1`);

/** Text as a person reads it: tags dropped, entities decoded, spaces collapsed. */
const text = (html) => html.replace(/<[^>]+>/g, ' ').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/\s+/g, ' ');

/** The organisations linked from a list page, by ODS code, in order (parents excluded). */
const listedCodes = (html) => [...html.matchAll(/<td class="nhsuk-table__cell" role="cell"><span class="nhsuk-table__heading" aria-hidden="true">ODS code <\/span>([^<]+)<\/td>/g)].map((m) => m[1]);

/** The error messages beside fields, by the field's id. */
function fieldErrors(html) {
  return Object.fromEntries([...html.matchAll(/<span class="nhsuk-error-message" id="([a-z_]+)-error"><span class="nhsuk-u-visually-hidden">Error:<\/span> ([^<]*)<\/span>/g)].map((m) => [m[1], text(m[2]).trim()]));
}

/** The value of an input, as the page shows it again. */
const valueOf = (html, id) => text(html.match(new RegExp(`id="${id}" name="${id}"[^>]*value="([^"]*)"`))[1]);

before(async () => {
  shoal = await startShoal();
  admin = new Client(shoal.url);
  assert.equal((await admin.signIn(demo.admin)).status, 303);
});
after(async () => {
  const { code } = await shoal.stop();
  assert.equal(code, 0);
});

const routes = [
  ['GET', '/admin/organisations'],
  ['POST', '/admin/organisations'],
  ['GET', '/admin/organisations/new'],
  ['GET', '/admin/organisations/import'],
  ['POST', '/admin/organisations/import'],
  ['GET', '/admin/organisations/Z80001'],
  ['POST', '/admin/organisations/Z80001'],
];

test('members, leads, partners and the executive get "no access" on every page; visitors are asked to sign in', async () => {
  const before = snapshot();
  for (const who of ['member', 'lead', 'partner', 'executive']) {
    const c = new Client(shoal.url);
    assert.equal((await c.signIn(demo[who])).status, 303, who);
    await c.get('/account'); // a page of theirs, for a real CSRF token
    for (const [method, path] of routes) {
      const r = method === 'GET' ? await c.get(path) : await c.post(path, { ods_code: 'Z80555', name: 'Sneaky', kind: 'practice', parent: 'U90001', list_size: '100', csv: header + 'Z80555,Sneaky,practice,U90001,100\n' });
      assert.equal(r.status, 403, `${who} ${method} ${path}`);
      assert.match(r.text, /You do not have access to this page/);
    }
  }
  const anonymous = new Client(shoal.url);
  for (const [method, path] of routes) {
    const r = method === 'GET' ? await anonymous.get(path) : await anonymous.post(path, { name: 'Sneaky' }, { from: '/sign-in' });
    assert.equal(r.status, 303, `anonymous ${method} ${path}`);
    assert.equal(r.location, `/sign-in?next=${method === 'GET' ? encodeURIComponent(path).replace(/%2F/g, '/') : '/'}`);
  }
  assert.equal(snapshot(), before, 'nothing was written');
});

test('the administration index links to the organisations', async () => {
  const r = await admin.get('/admin');
  assert.equal(r.status, 200);
  assert.match(r.text, /<a href="\/admin\/organisations">Organisations<\/a>/);
});

test('the list shows every organisation by kind, practices under their PCN, with list sizes and people', async () => {
  const r = await admin.get('/admin/organisations');
  assert.equal(r.status, 200);
  const headings = [...r.text.matchAll(/<caption class="nhsuk-table__caption nhsuk-table__caption--m">([^<]+)<\/caption>/g)].map((m) => m[1]);
  assert.deepEqual(headings, ['Practices', 'PCNs', 'Localities', 'Federations', 'LMCs', 'ICBs', 'Trusts', 'Councils', 'Public health']);
  const codes = listedCodes(r.text);
  assert.equal(codes.length, 38);
  // PCNs in name order (Castlegate, Harbour, Moorland, Riverside, Three Valleys); practices by name within each.
  assert.deepEqual(codes.slice(0, 4), ['Z80007', 'Z80005', 'Z80008', 'Z80006']); // Castlegate PCN
  assert.deepEqual(codes.slice(14, 18), ['Z80002', 'Z80003', 'Z80001', 'Z80004']); // Riverside PCN, after Harbour and Moorland (5 each)
  const riverside = text(r.text.match(/<tr class="nhsuk-table__row" role="row">\s*<td[^>]*><span[^>]*>Name <\/span><a href="\/admin\/organisations\/Z80001">[\s\S]*?<\/tr>/)[0]);
  // Two active people (the lead and a GP); the deactivated one is not counted.
  assert.equal(riverside.trim(), 'Name Riverside Medical Centre ODS code Z80001 PCN Riverside PCN List size 14,210 People 2');
  assert.match(r.text, /<a href="\/admin\/organisations\/U90001">Riverside PCN<\/a>/);
});

test('searching and filtering by kind', async () => {
  let r = await admin.get('/admin/organisations?q=riverside');
  assert.equal(r.status, 200);
  // By name, and the practices of the PCN whose name matches.
  assert.deepEqual(listedCodes(r.text), ['Z80002', 'Z80003', 'Z80001', 'Z80004', 'U90001']);
  assert.equal(valueOf(r.text, 'q'), 'riverside');
  r = await admin.get('/admin/organisations?q=z8001');
  assert.equal(listedCodes(r.text).length, 10, 'by ODS code, Z80010 to Z80019');
  r = await admin.get('/admin/organisations?kind=pcn');
  assert.deepEqual(listedCodes(r.text), ['U90002', 'U90004', 'U90003', 'U90001', 'U90005']);
  assert.match(r.text, /<option value="pcn" selected>/);
  r = await admin.get('/admin/organisations?q=%25');
  assert.match(r.text, /No organisation matches your search/, 'a % is text, not a wildcard');

  r = await admin.get('/admin/organisations?kind=surgery');
  assert.equal(r.status, 400);
  assert.match(r.text, /There is a problem/);
  assert.deepEqual(fieldErrors(r.text), { kind: 'Select a kind of organisation from the list' });
  r = await admin.get(`/admin/organisations?q=${'x'.repeat(201)}`);
  assert.equal(r.status, 400);
  assert.deepEqual(fieldErrors(r.text), { q: 'Search text must be 200 characters or fewer, on one line' });
  r = await admin.get('/admin/organisations?page=0');
  assert.equal(r.status, 400);
});

test('an administrator adds an organisation; it is audited, and listed', async () => {
  const r0 = await admin.get('/admin/organisations/new');
  assert.equal(r0.status, 200);
  assert.match(r0.text, /<h1>Add an organisation<\/h1>/);
  const r = await admin.post('/admin/organisations', { ods_code: ' z80090 ', name: 'Kingfisher Surgery', kind: 'practice', parent: 'u90001', list_size: '7200' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/admin/organisations/Z80090?added=1');
  const page = await admin.get(r.location);
  assert.equal(page.status, 200);
  assert.match(page.text, /The organisation has been added/);
  assert.match(text(page.text), /Practice – Kingfisher Surgery/);
  assert.match(text(page.text), /Part of Riverside PCN \(U90001\)/);
  assert.match(text(page.text), /List size 7,200 registered patients/);
  assert.match(page.text, /Nobody belongs to Kingfisher Surgery yet/);
  const adminId = sql(shoal.db, `SELECT id FROM people WHERE email = '${demo.admin}'`);
  const orgId = sql(shoal.db, "SELECT id FROM organisations WHERE ods_code = 'Z80090'");
  assert.equal(lastAudit('organisation-added'), `${demo.admin} | organisation:${orgId} | Z80090: name: "Kingfisher Surgery"; kind: practice; parent: U90001; list size: 7200`);
  assert.equal(sql(shoal.db, "SELECT actor_id FROM audit_log WHERE action = 'organisation-added' ORDER BY id DESC LIMIT 1"), adminId);
  const list = await admin.get('/admin/organisations?q=kingfisher');
  assert.deepEqual(listedCodes(list.text), ['Z80090']);
});

test('adding with mistakes: a summary, a message by each field, what was typed kept, nothing written', async () => {
  const before = snapshot();
  const audits = auditCount();
  let r = await admin.post('/admin/organisations', { ods_code: '', name: '  ', kind: '', parent: '', list_size: '' });
  assert.equal(r.status, 400);
  assert.match(r.text, /<title>Error: Add an organisation/);
  assert.match(r.text, /<h2 class="nhsuk-error-summary__title" id="error-summary-title">There is a problem<\/h2>/);
  assert.deepEqual(fieldErrors(r.text), {
    ods_code: 'Enter the ODS code, such as C84001',
    name: "Enter the organisation's name",
    kind: 'Select the kind of organisation',
  });
  assert.match(r.text, /<li><a href="#ods_code">Enter the ODS code, such as C84001<\/a><\/li>/);

  r = await admin.post('/admin/organisations', { ods_code: 'Z80001', name: 'Riverside <b>again</b>', kind: 'pcn', parent: 'QZZ', list_size: '12,000' });
  assert.equal(r.status, 400);
  assert.deepEqual(fieldErrors(r.text), {
    ods_code: 'ODS code Z80001 is already used by Riverside Medical Centre: change that organisation instead',
    parent: 'The parent of a PCN must be a locality, but QZZ is an ICB',
    list_size: 'Only practices have a list size: leave it empty for a PCN',
  });
  assert.equal(valueOf(r.text, 'name'), 'Riverside <b>again</b>');
  assert.match(r.text, /value="Riverside &lt;b&gt;again&lt;\/b&gt;"/, 'escaped');
  assert.equal(valueOf(r.text, 'list_size'), '12,000');
  assert.match(r.text, /<option value="pcn" selected>/);

  r = await admin.post('/admin/organisations', { ods_code: 'Z80091', name: 'Nowhere Surgery', kind: 'practice', parent: 'U99999', list_size: '12k' });
  assert.equal(r.status, 400);
  assert.deepEqual(fieldErrors(r.text), {
    parent: 'There is no organisation with ODS code U99999: check the code, or add that organisation first',
    list_size: 'List size "12k" must be a whole number of patients, such as 8930 (no commas or decimal point)',
  });
  r = await admin.post('/admin/organisations', { ods_code: 'Z80091', name: 'x'.repeat(5000), kind: 'practice', parent: '', list_size: '1' });
  assert.equal(r.status, 413);
  assert.equal(snapshot(), before);
  assert.equal(auditCount(), audits);
});

test('an administrator changes an organisation; before and after are audited', async () => {
  const id = sql(shoal.db, "SELECT id FROM organisations WHERE ods_code = 'Z80002'");
  let r = await admin.get('/admin/organisations/Z80002');
  assert.equal(r.status, 200);
  assert.equal(valueOf(r.text, 'name'), 'Bridge Street Surgery');
  assert.equal(valueOf(r.text, 'parent'), 'U90001');
  assert.equal(valueOf(r.text, 'list_size'), '8930');
  assert.match(r.text, /<option value="practice" selected>/);
  r = await admin.post('/admin/organisations/Z80002', { name: 'Bridge Street Medical Practice', kind: 'practice', parent: 'U90002', list_size: '9100' });
  assert.equal(r.status, 303);
  assert.equal(r.location, '/admin/organisations/Z80002?saved=1');
  r = await admin.get(r.location);
  assert.match(r.text, /Your changes have been saved/);
  assert.match(text(r.text), /Part of Castlegate PCN \(U90002\)/);
  assert.equal(sql(shoal.db, "SELECT id || ' ' || name || ' ' || list_size FROM organisations WHERE ods_code = 'Z80002'"), `${id} Bridge Street Medical Practice 9100`);
  assert.equal(lastAudit('organisation-updated'), `${demo.admin} | organisation:${id} | Z80002: name: "Bridge Street Surgery" -> "Bridge Street Medical Practice"; parent: U90001 -> U90002; list size: 8930 -> 9100`);

  // Sending it again changes nothing, and records nothing.
  const audits = auditCount();
  r = await admin.post('/admin/organisations/z80002', { name: 'Bridge Street Medical Practice', kind: 'practice', parent: 'u90002', list_size: '9100' });
  assert.equal(r.location, '/admin/organisations/Z80002?unchanged=1');
  assert.equal(auditCount(), audits);
});

test('changes that break the rules are refused by field, with nothing written', async () => {
  const before = snapshot();
  const audits = auditCount();
  const cases = [
    ['LOCZ1', { name: 'North Wyvern locality', kind: 'locality', parent: 'QZZ' }, 'ok'],
    ['QZZ', { name: 'NHS Wyvern Vale ICB', kind: 'icb', parent: 'LOCZ1' }, { parent: 'That parent would make the parents go round in a loop (QZZ -> LOCZ1 -> QZZ): choose another parent' }],
    ['QZZ', { name: 'NHS Wyvern Vale ICB', kind: 'icb', parent: 'qzz' }, { parent: 'QZZ cannot be its own parent: enter another code, or leave it empty' }],
    ['U90003', { name: 'Moorland', kind: 'locality', parent: '' }, { kind: 'U90003 cannot become a locality while practice Z80009 and 4 others sit under it: move them first, or keep the kind' }],
    ['Z80003', { name: '', kind: 'practice', parent: 'U90001', list_size: '' }, { name: "Enter the organisation's name", list_size: "Enter the practice's list size (its number of registered patients)" }],
    ['Z80003', { name: 'Millbrook', kind: 'clinic', parent: 'U90001', list_size: '100' }, { kind: 'Select the kind of organisation' }],
  ];
  for (const [code, form, expected] of cases) {
    const r = await admin.post(`/admin/organisations/${code}`, form);
    if (expected === 'ok') {
      assert.equal(r.status, 303, code);
      continue;
    }
    assert.equal(r.status, 400, `${code} ${JSON.stringify(form)}`);
    assert.match(r.text, /There is a problem/);
    assert.deepEqual(fieldErrors(r.text), expected);
    assert.equal(valueOf(r.text, 'name'), form.name, 'what was typed is kept');
  }
  // LOCZ1 under QZZ was the one good change; the rest wrote nothing.
  assert.equal(auditCount(), audits + 1);
  assert.equal(sql(shoal.db, "SELECT p.ods_code FROM organisations o JOIN organisations p ON p.id = o.parent_id WHERE o.ods_code = 'LOCZ1'"), 'QZZ');
  assert.equal(snapshot().split('\n').filter((l) => !l.startsWith('LOCZ1|')).join('\n'), before.split('\n').filter((l) => !l.startsWith('LOCZ1|')).join('\n'));
});

test('unknown codes are 404 for viewing and changing', async () => {
  for (const path of ['/admin/organisations/Z89999', '/admin/organisations/not%20a%20code', '/admin/organisations/' + 'A'.repeat(13)]) {
    assert.equal((await admin.get(path)).status, 404, path);
    const r = await admin.post(path, { name: 'X', kind: 'other', parent: '', list_size: '' });
    assert.equal(r.status, 404, `POST ${path}`);
  }
  assert.equal(sql(shoal.db, "SELECT COUNT(*) FROM organisations WHERE ods_code = 'Z89999'"), '0');
});

test("an organisation's page lists its people, linking to them, and what is part of it", async () => {
  let r = await admin.get('/admin/organisations/Z80001');
  assert.equal(r.status, 200);
  const ids = Object.fromEntries(['lead', 'member', 'deactivated'].map((w) => [w, sql(shoal.db, `SELECT id FROM people WHERE email = '${demo[w]}'`)]));
  assert.match(r.text, new RegExp(`<a href="/admin/people/${ids.lead}">Sam Patel \\(practice manager\\)</a>`));
  assert.match(r.text, new RegExp(`<a href="/admin/people/${ids.member}">Dr Morgan Lee</a>`));
  assert.match(r.text, new RegExp(`<a href="/admin/people/${ids.deactivated}">Former Staff</a>`));
  assert.match(text(r.text), /Sam Patel \(practice manager\) Email address lead@riverside\.wyvern\.example Role Practice lead Account Active/);
  assert.match(text(r.text), /Former Staff Email address left@riverside\.wyvern\.example Role Member Account Deactivated/);
  r = await admin.get('/admin/organisations/U90001');
  assert.match(text(r.text), /Organisations that are part of Riverside PCN/);
  assert.match(r.text, /<a href="\/admin\/organisations\/Z80001">Riverside Medical Centre<\/a> \(Practice, Z80001\)/);
});

test('a good pasted CSV is imported, with a summary of what changed, audited as the administrator', async () => {
  let r = await admin.get('/admin/organisations/import');
  assert.equal(r.status, 200);
  assert.match(r.text, /Uploading a file is not available yet/);
  assert.match(r.text, /shoal import organisations FILE\.csv/);
  const csv = header + 'Z80004,Weir Lane Practice,practice,U90001,6200\nZ80092,"Otter Bank Surgery, Quay St",practice,U90004,5400\nZ80001,Riverside Medical Centre,practice,U90001,14210\n';
  const adminId = sql(shoal.db, `SELECT id FROM people WHERE email = '${demo.admin}'`);
  r = await admin.post('/admin/organisations/import', { csv });
  assert.equal(r.status, 200);
  assert.match(r.text, /<h1 class="nhsuk-panel__title">Organisations imported<\/h1>/);
  assert.match(text(r.text), /1 added, 1 updated, 1 unchanged/);
  assert.match(text(r.text), /Otter Bank Surgery, Quay St ODS code Z80092 Change Added \(name: "Otter Bank Surgery, Quay St"; kind: practice; parent: U90004; list size: 5400\)/);
  assert.match(text(r.text), /Weir Lane Practice ODS code Z80004 Change Updated: list size: 6150 -> 6200/);
  assert.equal(sql(shoal.db, "SELECT list_size FROM organisations WHERE ods_code = 'Z80004'"), '6200');
  assert.equal(sql(shoal.db, "SELECT name FROM organisations WHERE ods_code = 'Z80092'"), 'Otter Bank Surgery, Quay St');
  assert.equal(
    sql(shoal.db, "SELECT actor_id || ' ' || actor || ' ' || subject FROM audit_log WHERE action = 'organisations-imported' ORDER BY id DESC LIMIT 1"),
    `${adminId} ${demo.admin} organisations`,
  );
  assert.equal(
    sql(shoal.db, "SELECT detail FROM audit_log WHERE action = 'organisations-imported' ORDER BY id DESC LIMIT 1"),
    '1 added, 1 updated, 1 unchanged, from a CSV file\nupdated Z80004: list size: 6150 -> 6200\nadded Z80092: name: "Otter Bank Surgery, Quay St"; kind: practice; parent: U90004; list size: 5400',
  );
});

test('a bad paste lists every problem with its line, as the command line does, and imports nothing', async () => {
  const csv = header +
    'Z80093,Good one,practice,U90001,100\n' +
    'Z80094,,practice,U90001,100\n' +
    'Z80095,No size,practice,U90001,\n' +
    'Z80093,Again,practice,U90001,100\n' +
    'Z80096,Lost,practice,U00000,100\n' +
    'Z80097,Wrong <kind>,clinic,U90001,100\n';
  const before = snapshot();
  const audits = auditCount();
  const r = await admin.post('/admin/organisations/import', { csv });
  assert.equal(r.status, 400);
  assert.match(r.text, /<title>Error: Import organisations/);
  assert.match(r.text, /<li><a href="#csv">The file has 5 problems, listed below\. Nothing was imported: correct them and paste the file again<\/a><\/li>/);
  assert.equal(snapshot(), before);
  assert.equal(auditCount(), audits);
  // The same messages, on the same lines, as `shoal import organisations`.
  const rows = [...r.text.matchAll(/<tr class="nhsuk-table__row">\s*<td class="nhsuk-table__cell nhsuk-table__cell--numeric">(\d+)<\/td>\s*<td class="nhsuk-table__cell">([^<]*)<\/td>/g)].map((m) => `${m[1]}: ${text(m[2])}`);
  const dir = mkdtempSync(join(tmpdir(), 'shoal-orgs-'));
  writeFileSync(join(dir, 'orgs.csv'), csv);
  const cli = await run(['import', 'organisations', join(dir, 'orgs.csv'), '--db', shoal.db]);
  assert.equal(cli.status, 1);
  const expected = cli.stderr.split('\n').filter((l) => l.startsWith(join(dir, 'orgs.csv') + ':')).map((l) => l.slice(join(dir, 'orgs.csv').length + 1));
  assert.equal(expected.length, 5);
  assert.deepEqual(rows, expected);
  assert.match(rows[4], /^7: kind "clinic" is not a kind of organisation/);
  // What was pasted is there to correct, escaped.
  assert.match(r.text, /Z80097,Wrong &lt;kind&gt;,clinic,U90001,100/);
});

test('an empty paste, and a file with no header, are explained', async () => {
  let r = await admin.post('/admin/organisations/import', { csv: '' });
  assert.equal(r.status, 400);
  assert.deepEqual(fieldErrors(r.text), { csv: 'Paste the contents of a CSV file of organisations' });
  r = await admin.post('/admin/organisations/import', { csv: 'Z80001,Riverside,practice,U90001,100\n' });
  assert.equal(r.status, 400);
  assert.match(text(r.text), /1 the header line is missing: the first line must be "ods_code,name,kind,parent_ods_code,list_size"/);
});

test('a form without its CSRF token is refused', async () => {
  const r = await admin.request('/admin/organisations', { method: 'POST', form: { ods_code: 'Z80098', name: 'X', kind: 'other' } });
  assert.equal(r.status, 403);
  assert.match(r.text, /This form could not be sent/);
  assert.equal(sql(shoal.db, "SELECT COUNT(*) FROM organisations WHERE ods_code = 'Z80098'"), '0');
});
