// SPDX-License-Identifier: GPL-2.0
/*
 * clone_vm: a child made with clone(CLONE_VM) (not a thread: its own pid,
 * its own signal handlers and fd table) shares the root's memory. After
 * restore it still does (kcmp KCMP_VM): what one writes the other reads,
 * a mapping the child made before the checkpoint is the root's too, and
 * the child's mmap and munmap after restore change the root's address
 * space.
 */
#include <linux/kcmp.h>
#include <sys/syscall.h>

#include "tree.h"

static volatile uint64_t child_word, root_word;
static char *volatile before, *volatile after;

static char byte(int seed, unsigned long i)
{
	return (char)(i * 3 + seed);
}

static bool check_page(const char *p, int seed)
{
	for (unsigned long i = 0; i < PAGE_SIZE; i++)
		if (p[i] != byte(seed, i))
			return false;
	return true;
}

static char *new_page(int seed)
{
	char *p = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	for (unsigned long i = 0; i < PAGE_SIZE; i++)
		p[i] = byte(seed, i);
	return p;
}

static int child(void *arg)
{
	(void)arg;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	child_word = 0xc0ffee;
	before = new_page(1);
	if (!before)
		tree_vm_fail("mmap failed");
	tree_vm.ready = 1;
	tree_vm_wait();
	if (root_word != 0xbadcafe)
		tree_vm_fail("the root's write after restore not seen: %#lx", root_word);
	if (!check_page(before, 1))
		tree_vm_fail("its page from before the checkpoint lost its content");
	after = new_page(2);
	if (!after || munmap(before, PAGE_SIZE))
		tree_vm_fail("mmap or munmap failed");
	_exit(0);
}

int main(int argc, char **argv)
{
	struct vma_info vma;
	char *old;
	pid_t pid;
	int r;

	test_init(argc, argv);
	tree_init();
	pid = tree_clone(child, CLONE_VM, NULL);
	tree_vm_ready(pid);
	if (child_word != 0xc0ffee || !check_page(before, 1))
		fail("set-up: the child's writes not seen");

	test_daemon();
	test_waitsig();

	r = syscall(SYS_kcmp, getpid(), pid, KCMP_VM, 0, 0);
	if (r)
		fail("kcmp(KCMP_VM) with the child: %d (%m), expected 0 (one mm)", r);
	if (child_word != 0xc0ffee || !check_page(before, 1))
		fail("the child's writes from before the checkpoint are gone");
	old = before;
	root_word = 0xbadcafe;
	tree_vm_collect(pid, "child");
	if (!after || !check_page(after, 2))
		fail("the page the child mapped after restore is not the root's");
	if (vma_find(old, &vma) != -ENOENT)
		fail("the child unmapped %p after restore, the root still has %lx-%lx", old,
		     vma.start, vma.end);
	pass();
}
