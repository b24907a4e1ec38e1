/*
 * csv.h — reading and writing CSV (RFC 4180), and the problem list of a CSV import.
 *
 * Written by hand rather than taken from a library because it is small, and
 * because an import has to tell a person exactly which line of their file is
 * wrong: the reader reports the physical line where each record starts (a
 * quoted field may span lines), checks that the text is strict UTF-8
 * (spreadsheets often save Windows-1252), and caps every field and record so
 * that no file can make it grow without bound. libcsv and friends do none of
 * that line-and-encoding bookkeeping for us.
 *
 * The reader accepts what spreadsheets write: quoted fields with "" for a
 * quote, commas and line breaks inside quotes, CRLF, LF or CR line endings, an
 * optional UTF-8 byte-order mark, and no final line break. Lines with nothing
 * on them are skipped. It refuses, with a message naming the line: bytes that
 * are not UTF-8 (overlong forms and surrogates included), NUL bytes, a quote
 * inside an unquoted field, text after a closing quote, an over-long field,
 * too many fields, and a quote never closed.
 *
 * The writer quotes as needed and defuses spreadsheet formulas: a field that
 * starts with = + - @ TAB or CR gets a leading apostrophe, so a value such as
 * =HYPERLINK(…) exported from Shoal is shown as text, not run (OWASP "CSV
 * injection").
 */
#ifndef SHOAL_CORE_CSV_H
#define SHOAL_CORE_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"
#include "core/limits.h"

enum csv_rc {
	CSV_RECORD = 1,                 /* csv_next filled a record */
	CSV_END = 0,                    /* no more records */
	CSV_ERR_UTF8 = -1,              /* bytes that are not UTF-8; the record is still filled */
	CSV_ERR_NUL = -2,               /* a NUL byte; the record is still filled */
	CSV_ERR_FIELD_TOO_LONG = -3,    /* a field longer than the reader's cap */
	CSV_ERR_TOO_MANY_FIELDS = -4,   /* more fields than the reader's cap */
	CSV_ERR_BAD_QUOTE = -5,         /* a stray quote, or text after a closing quote */
	CSV_ERR_UNTERMINATED_QUOTE = -6 /* a quoted field runs to the end of the file; fatal */
};

/* One record. The fields belong to the reader and stay valid until the next csv_next. */
struct csv_record {
	unsigned long line; /* the physical line (from 1) where the record starts */
	size_t n_fields;
	const char *const *fields; /* NUL-terminated, quotes removed */
};

/* A reader over a buffer in memory. Initialise with csv_reader_init; free with csv_reader_free.
 * The data is borrowed, not copied: it must outlive the reader. */
struct csv_reader {
	const char *data;
	size_t len, pos;
	unsigned long line; /* the physical line at pos */
	size_t max_fields, max_field_bytes;
	bool finished;
	struct buf text; /* the current record's fields, each followed by a NUL */
	size_t *offsets; /* where each field starts in text */
	const char **fields;
	/* After an error: the physical line of the fault and what it is, one sentence. */
	unsigned long error_line;
	char error[160];
};

/**
 * Prepares a reader over len bytes of data (a leading UTF-8 byte-order mark is
 * skipped). A record may have at most max_fields fields (at least 1) of at most
 * max_field_bytes bytes each.
 */
void csv_reader_init(struct csv_reader *r, const char *data, size_t len, size_t max_fields,
                     size_t max_field_bytes);

/**
 * Reads the next record into out. Returns CSV_RECORD, CSV_END, or a negative
 * enum csv_rc with r->error and r->error_line saying what and where (out->line
 * is still the record's first line). Every error but CSV_ERR_UNTERMINATED_QUOTE
 * skips just that record, so a caller can go on and report every bad line; on
 * CSV_ERR_UTF8 and CSV_ERR_NUL out also holds the record's fields as read (a NUL
 * cuts its field short), for callers that want to check the rest of the line.
 */
int csv_next(struct csv_reader *r, struct csv_record *out) __attribute__((warn_unused_result));

/** Releases the reader's memory (not the data it reads). */
void csv_reader_free(struct csv_reader *r);

/**
 * Appends s (NULL is written as an empty field) as one CSV field: quoted when it
 * holds a comma, quote or line break, with a leading apostrophe when it starts
 * with = + - @ TAB or CR. The caller writes the commas and the CRLF between
 * fields and records; overflow of out's cap is left in out->overflow.
 */
void csv_write_field(struct buf *out, const char *s);

/*
 * The outcome of importing a CSV file: what was written, or every problem
 * found, each with the line of the file it is on, so that the command line can
 * print them as FILE:LINE: message. Only the LIMIT_IMPORT_PROBLEMS earliest
 * lines are kept; n_problems counts them all ("and N more"). Any importer of a
 * CSV file may use it.
 */
enum import_rc {
	IMPORT_OK = 0,
	IMPORT_INVALID = -1,  /* the file has problems: nothing was written */
	IMPORT_DB_ERROR = -2, /* the database failed: nothing was written */
};

struct import_problem {
	unsigned long line; /* 0 when the problem is about the whole file */
	unsigned long seq;  /* the order it was found in, to keep equal lines in order */
	char message[LIMIT_IMPORT_MESSAGE_BYTES];
};

struct import_report {
	size_t added, updated, unchanged; /* rows, after a successful import */
	size_t n_problems;                /* every problem found */
	size_t n_kept;                    /* how many are in problems[], earliest lines first */
	struct import_problem problems[LIMIT_IMPORT_PROBLEMS];
};

/** Empties a report. */
void import_report_init(struct import_report *r);

/** Records a problem on a line (0: the whole file), keeping the earliest lines if there are
 * more than fit. */
void import_report_add(struct import_report *r, unsigned long line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Sorts the kept problems by line (then by the order found), for printing. */
void import_report_sort(struct import_report *r);

#endif
