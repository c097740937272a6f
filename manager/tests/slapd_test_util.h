/*
 * slapd_test_util.h: a private OpenLDAP server for the directory tests --
 * a temporary configuration and database (slapadd of a few users and
 * groups), a TLS certificate for 127.0.0.1 made like the manager's own,
 * slapd started in the foreground on loopback (ldap:// with StartTLS, and
 * ldaps://) on free ports, waited for, and killed by its PID at the end.
 * Changes during a test go through ldapmodify as the database's root.
 *
 * The directory (dc=example,dc=com):
 *   cn=ics                     the service account (password Svc-Passw0rd!)
 *   ou=people: dan, erin, frank (employeeType=disabled), gina -- password
 *              "<Name>-Passw0rd!" each
 *   ou=groups: admins (groupOfNames: dan), ops (groupOfNames: erin),
 *              posix (posixGroup, memberUid: gina)
 */
#ifndef SLAPD_TEST_UTIL_H
#define SLAPD_TEST_UTIL_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "ics/manager/tls_cert.h"

#define SLAPD_SUFFIX "dc=example,dc=com"
#define SLAPD_ROOT "cn=admin," SLAPD_SUFFIX
#define SLAPD_ROOT_PW "Root-Passw0rd!"
#define SLAPD_SVC_DN "cn=ics," SLAPD_SUFFIX
#define SLAPD_SVC_PW "Svc-Passw0rd!"

typedef struct {
	GPid pid;
	char *dir;
	guint16 port, tls_port;
	char *url;	 /* ldap://127.0.0.1:PORT (StartTLS offered) */
	char *ldaps_url; /* ldaps://127.0.0.1:PORT */
	char *ca_pem;	 /* the server's (self-signed) certificate */
	char *other_pem; /* a certificate that did not sign it */
} TestSlapd;

static const char slapd_ldif[] =
	"dn: " SLAPD_SUFFIX "\nobjectClass: dcObject\nobjectClass: organization\no: Example\n"
	"dc: example\n\n"
	"dn: " SLAPD_SVC_DN "\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
	"cn: ics\nuserPassword: " SLAPD_SVC_PW "\n\n"
	"dn: ou=people," SLAPD_SUFFIX "\nobjectClass: organizationalUnit\nou: people\n\n"
	"dn: ou=groups," SLAPD_SUFFIX "\nobjectClass: organizationalUnit\nou: groups\n\n"
	"dn: uid=dan,ou=people," SLAPD_SUFFIX "\nobjectClass: inetOrgPerson\nuid: dan\ncn: Dan\n"
	"sn: D\nuserPassword: Dan-Passw0rd!\n\n"
	"dn: uid=erin,ou=people," SLAPD_SUFFIX "\nobjectClass: inetOrgPerson\nuid: erin\n"
	"cn: Erin\nsn: E\nuserPassword: Erin-Passw0rd!\n\n"
	"dn: uid=frank,ou=people," SLAPD_SUFFIX "\nobjectClass: inetOrgPerson\nuid: frank\n"
	"cn: Frank\nsn: F\nemployeeType: disabled\nuserPassword: Frank-Passw0rd!\n\n"
	"dn: uid=gina,ou=people," SLAPD_SUFFIX "\nobjectClass: inetOrgPerson\nuid: gina\n"
	"cn: Gina\nsn: G\nuserPassword: Gina-Passw0rd!\n\n"
	"dn: cn=admins,ou=groups," SLAPD_SUFFIX "\nobjectClass: groupOfNames\ncn: admins\n"
	"member: uid=dan,ou=people," SLAPD_SUFFIX "\n\n"
	"dn: cn=ops,ou=groups," SLAPD_SUFFIX "\nobjectClass: groupOfNames\ncn: ops\n"
	"member: uid=erin,ou=people," SLAPD_SUFFIX "\n\n"
	"dn: cn=posix,ou=groups," SLAPD_SUFFIX "\nobjectClass: posixGroup\ncn: posix\n"
	"gidNumber: 5000\nmemberUid: gina\n";

static inline guint16 test_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	guint16 port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	g_assert(bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
	g_assert(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static inline gboolean test_port_open(guint16 port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	gboolean ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

/* Run @argv; its exit status is 0? */
static inline gboolean test_run(const char *const *argv)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *out = NULL, *errout = NULL;
	int status = -1;

	if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errout,
			  &status, &err)) {
		g_printerr("%s: %s\n", argv[0], err->message);
		return FALSE;
	}
	if (!g_spawn_check_wait_status(status, NULL)) {
		g_printerr("%s failed: %s%s\n", argv[0], out, errout);
		return FALSE;
	}
	return TRUE;
}

static inline void test_slapd_stop(TestSlapd *s)
{
	if (s == NULL)
		return;
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
		g_spawn_close_pid(s->pid);
	}
	test_rm_rf(s->dir);
	g_free(s->dir);
	g_free(s->url);
	g_free(s->ldaps_url);
	g_free(s->ca_pem);
	g_free(s->other_pem);
	g_free(s);
}

/* A running slapd, or NULL when slapd is not installed. */
static inline TestSlapd *test_slapd_start(void)
{
	TestSlapd *s;
	g_autoptr(GError) err = NULL;
	g_autofree char *conf = NULL, *ldif = NULL, *db = NULL, *cert = NULL, *key = NULL;
	g_autofree char *ocert = NULL, *okey = NULL, *key_pem = NULL, *okey_pem = NULL;
	g_autofree char *text = NULL, *urls = NULL;

	if (ICS_SLAPD[0] == '\0' || !g_file_test(ICS_SLAPD, G_FILE_TEST_IS_EXECUTABLE))
		return NULL;
	s = g_new0(TestSlapd, 1);
	s->dir = g_dir_make_tmp("ics-slapd-XXXXXX", NULL);
	g_assert_nonnull(s->dir);
	conf = g_build_filename(s->dir, "slapd.conf", NULL);
	ldif = g_build_filename(s->dir, "data.ldif", NULL);
	db = g_build_filename(s->dir, "db", NULL);
	cert = g_build_filename(s->dir, "cert.pem", NULL);
	key = g_build_filename(s->dir, "key.pem", NULL);
	ocert = g_build_filename(s->dir, "other-cert.pem", NULL);
	okey = g_build_filename(s->dir, "other-key.pem", NULL);
	g_assert(g_mkdir(db, 0700) == 0);
	if (!ics_tls_cert_load(cert, key, TRUE, NULL, &s->ca_pem, &key_pem, &err) ||
	    !ics_tls_cert_load(ocert, okey, TRUE, NULL, &s->other_pem, &okey_pem, &err))
		g_error("test certificates: %s", err->message);
	text = g_strdup_printf("include /etc/ldap/schema/core.schema\n"
			       "include /etc/ldap/schema/cosine.schema\n"
			       "include /etc/ldap/schema/inetorgperson.schema\n"
			       "include /etc/ldap/schema/nis.schema\n"
			       "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
			       "pidfile %s/slapd.pid\n"
			       "TLSCertificateFile %s\nTLSCertificateKeyFile %s\n"
			       "database mdb\nmaxsize 10485760\nsuffix \"" SLAPD_SUFFIX "\"\n"
			       "rootdn \"" SLAPD_ROOT "\"\nrootpw " SLAPD_ROOT_PW "\n"
			       "directory %s\n",
			       s->dir, cert, key, db);
	g_assert(g_file_set_contents(conf, text, -1, NULL));
	g_assert(g_file_set_contents(ldif, slapd_ldif, -1, NULL));
	{
		const char *argv[] = { "/usr/sbin/slapadd", "-q", "-f", conf, "-l", ldif, NULL };

		g_assert(test_run(argv));
	}
	s->port = test_free_port();
	s->tls_port = test_free_port();
	s->url = g_strdup_printf("ldap://127.0.0.1:%u", s->port);
	s->ldaps_url = g_strdup_printf("ldaps://127.0.0.1:%u", s->tls_port);
	urls = g_strdup_printf("%s/ %s/", s->url, s->ldaps_url);
	{
		const char *argv[] = { ICS_SLAPD, "-d", "0", "-f", conf, "-h", urls, NULL };

		if (!g_spawn_async(NULL, (char **)argv, NULL,
				   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
				   NULL, &s->pid, &err))
			g_error("slapd: %s", err->message);
	}
	for (int i = 0; i < 400 && !(test_port_open(s->port) && test_port_open(s->tls_port)); i++)
		g_usleep(25000);
	g_assert(test_port_open(s->port) && test_port_open(s->tls_port));
	return s;
}

/* Apply @ldif (ldapmodify syntax: changetype lines) as the root. */
static inline void test_slapd_modify(const TestSlapd *s, const char *ldif)
{
	g_autofree char *path = g_build_filename(s->dir, "change.ldif", NULL);
	const char *argv[] = { "ldapmodify", "-x",	    "-H", s->url, "-D", SLAPD_ROOT,
			       "-w",	     SLAPD_ROOT_PW, "-f", path,	  NULL };

	g_assert(g_file_set_contents(path, ldif, -1, NULL));
	g_assert(test_run(argv));
}

#endif /* SLAPD_TEST_UTIL_H */
