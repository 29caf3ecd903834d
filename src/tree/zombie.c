/*
 * Zombies. A dead task that its parent has not reaped still shows its name,
 * its signal mask, which signals it ignored or caught, the signals left
 * pending in its process and its limits. The dump reads them from /proc;
 * the restored task takes them on just before it ends as the zombie ended,
 * its pending signals queued while everything is blocked, the signal it
 * died of sent to the thread itself, which takes it before the queued ones.
 */
#define LOG_PREFIX "zombie: "
#include <sched.h>
#include <signal.h>
#include <sys/fsuid.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/arena.h"
#include "core/log.h"
#include "core/sys.h"
#include "core/util.h"
#include "ns/userns.h"
#include "tree/zombie.h"

#define NSIG_K 64
#define SA_RESTORER_K 0x04000000
#define BIT(sig) (1ULL << ((sig) - 1))

/* Its ids, as its own user namespace shows them. */
static int dump_creds(const struct dump_ctx *ctx, const struct dump_task *t, PstreeEntry *e)
{
	CredsEntry c = CREDS_ENTRY__INIT;

	e->zombie_uids = arena_memdup(t->status.uid, sizeof(t->status.uid));
	e->zombie_gids = arena_memdup(t->status.gid, sizeof(t->status.gid));
	if (!e->zombie_uids || !e->zombie_gids)
		return -ENOMEM;
	e->n_zombie_uids = e->n_zombie_gids = 4;
	c.uids = e->zombie_uids;
	c.gids = e->zombie_gids;
	c.n_uids = c.n_gids = 4;
	return userns_creds_inside(ctx, t, &c);
}

int zombie_dump(const struct dump_ctx *ctx, const struct dump_task *t, PstreeEntry *e)
{
	uint64_t cur[16], max[16];
	_cleanup_free_ char *buf = NULL;
	char path[64];
	int n, r;

	snprintf(path, sizeof(path), "/proc/%d/limits", t->pid);
	r = read_file_at(AT_FDCWD, path, &buf, 1 << 16);
	if (r < 0 || proc_parse_limits(buf, cur, max, &n) < 0)
		return log_error_ret(r < 0 ? r : -EINVAL, "cannot read %s", path);
	e->zombie_rlimits = ANEW_ARRAY(uint64_t, 2 * n);
	e->zombie_comm = arena_strdup(t->status.name);
	if (!e->zombie_rlimits || !e->zombie_comm)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		struct rlimit own;

		e->zombie_rlimits[2 * i] = cur[i];
		e->zombie_rlimits[2 * i + 1] = max[i];
		if (!getrlimit(i, &own) && max[i] > own.rlim_max)
			return log_error_ret(-EOPNOTSUPP, "can't dump: zombie %d has a hard limit %d "
							  "above nestor's own; restoring it needs "
							  "CAP_SYS_RESOURCE", t->pid, i);
	}
	e->n_zombie_rlimits = 2 * n;
	e->has_zombie_sig_blk = e->has_zombie_sig_ign = true;
	e->has_zombie_sig_cgt = e->has_zombie_shd_pnd = true;
	e->zombie_sig_blk = t->status.sig_blk;
	e->zombie_sig_ign = t->status.sig_ign;
	e->zombie_sig_cgt = t->status.sig_cgt;
	e->zombie_shd_pnd = t->status.shd_pnd;
	return dump_creds(ctx, t, e);
}

bool zombie_valid(const PstreeEntry *e)
{
	return !(e->n_zombie_rlimits % 2 || e->n_zombie_rlimits > 2 * RLIM_NLIMITS ||
		 (e->zombie_comm && strlen(e->zombie_comm) > 15) ||
		 (e->zombie_sig_ign & e->zombie_sig_cgt) ||
		 (e->n_zombie_uids && e->n_zombie_uids != 4) ||
		 (e->n_zombie_gids && e->n_zombie_gids != 4) ||
		 ((e->zombie_sig_ign | e->zombie_sig_cgt) & (BIT(SIGKILL) | BIT(SIGSTOP))));
}

/* A caught signal is never delivered (all is blocked), but it gets a real handler. */
static void zombie_caught(int sig)
{
	(void)sig;
}

__asm__(".pushsection .text\n"
	".type zombie_sigreturn, @function\n"
	"zombie_sigreturn:\n\t"
	"mov $15, %eax\n\t" /* rt_sigreturn */
	"syscall\n"
	".popsection");
void zombie_sigreturn(void);

struct zombie_ksigaction {
	uint64_t handler, flags, restorer, mask;
};

static int set_actions(const PstreeEntry *e, int term)
{
	for (int sig = 1; sig <= NSIG_K; sig++) {
		struct zombie_ksigaction ka = { (uint64_t)SIG_DFL, 0, 0, 0 };

		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		if (e->zombie_sig_ign & BIT(sig))
			ka.handler = (uint64_t)SIG_IGN;
		else if ((e->zombie_sig_cgt & BIT(sig)) && sig != term)
			ka = (struct zombie_ksigaction){ (uint64_t)zombie_caught, SA_RESTORER_K,
							 (uint64_t)zombie_sigreturn, 0 };
		if (sys_rt_sigaction(sig, &ka, NULL))
			return log_error_errno(-errno, "cannot set the action of signal %d", sig);
	}
	return 0;
}

static int set_limits(const PstreeEntry *e)
{
	for (size_t i = 0; i + 1 < e->n_zombie_rlimits; i += 2) {
		struct rlimit rl = { e->zombie_rlimits[i], e->zombie_rlimits[i + 1] };

		if (setrlimit(i / 2, &rl))
			return log_error_errno(-errno, "cannot set limit %zu of zombie %u", i / 2,
					       e->pid);
	}
	return 0;
}

static void queue_pending(uint64_t set)
{
	for (int sig = 1; sig <= NSIG_K; sig++)
		if ((set & BIT(sig)) && sig != SIGKILL && sig != SIGSTOP)
			kill(getpid(), sig);
}

/* Last, once nothing it does needs nestor's privilege any more. */
static int set_creds(const PstreeEntry *e, int userns_fd)
{
	const uint32_t *u = e->zombie_uids, *g = e->zombie_gids;

	if (userns_fd >= 0 && setns(userns_fd, CLONE_NEWUSER))
		return log_error_errno(-errno, "zombie %u cannot enter its user namespace", e->pid);
	if (e->n_zombie_gids && (setresgid(g[0], g[1], g[2]) || setfsgid(g[3]) < 0))
		return log_error_errno(-errno, "cannot set the gids of zombie %u", e->pid);
	if (e->n_zombie_uids && (setresuid(u[0], u[1], u[2]) || setfsuid(u[3]) < 0))
		return log_error_errno(-errno, "cannot set the uids of zombie %u", e->pid);
	return 0;
}

int zombie_exit(const PstreeEntry *e, int userns_fd)
{
	int term = WIFSIGNALED(e->exit_status) ? WTERMSIG(e->exit_status) : 0, r;
	uint64_t mask = e->zombie_sig_blk;
	sigset_t all;

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if (e->zombie_comm && prctl(PR_SET_NAME, e->zombie_comm))
		return log_error_errno(-errno, "cannot name zombie %u", e->pid);
	/* Its own core limit, and no core file written at restore. */
	if (term && prctl(PR_SET_DUMPABLE, 0))
		return log_error_errno(-errno, "cannot make zombie %u non-dumpable", e->pid);
	if ((r = set_limits(e)) < 0 || (r = set_actions(e, term)) < 0 ||
	    (r = set_creds(e, userns_fd)) < 0)
		return r;
	queue_pending(e->zombie_shd_pnd);
	if (term) {
		mask &= ~BIT(term);
		syscall(SYS_tgkill, getpid(), gettid(), term);
	} else {
		/* Pending and not blocked cannot stay while the task runs. */
		mask |= e->zombie_shd_pnd;
	}
	if (syscall(SYS_rt_sigprocmask, SIG_SETMASK, &mask, NULL, 8))
		return log_error_errno(-errno, "cannot set the signal mask of zombie %u", e->pid);
	_exit(term ? 128 + term : (int)WEXITSTATUS(e->exit_status));
}
