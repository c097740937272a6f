/*
 * fuzz_request.c: the request parsing and validation functions under
 * libFuzzer.
 *
 * One input is one request: the first byte picks the method, the bytes up
 * to the first newline are the path, the rest is the body.  The path goes
 * through the router (all API routes) and the name validator, the body
 * through the JSON parser and every request schema, and a VM definition
 * found in it through vmdef.  Nothing here touches state, so any crash,
 * leak or sanitizer report is a bug in what a remote client reaches before
 * authentication and authorization.
 *
 * Built two ways: by run-fuzz with clang -fsanitize=fuzzer (ICS_LIBFUZZER
 * defined: libFuzzer's entry point), and into the cmocka test
 * test_request_fuzz, which feeds it mutations of the seed corpus with a
 * fixed seed so gcc builds exercise it too.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "../api.h"
#include "ics/manager/request_schema.h"
#include "ics/manager/vm_inventory.h"

int ics_fuzz_request_one(const uint8_t *data, size_t size);

static IcsRouter *fuzz_router(void)
{
	static gsize once;
	static IcsRouter *router;
	static GPtrArray *volatile bound; /* reachable, for LeakSanitizer */

	if (g_once_init_enter(&once)) {
		router = ics_router_new();
		bound = g_ptr_array_new_with_free_func(g_free);
		ics_api_register(router, bound);
		g_once_init_leave(&once, 1);
	}
	return router;
}

int ics_fuzz_request_one(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD" };
	const char *nl;
	g_autofree char *path = NULL;
	const char *body;
	gsize body_len;

	if (size < 1)
		return 0;
	nl = memchr(data + 1, '\n', size - 1);
	path = g_strndup((const char *)data + 1, nl ? (gsize)(nl - (const char *)data - 1) : 0);
	body = nl ? nl + 1 : (const char *)data + 1;
	body_len = size - (gsize)(body - (const char *)data);

	/* The router and the name rule see the path. */
	{
		g_autoptr(IcsRequest) req =
			ics_request_new(methods[data[0] % G_N_ELEMENTS(methods)], path);
		const void *route = NULL;
		g_autofree char *allow = NULL;
		g_auto(GStrv) segs = g_strsplit(path, "/", -1);

		ics_router_match(fuzz_router(), req, &route, &allow);
		for (guint i = 0; segs[i]; i++)
			ics_name_valid(segs[i]);
	}
	/* The parser and every schema see the body. */
	{
		g_autoptr(GError) err = NULL;
		g_autoptr(json_t) root = ics_request_parse(body, body_len, &err);
		json_t *def;

		if (root == NULL)
			return 0;
		for (guint i = 0; ics_request_schemas[i]; i++) {
			g_autoptr(GError) e = NULL;

			ics_schema_check(ics_request_schemas[i], root, &e);
		}
		def = json_object_get(root, "definition");
		if (def) {
			g_autoptr(GError) e = NULL;
			g_autoptr(IcsVmMeta) vm = ics_vm_inventory_validate(def, &e);

			if (vm) {
				/* What is stored must parse back to the same VM. */
				g_autofree char *text = ics_vm_meta_serialize(vm);
				g_autoptr(IcsVmMeta) again = ics_vm_meta_parse(text, NULL, NULL);

				if (again == NULL || !ics_vm_meta_equal(vm, again))
					__builtin_trap();
			}
		}
	}
	return 0;
}

#ifdef ICS_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return ics_fuzz_request_one(data, size);
}
#endif
