/* Kernel facts probed at start-up (cheap ones only), and the full probe of
 * "nestor check". Features are probed, never inferred from version numbers. */
#define LOG_PREFIX "kerndat: "
#include <fcntl.h>
#include <linux/prctl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "core/kerndat.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "infect/vdso.h"
#include "net/sockdiag.h"
#include "tree/timers.h"
#include <sys/socket.h>
#include <sys/stat.h>

struct kerndat kdat;

/* The pfn of the shared zero page: pages that map it were only ever read. */
static void probe_zero_pfn(void)
{
	volatile uint8_t *p = mmap(NULL, PAGE_SIZE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t pme = 0;
	int fd;

	if (p == MAP_FAILED)
		return;
	(void)p[0];
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && pread(fd, &pme, 8, (uint64_t)p / PAGE_SIZE * 8) == 8 &&
	    (pme & PM_PRESENT) && (pme & PM_PFN_MASK)) {
		kdat.zero_pfn = pme & PM_PFN_MASK;
		kdat.has_zero_pfn = true;
	}
	if (fd >= 0)
		close(fd);
	munmap((void *)p, PAGE_SIZE);
}

int kerndat_init(void)
{
	_cleanup_free_ char *buf = NULL;

	if (read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", &buf, 64) < 0)
		return log_error_errno(-errno, "cannot read /proc/sys/kernel/cap_last_cap");
	kdat.last_cap = atoi(buf);
	if (kdat.last_cap > 63)
		return log_error_ret(-EINVAL, "too many capabilities (%u)", kdat.last_cap);
	probe_zero_pfn();
	return 0;
}

static int probe_clone3_set_tid(void)
{
	pid_t want = 0;
	struct clone_args ca = { .exit_signal = SIGCHLD, .set_tid = (uint64_t)&want,
				 .set_tid_size = 1 };
	pid_t pid;

	/* set_tid of 0 is invalid: EINVAL shows the kernel knows the field. */
	pid = sys_clone3(&ca, sizeof(ca));
	if (pid == 0)
		_exit(0);
	if (pid > 0) {
		waitpid(pid, NULL, 0);
		return -EINVAL;
	}
	return errno == EINVAL ? 0 : -errno;
}

static int probe_ptrace(void)
{
	struct ptrace_rseq_configuration_k rc;
	int status, r = 0;
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	if (pid < 0)
		return -errno;
	if (ptrace(PTRACE_SEIZE, pid, 0, 0) || ptrace(PTRACE_INTERRUPT, pid, 0, 0) ||
	    waitpid(pid, &status, __WALL) < 0)
		r = -errno;
	else if (ptrace(PTRACE_GET_RSEQ_CONFIGURATION, pid, sizeof(rc), &rc) != sizeof(rc))
		r = -ENOSYS;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return r;
}

static int probe_mm_map(void)
{
	unsigned int size = 0;

	if (prctl(PR_SET_MM, PR_SET_MM_MAP_SIZE, &size, 0, 0))
		return -errno;
	return size == 104 ? 0 : -EINVAL;
}

static int probe_pagemap(void)
{
	return kdat.has_zero_pfn ? 0 : -EPERM;
}

static int probe_vdso(void)
{
	struct vdso_area a[VDSO_MAX_AREAS];
	uint64_t hash;
	int n, r = vdso_self(a, &n, &hash);

	if (r < 0)
		return r;
	return hash ? 0 : -ENOENT;
}

static int probe_kcmp(void)
{
	return sys_kcmp(getpid(), getpid(), KCMP_FILE, 0, 0) < 0 && errno == ENOSYS ? -ENOSYS : 0;
}

static int probe_pagemap_scan(void)
{
	struct pm_scan_arg arg = { .size = sizeof(arg), .return_mask = PAGE_IS_PRESENT };
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(fd, PAGEMAP_SCAN, &arg) < 0)
		r = -errno;
	close(fd);
	return r;
}

static int probe_uffd(void)
{
	int fd = sys_userfaultfd(O_CLOEXEC);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int probe_timer_ids(void)
{
	int r = timers_probe_restore_ids();

	return r < 0 ? r : 0;
}

static int probe_pidfd_getfd(void)
{
	int fd = sys_dup_task_fd(getpid(), 0);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static int probe_unix_diag(void)
{
	struct sockdiag_unix d;
	int sk[2], r;
	struct stat st;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sk))
		return -errno;
	r = fstat(sk[0], &st) ? -errno : sockdiag_unix_one(-1, st.st_ino, 0, &d);
	if (r == 0)
		sockdiag_unix_free(&d);
	close(sk[0]);
	close(sk[1]);
	return r < 0 ? r : 0;
}

/* Features with a slower fallback, or that only some trees need: reported, not required. */
static void check_optional(void)
{
	static const struct {
		const char *what, *without;
		int (*probe)(void);
	} probes[] = {
		{ "PAGEMAP_SCAN", "pagemap is read page by page", probe_pagemap_scan },
		{ "userfaultfd", "restore fills memory with pread", probe_uffd },
		{ "PR_TIMER_CREATE_RESTORE_IDS", "POSIX timers cannot be restored", probe_timer_ids },
		{ "pidfd_getfd", "ptys and sockets cannot be dumped", probe_pidfd_getfd },
		{ "unix sock_diag", "unix sockets cannot be dumped", probe_unix_diag },
	};

	for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
		int r = probes[i].probe();
		if (r < 0)
			printf("optional: %s missing (%s): %s\n", probes[i].what, strerror(-r),
			       probes[i].without);
	}
}

int kerndat_check(void)
{
	static const struct {
		const char *what;
		int (*probe)(void);
	} probes[] = {
		{ "clone3 with set_tid", probe_clone3_set_tid },
		{ "ptrace seize and PTRACE_GET_RSEQ_CONFIGURATION", probe_ptrace },
		{ "prctl PR_SET_MM_MAP", probe_mm_map },
		{ "pagemap with page frame numbers", probe_pagemap },
		{ "a vDSO", probe_vdso },
		{ "kcmp", probe_kcmp },
	};
	int bad = 0, r;

	r = kerndat_init();
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
		r = probes[i].probe();
		if (r < 0) {
			printf("missing: %s (%s)\n", probes[i].what, strerror(-r));
			bad++;
		}
	}
	check_optional();
	if (bad)
		return -EOPNOTSUPP;
	printf("Looks good.\n");
	return 0;
}
