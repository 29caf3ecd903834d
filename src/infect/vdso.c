/* The vDSO comes as [vvar], [vvar_vclock] and [vdso] here; they are moved
 * together to the dumped addresses, so the dumped and the running kernel's
 * vDSO must be the same: same areas, same sizes, same code. */
#define LOG_PREFIX "vdso: "
#include <fcntl.h>
#include <string.h>
#include "core/arena.h"
#include "core/log.h"
#include "infect/ptrace.h"
#include "core/util.h"
#include "infect/vdso.h"
#include "restorer/restorer-abi.h"

bool vdso_is_area(const char *p)
{
	return !strcmp(p, "[vdso]") || !strcmp(p, "[vvar]") || !strcmp(p, "[vvar_vclock]");
}

static uint64_t hash_code(const uint8_t *p, size_t len)
{
	return ((uint64_t)crc32c(0, p, len) << 32) | (uint32_t)len;
}

int vdso_dump(pid_t pid, const struct proc_vma *vmas, int nr, InventoryEntry *inv)
{
	inv->vdso = ANEW_ARRAY(VdsoAreaEntry *, VDSO_MAX_AREAS);
	if (!inv->vdso)
		return -ENOMEM;
	for (int i = 0; i < nr; i++) {
		const struct proc_vma *v = &vmas[i];
		VdsoAreaEntry *e;

		if (!vdso_is_area(v->path))
			continue;
		if (inv->n_vdso == VDSO_MAX_AREAS)
			return log_error_ret(-EINVAL, "task %d has too many vdso areas", pid);
		e = ANEW(VdsoAreaEntry);
		if (!e)
			return -ENOMEM;
		vdso_area_entry__init(e);
		e->name = arena_strdup(v->path);
		e->start = v->start;
		e->end = v->end;
		inv->vdso[inv->n_vdso++] = e;
		if (!strcmp(v->path, "[vdso]")) {
			size_t len = v->end - v->start;
			_cleanup_free_ uint8_t *buf = malloc(len);

			if (!buf)
				return -ENOMEM;
			if (remote_read(pid, v->start, buf, len))
				return log_error_errno(-EFAULT, "cannot read the vdso of task %d", pid);
			inv->vdso_hash = hash_code(buf, len);
		}
	}
	return 0;
}

static struct vdso_area cached[VDSO_MAX_AREAS];
static int cached_n = -1;
static uint64_t cached_hash;

/* Ours does not move until a blob moves it: read once, before any fork. */
int vdso_self(struct vdso_area *areas, int *ret_n, uint64_t *ret_hash)
{
	_cleanup_free_ struct proc_vma *vmas = NULL;
	int nr, n = 0, r;

	if (cached_n >= 0) {
		memcpy(areas, cached, sizeof(cached));
		*ret_n = cached_n;
		*ret_hash = cached_hash;
		return 0;
	}

	r = proc_read_vmas(getpid(), &vmas, &nr);
	if (r < 0)
		return r;
	*ret_hash = 0;
	for (int i = 0; i < nr; i++) {
		if (!vdso_is_area(vmas[i].path) || n == VDSO_MAX_AREAS)
			continue;
		snprintf(areas[n].name, sizeof(areas[n].name), "%.15s", vmas[i].path);
		areas[n].start = vmas[i].start;
		areas[n].end = vmas[i].end;
		if (!strcmp(vmas[i].path, "[vdso]"))
			*ret_hash = hash_code((const uint8_t *)vmas[i].start,
					      vmas[i].end - vmas[i].start);
		n++;
	}
	*ret_n = n;
	memcpy(cached, areas, n * sizeof(*areas));
	cached_n = n;
	cached_hash = *ret_hash;
	return 0;
}

int vdso_validate(const InventoryEntry *inv)
{
	struct vdso_area self[VDSO_MAX_AREAS];
	uint64_t hash;
	int n, r;

	if (inv->n_vdso == 0)
		return 0;
	r = vdso_self(self, &n, &hash);
	if (r < 0)
		return r;
	if ((size_t)n != inv->n_vdso)
		goto differs;
	for (size_t i = 0; i < inv->n_vdso; i++) {
		const VdsoAreaEntry *e = inv->vdso[i];
		bool found = false;

		for (size_t k = 0; k < i; k++)
			if (!strcmp(inv->vdso[k]->name, e->name))
				goto differs;
		for (int k = 0; k < n; k++)
			if (!strcmp(self[k].name, e->name) &&
			    self[k].end - self[k].start == e->end - e->start)
				found = true;
		if (!found || e->end <= e->start || e->start & (PAGE_SIZE - 1))
			goto differs;
	}
	if (hash != inv->vdso_hash)
		goto differs;
	return 0;
differs:
	return log_error_ret(-EINVAL, "can't restore: the images' vdso differs from this kernel's "
				      "(dumped on another kernel?)");
}

int vdso_plan(const MmEntry *mm, const struct vdso_area *self, int n, struct rst_args *a)
{
	a->nr_vdso = 0;
	for (int k = 0; k < n; k++) {
		bool found = false;

		for (size_t i = 0; i < mm->n_vmas && !found; i++) {
			const VmaEntry *v = mm->vmas[i];

			if (v->kind != VMA_VDSO || !v->name || strcmp(self[k].name, v->name))
				continue;
			if (a->nr_vdso == RST_MAX_VDSO)
				return log_error_ret(-EINVAL, "too many vdso areas");
			a->vdso_cur[a->nr_vdso] = self[k].start;
			a->vdso_len[a->nr_vdso] = self[k].end - self[k].start;
			a->vdso_tgt[a->nr_vdso++] = v->start;
			found = true;
		}
		/* The task had unmapped it: ours goes, as theirs did. */
		if (!found)
			pr_debug("%s was not in the dumped task", self[k].name);
	}
	return 0;
}
