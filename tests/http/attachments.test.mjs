// tests/http/attachments.test.mjs — files attached to discussion posts
// (docs/discussions.md, "Attachments"): each accepted type checked by content,
// renamed programs and mismatched extensions refused with the typed text kept,
// the 20 MB limit (exactly 20 MB accepted, one byte more refused with 413 and
// nothing stored), the download's headers, 404 for whoever may not see the
// post (another group, a partner, a hidden or deleted post), and CSRF on
// multipart forms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startShoal, sql } from '../lib/shoal.mjs';
import { Client, demo } from '../lib/client.mjs';

const MB = 1024 * 1024;
let shoal;
const space = {};
before(async () => {
  shoal = await startShoal();
  for (const row of sql(shoal.db, 'SELECT id, name FROM spaces').split('\n')) {
    const [id, name] = row.split('|');
    space[name] = id;
  }
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

// A zip archive (stored, no compression) holding the named entries, as an
// Office file is: the central directory is what Shoal reads.
function zip(names) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  for (const name of names) {
    const n = Buffer.from(name);
    const data = Buffer.from('<x/>');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, data);
    centrals.push(central, n);
    offset += local.length + n.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(names.length, 8);
  end.writeUInt16LE(names.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const files = {
  pdf: Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n'),
  png: Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from(Array.from({ length: 256 }, (_, i) => i))]),
  jpeg: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(40, 2)]),
  docx: zip(['[Content_Types].xml', '_rels/.rels', 'word/document.xml']),
  xlsx: zip(['[Content_Types].xml', 'xl/workbook.xml', 'xl/worksheets/sheet1.xml']),
  pptx: zip(['[Content_Types].xml', 'ppt/presentation.xml']),
  ole: Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(504, 0)]),
  exe: Buffer.concat([Buffer.from('MZ'), Buffer.alloc(200, 0x90)]),
  elf: Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(60, 0)]),
  script: Buffer.from('#!/bin/sh\nrm -rf /\n'),
  zipOfOther: zip(['evil/payload.js']),
};

/** Posts a multipart form (fields, then files [{name, data}]) with the client's cookies. */
async function postMultipart(c, path, fields, attachments = [], { csrf = true } = {}) {
  const fd = new FormData();
  if (csrf) fd.append('csrf', c.csrf);
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  for (const f of attachments) fd.append('attachments', new Blob([f.data]), f.name);
  if (!attachments.length) fd.append('attachments', new Blob([]), '');
  return c.request(path, { method: 'POST', body: fd });
}

async function startThread(who, spaceName, title, attachments, extra = {}) {
  const c = await as(who);
  await c.get(`/discussions/spaces/${space[spaceName]}/threads/new`);
  return postMultipart(c, `/discussions/spaces/${space[spaceName]}/threads`, { title, body: `About ${title}.`, ...extra }, attachments);
}

/** GETs path with c's cookies and returns the status and the body's bytes. */
async function download(c, path) {
  const res = await fetch(shoal.url + path, { headers: { cookie: [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }, redirect: 'manual' });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

function count(table) {
  return Number(sql(shoal.db, `SELECT count(*) FROM ${table}`));
}

function attachmentsOf(title) {
  const rows = sql(shoal.db, `SELECT a.id, a.filename, a.type, a.size, a.sha256 FROM attachments a JOIN posts p ON p.id = a.post_id JOIN threads t ON t.id = p.thread_id WHERE t.title = '${title}' ORDER BY a.id`);
  return rows ? rows.split('\n').map((r) => { const [id, filename, type, size, sha256] = r.split('|'); return { id, filename, type, size: Number(size), sha256 }; }) : [];
}

test('every accepted type is stored with the type found by content, its size and SHA-256, and listed on the post', async () => {
  const attachments = [
    { name: 'Winter plan.pdf', data: files.pdf },
    { name: 'chart.PNG', data: files.png },
    { name: 'photo.jpeg', data: files.jpeg },
    { name: 'minutes.docx', data: files.docx },
    { name: 'rota.xlsx', data: files.xlsx },
  ];
  const r = await startThread('member', 'General practice strategy', 'Five files', attachments);
  assert.equal(r.status, 303, r.text.slice(0, 500));
  const stored = attachmentsOf('Five files');
  assert.deepEqual(stored.map((a) => [a.filename, a.type, a.size]), [
    ['Winter plan.pdf', 'pdf', files.pdf.length], ['chart.PNG', 'png', files.png.length],
    ['photo.jpeg', 'jpeg', files.jpeg.length], ['minutes.docx', 'docx', files.docx.length],
    ['rota.xlsx', 'xlsx', files.xlsx.length],
  ]);
  assert.equal(stored[0].sha256, createHash('sha256').update(files.pdf).digest('hex'));
  const page = await (await as('member')).get(r.location.replace(/#.*/, ''));
  assert.match(page.text, /Winter plan\.pdf<\/a> \(PDF, \d+ bytes\)/);
  assert.match(page.text, /minutes\.docx<\/a> \(Word document, /);
  assert.match(page.text, /rota\.xlsx<\/a> \(Excel spreadsheet, /);
  assert.ok(page.text.includes(`href="/discussions/attachments/${stored[0].id}/Winter%20plan.pdf"`));

  // PowerPoint and the older Office files, on a reply; the browser's Content-Type is ignored.
  const c = await as('otherMember');
  const thread = sql(shoal.db, "SELECT id FROM threads WHERE title = 'Five files'");
  await c.get(`/discussions/threads/${thread}?page=1`);
  const fd = new FormData();
  fd.append('csrf', c.csrf);
  fd.append('body', 'Slides and the old files attached.');
  fd.append('attachments', new Blob([files.pptx], { type: 'application/x-msdownload' }), 'slides.pptx');
  fd.append('attachments', new Blob([files.ole]), 'old.doc');
  fd.append('attachments', new Blob([files.ole]), 'old.xls');
  fd.append('attachments', new Blob([files.ole]), 'old.ppt');
  const reply = await c.request(`/discussions/threads/${thread}/posts`, { method: 'POST', body: fd });
  assert.equal(reply.status, 303, reply.text.slice(0, 500));
  const types = sql(shoal.db, `SELECT type FROM attachments WHERE post_id = ${reply.location.match(/#post-(\d+)$/)[1]} ORDER BY position`);
  assert.deepEqual(types.split('\n'), ['pptx', 'doc', 'xls', 'ppt']);
});

// A thread counts its files, and its pages look for them only when it has some
// (migration 0016): here the first file comes with a reply.
test('a file on a reply shows on the page, in a thread that had none before', async () => {
  const r = await startThread('member', 'General practice strategy', 'No files yet', []);
  assert.equal(r.status, 303, r.text.slice(0, 500));
  const c = await as('otherMember');
  await c.get(r.location.replace(/#.*/, ''));
  const thread = sql(shoal.db, "SELECT id FROM threads WHERE title = 'No files yet'");
  const reply = await postMultipart(c, `/discussions/threads/${thread}/posts`, { body: 'The plan, attached.' }, [{ name: 'plan.pdf', data: files.pdf }]);
  assert.equal(reply.status, 303, reply.text.slice(0, 500));
  const page = await c.get(reply.location.replace(/#.*/, ''));
  assert.match(page.text, /plan\.pdf<\/a> \(PDF, \d+ bytes\)/);
});

test('a renamed program, a mismatched extension or anything else is refused on the field, keeping the typed text, storing nothing', async () => {
  const before = [count('attachments'), count('posts'), count('threads')];
  const cases = [
    [{ name: 'report.pdf', data: files.exe }, /The file report\.pdf is a program or a script, which cannot be attached/],
    [{ name: 'notes.docx', data: files.elf }, /The file notes\.docx is a program or a script/],
    [{ name: 'tidy.pdf', data: files.script }, /The file tidy\.pdf is a program or a script/],
    [{ name: 'chart.pdf', data: files.png }, /The file chart\.pdf is a PNG image, but its name does not end in \.png/],
    [{ name: 'minutes.xlsx', data: files.docx }, /The file minutes\.xlsx is a Word document, but its name does not end in \.docx/],
    [{ name: 'bundle.docx', data: files.zipOfOther }, /The file bundle\.docx is a zip archive, not a Word, Excel or PowerPoint document/],
    [{ name: 'notes.txt', data: Buffer.from('plain words') }, /The file notes\.txt is not a PDF, Word, Excel, PowerPoint, PNG or JPEG file/],
    [{ name: 'empty.pdf', data: Buffer.alloc(0) }, /The file empty\.pdf is empty/],
    [{ name: `${'x'.repeat(200)}.pdf`, data: files.pdf }, /The name of a file must be 150 characters or fewer/],
  ];
  for (const [file, message] of cases) {
    const r = await startThread('member', 'General practice strategy', 'My typed <title>', [file]);
    assert.equal(r.status, 400, `${file.name}: ${r.text.slice(0, 300)}`);
    assert.match(r.text, message, file.name);
    assert.match(r.text, /<a href="#attachments">/, 'the error summary links to the field');
    assert.match(r.text, /id="attachments-error"/);
    assert.ok(r.text.includes('value="My typed &lt;title&gt;"'), 'the title is kept');
    assert.ok(r.text.includes('About My typed &lt;title&gt;.</textarea>'), 'the message is kept');
  }
  const six = Array.from({ length: 6 }, (_, i) => ({ name: `f${i}.pdf`, data: files.pdf }));
  const r = await startThread('member', 'General practice strategy', 'Six files', six);
  assert.equal(r.status, 400);
  assert.match(r.text, /Attach 5 files or fewer to one post/);
  assert.deepEqual([count('attachments'), count('posts'), count('threads')], before, 'nothing stored');

  // A reply keeps its text too.
  const c = await as('member');
  const thread = sql(shoal.db, "SELECT id FROM threads WHERE title = 'Five files'");
  await c.get(`/discussions/threads/${thread}?page=1`);
  const reply = await postMultipart(c, `/discussions/threads/${thread}/posts`, { body: 'My reply, kept' }, [{ name: 'setup.jpg', data: files.exe }]);
  assert.equal(reply.status, 400);
  assert.match(reply.text, /The file setup\.jpg is a program or a script/);
  assert.ok(reply.text.includes('>My reply, kept</textarea>'));
  assert.deepEqual([count('attachments'), count('posts'), count('threads')], before, 'nothing stored');
});

test('a path, control characters and bidirectional overrides are taken out of a file name', async () => {
  const r = await startThread('member', 'General practice strategy', 'Odd names', [
    { name: 'C:\\Users\\gp\\Desktop\\plan.pdf', data: files.pdf },
    { name: 'invoice\u202efdp.png', data: files.png },
  ]);
  // The second is "invoicefdp.png" once the override is out: a PNG named .png.
  assert.equal(r.status, 303, r.text.slice(0, 400));
  assert.deepEqual(attachmentsOf('Odd names').map((a) => a.filename), ['plan.pdf', 'invoicefdp.png']);
});

test('exactly 20 MB is accepted; one byte more is refused with 413 and nothing stored', async () => {
  const big = Buffer.alloc(20 * MB, 0x20);
  big.write('%PDF-1.7\n', 0);
  let r = await startThread('member', 'General practice strategy', 'Twenty megabytes', [{ name: 'big.pdf', data: big }]);
  assert.equal(r.status, 303, r.text.slice(0, 300));
  const [stored] = attachmentsOf('Twenty megabytes');
  assert.equal(stored.size, 20 * MB);
  assert.equal(stored.sha256, createHash('sha256').update(big).digest('hex'));
  const got = await download(await as('member'), `/discussions/attachments/${stored.id}/big.pdf`);
  assert.equal(got.status, 200);
  assert.equal(got.bytes.length, 20 * MB);
  assert.ok(got.bytes.equals(big), 'the 20 MB file comes back byte for byte (read in 4 MB pieces)');

  const before = [count('attachments'), count('posts'), count('threads')];
  const over = Buffer.alloc(20 * MB + 1, 0x20);
  over.write('%PDF-1.7\n', 0);
  r = await startThread('member', 'General practice strategy', 'One byte over', [{ name: 'over.pdf', data: over }]);
  assert.equal(r.status, 413);
  assert.match(r.text, /The file is larger than 20 MB/);
  assert.ok(r.text.includes('value="One byte over"'), 'within the body limit, the form comes back with the title');
  // Two files of 10 MB and a bit: each is small enough, together too large.
  const half = Buffer.alloc(10 * MB + 1, 0x20);
  half.write('%PDF-1.7\n', 0);
  r = await startThread('member', 'General practice strategy', 'Two halves', [{ name: 'a.pdf', data: half }, { name: 'b.pdf', data: half }]);
  assert.equal(r.status, 413);
  assert.match(r.text, /The file is larger than 20 MB/);
  // Past the route's body limit the server refuses before the handler runs.
  const huge = Buffer.alloc(21 * MB, 0x20);
  huge.write('%PDF-1.7\n', 0);
  r = await startThread('member', 'General practice strategy', 'Far over', [{ name: 'huge.pdf', data: huge }]);
  assert.equal(r.status, 413);
  assert.match(r.text, /The file is larger than 20 MB/);
  assert.deepEqual([count('attachments'), count('posts'), count('threads')], before, 'nothing stored');
  // Only a signed-in person may send the larger body: anyone else keeps the 1 MiB limit,
  // decided from the headers, so the server never holds 20 MB for them.
  const stranger = new Client(shoal.url);
  await stranger.get('/sign-in');
  const fd = new FormData();
  fd.append('csrf', stranger.csrf);
  fd.append('attachments', new Blob([Buffer.alloc(2 * MB, 0x20)]), 'a.pdf');
  r = await stranger.request(`/discussions/spaces/${space['General practice strategy']}/threads`, { method: 'POST', body: fd });
  assert.equal(r.status, 413);
  assert.doesNotMatch(r.text, /The file is larger than 20 MB/);
  const small = new FormData();
  small.append('title', 'x');
  r = await stranger.request(`/discussions/spaces/${space['General practice strategy']}/threads`, { method: 'POST', body: small });
  assert.equal(r.status, 303, 'a small body is answered as before: sign in first');
  // Other routes keep the small global limit.
  const c = await as('member');
  r = await c.request('/discussions/spaces', { method: 'POST', body: 'x'.repeat(2 * MB), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  assert.equal(r.status, 413);
});

test('the download has the stored type, an attachment disposition, nosniff, a sandbox and private caching', async () => {
  const [pdf, png] = attachmentsOf('Five files');
  const c = await as('otherMember');
  const r = await c.get(`/discussions/attachments/${pdf.id}/anything`);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('content-type'), 'application/pdf');
  assert.equal(r.headers.get('content-disposition'), `attachment; filename="Winter plan.pdf"; filename*=UTF-8''Winter%20plan.pdf`);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  assert.match(r.headers.get('content-security-policy'), /sandbox/);
  assert.match(r.headers.get('cache-control'), /private/);
  assert.equal(r.text, files.pdf.toString());
  const p = await c.get(`/discussions/attachments/${png.id}/chart.PNG`);
  assert.equal(p.headers.get('content-type'), 'image/png');
  // Binary content (every byte value) comes back exactly, on either backend.
  assert.ok((await download(c, `/discussions/attachments/${png.id}/chart.PNG`)).bytes.equals(files.png));
  const all = attachmentsOf('Five files');
  assert.ok((await download(c, `/discussions/attachments/${all[4].id}/rota.xlsx`)).bytes.equals(files.xlsx));
  // A name outside ASCII: a plain fallback and the real name in filename*.
  const u = await startThread('member', 'General practice strategy', 'Unicode name', [{ name: 'Café "plan".pdf', data: files.pdf }]);
  assert.equal(u.status, 303);
  const [cafe] = attachmentsOf('Unicode name');
  const d = await c.get(`/discussions/attachments/${cafe.id}/x`);
  assert.equal(d.headers.get('content-disposition'), `attachment; filename="Caf__ _plan_.pdf"; filename*=UTF-8''Caf%C3%A9%20%22plan%22.pdf`);
});

test('whoever may not see the post gets 404: another group, a partner, anyone once it is hidden or deleted', async () => {
  // The practice managers' group space: the lead is in the group, the member is not.
  let r = await startThread('lead', 'Practice managers', 'Managers only', [{ name: 'budget.xlsx', data: files.xlsx }]);
  assert.equal(r.status, 303, r.text.slice(0, 300));
  const [budget] = attachmentsOf('Managers only');
  assert.equal((await (await as('lead')).get(`/discussions/attachments/${budget.id}/budget.xlsx`)).status, 200);
  assert.equal((await (await as('executive')).get(`/discussions/attachments/${budget.id}/budget.xlsx`)).status, 200);
  for (const who of ['member', 'otherMember', 'partner']) {
    assert.equal((await (await as(who)).get(`/discussions/attachments/${budget.id}/budget.xlsx`)).status, 404, who);
  }
  // A members' space: partners do not see it.
  const [pdf] = attachmentsOf('Five files');
  assert.equal((await (await as('partner')).get(`/discussions/attachments/${pdf.id}/x.pdf`)).status, 404);
  // No such attachment, or a bad id: the same 404.
  assert.equal((await (await as('member')).get('/discussions/attachments/999999/x.pdf')).status, 404);
  assert.equal((await (await as('member')).get('/discussions/attachments/1x/x.pdf')).status, 404);
  // Not signed in: sent to sign in, never the file.
  const anonymous = await new Client(shoal.url).get(`/discussions/attachments/${pdf.id}/x.pdf`);
  assert.equal(anonymous.status, 303);

  // Deleted by its author, hidden by a moderator: nobody gets the files.
  r = await startThread('member', 'General practice strategy', 'To be deleted', [{ name: 'gone.pdf', data: files.pdf }]);
  const [gone] = attachmentsOf('To be deleted');
  const post = sql(shoal.db, `SELECT post_id FROM attachments WHERE id = ${gone.id}`);
  const c = await as('member');
  const del = await c.post(`/discussions/posts/${post}/delete`, {}, { from: r.location.replace(/#.*/, '') });
  assert.equal(del.status, 303);
  for (const who of ['member', 'executive']) assert.equal((await (await as(who)).get(`/discussions/attachments/${gone.id}/gone.pdf`)).status, 404, who);
  const page = await c.get(r.location.replace(/#.*/, ''));
  assert.ok(!page.text.includes('gone.pdf'), 'a deleted post lists no files');

  r = await startThread('otherMember', 'General practice strategy', 'To be hidden', [{ name: 'hidden.pdf', data: files.pdf }]);
  const [hidden] = attachmentsOf('To be hidden');
  const hpost = sql(shoal.db, `SELECT post_id FROM attachments WHERE id = ${hidden.id}`);
  const ex = await as('executive');
  const hide = await ex.post(`/discussions/posts/${hpost}/hide`, { reason: 'Off topic' }, { from: `/discussions/posts/${hpost}/hide` });
  assert.equal(hide.status, 303);
  for (const who of ['otherMember', 'member', 'executive']) assert.equal((await (await as(who)).get(`/discussions/attachments/${hidden.id}/hidden.pdf`)).status, 404, who);
});

test('CSRF is enforced on multipart forms; a malformed multipart body is a 400', async () => {
  const before = [count('attachments'), count('threads')];
  const c = await as('member');
  await c.get(`/discussions/spaces/${space['General practice strategy']}/threads/new`);
  let r = await postMultipart(c, `/discussions/spaces/${space['General practice strategy']}/threads`, { title: 'No token', body: 'x' }, [{ name: 'a.pdf', data: files.pdf }], { csrf: false });
  assert.equal(r.status, 403);
  const fd = new FormData();
  fd.append('csrf', 'wrong'.repeat(9));
  fd.append('title', 'Wrong token');
  fd.append('body', 'x');
  r = await c.request(`/discussions/spaces/${space['General practice strategy']}/threads`, { method: 'POST', body: fd });
  assert.equal(r.status, 403);
  // No final boundary.
  r = await c.request(`/discussions/spaces/${space['General practice strategy']}/threads`, {
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data; boundary=XyZ' },
    body: `--XyZ\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n${c.csrf}\r\n--XyZ\r\nContent-Disposition: form-data; name="title"\r\n\r\nT`,
  });
  assert.equal(r.status, 400);
  assert.match(r.text, /This form could not be read/);
  assert.deepEqual([count('attachments'), count('threads')], before, 'nothing stored');
  // The same forms still work urlencoded, without files.
  r = await c.post(`/discussions/spaces/${space['General practice strategy']}/threads`, { title: 'Urlencoded still works', body: 'Plain.' });
  assert.equal(r.status, 303);
});
