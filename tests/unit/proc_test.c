/* Unit tests of the /proc parsers, on samples taken from this kernel. */
#include <errno.h>
#include <sys/resource.h>
#include "tree/proc.h"
#include "core/util.h"
#include "unit.h"

static const char status_sample[] =
	"Name:\tcat\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nNgid:\t0\nPid:\t4242\n"
	"PPid:\t1\nTracerPid:\t0\nUid:\t1000\t1001\t1002\t1003\nGid:\t10\t11\t12\t13\n"
	"FDSize:\t64\nGroups:\t4 24 27 \nNStgid:\t4242\t7\nNSpid:\t4242\t7\nNSpgid:\t4242\t1\n"
	"NSsid:\t4200\t0\nKthread:\t0\nThreads:\t1\nSigPnd:\t0000000000000100\n"
	"ShdPnd:\t0000000000000200\nSigBlk:\t0000000000010000\nCapInh:\t0000000000000000\n"
	"CapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\n"
	"CapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t2\n";

/* The sample with one group more than proc_status keeps. */
static int many_groups(struct proc_status *st)
{
	char text[sizeof(status_sample) + 8 * 200], *p;
	const char *g = strstr(status_sample, "Groups:");
	int n = snprintf(text, sizeof(text), "%.*sGroups:\t", (int)(g - status_sample), status_sample);

	for (size_t i = 0; i <= ARRAY_SIZE(st->groups); i++)
		n += snprintf(text + n, sizeof(text) - n, "%zu ", i);
	p = strchr(g, '\n');
	snprintf(text + n, sizeof(text) - n, "%s", p);
	return proc_parse_status(text, st);
}

static void test_status(void)
{
	struct proc_status st;

	CHECK("status parses", proc_parse_status(status_sample, &st) == 0);
	CHECK("status state", st.state == 'S');
	CHECK("status tgid/ppid", st.tgid == 4242 && st.ppid == 1);
	CHECK("status uids", st.uid[0] == 1000 && st.uid[3] == 1003 && st.gid[2] == 12);
	CHECK("status groups", st.nr_groups == 3 && st.groups[2] == 27);
	CHECK("status pid vector", st.nr_nspid == 2 && st.nspid[1] == 7);
	CHECK("status sid vector, leader outside shows 0", st.nr_nssid == 2 && st.nssid[1] == 0);
	CHECK("status caps", st.cap_prm == 0x1ffffffffffULL && st.cap_inh == 0);
	CHECK("status signals", st.sig_pnd == 0x100 && st.shd_pnd == 0x200 && st.sig_blk == 0x10000);
	CHECK("status seccomp/nnp/umask", st.seccomp == 2 && st.no_new_privs == 1 && st.umask == 022);
	CHECK("status name", !strcmp(st.name, "cat"));
	CHECK("status without required keys fails", proc_parse_status("Name:\tx\n", &st) < 0);
	CHECK("status with more groups than kept fails", many_groups(&st) == -E2BIG);
	proc_parse_status("Name:\t a\\nb\\\\c\\t\nState:\tS\n", &st);
	CHECK("status name: leading space, escapes undone", !strcmp(st.name, " a\nb\\c\\t"));
}

static void test_stat(void)
{
	/* comm with spaces and parentheses: only the last ')' ends it */
	const char s[] = "77 (a) b (c)) S 1 77 77 0 -1 4194560 100 0 0 0 1 2 0 0 20 -5 1 0 123 4096 "
			 "10 18446744073709551615 93824992231424 93824992235000 140737488346000 0 0 "
			 "0 0 0 0 0 0 0 17 1 0 0 0 0 0 93824992240000 93824992241000 93824992250000 "
			 "140737488347000 140737488347100 140737488347100 140737488348000 0\n";
	struct proc_stat st;

	CHECK("stat parses", proc_parse_stat(s, &st) == 0);
	CHECK("stat comm with parens", !strcmp(st.comm, "a) b (c)"));
	CHECK("stat ids", st.pid == 77 && st.ppid == 1 && st.pgid == 77 && st.sid == 77);
	CHECK("stat nice", st.nice == -5);
	CHECK("stat code", st.start_code == 93824992231424ULL && st.end_code == 93824992235000ULL);
	CHECK("stat data/brk", st.start_data == 93824992240000ULL && st.start_brk == 93824992250000ULL);
	CHECK("stat env", st.env_end == 140737488348000ULL && st.exit_signal == 17);
	CHECK("stat truncated fails", proc_parse_stat("77 (a) S 1 2 3", &st) < 0);
	CHECK("stat garbage fails", proc_parse_stat("garbage", &st) < 0);
}

static void test_maps(void)
{
	struct proc_vma v;

	CHECK("maps file line", proc_parse_maps_line("7f00a000-7f00b000 r-xp 00002000 fe:00 332383     "
						     "   /usr/lib/a b.so", &v) == 0);
	CHECK("maps range", v.start == 0x7f00a000 && v.end == 0x7f00b000 && v.pgoff == 0x2000);
	CHECK("maps prot", v.prot == 5 && !v.shared);
	CHECK("maps path with space", !strcmp(v.path, "/usr/lib/a b.so"));
	CHECK("maps anon shared", proc_parse_maps_line("1000-3000 rw-s 00000000 00:01 5 /dev/zero (deleted)",
						       &v) == 0 && v.shared && v.prot == 3);
	CHECK("maps anon no path", proc_parse_maps_line("1000-2000 ---p 00000000 00:00 0", &v) == 0 &&
					   v.path[0] == 0 && v.prot == 0);
	CHECK("maps inverted range fails", proc_parse_maps_line("3000-1000 rw-p 0 00:00 0", &v) < 0);
	CHECK("maps garbage fails", proc_parse_maps_line("hello", &v) < 0);
	CHECK("vmflags", proc_parse_vmflags(" rd wr mr mw me gd ac dc lo hg nr\n") ==
				 (VMF_MR | VMF_MW | VMF_ME | VMF_GD | VMF_AC | VMF_DC | VMF_LO | VMF_HG |
				  VMF_NR));
	CHECK("vmflags access and droppable", proc_parse_vmflags(" rd wr sr rr nr wf dd dp\n") ==
						      (VMF_SR | VMF_RR | VMF_NR | VMF_WF | VMF_DD | VMF_DP));
}

static void test_limits(void)
{
	static const char lim[] =
		"Limit                     Soft Limit           Hard Limit           Units     \n"
		"Max cpu time              unlimited            unlimited            seconds   \n"
		"Max file size             unlimited            unlimited            bytes     \n"
		"Max data size             unlimited            unlimited            bytes     \n"
		"Max stack size            8388608              unlimited            bytes     \n"
		"Max core file size        0                    unlimited            bytes     \n"
		"Max resident set          unlimited            unlimited            bytes     \n"
		"Max processes             95000                95000                processes \n"
		"Max open files            1024                 20000                files     \n"
		"Max locked memory         8388608              8388608              bytes     \n"
		"Max address space         unlimited            unlimited            bytes     \n"
		"Max file locks            unlimited            unlimited            locks     \n"
		"Max pending signals       95000                95000                signals   \n"
		"Max msgqueue size         819200               819200               bytes     \n"
		"Max nice priority         0                    0                    \n"
		"Max realtime priority     0                    0                    \n"
		"Max realtime timeout      unlimited            unlimited            us        \n";
	uint64_t cur[16], max[16];
	int n = 0;

	CHECK("limits parse", proc_parse_limits(lim, cur, max, &n) == 0 && n == 16);
	CHECK("limits values", cur[RLIMIT_STACK] == 8388608 && max[RLIMIT_STACK] == RLIM_INFINITY &&
				       cur[RLIMIT_NOFILE] == 1024 && max[RLIMIT_NOFILE] == 20000);
	CHECK("limits short fails", proc_parse_limits("Limit x\nMax cpu time  1 2\n", cur, max, &n) < 0);
}

int main(void)
{
	test_status();
	test_stat();
	test_maps();
	test_limits();
	UNIT_END();
}
