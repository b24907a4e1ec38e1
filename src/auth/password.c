/*
 * password.c — argon2id hashing and the common-password deny-list (see password.h).
 */
#include "auth/password.h"

#include <ctype.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/limits.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define DEFAULT_LIST "/usr/share/john/password.lst"
#define BUCKETS      8192

/* The deny-list, lower-cased, in a hash set that is only read after loading. */
struct entry {
	char *word;
	struct entry *next;
};
static struct entry *common[BUCKETS];
static char dummy_hash[PASSWORD_HASH_BYTES];

static unsigned hash_word(const char *s)
{
	unsigned h = 5381;
	for (; *s; s++)
		h = h * 33 + (unsigned char)tolower((unsigned char)*s);
	return h % BUCKETS;
}

static bool is_common(const char *password)
{
	for (struct entry *e = common[hash_word(password)]; e; e = e->next)
		if (!strcasecmp(e->word, password))
			return true;
	return false;
}

int password_load_common(const char *path)
{
	/* A hash to check against when there is no account. Checking costs the same
	 * whatever the salt and digest, so it is written out with today's parameters
	 * rather than computed: computing it would add a quarter of a second to every
	 * start of shoal. */
	if (!dummy_hash[0])
		snprintf(dummy_hash, sizeof dummy_hash,
		         "$argon2id$v=19$m=%zu,t=%llu,p=1$c2hvYWwtbm8tYWNjb3VudA$"
		         "bm8gYWNjb3VudCBoYXMgdGhpcyBwYXNzd29yZCwgbm8",
		         (size_t)crypto_pwhash_MEMLIMIT_INTERACTIVE / 1024,
		         (unsigned long long)crypto_pwhash_OPSLIMIT_INTERACTIVE);
	FILE *f = fopen(path ? path : DEFAULT_LIST, "r");
	if (!f) {
		log_error("cannot read the common-password list %s; install john-data",
		          path ? path : DEFAULT_LIST);
		return -1;
	}
	char line[256];
	int n = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' && line[1] == '!') /* john's comment lines */
			continue;
		if (!line[0] || is_common(line))
			continue;
		struct entry *e = xmalloc(sizeof *e);
		e->word = xstrdup(line);
		unsigned h = hash_word(line);
		e->next = common[h];
		common[h] = e;
		n++;
	}
	fclose(f);
	return n;
}

/* Counts UTF-8 characters, not bytes: a 10-character password in Welsh or with
 * accents is as long as one in ASCII. */
static size_t utf8_chars(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

const char *password_problem(const char *password)
{
	if (strlen(password) > LIMIT_PASSWORD_BYTES)
		return "Password must be 1,000 bytes or fewer";
	if (utf8_chars(password) < LIMIT_PASSWORD_MIN_CHARS)
		return "Password must be at least 10 characters long";
	if (is_common(password))
		return "This password is too common; choose one that would be hard to guess, such "
		       "as "
		       "three random words";
	return NULL;
}

int password_hash(const char *password, char out[PASSWORD_HASH_BYTES])
{
	return crypto_pwhash_str(out, password, strlen(password),
	                         crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                         crypto_pwhash_MEMLIMIT_INTERACTIVE);
}

bool password_verify(const char *password, const char *hash, bool *rehash)
{
	*rehash = false;
	if (strlen(password) > LIMIT_PASSWORD_BYTES)
		password = "";
	if (!hash || !*hash) {
		/* Same work as a real check, so an unknown account answers as slowly. */
		int ignored = crypto_pwhash_str_verify(dummy_hash, password, strlen(password));
		(void)ignored;
		return false;
	}
	if (crypto_pwhash_str_verify(hash, password, strlen(password)) != 0)
		return false;
	*rehash = crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
	                                         crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0;
	return true;
}
