/* The vDSO: where the task had it, and whether this kernel's is the same. */
#ifndef NESTOR_VDSO_H
#define NESTOR_VDSO_H

#include "core/model.h"

#define VDSO_MAX_AREAS 4

struct vdso_area {
	char name[16];
	uint64_t start, end;
};

int vdso_dump(pid_t pid, const struct proc_vma *vmas, int nr, InventoryEntry *inv);
/* This process's own vDSO areas, and the hash of its [vdso] contents. */
int vdso_self(struct vdso_area *areas, int *ret_n, uint64_t *ret_hash);
struct rst_args;
/* Tells the blob which of our areas go where in the task (matched by name). */
/* Whether a maps name is one of the areas the kernel maps with the vDSO. */
bool vdso_is_area(const char *name);
int vdso_plan(const MmEntry *mm, const struct vdso_area *self, int n, struct rst_args *a);
/* Refuses images whose vDSO does not match this kernel's. */
int vdso_validate(const InventoryEntry *inv);

#endif
