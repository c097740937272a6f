/*
 * test_request_fuzz.c: the fuzz target's function (fuzz/fuzz_request.c)
 * fed with the seed corpus and 20000 mutations of it from a fixed seed --
 * bit flips, byte insertions and deletions, truncations, splices of two
 * seeds, interesting values -- so every build (gcc, under ASan/UBSan)
 * runs what the libFuzzer target runs, reproducibly.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <glib.h>

int ics_fuzz_request_one(const uint8_t *data, size_t size);

static GPtrArray *load_seeds(void)
{
	const char *src = g_getenv("ICS_SRCDIR");
	g_autofree char *dir =
		g_build_filename(src ? src : "..", "manager", "fuzz", "corpus", NULL);
	g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
	GPtrArray *seeds = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
	const char *name;

	assert_non_null(d);
	while ((name = g_dir_read_name(d))) {
		g_autofree char *path = g_build_filename(dir, name, NULL);
		char *data;
		gsize len;

		assert_true(g_file_get_contents(path, &data, &len, NULL));
		g_ptr_array_add(seeds, g_bytes_new_take(data, len));
	}
	assert_true(seeds->len >= 5);
	return seeds;
}

static void test_seeds(void **state)
{
	g_autoptr(GPtrArray) seeds = load_seeds();
	static const char *const nasty[] = {
		"\x01/api/v1/vms\n{\"definition\": {\"name\": \"a\", \"vcpus\": "
		"9223372036854775807,"
		" \"memory_mib\": -1}}",
		"\x01/api/v1/vms\n{\"definition\": {\"disks\": [[[[[[[[]]]]]]]]}}",
		"\x01/api/v1/users\n{\"name\": \"\\u0000\", \"password\": \"\\ud800\"}",
		"\x01//////\n{\"a\":{\"a\":{\"a\":{\"a\":{}}}}}",
		"\x04/api/v1/users/{user}\n1e999999",
		"\x01\n",
		"\x01",
	};

	for (guint i = 0; i < seeds->len; i++) {
		gsize n;
		const guint8 *d = g_bytes_get_data(g_ptr_array_index(seeds, i), &n);

		assert_int_equal(ics_fuzz_request_one(d, n), 0);
	}
	for (guint i = 0; i < G_N_ELEMENTS(nasty); i++)
		assert_int_equal(ics_fuzz_request_one((const uint8_t *)nasty[i], strlen(nasty[i])),
				 0);
}

static void test_mutations(void **state)
{
	g_autoptr(GPtrArray) seeds = load_seeds();
	GRand *rng = g_rand_new_with_seed(20261126);
	static const char *const tokens[] = { "{",
					      "}",
					      "[",
					      "]",
					      "\"",
					      ",",
					      ":",
					      "null",
					      "true",
					      "-0",
					      "1e308",
					      "\\u0000",
					      "\\ud83d",
					      "..",
					      "/",
					      "%2F",
					      "\"definition\"",
					      "\"name\"",
					      "\xff" };

	for (int iter = 0; iter < 20000; iter++) {
		gsize n;
		const guint8 *d = g_bytes_get_data(
			g_ptr_array_index(seeds, g_rand_int_range(rng, 0, (gint32)seeds->len)), &n);
		g_autoptr(GString) b = g_string_new_len((const char *)d, (gssize)n);
		int rounds = g_rand_int_range(rng, 1, 6);

		for (int r = 0; r < rounds && b->len > 0; r++) {
			gsize pos = (gsize)g_rand_int_range(rng, 0, (gint32)b->len);

			switch (g_rand_int_range(rng, 0, 6)) {
			case 0: /* flip a bit */
				b->str[pos] ^= (char)(1u << g_rand_int_range(rng, 0, 8));
				break;
			case 1: { /* delete a run (MIN evaluates twice: draw first) */
				gsize run = (gsize)g_rand_int_range(rng, 1, 16);

				g_string_erase(b, (gssize)pos, (gssize)MIN(b->len - pos, run));
				break;
			}
			case 2: /* insert a token */
				g_string_insert(
					b, (gssize)pos,
					tokens[g_rand_int_range(rng, 0, G_N_ELEMENTS(tokens))]);
				break;
			case 3: /* truncate */
				g_string_truncate(b, pos);
				break;
			case 4: { /* splice in the tail of another seed */
				gsize m;
				const char *o = g_bytes_get_data(
					g_ptr_array_index(
						seeds,
						g_rand_int_range(rng, 0, (gint32)seeds->len)),
					&m);
				gsize from = (gsize)g_rand_int_range(rng, 0, (gint32)m);

				g_string_truncate(b, pos);
				g_string_append_len(b, o + from, (gssize)(m - from));
				break;
			}
			default: /* a random byte */
				b->str[pos] = (char)g_rand_int_range(rng, 0, 256);
				break;
			}
		}
		assert_int_equal(ics_fuzz_request_one((const uint8_t *)b->str, b->len), 0);
	}
	g_rand_free(rng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seeds),
		cmocka_unit_test(test_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
