/* Unit tests of the pid map: lookups, replacement, removal with the runs of
 * colliding entries shifted back, growth, against a plain array as oracle. */
#include <stdbool.h>
#include <stdlib.h>
#include "core/pidmap.h"
#include "unit.h"

#define N 20000

static int oracle[N + 1];

int main(void)
{
	struct pidmap m = { 0 };
	bool ok = true;

	CHECK("empty map finds nothing", pidmap_get(&m, 1) == -1 && pidmap_take(&m, 1) == -1);
	CHECK("pid 0 is refused", pidmap_put(&m, 0, 1) < 0);
	for (int p = 1; p <= N; p++)
		oracle[p] = -1;
	srandom(7);
	/* Adds, replaces and removes at random; every pid checked after each phase. */
	for (int round = 0; round < 4; round++) {
		for (int k = 0; k < N; k++) {
			int p = 1 + random() % N, v = random() % 1000;

			if (random() % 3) {
				ok &= pidmap_put(&m, p, v) == 0;
				oracle[p] = v;
			} else {
				ok &= pidmap_take(&m, p) == oracle[p];
				oracle[p] = -1;
			}
		}
		for (int p = 1; p <= N; p++)
			ok &= pidmap_get(&m, p) == oracle[p];
	}
	CHECK("random puts and takes agree with the oracle", ok);
	size_t n = 0;
	for (int p = 1; p <= N; p++)
		n += oracle[p] >= 0;
	CHECK("count agrees", m.nr == n && 2 * m.nr <= m.cap);
	pidmap_free(&m);
	ok = true;
	for (int p = 100; p < 100 + N; p++)
		ok &= pidmap_put(&m, p, p - 100) == 0;
	for (int p = 100; p < 100 + N; p++)
		ok &= pidmap_get(&m, p) == p - 100;
	for (int p = 100; p < 100 + N; p += 2)
		ok &= pidmap_take(&m, p) == p - 100;
	for (int p = 100; p < 100 + N; p++)
		ok &= pidmap_get(&m, p) == (p % 2 ? p - 100 : -1);
	CHECK("consecutive pids (a flat tree)", ok && m.nr == N / 2);
	pidmap_free(&m);
	UNIT_END();
}
