// tests/http/import.test.mjs — `shoal import organisations FILE.csv` as an
// administrator meets it: a good file, a re-import, a file with several
// problems (each as FILE:LINE: message, exit 1, nothing written), usage
// errors, a missing, too large or non-UTF-8 file, and an unmigrated database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, freshDatabase, sql } from '../lib/shoal.mjs';

const dir = mkdtempSync(join(tmpdir(), 'shoal-import-'));
const header = 'ods_code,name,kind,parent_ods_code,list_size\n';

function csvFile(name, content) {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const countRows = (db) => Number(sql(db, 'SELECT COUNT(*) FROM organisations'));

async function migrated(label) {
  const db = freshDatabase(label);
  const r = await run(['migrate', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  return db;
}

const good = csvFile(
  'good.csv',
  header +
    'LOCZ1,North Wyvern locality,locality,,\n' +
    'U90001,Riverside PCN,pcn,LOCZ1,\n' +
    'Z80001,"Riverside Medical Centre, Main Street",practice,U90001,14210\n' +
    'Z80002,Bridge Street Surgery,practice,U90001,8930\n' +
    'QZZ,NHS Wyvern Vale ICB,icb,,\n',
);

test('a good file is imported, and importing again updates in place', async () => {
  const db = await migrated('imp_good');
  let r = await run(['import', 'organisations', good, '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'imported 5 organisations (5 added, 0 updated, 0 unchanged)');
  assert.equal(r.stderr, '');
  assert.equal(countRows(db), 5);
  assert.equal(sql(db, "SELECT name FROM organisations WHERE ods_code = 'Z80001'"), 'Riverside Medical Centre, Main Street');

  r = await run(['import', 'organisations', good, '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\(0 added, 0 updated, 5 unchanged\)/);

  const id = sql(db, "SELECT id FROM organisations WHERE ods_code = 'Z80002'");
  const changed = csvFile('changed.csv', header + 'Z80002,Bridge Street Medical Practice,practice,U90001,9100\nZ80003,Weir Lane Practice,practice,U90001,6150\n');
  r = await run(['import', 'organisations', changed, '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'imported 2 organisations (1 added, 1 updated, 0 unchanged)');
  assert.equal(countRows(db), 6);
  assert.equal(sql(db, "SELECT id || ' ' || name || ' ' || list_size FROM organisations WHERE ods_code = 'Z80002'"), `${id} Bridge Street Medical Practice 9100`);
});

test('a file over the demo collective updates it', async () => {
  const db = await migrated('imp_demo');
  assert.equal((await run(['demo', '--db', db])).status, 0);
  const f = csvFile('demo.csv', header + 'Z80001,Riverside Medical Centre,practice,U90002,14500\n');
  const r = await run(['import', 'organisations', f, '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\(0 added, 1 updated, 0 unchanged\)/);
  assert.equal(countRows(db), 38);
  assert.equal(sql(db, "SELECT p.ods_code FROM organisations o JOIN organisations p ON p.id = o.parent_id WHERE o.ods_code = 'Z80001'"), 'U90002');
});

test('a file with problems reports each as FILE:LINE, exits 1 and writes nothing', async () => {
  const db = await migrated('imp_bad');
  assert.equal((await run(['import', 'organisations', good, '--db', db])).status, 0);
  const bad = csvFile(
    'bad.csv',
    header +
      'Z80009,Fine on its own,practice,U90001,100\n' +
      'Z80010,,practice,U90001,100\n' +
      'Z80011,Big,practice,U90001,2000000\n' +
      'Z80009,Again,practice,U90001,100\n' +
      'Z80012,Lost,practice,U99999,100\n' +
      'A,Short code,surgery,,\n',
  );
  const r = await run(['import', 'organisations', bad, '--db', db]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trim().split('\n');
  assert.deepEqual(lines, [
    `${bad}:3: the name is empty`,
    `${bad}:4: list size 2000000 is more than 1,000,000 patients: check it`,
    `${bad}:5: ODS code Z80009 is also on line 2`,
    `${bad}:6: parent U99999 is not in this file or in the database`,
    `${bad}:7: ODS code "A" must be 2 to 12 letters, digits or hyphens, starting with a letter or digit`,
    `${bad}:7: kind "surgery" is not a kind of organisation; the kinds are practice, pcn, locality, federation, lmc, icb, trust, council, public-health and other`,
    `shoal import organisations: 6 problems in ${bad}; nothing was imported`,
  ]);
  assert.equal(countRows(db), 5, 'nothing was written, not even the good line 2');
  assert.equal(sql(db, "SELECT COUNT(*) FROM organisations WHERE ods_code = 'Z80009'"), '0');
});

test('more problems than are listed end with "and N more"', async () => {
  const db = await migrated('imp_many');
  let content = header;
  for (let i = 0; i < 150; i++) content += `X${i},,other,,\n`;
  const f = csvFile('many.csv', content);
  const r = await run(['import', 'organisations', f, '--db', db]);
  assert.equal(r.status, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 100 + 2);
  assert.equal(lines[0], `${f}:2: the name is empty`);
  assert.equal(lines[99], `${f}:101: the name is empty`);
  assert.equal(lines[100], `${f}: and 50 more problems`);
  assert.match(lines[101], /150 problems in .*; nothing was imported$/);
});

test('a file that is not UTF-8 names the line and the fix', async () => {
  const db = await migrated('imp_latin1');
  const f = csvFile('latin1.csv', Buffer.concat([Buffer.from(header + 'U90001,Riverside PCN,pcn,,\n'), Buffer.from('Z80001,Caf\xe9 Surgery,practice,U90001,100\n', 'latin1')]));
  const r = await run(['import', 'organisations', f, '--db', db]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: byte 0xE9 is not UTF-8 text \\(save the file as "CSV UTF-8"\\)$`, 'm'));
  assert.equal(countRows(db), 0);
});

test('usage errors exit 2; --help describes the command', async () => {
  for (const args of [['import', 'organisations'], ['import', 'organisations', 'a.csv', 'b.csv'], ['import', 'organisations', good, '--colour', 'blue']]) {
    const r = await run(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  assert.match((await run(['import', 'organisations'])).stderr, /missing FILE\.csv/);
  const h = await run(['import', 'organisations', '--help']);
  assert.equal(h.status, 0);
  assert.match(h.stdout, /^Usage: shoal import organisations \[options\] FILE\.csv/);
  assert.match(h.stdout, /--db URL/);
  assert.match((await run(['--help'])).stdout, /^ {2}import organisations +Import organisations from a CSV file$/m);
});

test('a missing, unreadable or too large file is one clear line and exit 1', async () => {
  const db = await migrated('imp_files');
  let r = await run(['import', 'organisations', join(dir, 'nope.csv'), '--db', db]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `shoal import organisations: cannot read ${join(dir, 'nope.csv')}: No such file or directory\n`);
  r = await run(['import', 'organisations', dir, '--db', db]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cannot read .*: it is a directory\n$/);
  const big = csvFile('big.csv', header + 'x'.repeat(5 * 1024 * 1024));
  r = await run(['import', 'organisations', big, '--db', db]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `shoal import organisations: ${big} is larger than 5 MB: split it into smaller files\n`);
  const empty = csvFile('empty.csv', '');
  r = await run(['import', 'organisations', empty, '--db', db]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /empty\.csv:1: the file is empty: its first line must be the header "ods_code,name,kind,parent_ods_code,list_size"/);
  assert.equal(countRows(db), 0);
});

test('an unmigrated database is refused', async () => {
  const db = freshDatabase('imp_unmigrated');
  const r = await run(['import', 'organisations', good, '--db', db]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /run `shoal migrate` first/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
