/* Unit test of the vDSO check: this kernel's own layout passes, any other is refused. */
#include "core/log.h"
#include "unit.h"
#include "infect/vdso.h"

int main(void)
{
	struct vdso_area self[VDSO_MAX_AREAS];
	VdsoAreaEntry e[VDSO_MAX_AREAS], *ep[VDSO_MAX_AREAS];
	InventoryEntry inv = INVENTORY_ENTRY__INIT;
	uint64_t hash;
	int n;

	log_init(-1, -1, NULL);
	CHECK("own vdso found", vdso_self(self, &n, &hash) == 0 && n >= 1 && hash);
	for (int i = 0; i < n; i++) {
		vdso_area_entry__init(&e[i]);
		e[i].name = self[i].name;
		e[i].start = self[i].start;
		e[i].end = self[i].end;
		ep[i] = &e[i];
	}
	inv.vdso = ep;
	inv.n_vdso = n;
	inv.vdso_hash = hash;
	CHECK("same vdso accepted", vdso_validate(&inv) == 0);
	inv.vdso_hash = hash ^ 1;
	CHECK("other vdso code refused", vdso_validate(&inv) < 0);
	inv.vdso_hash = hash;
	e[0].end += 4096;
	CHECK("other vdso size refused", vdso_validate(&inv) < 0);
	e[0].end -= 4096;
	inv.n_vdso = n - 1;
	CHECK("missing vdso area refused", n == 1 || vdso_validate(&inv) < 0);
	inv.n_vdso = n;
	e[n - 1].name = e[0].name;
	CHECK("duplicate area refused", n == 1 || vdso_validate(&inv) < 0);
	UNIT_END();
}
