/*
 * attachments.c — checking, storing, listing and serving files attached to
 * discussion posts (see attachments.h).
 *
 * A file's type is decided by its first bytes and, for the Office formats that
 * are zip archives, by the folders the zip's central directory names (word/,
 * xl/, ppt/): a zip of anything else is not a Word document because it is
 * called one. The older Office formats share one container (OLE2), so for them
 * the extension says which of the three it is.
 */
#include "app/discussions/attachments.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app/access.h"
#include "app/app.h"
#include "app/discussions/discussions.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "http/multipart.h"

struct type_info {
	const char *code, *mime, *word;
	const char *ext[2]; /* the extensions a name may end in */
};

static const struct type_info types[] = {
    [ATTACH_NONE] = {"", "application/octet-stream", "File", {NULL, NULL}},
    [ATTACH_PDF] = {"pdf", "application/pdf", "PDF", {"pdf", NULL}},
    [ATTACH_PNG] = {"png", "image/png", "PNG image", {"png", NULL}},
    [ATTACH_JPEG] = {"jpeg", "image/jpeg", "JPEG image", {"jpg", "jpeg"}},
    [ATTACH_DOCX] = {"docx",
                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                     "Word document",
                     {"docx", NULL}},
    [ATTACH_XLSX] = {"xlsx",
                     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "Excel spreadsheet",
                     {"xlsx", NULL}},
    [ATTACH_PPTX] = {"pptx",
                     "application/vnd.openxmlformats-officedocument.presentationml.presentation",
                     "PowerPoint presentation",
                     {"pptx", NULL}},
    [ATTACH_DOC] = {"doc", "application/msword", "Word document", {"doc", NULL}},
    [ATTACH_XLS] = {"xls", "application/vnd.ms-excel", "Excel spreadsheet", {"xls", NULL}},
    [ATTACH_PPT] = {"ppt",
                    "application/vnd.ms-powerpoint",
                    "PowerPoint presentation",
                    {"ppt", NULL}},
};
#define N_TYPES (sizeof types / sizeof types[0])

static const struct type_info *info(enum attach_type t)
{
	return (size_t)t < N_TYPES ? &types[t] : &types[ATTACH_NONE];
}

const char *attach_type_code(enum attach_type t)
{
	return info(t)->code;
}

const char *attach_type_mime(enum attach_type t)
{
	return info(t)->mime;
}

const char *attach_type_word(enum attach_type t)
{
	return info(t)->word;
}

enum attach_type attach_type_from_code(const char *code)
{
	for (size_t i = 1; code && i < N_TYPES; i++)
		if (!strcmp(types[i].code, code))
			return (enum attach_type)i;
	return ATTACH_NONE;
}

/* ------------------------------------------------------------ checking by content */

static unsigned rd16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static size_t rd32(const unsigned char *p)
{
	return (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16 | (size_t)p[3] << 24;
}

#define ZIP_WORD 1
#define ZIP_XL   2
#define ZIP_PPT  4

/* Which Office folders a zip's central directory names (ZIP_* bits), or -1 when
 * the directory cannot be found or runs outside the file. */
static int zip_office_folders(const unsigned char *d, size_t n)
{
	if (n < 22)
		return -1;
	/* The end-of-central-directory record is in the last 22 + 65,535 bytes (its comment). */
	size_t lowest = n - 22 > 65535 ? n - 22 - 65535 : 0, eocd = n - 22;
	while (memcmp(d + eocd, "PK\x05\x06", 4)) {
		if (eocd == lowest)
			return -1;
		eocd--;
	}
	size_t entries = rd16(d + eocd + 10), size = rd32(d + eocd + 12),
	       offset = rd32(d + eocd + 16);
	if (offset > eocd || size > eocd - offset)
		return -1;
	int folders = 0;
	size_t p = offset, end = offset + size;
	for (size_t k = 0; k < entries; k++) {
		if (end - p < 46 || memcmp(d + p, "PK\x01\x02", 4))
			return -1;
		size_t name_len = rd16(d + p + 28), extra = rd16(d + p + 30),
		       comment = rd16(d + p + 32);
		if (name_len + extra + comment > end - p - 46)
			return -1;
		const unsigned char *name = d + p + 46;
		if (name_len > 5 && !memcmp(name, "word/", 5))
			folders |= ZIP_WORD;
		else if (name_len > 3 && !memcmp(name, "xl/", 3))
			folders |= ZIP_XL;
		else if (name_len > 4 && !memcmp(name, "ppt/", 4))
			folders |= ZIP_PPT;
		p += 46 + name_len + extra + comment;
	}
	return folders;
}

static bool starts(const unsigned char *d, size_t n, const char *magic, size_t m)
{
	return n >= m && !memcmp(d, magic, m);
}

/* The name's extension, lower case, or "" (at most 7 characters are kept). */
static void extension(const char *name, char out[8])
{
	const char *dot = strrchr(name, '.');
	out[0] = '\0';
	if (!dot || strlen(dot + 1) >= 8)
		return;
	size_t i = 0;
	for (const char *s = dot + 1; *s; s++)
		out[i++] = (char)((*s >= 'A' && *s <= 'Z') ? *s - 'A' + 'a' : *s);
	out[i] = '\0';
}

static bool has_extension(enum attach_type t, const char *ext)
{
	for (int i = 0; i < 2; i++)
		if (info(t)->ext[i] && !strcmp(info(t)->ext[i], ext))
			return true;
	return false;
}

enum attach_type attach_sniff(const unsigned char *d, size_t n, const char *filename, char *problem,
                              size_t len)
{
	char ext[8];
	extension(filename, ext);
	enum attach_type t = ATTACH_NONE;
	if (starts(d, n, "%PDF-", 5)) {
		t = ATTACH_PDF;
	} else if (starts(d, n, "\x89PNG\r\n\x1a\n", 8)) {
		t = ATTACH_PNG;
	} else if (starts(d, n, "\xff\xd8\xff", 3)) {
		t = ATTACH_JPEG;
	} else if (starts(d, n, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8)) {
		/* One container for all three: the extension chooses, and must be one of them. */
		t = !strcmp(ext, "xls")   ? ATTACH_XLS
		    : !strcmp(ext, "ppt") ? ATTACH_PPT
		                          : ATTACH_DOC;
	} else if (starts(d, n, "PK\x03\x04", 4)) {
		int folders = zip_office_folders(d, n);
		enum attach_type want = !strcmp(ext, "xlsx")   ? ATTACH_XLSX
		                        : !strcmp(ext, "pptx") ? ATTACH_PPTX
		                                               : ATTACH_DOCX;
		int need = want == ATTACH_XLSX ? ZIP_XL : want == ATTACH_PPTX ? ZIP_PPT : ZIP_WORD;
		if (folders > 0 && (folders & need))
			t = want;
		else if (folders > 0 && (folders & ZIP_WORD))
			t = ATTACH_DOCX;
		else if (folders > 0 && (folders & ZIP_XL))
			t = ATTACH_XLSX;
		else if (folders > 0 && (folders & ZIP_PPT))
			t = ATTACH_PPTX;
		else {
			snprintf(
			    problem, len,
			    "The file %s is a zip archive, not a Word, Excel or PowerPoint "
			    "document. Choose a PDF, Word, Excel, PowerPoint, PNG or JPEG file",
			    filename);
			return ATTACH_NONE;
		}
	} else if (starts(d, n, "MZ", 2) ||
	           starts(d, n,
	                  "\x7f"
	                  "ELF",
	                  4) ||
	           starts(d, n, "#!", 2) || starts(d, n, "\xca\xfe\xba\xbe", 4) ||
	           starts(d, n, "\xcf\xfa\xed\xfe", 4) || starts(d, n, "\xce\xfa\xed\xfe", 4)) {
		snprintf(problem, len,
		         "The file %s is a program or a script, which cannot be attached. Choose a "
		         "PDF, Word, Excel, PowerPoint, PNG or JPEG file",
		         filename);
		return ATTACH_NONE;
	} else {
		snprintf(problem, len,
		         "The file %s is not a PDF, Word, Excel, PowerPoint, PNG or JPEG file",
		         filename);
		return ATTACH_NONE;
	}
	if (!has_extension(t, ext)) {
		snprintf(
		    problem, len,
		    "The file %s is a %s, but its name does not end in .%s. Rename it, or choose "
		    "another file",
		    filename, attach_type_word(t), info(t)->ext[0]);
		return ATTACH_NONE;
	}
	return t;
}

/* ------------------------------------------------------------ names and sizes */

int attach_clean_name(const char *sent, char *out, size_t outlen, char *problem, size_t len)
{
	const char *base = sent;
	for (const char *s = sent; *s; s++)
		if (*s == '/' || *s == '\\')
			base = s + 1;
	size_t n = 0, blen = strlen(base);
	if (!utf8_valid(base, blen)) {
		snprintf(problem, len, "The name of a file is not readable text: rename the file");
		return -1;
	}
	char *tmp = xmalloc(blen + 1);
	const unsigned char *b = (const unsigned char *)base;
	for (size_t i = 0; i < blen; i++) {
		/* Control characters, C1 controls and the bidirectional overrides that make
		 * "invoice<U+202E>fdp.exe" read as a PDF are taken out. */
		if (b[i] < 0x20 || b[i] == 0x7f)
			continue;
		/* Browsers send '"', CR and LF in names as %22, %0D and %0A (the HTML standard's
		 * multipart encoding): the quote comes back, the line ends stay out. */
		if (b[i] == '%' && i + 2 < blen && b[i + 1] == '2' && b[i + 2] == '2') {
			tmp[n++] = '"';
			i += 2;
			continue;
		}
		if (b[i] == '%' && i + 2 < blen && b[i + 1] == '0' &&
		    (b[i + 2] == 'A' || b[i + 2] == 'D')) {
			i += 2;
			continue;
		}
		if (b[i] == 0xc2 && i + 1 < blen && b[i + 1] >= 0x80 && b[i + 1] <= 0x9f) {
			i++;
			continue;
		}
		if (b[i] == 0xe2 && i + 2 < blen &&
		    ((b[i + 1] == 0x80 && b[i + 2] >= 0xaa && b[i + 2] <= 0xae) ||
		     (b[i + 1] == 0x81 && b[i + 2] >= 0xa6 && b[i + 2] <= 0xa9))) {
			i += 2;
			continue;
		}
		tmp[n++] = (char)b[i];
	}
	tmp[n] = '\0';
	char *start = tmp;
	while (*start == ' ')
		start++, n--;
	while (n && start[n - 1] == ' ')
		start[--n] = '\0';
	int rc = 0;
	if (!n) {
		snprintf(problem, len, "A file has no name: rename it and choose it again");
		rc = -1;
	} else if (n > ATTACH_NAME_BYTES || n >= outlen) {
		snprintf(
		    problem, len,
		    "The name of a file must be %d characters or fewer: rename it and choose it "
		    "again",
		    ATTACH_NAME_BYTES);
		rc = -1;
	} else {
		memcpy(out, start, n + 1);
	}
	free(tmp);
	return rc;
}

void attach_format_size(int64_t bytes, char *out, size_t len)
{
	if (bytes < 1024)
		snprintf(out, len, "%lld bytes", (long long)bytes);
	else if (bytes < 1024 * 1024)
		snprintf(out, len, "%lld KB", (long long)((bytes + 512) / 1024));
	else
		snprintf(out, len, "%.1f MB", (double)bytes / (1024.0 * 1024.0));
}

/* ------------------------------------------------------------ the form's files */

int attach_collect(const struct http_request *req, struct attach_set *set,
                   struct form_errors *errors)
{
	memset(set, 0, sizeof *set);
	const struct multipart *m = access_multipart(req);
	size_t total = 0;
	for (int i = 0; m && i < m->n; i++) {
		const struct multipart_part *part = &m->parts[i];
		if (!part->is_file || strcmp(part->name, "attachments"))
			continue;
		if (!part->filename[0] && !part->len)
			continue; /* the browser's empty part when no file was chosen */
		if (set->n == ATTACH_MAX_FILES) {
			snprintf(set->problem, sizeof set->problem,
			         "Attach %d files or fewer to one post", ATTACH_MAX_FILES);
			goto fail;
		}
		struct attach_file *f = &set->files[set->n];
		if (attach_clean_name(part->filename, f->name, sizeof f->name, set->problem,
		                      sizeof set->problem))
			goto fail;
		total += part->len;
		if (part->len > ATTACH_MAX_BYTES || total > ATTACH_MAX_BYTES) {
			snprintf(set->problem, sizeof set->problem, "%s", ATTACH_TOO_LARGE);
			set->too_large = true;
			goto fail;
		}
		if (!part->len) {
			snprintf(set->problem, sizeof set->problem, "The file %s is empty",
			         f->name);
			goto fail;
		}
		f->data = (const unsigned char *)part->data;
		f->len = part->len;
		f->type = attach_sniff(f->data, f->len, f->name, set->problem, sizeof set->problem);
		if (f->type == ATTACH_NONE)
			goto fail;
		set->n++;
	}
	return 0;
fail:
	form_error_add(errors, "attachments", set->problem);
	return -1;
}

int attach_store(struct db_conn *c, int64_t thread_id, int64_t post_id,
                 const struct attach_set *set, int64_t now)
{
	for (int i = 0; i < set->n; i++) {
		const struct attach_file *f = &set->files[i];
		unsigned char hash[crypto_hash_sha256_BYTES];
		char hex[2 * crypto_hash_sha256_BYTES + 1];
		crypto_hash_sha256(hash, f->data, f->len);
		sodium_bin2hex(hex, sizeof hex, hash, sizeof hash);
		struct db_stmt *st = db_prepare(
		    c, "INSERT INTO attachments (post_id, position, filename, type, size, sha256, "
		       "created_at, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
		if (!st)
			return DB_ERR;
		db_bind_int(st, 1, post_id);
		db_bind_int(st, 2, i + 1);
		db_bind_text(st, 3, f->name);
		db_bind_text(st, 4, attach_type_code(f->type));
		db_bind_int(st, 5, (int64_t)f->len);
		db_bind_text(st, 6, hex);
		db_bind_int(st, 7, now);
		db_bind_blob(st, 8, f->data, f->len);
		int rc = db_step(st);
		db_reset(st);
		if (rc != DB_DONE)
			return rc < 0 ? rc : DB_ERR;
	}
	if (!set->n)
		return 0;
	/* A page of a thread without files does not look for them (migration 0016). */
	struct db_stmt *st = db_prepare(
	    c, "UPDATE threads SET attachment_count = attachment_count + $2 WHERE id = $1");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, thread_id);
	db_bind_int(st, 2, set->n);
	int rc = db_step(st);
	db_reset(st);
	return rc == DB_DONE ? 0 : rc < 0 ? rc : DB_ERR;
}

/* ------------------------------------------------------------ listing */

static void fill_url(struct attach_row *r)
{
	struct buf b;
	buf_init(&b, sizeof r->url - 1);
	buf_printf(&b, "/discussions/attachments/%lld/", (long long)r->id);
	http_url_encode(&b, r->name);
	snprintf(r->url, sizeof r->url, "%s", b.overflow ? "" : b.data);
	if (b.overflow)
		snprintf(r->url, sizeof r->url, "/discussions/attachments/%lld/file",
		         (long long)r->id);
	buf_free(&b);
}

int attach_list(struct db_conn *c, int64_t thread_id, int64_t first_post, int64_t last_post,
                struct attach_row **rows, size_t *n)
{
	*rows = NULL;
	*n = 0;
	/* By posts' thread index alone (covering: no post row is read) and a probe of the
	 * files' index for each: whether a post was removed is the caller's to check, as
	 * reading each of the page's 50 posts for it was a tenth of a thread page. Ordered
	 * as that join reads them (p.id, not a.post_id), SQLite sorts nothing. The range is
	 * on both sides because PostgreSQL carries equalities across a join but not ranges:
	 * whichever side it starts from reads only the page's posts (see threads.c). */
	struct db_stmt *st = db_prepare(
	    c, "SELECT a.id, a.post_id, a.filename, a.type, a.size FROM posts p JOIN attachments a "
	       "ON a.post_id = p.id WHERE p.thread_id = $1 AND p.id BETWEEN $2 AND $3 AND "
	       "a.post_id BETWEEN $2 AND $3 ORDER BY p.id, a.position");
	if (!st)
		return DB_ERR;
	db_bind_int(st, 1, thread_id);
	db_bind_int(st, 2, first_post);
	db_bind_int(st, 3, last_post);
	int rc;
	size_t cap = 0;
	while ((rc = db_step(st)) == DB_ROW) {
		if (*n == cap) {
			cap = cap ? 2 * cap : 8;
			*rows = xrealloc(*rows, cap * sizeof **rows);
		}
		struct attach_row *r = &(*rows)[(*n)++];
		memset(r, 0, sizeof *r);
		r->id = db_col_int(st, 0);
		r->post_id = db_col_int(st, 1);
		snprintf(r->name, sizeof r->name, "%s", db_col_text(st, 2));
		r->word = attach_type_word(attach_type_from_code(db_col_text(st, 3)));
		attach_format_size(db_col_int(st, 4), r->size, sizeof r->size);
		fill_url(r);
	}
	db_reset(st);
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------ download */

/* Content-Disposition with a plain ASCII name for old clients and the real one (RFC 6266). */
static void disposition(const char *name, char *out, size_t len)
{
	struct buf b;
	buf_init(&b, len - 1);
	buf_puts(&b, "attachment; filename=\"");
	for (const unsigned char *s = (const unsigned char *)name; *s; s++)
		buf_putc(&b, (*s < 0x20 || *s >= 0x7f || *s == '"' || *s == '\\') ? '_' : (char)*s);
	buf_puts(&b, "\"; filename*=UTF-8''");
	static const char hexdigits[] = "0123456789ABCDEF";
	for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
		/* RFC 5987 attr-char: letters, digits and !#$&+-.^_`|~ stay. */
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("!#$&+-.^_`|~", *s)) {
			buf_putc(&b, (char)*s);
		} else {
			char esc[3] = {'%', hexdigits[*s >> 4], hexdigits[*s & 15]};
			buf_add(&b, esc, 3);
		}
	}
	snprintf(out, len, "%s", b.overflow ? "attachment" : b.data);
	buf_free(&b);
}

/*
 * Reads attachment id's size bytes into out, a few megabytes a query: PostgreSQL's
 * text results carry bytea as hex, so one query for 20 MB would hold 40 MB of hex
 * (twice, in libpq) and 20 MB decoded besides. DB_ERR if the data is not that size.
 */
#define READ_CHUNK (4u << 20)
static int read_data(struct db_conn *c, int64_t id, unsigned char *out, size_t size)
{
	size_t done = 0;
	do {
		struct db_stmt *st =
		    db_prepare(c, "SELECT substr(data, $2, $3) FROM attachments WHERE id = $1");
		if (!st)
			return DB_ERR;
		db_bind_int(st, 1, id);
		db_bind_int(st, 2, (int64_t)done + 1); /* substr counts from 1 */
		db_bind_int(st, 3, READ_CHUNK);
		int rc = db_step(st);
		size_t n = 0;
		const void *p = rc == DB_ROW ? db_col_blob(st, 0, &n) : NULL;
		if (p && n <= size - done)
			memcpy(out + done, p, n);
		db_reset(st);
		if (rc < 0)
			return rc;
		if (!p || n > size - done || (n == 0 && done < size))
			return DB_ERR;
		done += n;
	} while (done < size);
	return 0;
}

void discussions_attachment(struct http_request *req, struct http_response *res)
{
	struct app *app = req->app;
	const struct viewer *viewer = access_viewer(req);
	int64_t id = http_parse_id(req->params[0]);
	if (!id) {
		res->status = 404;
		return;
	}
	struct db_conn *c = db_acquire(app->db);
	if (!c) {
		res->status = 503;
		return;
	}
	char name[ATTACH_NAME_BYTES + 1] = "", code[8] = "";
	int64_t thread_id = 0;
	size_t size = 0;
	bool removed = false;
	struct db_stmt *st = db_prepare(
	    c, "SELECT p.thread_id, a.filename, a.type, CASE WHEN p.deleted_at IS NULL AND "
	       "p.hidden_at IS NULL THEN 0 ELSE 1 END, a.size FROM attachments a JOIN posts p ON "
	       "p.id = a.post_id WHERE a.id = $1");
	if (!st)
		goto fail;
	db_bind_int(st, 1, id);
	int rc = db_step(st);
	if (rc == DB_ROW) {
		thread_id = db_col_int(st, 0);
		snprintf(name, sizeof name, "%s", db_col_text(st, 1));
		snprintf(code, sizeof code, "%s", db_col_text(st, 2));
		removed = db_col_int(st, 3) != 0;
		size = (size_t)db_col_int(st, 4);
	}
	db_reset(st);
	if (rc < 0)
		goto fail;
	struct disc_thread t;
	rc = rc == DB_ROW ? disc_load_thread(c, viewer, thread_id, &t) : 0;
	if (rc < 0)
		goto fail;
	/* Whoever may not have it is told it does not exist. */
	if (!policy_may_download_attachment(viewer, rc == 1, removed)) {
		db_release(c);
		res->status = 404;
		return;
	}
	/* Kept until the response has been sent (the server frees it). */
	res->allocated = xmalloc(size ? size : 1);
	rc = read_data(c, id, res->allocated, size);
	if (rc < 0)
		goto fail;
	db_release(c);
	size_t n = size;
	enum attach_type type = attach_type_from_code(code);
	char header[3 * ATTACH_NAME_BYTES + 80];
	disposition(name, header, sizeof header);
	res->static_body = res->allocated;
	res->static_size = n;
	res->content_type = attach_type_mime(type);
	http_response_header_copy(res, "Content-Disposition", header);
	/* Opened in the browser anyway, a file can run nothing and reach nothing. */
	http_response_header(res, "Content-Security-Policy", "sandbox; default-src 'none'");
	http_response_header(res, "Cache-Control", "private, no-cache");
	return;
fail:
	log_error("request %s: cannot serve attachment %lld: %s", req->id, (long long)id,
	          db_errmsg(c));
	db_release(c);
	res->status = 500;
}
