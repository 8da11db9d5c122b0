/* remote/url.c alone: every form of --remote, and the bad ones refused with the character
 * at fault; the password never in the shown form. usage: test_remote_url */
#include <string.h>

#include "remote/remote.h"
#include "tests/testutil.h"

static void good(const char *s, const char *host, int port, const char *path, const char *user,
		 const char *pass, int db, const char *shown)
{
	struct vms_remote_url u;
	char *why = NULL;
	int e = vms_remote_url_parse(s, &u, &why);
	CHECK(e == 0, "%s refused: %s", s, why ? why : "");
	free(why);
	if (e)
		return;
#define SAME(a, b) ((!(a) && !(b)) || ((a) && (b) && !strcmp(a, b)))
	CHECK(SAME(u.host, host) && u.port == port && SAME(u.path, path) && SAME(u.user, user) &&
	      SAME(u.pass, pass) && u.db == db,
	      "%s: host %s port %d path %s user %s pass %s db %d", s, u.host, u.port, u.path,
	      u.user, u.pass, u.db);
	CHECK(!strcmp(u.shown, shown), "%s shown as %s, expected %s", s, u.shown, shown);
	CHECK(!u.pass || !strstr(u.shown, u.pass), "%s: the password is shown", s);
	vms_remote_url_free(&u);
}

static void bad(const char *s, const char *needle)
{
	struct vms_remote_url u;
	char *why = NULL;
	CHECK(vms_remote_url_parse(s, &u, &why) < 0, "%s accepted", s);
	CHECK(why && strstr(why, needle), "%s: message %s, expected '%s'", s, why ? why : "(none)",
	      needle);
	free(why);
}

int main(void)
{
	good("redis://localhost", "localhost", 6379, NULL, NULL, NULL, 0, "redis://localhost:6379");
	good("redis://10.0.0.5:7000/2", "10.0.0.5", 7000, NULL, NULL, NULL, 2, "redis://10.0.0.5:7000/2");
	good("redis://:pw@h", "h", 6379, NULL, NULL, "pw", 0, "redis://:***@h:6379");
	good("redis://pw@h", "h", 6379, NULL, NULL, "pw", 0, "redis://:***@h:6379");
	good("redis://ci:p%40ss:w@h:1/", "h", 1, NULL, "ci", "p@ss:w", 0, "redis://ci:***@h:1");
	good("redis://a:b@c@h", "h", 6379, NULL, "a", "b@c", 0, "redis://a:***@h:6379");
	good("redis://[::1]:6380/1", "::1", 6380, NULL, NULL, NULL, 1, "redis://[::1]:6380/1");
	good("unix:///run/redis.sock", NULL, 0, "/run/redis.sock", NULL, NULL, 0, "unix:///run/redis.sock");
	good("unix://:pw@/r.sock?db=4", NULL, 0, "/r.sock", NULL, "pw", 4, "unix://:***@/r.sock?db=4");
	bad("rediss://h", "TLS");
	bad("http://h", "expected redis://");
	bad("redis://", "expected a host name");
	bad("redis://h:0", "at character 11: expected a port");
	bad("redis://h:65536", "expected a port");
	bad("redis://h:12x", "expected a port");
	bad("redis://h/x", "database number");
	bad("redis://[::1", "must end with ']'");
	bad("redis://:p%4@h", "broken %XX");
	bad("redis://:p%00@h", "broken %XX");
	bad("unix://", "absolute socket path");
	bad("unix://host/r.sock", "no host");
	bad("unix:///r.sock?db=x", "?db=N");
	return test_exit();
}
