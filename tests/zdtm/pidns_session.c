// SPDX-License-Identifier: GPL-2.0
/*
 * pidns_session: sessions and groups whose leaders sit outside an inner
 * pid namespace. The root leads its session and group; i, init of a new
 * pid namespace, and its child j stay in both, whose leader they cannot
 * see (getsid and getpgid say 0); k leads a group of its own in the root's
 * session; l makes a session of its own inside. After restore each sees the
 * same ids, and the machine's /proc shows the same session and group (the
 * root's pid for i, j and k).
 */
#include <sched.h>

#include "tree.h"

struct want {
	pid_t pid, sid, pgid;
};

/* Session and group in the machine's view: fields 5 and 6 of /proc/self/stat. */
static void host_ids(pid_t *sid, pid_t *pgid)
{
	char st[1024], *p;
	int pg = 0, s = 0;

	if (read_file("/proc/self/stat", st, sizeof(st)) <= 0 || !(p = strrchr(st, ')')) ||
	    sscanf(p + 2, "%*c %*d %d %d", &pg, &s) != 2)
		tree_fail("cannot read /proc/self/stat");
	*sid = s;
	*pgid = pg;
}

static void check(const struct want *w, pid_t host_sid, pid_t host_pgid)
{
	pid_t s, pg;

	host_ids(&s, &pg);
	if (getpid() != w->pid || getsid(0) != w->sid || getpgid(0) != w->pgid)
		tree_fail("pid %d sid %d pgid %d, expected %d %d %d", getpid(), getsid(0),
			  getpgid(0), w->pid, w->sid, w->pgid);
	if (s != host_sid || pg != host_pgid)
		tree_fail("the machine sees session %d group %d, expected %d and %d", s, pg,
			  host_sid, host_pgid);
}

static pid_t root;

static void member(int tag, struct want w, bool own_group, bool own_session)
{
	pid_t hs = root, hp = root;

	if (own_session && setsid() < 0)
		tree_fail("setsid: %m");
	if (own_group && !own_session && setpgid(0, 0))
		tree_fail("setpgid: %m");
	if (own_group || own_session)
		w.pgid = getpid();
	if (own_session)
		w.sid = getpid();
	if (own_group)
		hp = tree_proc_pid();
	if (own_session)
		hs = tree_proc_pid();
	tree_ready(tag);
	test_waitsig();
	check(&w, hs, hp);
	tree_pass();
}

static int i_main(void *arg)
{
	pid_t j, k, l;

	(void)arg;
	tree_enter_child("i", 0, true);
	j = tree_fork("j");
	if (j == 0)
		member(2, (struct want){ 2, 0, 0 }, false, false);
	k = tree_fork("k");
	if (k == 0)
		member(3, (struct want){ 3, 0, 0 }, true, false);
	l = tree_fork("l");
	if (l == 0)
		member(4, (struct want){ 4, 0, 0 }, true, true);
	tree_ready(1);
	test_waitsig();
	check(&(struct want){ 1, 0, 0 }, root, root);
	tree_finish(j, "j");
	tree_finish(k, "k");
	tree_finish(l, "l");
	tree_pass();
}

int main(int argc, char **argv)
{
	pid_t i;

	test_init(argc, argv);
	tree_init();
	root = getpid();
	tree_barrier_init();
	i = tree_clone(i_main, CLONE_NEWPID, NULL);
	tree_barrier_wait(4, NULL);
	test_daemon();
	test_waitsig();
	if (getsid(0) != root || getpgid(0) != root)
		fail("root: sid %d pgid %d, expected %d", getsid(0), getpgid(0), root);
	tree_finish(i, "i");
	pass();
}
