/*
 * replay.c — runs a fuzz target over saved inputs, without libFuzzer.
 *
 * `make test` builds every target with this main (under ASan and UBSan) and
 * replays tests/fuzz/corpus/<target>/: the interesting inputs and every crash
 * ever found, so a fixed bug stays fixed. `make fuzz` builds the same targets
 * with clang's -fsanitize=fuzzer instead, to find new ones.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		return -1;
	}
	uint8_t *data = NULL;
	size_t size = 0, cap = 0, n;
	uint8_t chunk[4096];
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (size + n > cap) {
			cap = (size + n) * 2;
			data = realloc(data, cap);
			if (!data)
				abort();
		}
		memcpy(data + size, chunk, n);
		size += n;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data ? data : (const uint8_t *)"", size);
	free(data);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0;
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		if (!d) {
			files += replay_file(argv[i]) == 0;
			continue;
		}
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
			struct stat st;
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && replay_file(path) == 0)
				files++;
		}
		closedir(d);
	}
	/* cmocka-style summary so tests/run counts it as one passing test. */
	printf("[==========] replayed %d inputs\n[  PASSED  ] 1 test(s).\n", files);
	return 0;
}
