/* fuzz_headers.c — the request headers and cookie values Shoal itself reads
 * (libmicrohttpd splits the request into headers and cookies first):
 *   X-Forwarded-For behind trusted proxies (http_forwarded_client, with the
 *   trusted-proxy list from the configuration), ids in paths and queries
 *   (http_parse_id), URL-encoding of a path for ?next=, and the
 *   shoal_session / shoal_csrf cookie values and Bearer tokens (shape check,
 *   hashing, constant-time comparison) as access.c and session.c do.
 * The input is split on newlines: trusted list, peer address, X-Forwarded-For,
 * Authorization, cookie value, id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

#include "auth/crypto.h"
#include "core/buf.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	char *part[6] = {"", "", "", "", "", ""};
	char *p = text;
	for (int i = 0; i < 6 && p; i++) {
		part[i] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}

	/* X-Forwarded-For: the answer is the peer's own address or a real IP address. */
	char address[64];
	size_t n = strlen(part[1]);
	if (n >= sizeof address)
		n = sizeof address - 1;
	memcpy(address, part[1], n);
	address[n] = '\0';
	char before[64];
	memcpy(before, address, sizeof before);
	http_forwarded_client(part[2], part[0], address, sizeof address);
	if (!memchr(address, '\0', sizeof address))
		abort();
	unsigned char ip[16];
	if (strcmp(address, before) && inet_pton(AF_INET, address, ip) != 1 &&
	    inet_pton(AF_INET6, address, ip) != 1)
		abort();
	(void)http_address_in_list(part[1], part[0]);

	/* Authorization: Bearer TOKEN, hashed as session_load_token_viewer does. */
	char hash[AUTH_HASH_CHARS + 1];
	if (!strncasecmp(part[3], "Bearer ", 7) && strlen(part[3] + 7) <= 100) {
		auth_hash_token(part[3] + 7, hash);
		if (strlen(hash) != AUTH_HASH_CHARS)
			abort();
	}
	/* A session or CSRF cookie: only a value of the right length is looked up. */
	if (strlen(part[4]) == AUTH_TOKEN_CHARS) {
		auth_hash_token(part[4], hash);
		(void)auth_equal(part[4], part[3]);
	}

	/* Ids: 1 to 18 digits, or 0. */
	int64_t id = http_parse_id(part[5]);
	if (id < 0)
		abort();

	/* The path written into ?next=: only unreserved characters and %XX. */
	struct buf out;
	buf_init(&out, 3 * size + 16);
	http_url_encode(&out, part[5]);
	for (size_t i = 0; i < out.len; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~/%",
		            out.data[i]))
			abort();
	buf_free(&out);
	free(text);
	return 0;
}
