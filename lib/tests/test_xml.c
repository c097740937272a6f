/*
 * test_xml.c: parsing with errors captured (nothing on stderr), XPath
 * reads, no external entities, g_autoptr(xmlDoc).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ics/error.h"
#include "ics/xml.h"

static const char domain_xml[] =
	"<domain type='kvm'>\n"
	"  <name>vm1</name>\n"
	"  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n"
	"  <memory unit='KiB'>1048576</memory>\n"
	"  <devices><disk type='file'><source file='/srv/a.qcow2'/></disk>"
	"<disk type='file'><source file='/srv/b.qcow2'/></disk></devices>\n"
	"</domain>\n";

static void test_parse_and_xpath(void **state)
{
	g_autoptr(xmlDoc) doc = ics_xml_parse_string(domain_xml, -1, "domain", NULL);
	g_autofree char *name = NULL;
	g_autofree char *unit = NULL;
	g_autofree char *src = NULL;
	g_autofree char *count = NULL;

	assert_non_null(doc);
	name = ics_xml_xpath_string(doc, "/domain/name", NULL);
	assert_string_equal(name, "vm1");
	unit = ics_xml_xpath_string(doc, "string(/domain/memory/@unit)", NULL);
	assert_string_equal(unit, "KiB");
	src = ics_xml_xpath_string(doc, "//disk/source/@file", NULL);
	assert_string_equal(src, "/srv/a.qcow2");
	count = ics_xml_xpath_string(doc, "count(//disk)", NULL);
	assert_string_equal(count, "2");
	assert_int_equal(ics_xml_xpath_count(doc, "//disk", NULL), 2);
	assert_int_equal(ics_xml_xpath_count(doc, "//interface", NULL), 0);
}

static void test_xpath_not_found_and_invalid(void **state)
{
	g_autoptr(xmlDoc) doc = ics_xml_parse_string(domain_xml, -1, "domain", NULL);
	g_autoptr(GError) nf = NULL;
	g_autoptr(GError) bad = NULL;
	g_autoptr(GError) notnodes = NULL;

	assert_null(ics_xml_xpath_string(doc, "/domain/vcpu", &nf));
	assert_true(g_error_matches(nf, ICS_ERROR, ICS_ERROR_NOT_FOUND));
	assert_null(ics_xml_xpath_string(doc, "/domain[", &bad));
	assert_true(g_error_matches(bad, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_non_null(strstr(bad->message, "/domain["));
	assert_int_equal(ics_xml_xpath_count(doc, "count(//disk)", &notnodes), -1);
	assert_true(g_error_matches(notnodes, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
}

/* Parse @text with stderr redirected; fail if anything was printed. */
static xmlDoc *parse_silently(const char *text, GError **error)
{
	g_autofree char *path = NULL;
	g_autofree char *printed = NULL;
	int fd = g_file_open_tmp("test_xml-XXXXXX", &path, NULL);
	int saved;
	xmlDoc *doc;

	assert_true(fd >= 0);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	doc = ics_xml_parse_string(text, -1, "cib", error);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fd);
	assert_true(g_file_get_contents(path, &printed, NULL, NULL));
	unlink(path);
	assert_string_equal(printed, "");
	return doc;
}

static void test_malformed_reports_first_error_with_line(void **state)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(xmlDoc) doc = parse_silently("<cib>\n<nodes>\n</cib>\n", &err);

	assert_null(doc);
	assert_true(g_error_matches(err, ICS_ERROR, ICS_ERROR_PARSE));
	assert_true(g_str_has_prefix(err->message, "cib:3: "));
	assert_non_null(strstr(err->message, "mismatch"));
}

static void test_empty_and_null(void **state)
{
	g_autoptr(GError) e1 = NULL;
	g_autoptr(GError) e2 = NULL;
	g_autoptr(GError) e3 = NULL;

	assert_null(ics_xml_parse_string("", -1, "x", &e1));
	assert_true(g_error_matches(e1, ICS_ERROR, ICS_ERROR_PARSE));
	assert_null(ics_xml_parse_string(NULL, -1, "x", &e2));
	assert_true(g_error_matches(e2, ICS_ERROR, ICS_ERROR_INVALID_ARGUMENT));
	assert_null(parse_silently("just text", &e3));
	assert_true(g_error_matches(e3, ICS_ERROR, ICS_ERROR_PARSE));
}

static void test_explicit_length(void **state)
{
	/* Only the first 7 bytes are the document. */
	g_autoptr(xmlDoc) doc = ics_xml_parse_string("<a>b</a>garbage", 8, "x", NULL);
	g_autofree char *v = NULL;

	assert_non_null(doc);
	v = ics_xml_xpath_string(doc, "/a", NULL);
	assert_string_equal(v, "b");
}

static void test_no_external_entities(void **state)
{
	g_autofree char *path = NULL;
	g_autofree char *text = NULL;
	g_autofree char *value = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	int fd = g_file_open_tmp("test_xml-secret-XXXXXX", &path, NULL);

	assert_true(fd >= 0);
	close(fd);
	assert_true(g_file_set_contents(path, "SECRET", -1, NULL));
	text = g_strdup_printf("<!DOCTYPE a [<!ENTITY x SYSTEM \"file://%s\">]><a>&x;</a>", path);
	doc = ics_xml_parse_string(text, -1, "x", NULL);
	if (doc != NULL) {
		value = ics_xml_xpath_string(doc, "string(/a)", NULL);
		assert_null(strstr(value, "SECRET"));
	}
	unlink(path);
}

static void test_parse_file(void **state)
{
	g_autofree char *path = NULL;
	g_autoptr(xmlDoc) doc = NULL;
	g_autoptr(GError) missing = NULL;
	g_autofree char *dumped = NULL;
	int fd = g_file_open_tmp("test_xml-XXXXXX.xml", &path, NULL);

	assert_true(fd >= 0);
	close(fd);
	assert_true(g_file_set_contents(path, domain_xml, -1, NULL));
	doc = ics_xml_parse_file(path, NULL);
	assert_non_null(doc);
	dumped = ics_xml_to_string(doc);
	assert_non_null(strstr(dumped, "<name>vm1</name>"));
	assert_true(g_str_has_prefix(dumped, "<?xml"));
	unlink(path);

	assert_null(ics_xml_parse_file("/nonexistent/domain.xml", &missing));
	assert_true(g_error_matches(missing, ICS_ERROR, ICS_ERROR_NOT_FOUND));
}

static int teardown_group(void **state)
{
	xmlCleanupParser();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_xpath),
		cmocka_unit_test(test_xpath_not_found_and_invalid),
		cmocka_unit_test(test_malformed_reports_first_error_with_line),
		cmocka_unit_test(test_empty_and_null),
		cmocka_unit_test(test_explicit_length),
		cmocka_unit_test(test_no_external_entities),
		cmocka_unit_test(test_parse_file),
	};

	return cmocka_run_group_tests_name("xml", tests, NULL, teardown_group);
}
