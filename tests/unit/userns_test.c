/* Unit tests of user namespace id maps: what the kernel would take, and ids
 * from nestor's terms to a nested namespace's (src/ns/userns.c). */
#include <errno.h>
#include <stdlib.h>
#include "ns/ns-priv.h"
#include "ns/userns.h"
#include "unit.h"

static UsernsExtent ext[8];
static UsernsExtent *map[8];

static UsernsExtent **mk(size_t n, const uint32_t (*v)[3])
{
	for (size_t i = 0; i < n; i++) {
		userns_extent__init(&ext[i]);
		ext[i].first = v[i][0];
		ext[i].lower_first = v[i][1];
		ext[i].count = v[i][2];
		map[i] = &ext[i];
	}
	return map;
}

static void test_map_ok(void)
{
	static const uint32_t good[][3] = { { 0, 100000, 1000 }, { 1000, 5000, 10 } };
	static const uint32_t inside[][3] = { { 0, 100000, 1000 }, { 999, 5000, 10 } };
	static const uint32_t outside[][3] = { { 0, 100000, 1000 }, { 2000, 100999, 1 } };
	static const uint32_t empty[][3] = { { 0, 100000, 0 } };
	static const uint32_t wrap[][3] = { { 4294967295u, 0, 2 } };
	static const uint32_t touch[][3] = { { 0, 0, 10 }, { 10, 10, 10 } };

	CHECK("two lines apart", userns_map_ok(mk(2, good), 2));
	CHECK("no line at all (never written)", userns_map_ok(mk(0, good), 0));
	CHECK("inside ranges meet", !userns_map_ok(mk(2, inside), 2));
	CHECK("outside ranges meet", !userns_map_ok(mk(2, outside), 2));
	CHECK("an empty line", !userns_map_ok(mk(1, empty), 1));
	CHECK("a line that wraps", !userns_map_ok(mk(1, wrap), 1));
	CHECK("adjacent lines are fine", userns_map_ok(mk(2, touch), 2));
	CHECK("more than 340 lines", !userns_map_ok(mk(1, good), 341));
}

static void test_down(void)
{
	static const uint32_t m[][3] = { { 0, 100000, 1000 }, { 5000, 7, 3 } };
	uint32_t v = 42;

	mk(2, m);
	CHECK("first line", userns_map_down(map, 2, 100005, &v) == 0 && v == 5);
	CHECK("last id of a line", userns_map_down(map, 2, 100999, &v) == 0 && v == 999);
	CHECK("second line", userns_map_down(map, 2, 9, &v) == 0 && v == 5002);
	v = 42;
	CHECK("unmapped, ret untouched", userns_map_down(map, 2, 101000, &v) == -ENOENT && v == 42);
}

/* nestor's user namespace (1, host), U1 (2) maps 0..9999 to 100000, U2 (3)
 * maps 0..99 to U1's 1000: nestor's 101005 is U2's 5. */
static void test_to_inside(void)
{
	static const uint32_t m1[][3] = { { 0, 100000, 10000 } };
	static const uint32_t m2[][3] = { { 0, 1000, 100 } };
	UsernsExtent e1, e2, *p1 = &e1, *p2 = &e2;
	UsernsEntry u1 = USERNS_ENTRY__INIT, u2 = USERNS_ENTRY__INIT;
	NsEntry n[3] = { NS_ENTRY__INIT, NS_ENTRY__INIT, NS_ENTRY__INIT };
	struct restore_ns ns[3] = { { 0 } };
	struct restore_ctx ctx = { 0 };
	uint32_t v = 0;

	mk(1, m1);
	e1 = ext[0];
	mk(1, m2);
	e2 = ext[0];
	u1.n_uid_map = u1.n_gid_map = 1;
	u1.uid_map = u1.gid_map = &p1;
	u2.n_uid_map = u2.n_gid_map = 1;
	u2.uid_map = u2.gid_map = &p2;
	for (int i = 0; i < 3; i++) {
		n[i].id = i + 1;
		n[i].kind = "user";
		ns[i].e = &n[i];
		ns[i].kind = NSK_USER;
	}
	n[0].host = true;
	n[1].parent = n[1].owner = 1;
	n[2].parent = n[2].owner = 2;
	ns[1].priv = &u1;
	ns[2].priv = &u2;
	ctx.ns = ns;
	ctx.nr_ns = 3;
	CHECK("two levels down", userns_to_inside(&ctx, 3, false, 101005, &v) == 0 && v == 5);
	CHECK("one level down", userns_to_inside(&ctx, 2, true, 101005, &v) == 0 && v == 1005);
	CHECK("nestor's own: as is", userns_to_inside(&ctx, 1, false, 7, &v) == 0 && v == 7);
	CHECK("mapped in U1, not in U2", userns_to_inside(&ctx, 3, false, 100005, &v) == -ENOENT);
}

int main(void)
{
	test_map_ok();
	test_down();
	test_to_inside();
	UNIT_END();
}
