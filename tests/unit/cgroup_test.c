/* Unit tests of the cgroup line parser and of finding a line's directory. */
#include <errno.h>
#include <stdlib.h>
#include "tree/cgroup.h"
#include "unit.h"

static const char mountinfo[] =
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
	"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"40 31 0:37 /sub /mnt/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

static void test_parse(void)
{
	char *lines[200], text[200 * 32];
	size_t n = 0, len = 0;
	int r;

	/* More lines than the 64 the old parser kept: none may be dropped. */
	for (int i = 0; i < 100; i++)
		len += snprintf(text + len, sizeof(text) - len, "%d:c%d:/a/b%d\n", i, i, i);
	CHECK("100 lines parse", cgroup_parse(text, lines, 200, &n) == 0);
	CHECK("100 lines kept", n == 100 && !strcmp(lines[99], "99:c99:/a/b99"));
	snprintf(text, sizeof(text), "1:a:/\n2:b:/\n3:c:/\n");
	CHECK("past max is an error, not a cut", cgroup_parse(text, lines, 2, &n) == -E2BIG);
	snprintf(text, sizeof(text), "0::/../../x\n");
	CHECK("outside the namespace", cgroup_parse(text, lines, 200, &n) == -EXDEV);
	snprintf(text, sizeof(text), "4:memory\n");
	r = cgroup_parse(text, lines, 200, &n);
	CHECK("malformed line", r == -EINVAL);
	snprintf(text, sizeof(text), "4:memory:relative\n");
	CHECK("relative path", cgroup_parse(text, lines, 200, &n) == -EINVAL);
	snprintf(text, sizeof(text), "9:name=systemd:/\n0::/user.slice/x\n");
	CHECK("v1 named and v2", cgroup_parse(text, lines, 200, &n) == 0 && n == 2 &&
				       !strcmp(lines[1], "0::/user.slice/x"));
}

static void test_dir(void)
{
	char dir[256];

	CHECK("v1 by controllers", cgroup_mount_dir(mountinfo, "8:pids:/a/b", dir, sizeof(dir)) == 0 &&
					   !strcmp(dir, "/sys/fs/cgroup/pids/a/b"));
	CHECK("v1 co-mounted controllers",
	      cgroup_mount_dir(mountinfo, "2:cpu,cpuacct:/x", dir, sizeof(dir)) == 0 &&
		      !strcmp(dir, "/sys/fs/cgroup/cpu,cpuacct/x"));
	CHECK("v1 root cgroup", cgroup_mount_dir(mountinfo, "8:pids:/", dir, sizeof(dir)) == 0 &&
					!strcmp(dir, "/sys/fs/cgroup/pids/"));
	CHECK("v2", cgroup_mount_dir(mountinfo, "0::/s/t", dir, sizeof(dir)) == 0 &&
			    !strcmp(dir, "/sys/fs/cgroup/unified/s/t"));
	CHECK("mount of a subtree", cgroup_mount_dir(mountinfo, "9:name=systemd:/sub/u", dir,
						     sizeof(dir)) == 0 &&
					    !strcmp(dir, "/mnt/systemd/u"));
	CHECK("outside the mounted subtree",
	      cgroup_mount_dir(mountinfo, "9:name=systemd:/subx", dir, sizeof(dir)) == -ENOENT);
	CHECK("no such hierarchy", cgroup_mount_dir(mountinfo, "3:cpuset:/", dir, sizeof(dir)) ==
					   -ENOENT);
	CHECK("too long", cgroup_mount_dir(mountinfo, "8:pids:/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", dir,
					   16) == -ENAMETOOLONG);
}

int main(void)
{
	test_parse();
	test_dir();
	UNIT_END();
}
