/* Unit tests of mountinfo parsing, tree comparison and propagation plans (src/ns/mnt.c). */
#include <errno.h>
#include <stdlib.h>
#include "ns/mnt.h"
#include "unit.h"

/* Made in this order: children listed before the root, as a host shows it. */
static const char original[] =
	"22 27 0:21 / /proc rw,relatime shared:5 - proc proc rw\n"
	"24 27 0:6 / /dev rw,relatime shared:2 - devtmpfs devtmpfs rw,mode=755\n"
	"27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n"
	"28 27 0:25 / /mnt/a\\040b ro master:9 - tmpfs x ro,size=4k\n"
	"29 24 0:26 / /dev/pts rw unbindable - devpts devpts rw\n";
/* Its copy, as a copy lists it: walking the tree. */
static const char copy[] =
	"70 69 254:0 / / rw,relatime - ext4 /dev/vda rw\n"
	"71 70 0:25 / /mnt/a\\040b ro - tmpfs x ro,size=4k\n"
	"72 70 0:6 / /dev rw,relatime shared:40 - devtmpfs devtmpfs rw,mode=755\n"
	"73 72 0:26 / /dev/pts rw - devpts devpts rw\n"
	"74 70 0:21 / /proc rw,relatime - proc proc rw\n";

static void test_parse_compare(void)
{
	char a[sizeof(original)], b[sizeof(copy)];
	struct mtree ta = { 0 }, tb = { 0 };
	bool extra = false;

	memcpy(a, original, sizeof(a));
	memcpy(b, copy, sizeof(b));
	CHECK("original parses", mnt_parse(a, &ta) == 0 && ta.n == 5);
	CHECK("copy parses", mnt_parse(b, &tb) == 0 && tb.n == 5);
	CHECK("root first", !strcmp(ta.m[0].point, "/") && ta.m[0].parent == 0);
	CHECK("escapes undone", !strcmp(ta.m[4].point, "/mnt/a b") || !strcmp(ta.m[3].point, "/mnt/a b"));
	CHECK("propagation read", ta.m[0].shared == 1 && !ta.m[0].master);
	CHECK("same tree in either order", mnt_compare(&tb, &ta, &extra) == -1);
	char *saved = tb.m[2].opts;
	tb.m[2].opts = (char *)"ro";
	CHECK("other options differ", mnt_compare(&tb, &ta, &extra) == 2 && extra);
	tb.m[2].opts = saved;
	tb.n--;
	CHECK("a missing mount is named from nestor's", mnt_compare(&tb, &ta, &extra) == 4 && !extra);
	free(ta.m);
	free(tb.m);
	memcpy(a, "1 1 0:1 / / rw - x y z\n2 3 0:1 / /a rw - x y z\n3 2 0:1 / /b rw - x y z\n", 72);
	CHECK("a loop of parents is no tree", mnt_parse(a, &ta) < 0);
	free(ta.m);
}

static void test_plan(void)
{
	unsigned ops = 0;

	CHECK("a private copy to private", mnt_plan(0, 0, 0, 0, false, &ops) == 0 && ops == 0);
	CHECK("a peer copy to slave", mnt_plan(5, 0, 0, 5, false, &ops) == 0 && ops == MNT_OP_SLAVE);
	CHECK("a peer copy kept", mnt_plan(5, 0, 5, 0, false, &ops) == 0 && ops == 0);
	CHECK("to a group of its own",
	      mnt_plan(5, 0, MNT_GROUP_NEW, 0, false, &ops) == 0 &&
		      ops == (MNT_OP_PRIVATE | MNT_OP_SHARED));
	CHECK("slave and shared of its own",
	      mnt_plan(5, 0, MNT_GROUP_NEW, 5, false, &ops) == 0 &&
		      ops == (MNT_OP_SLAVE | MNT_OP_SHARED));
	CHECK("a slave copy (user namespace) to private",
	      mnt_plan(0, 5, 0, 0, false, &ops) == 0 && ops == MNT_OP_PRIVATE);
	CHECK("unbindable", mnt_plan(0, 0, 0, 0, true, &ops) == 0 && ops == MNT_OP_UNBINDABLE);
	CHECK("a slave of another group", mnt_plan(5, 0, 0, 7, false, &ops) == -EINVAL);
	CHECK("a peer of a group the copy is not in", mnt_plan(5, 0, 7, 0, false, &ops) == -EINVAL);
	CHECK("leaving peers but keeping the master", mnt_plan(5, 3, 0, 3, false, &ops) == -EINVAL);
	CHECK("a slave copy cannot become a peer", mnt_plan(0, 5, 5, 0, false, &ops) == -EINVAL);
}

/* A container's namespace: its own proc on /proc, another on /mnt/p with a tmpfs under it. */
static const char with_procs[] =
	"70 69 254:0 / / rw - ext4 /dev/vda rw\n"
	"71 70 0:21 / /proc rw - proc proc rw\n"
	"72 71 0:40 / /proc rw,nosuid - proc proc rw,hidepid=invisible\n"
	"73 70 0:25 / /mnt rw - tmpfs x rw\n"
	"74 73 0:41 / /mnt/p ro - proc none ro,subset=pid\n"
	"75 70 0:6 / /dev rw - devtmpfs devtmpfs rw\n";

static void test_drop(void)
{
	char a[sizeof(with_procs)];
	struct mtree t = { 0 };

	memcpy(a, with_procs, sizeof(a));
	CHECK("parses", mnt_parse(a, &t) == 0 && t.n == 6);
	CHECK("device read", !strcmp(t.m[1].dev, "0:6"));
	/* preorder: / /dev /mnt /mnt/p /proc /proc */
	CHECK("order", !strcmp(t.m[3].point, "/mnt/p") && !strcmp(t.m[5].dev, "0:40"));
	mnt_drop(&t, 5);
	mnt_drop(&t, 3);
	CHECK("two dropped", t.n == 4 && !strcmp(t.m[3].point, "/proc") &&
				     !strcmp(t.m[3].dev, "0:21"));
	CHECK("parents kept", t.m[3].parent == 0 && t.m[2].parent == 0 && t.m[1].parent == 0 &&
				      !strcmp(t.m[2].point, "/mnt"));
	mnt_drop(&t, 1);
	CHECK("parents shift", t.n == 3 && t.m[1].parent == 0 && t.m[2].parent == 0 &&
				       !strcmp(t.m[2].point, "/proc"));
	mnt_tree_free(&t);
}

int main(void)
{
	test_drop();
	test_parse_compare();
	test_plan();
	UNIT_END();
}
