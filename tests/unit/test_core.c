/*
 * test_core.c — capped buffers and configuration precedence and errors.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/format.h"
#include "core/gate.h"
#include "core/xmalloc.h"

static void test_buf_cap(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "hello"), 0);
	assert_int_equal(buf_printf(&b, "%d", 1234), 0);
	assert_string_equal(b.data, "hello1234");
	/* Two more bytes would pass the cap: refused whole, nothing half-written. */
	assert_int_equal(buf_puts(&b, "ab"), -1);
	assert_true(b.overflow);
	assert_string_equal(b.data, "hello1234");
	assert_int_equal(buf_putc(&b, '!'), 0);
	assert_int_equal(b.len, 10);
	buf_free(&b);
}

/* buf_add is inline with a fast path when there is room: byte by byte across every
 * growth of the buffer, up to the cap exactly, the bytes and the NUL are right. */
static void test_buf_add_fast_and_slow_paths(void **state)
{
	(void)state;
	enum { CAP = 1000 };
	struct buf b;
	buf_init(&b, CAP);
	assert_int_equal(buf_add(&b, "", 0), 0); /* an empty append still leaves "" */
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	for (size_t i = 0; i < CAP; i++) {
		char c = (char)('a' + i % 26);
		assert_int_equal(buf_add(&b, &c, 1), 0);
		assert_int_equal(b.len, i + 1);
		assert_int_equal(b.data[i], c);
		assert_int_equal(b.data[i + 1], '\0');
		assert_true(b.alloc <= CAP + 1);
	}
	assert_false(b.overflow);
	assert_int_equal(buf_add(&b, "z", 1), -1); /* one past the cap */
	assert_true(b.overflow);
	assert_int_equal(b.len, CAP);
	assert_int_equal(buf_add(&b, "", 0), 0);
	buf_free(&b);

	/* A run that fits the room left exactly, then one byte that does not. */
	buf_init(&b, 1 << 20);
	assert_int_equal(buf_puts(&b, "x"), 0);
	size_t room = b.alloc - b.len - 1;
	char *run = malloc(room + 1);
	assert_non_null(run);
	memset(run, 'y', room);
	run[room] = '\0';
	size_t alloc = b.alloc;
	assert_int_equal(buf_puts(&b, run), 0);
	assert_int_equal(b.alloc, alloc);
	assert_int_equal(buf_putc(&b, 'z'), 0);
	assert_true(b.alloc > alloc);
	assert_int_equal(b.len, room + 2);
	assert_int_equal(b.data[room + 1], 'z');
	assert_int_equal(b.data[room + 2], '\0');
	free(run);
	buf_free(&b);
}

static void test_buf_large_printf(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 1 << 20);
	char big[1000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	assert_int_equal(buf_printf(&b, "<%s>", big), 0);
	assert_int_equal(b.len, 1001);
	assert_int_equal(b.data[1000], '>');
	buf_free(&b);
}

static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/shoal-test-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_config_precedence(void **state)
{
	(void)state;
	struct config c;
	char err[256];
	config_defaults(&c);
	assert_string_equal(c.db, "sqlite:var/shoal.db");
	assert_string_equal(c.listen, "127.0.0.1:8080");
	char *path = write_temp("[server]\nlisten = 0.0.0.0:9000\nthreads = 3\n[database]\n"
	                        "url = sqlite:/tmp/x.db\n");
	assert_int_equal(config_load_file(&c, path, err, sizeof err), 0);
	assert_string_equal(c.listen, "0.0.0.0:9000");
	assert_int_equal(c.threads, 3);
	setenv("SHOAL_LISTEN", "127.0.0.1:9001", 1);
	assert_int_equal(config_load_env(&c, err, sizeof err), 0);
	unsetenv("SHOAL_LISTEN");
	assert_string_equal(c.listen, "127.0.0.1:9001");
	assert_int_equal(config_set(&c, "listen", "127.0.0.1:9002", "--listen", err, sizeof err),
	                 0);
	assert_string_equal(c.listen, "127.0.0.1:9002");
	assert_string_equal(c.db, "sqlite:/tmp/x.db");
	unlink(path);
	free(path);
}

static void test_config_errors_name_the_setting(void **state)
{
	(void)state;
	struct config c;
	char err[256];
	config_defaults(&c);
	assert_int_equal(config_set(&c, "listen", "nonsense", "--listen", err, sizeof err), -1);
	assert_non_null(strstr(err, "listen"));
	assert_string_equal(c.listen, "127.0.0.1:8080"); /* unchanged */
	assert_int_equal(config_set(&c, "threads", "-1", "--threads", err, sizeof err), -1);
	assert_non_null(strstr(err, "threads"));
	assert_int_equal(config_set(&c, "db", "mysql://x", "--db", err, sizeof err), -1);
	assert_non_null(strstr(err, "db"));
	assert_int_equal(config_set(&c, "nope", "1", "--nope", err, sizeof err), 1);

	char *path = write_temp("[server]\nthis is not ini\n");
	assert_int_equal(config_load_file(&c, path, err, sizeof err), -1);
	assert_non_null(strstr(err, "line 2"));
	unlink(path);
	free(path);
	path = write_temp("[server]\ncolour = blue\n");
	assert_int_equal(config_load_file(&c, path, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown setting [server] colour"));
	unlink(path);
	free(path);
	assert_int_equal(config_load_file(&c, "/nonexistent/shoal.ini", err, sizeof err), -1);
	assert_non_null(strstr(err, "cannot read config file"));
}

static void test_format_thousands(void **state)
{
	(void)state;
	char out[32];
	assert_string_equal(format_thousands(out, 0), "0");
	assert_string_equal(format_thousands(out, 999), "999");
	assert_string_equal(format_thousands(out, 1000), "1,000");
	assert_string_equal(format_thousands(out, 234290), "234,290");
	assert_string_equal(format_thousands(out, -1234567), "-1,234,567");
	assert_string_equal(format_thousands(out, INT64_MIN), "-9,223,372,036,854,775,808");
}

/* The heavy-work gate: never more inside at once than cores, and everyone gets in. */
static pthread_mutex_t gate_count_lock = PTHREAD_MUTEX_INITIALIZER;
static long gate_inside, gate_most_inside, gate_done;

static void *gate_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 20; i++) {
		gate_enter();
		pthread_mutex_lock(&gate_count_lock);
		if (++gate_inside > gate_most_inside)
			gate_most_inside = gate_inside;
		pthread_mutex_unlock(&gate_count_lock);
		nanosleep(&(struct timespec){0, 200000}, NULL);
		pthread_mutex_lock(&gate_count_lock);
		gate_inside--;
		gate_done++;
		pthread_mutex_unlock(&gate_count_lock);
		gate_leave();
	}
	return NULL;
}

static void test_gate_one_a_core(void **state)
{
	(void)state;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_t t[16];
	for (int i = 0; i < 16; i++)
		assert_int_equal(pthread_create(&t[i], NULL, gate_worker, NULL), 0);
	for (int i = 0; i < 16; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(gate_done, 16 * 20);
	assert_true(gate_most_inside >= 1);
	assert_true(gate_most_inside <= (cores < 1 ? 1 : cores));
}

/* Every string a pool gave out is still whole when the pool has grown past many
 * blocks, one string larger than a block included. */
static void test_strpool_keeps_every_string(void **state)
{
	(void)state;
	struct strpool pool = {0};
	enum { N = 300 };
	const char *got[N];
	char want[N][40];
	char *big = malloc(200 << 10);
	memset(big, 'x', (200 << 10) - 1);
	big[(200 << 10) - 1] = '\0';
	for (int i = 0; i < N; i++) {
		snprintf(want[i], sizeof want[i], "post body %d", i);
		got[i] = strpool_dup(&pool, want[i]);
		if (i == N / 2)
			assert_string_equal(strpool_dup(&pool, big), big);
		for (int j = 0; j < 1000; j++) /* about 300 KB in all: several blocks */
			strpool_dup(&pool, "");
	}
	const char *empty = strpool_dup(&pool, "");
	assert_string_equal(empty, "");
	for (int i = 0; i < N; i++)
		assert_string_equal(got[i], want[i]);
	strpool_free(&pool);
	assert_null(pool.blocks);
	/* An emptied pool can be used again. */
	assert_string_equal(strpool_dup(&pool, "again"), "again");
	strpool_free(&pool);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_buf_cap),
	    cmocka_unit_test(test_strpool_keeps_every_string),
	    cmocka_unit_test(test_gate_one_a_core),
	    cmocka_unit_test(test_buf_add_fast_and_slow_paths),
	    cmocka_unit_test(test_format_thousands),
	    cmocka_unit_test(test_buf_large_printf),
	    cmocka_unit_test(test_config_precedence),
	    cmocka_unit_test(test_config_errors_name_the_setting),
	};
	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
