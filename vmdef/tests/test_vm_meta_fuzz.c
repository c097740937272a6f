/*
 * test_vm_meta_fuzz.c: random and mutated vm.json never crash the parser
 * (run under ASan/UBSan), and every outcome is either a VM that renders to
 * domain XML and round-trips, or one ICS error with a message.
 *
 * Three generators, seeded deterministically (ICS_FUZZ_SEED overrides,
 * ICS_FUZZ_ROUNDS scales): byte mutations of the maximal definition (mostly
 * syntax errors), structural mutations (a member replaced by a value of a
 * random type, deleted, or an odd key added; these reach the validators),
 * and random JSON values.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ics/error.h"
#include "ics/vmdef.h"
#include "vmdef_test_util.h"

static GRand *rng;
static guint rounds = 3000;
static guint accepted, rejected;

static void check_one(const char *text)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(IcsVmMeta) m = ics_vm_meta_parse(text, TEST_POOL, &err);

	if (m == NULL) {
		assert_non_null(err);
		assert_true(err->domain == ICS_ERROR);
		assert_true(err->code == ICS_ERROR_PARSE ||
			    err->code == ICS_ERROR_INVALID_ARGUMENT);
		assert_true(err->message != NULL && err->message[0] != '\0');
		rejected++;
		return;
	}
	assert_null(err);
	accepted++;
	{
		g_autofree char *xml = ics_domain_xml(m, &err);
		g_autofree char *again = ics_vm_meta_serialize(m);
		g_autoptr(IcsVmMeta) m2 = ics_vm_meta_parse(again, TEST_POOL, &err);

		/* A VM the parser accepts always renders. */
		if (xml == NULL)
			fail_msg("accepted but not rendered: %s", err->message);
		assert_non_null(m2);
		assert_true(ics_vm_meta_equal(m, m2));
	}
}

static void test_byte_mutations(void **state)
{
	g_autofree char *base = maximal_json(TEST_POOL);
	size_t len = strlen(base);

	for (guint r = 0; r < rounds; r++) {
		g_autofree char *t = g_strdup(base);
		guint n = g_rand_int_range(rng, 1, 4);

		for (guint k = 0; k < n; k++) {
			size_t pos = (size_t)g_rand_int_range(rng, 0, (gint32)len);

			switch (g_rand_int_range(rng, 0, 3)) {
			case 0:
				t[pos] = (char)g_rand_int_range(rng, 1, 256);
				break;
			case 1:
				t[pos] = "{}[]\",:0-9etn\\ "[g_rand_int_range(rng, 0, 16)];
				break;
			default:
				t[pos] = '\0'; /* truncation */
				break;
			}
		}
		check_one(t);
	}
}

static json_t *random_value(int depth)
{
	static const char *const strings[] = { "",
					       "hd",
					       "ovs",
					       "qcow2",
					       "virtio",
					       "52:54:00:01:02:03",
					       "ff:ff:ff:ff:ff:ff",
					       TEST_UUID,
					       TEST_POOL "/x.raw",
					       TEST_POOL "/.ics/leases",
					       "/etc/passwd",
					       "../x",
					       "vda",
					       "sdzzz",
					       "\xc3\x28",
					       "a\nb" };

	switch (g_rand_int_range(rng, 0, depth > 2 ? 5 : 7)) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(g_rand_boolean(rng));
	case 2: {
		static const json_int_t ints[] = { 0,	    1,	     -1,	 16,
						   256,	    257,     4094,	 4095,
						   1048576, 1572864, G_MAXINT64, G_MININT64,
						   4194304, 2 };
		return json_integer(ints[g_rand_int_range(rng, 0, G_N_ELEMENTS(ints))]);
	}
	case 3:
		return json_real(g_rand_double(rng));
	case 4:
		return json_string_nocheck(
			strings[g_rand_int_range(rng, 0, G_N_ELEMENTS(strings))]);
	case 5: {
		json_t *a = json_array();
		int n = g_rand_int_range(rng, 0, 4);

		for (int i = 0; i < n; i++)
			json_array_append_new(a, random_value(depth + 1));
		return a;
	}
	default: {
		static const char *const keys[] = { "path", "type",   "name", "source", "mac",
						    "vlan", "target", "bus",  "model",	"x" };
		json_t *o = json_object();
		int n = g_rand_int_range(rng, 0, 4);

		for (int i = 0; i < n; i++)
			json_object_set_new(o, keys[g_rand_int_range(rng, 0, G_N_ELEMENTS(keys))],
					    random_value(depth + 1));
		return o;
	}
	}
}

/* Pick a random object or array inside @v (possibly @v itself). */
static json_t *random_container(json_t *v)
{
	for (int hops = 0; hops < 6 && g_rand_boolean(rng); hops++) {
		json_t *child = NULL;

		if (json_is_object(v) && json_object_size(v) > 0) {
			int k = g_rand_int_range(rng, 0, (gint32)json_object_size(v));
			void *it = json_object_iter(v);

			while (k-- > 0)
				it = json_object_iter_next(v, it);
			child = json_object_iter_value(it);
		} else if (json_is_array(v) && json_array_size(v) > 0) {
			child = json_array_get(
				v, g_rand_int_range(rng, 0, (gint32)json_array_size(v)));
		}
		if (child == NULL || !(json_is_object(child) || json_is_array(child)))
			break;
		v = child;
	}
	return v;
}

static void test_structural_mutations(void **state)
{
	g_autofree char *base = maximal_json(TEST_POOL);

	for (guint r = 0; r < rounds; r++) {
		json_t *root = json_loads(base, 0, NULL);
		json_t *c = random_container(root);
		char *text;

		if (json_is_object(c)) {
			const char *key = NULL;
			int k = (gint32)json_object_size(c);
			void *it = json_object_iter(c);

			k = k ? g_rand_int_range(rng, 0, k) : 0;
			while (it && k-- > 0)
				it = json_object_iter_next(c, it);
			key = it ? json_object_iter_key(it) : "x";
			if (g_rand_int_range(rng, 0, 4) == 0)
				json_object_del(c, key);
			else
				json_object_set_new(c, key, random_value(0));
		} else if (json_is_array(c)) {
			if (json_array_size(c) > 0 && g_rand_boolean(rng))
				json_array_set_new(
					c, g_rand_int_range(rng, 0, (gint32)json_array_size(c)),
					random_value(0));
			else
				json_array_append_new(c, random_value(0));
		}
		text = json_dumps(root, JSON_ALLOW_NUL);
		check_one(text);
		free(text);
		json_decref(root);
	}
}

static void test_random_values(void **state)
{
	for (guint r = 0; r < rounds; r++) {
		json_t *v = random_value(0);
		char *text = json_dumps(v, JSON_ENCODE_ANY);

		check_one(text);
		free(text);
		json_decref(v);
	}
}

static void test_outcomes_seen(void **state)
{
	/* A fuzzer that never gets past the syntax check proves little. */
	print_message("# fuzz: %u accepted, %u rejected\n", accepted, rejected);
	assert_true(accepted > 0);
	assert_true(rejected > accepted);
}

int main(void)
{
	const char *seed = g_getenv("ICS_FUZZ_SEED");
	const char *n = g_getenv("ICS_FUZZ_ROUNDS");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_byte_mutations),
		cmocka_unit_test(test_structural_mutations),
		cmocka_unit_test(test_random_values),
		cmocka_unit_test(test_outcomes_seen),
	};
	int rc;

	if (n)
		rounds = (guint)atoi(n);
	rng = g_rand_new_with_seed(seed ? (guint32)strtoul(seed, NULL, 0) : 20240517u);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	g_rand_free(rng);
	return rc;
}
