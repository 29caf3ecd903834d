/* Parsers of /proc/PID/{status,stat,maps,smaps,limits}. */
#define LOG_PREFIX "proc: "
#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/resource.h>
#include "core/log.h"
#include "tree/proc.h"
#include "core/util.h"

/* The numbers in s, at most max of them; -E2BIG if there are more. */
static int parse_vec(const char *s, int *v, int max)
{
	int n = 0;

	for (;;) {
		char *end;
		long x = strtol(s, &end, 10);

		if (end == s)
			return n;
		if (n == max)
			return -E2BIG;
		v[n++] = x;
		s = end;
	}
}

/* The kernel prints a task's name escaped: a newline as "\n", a backslash as "\\". */
static void parse_name(const char *v, const char *end, char *out, size_t size)
{
	size_t n = 0;

	for (; v < end && n + 1 < size; v++) {
		char c = *v;

		if (c == '\\' && v + 1 < end && (v[1] == 'n' || v[1] == '\\'))
			c = *++v == 'n' ? '\n' : '\\';
		out[n++] = c;
	}
	out[n] = 0;
}

int proc_parse_status(const char *text, struct proc_status *st)
{
	const char *line = text;
	int seen = 0;

	memset(st, 0, sizeof(*st));
	while (line && *line) {
		const char *nl = strchr(line, '\n');
		const char *v = strchr(line, ':');

		if (!v || (nl && v > nl))
			goto next;
		v++;
		while (*v == ' ' || *v == '\t')
			v++;
#define KEY(k) (!strncmp(line, k ":", sizeof(k)))
		if (KEY("Name") && line[5] == '\t') /* spaces may begin the name */
			parse_name(line + 6, nl ? nl : line + strlen(line), st->name, sizeof(st->name));
		else if (KEY("State"))
			st->state = *v, seen |= 1;
		else if (KEY("Tgid"))
			st->tgid = atoi(v), seen |= 2;
		else if (KEY("PPid"))
			st->ppid = atoi(v), seen |= 4;
		else if (KEY("TracerPid"))
			st->tracer = atoi(v);
		else if (KEY("Threads"))
			st->threads = atoi(v), seen |= 8;
		else if (KEY("NSpid"))
			st->nr_nspid = parse_vec(v, st->nspid, MAX_NS_LEVEL);
		else if (KEY("NSpgid"))
			st->nr_nspgid = parse_vec(v, st->nspgid, MAX_NS_LEVEL);
		else if (KEY("NSsid"))
			st->nr_nssid = parse_vec(v, st->nssid, MAX_NS_LEVEL);
		else if (KEY("Uid"))
			sscanf(v, "%u %u %u %u", &st->uid[0], &st->uid[1], &st->uid[2], &st->uid[3]),
				seen |= 16;
		else if (KEY("Gid"))
			sscanf(v, "%u %u %u %u", &st->gid[0], &st->gid[1], &st->gid[2], &st->gid[3]);
		else if (KEY("Groups"))
			st->nr_groups = parse_vec(v, (int *)st->groups, ARRAY_SIZE(st->groups));
		else if (KEY("CapInh"))
			st->cap_inh = strtoull(v, NULL, 16);
		else if (KEY("CapPrm"))
			st->cap_prm = strtoull(v, NULL, 16);
		else if (KEY("CapEff"))
			st->cap_eff = strtoull(v, NULL, 16);
		else if (KEY("CapBnd"))
			st->cap_bnd = strtoull(v, NULL, 16);
		else if (KEY("CapAmb"))
			st->cap_amb = strtoull(v, NULL, 16);
		else if (KEY("SigPnd"))
			st->sig_pnd = strtoull(v, NULL, 16);
		else if (KEY("ShdPnd"))
			st->shd_pnd = strtoull(v, NULL, 16);
		else if (KEY("SigBlk"))
			st->sig_blk = strtoull(v, NULL, 16);
		else if (KEY("SigIgn"))
			st->sig_ign = strtoull(v, NULL, 16);
		else if (KEY("SigCgt"))
			st->sig_cgt = strtoull(v, NULL, 16);
		else if (KEY("Seccomp"))
			st->seccomp = atoi(v);
		else if (KEY("NoNewPrivs"))
			st->no_new_privs = atoi(v);
		else if (KEY("Umask"))
			st->umask = strtoul(v, NULL, 8);
		else if (KEY("Kthread"))
			st->kthread = atoi(v);
#undef KEY
next:
		line = nl ? nl + 1 : NULL;
	}
	if (st->nr_nspid < 0 || st->nr_nspgid < 0 || st->nr_nssid < 0 || st->nr_groups < 0)
		return -E2BIG;
	return seen == 31 ? 0 : -EINVAL;
}

int proc_parse_stat(const char *text, struct proc_stat *s)
{
	const char *lp = strchr(text, '('), *rp = strrchr(text, ')');
	unsigned long long f[64];
	int n = 0;
	const char *p;

	memset(s, 0, sizeof(*s));
	if (!lp || !rp || rp < lp)
		return -EINVAL;
	s->pid = atoi(text);
	snprintf(s->comm, sizeof(s->comm), "%.*s", (int)MIN(rp - lp - 1, 63), lp + 1);
	p = rp + 2;
	if (!*p || !p[-1])
		return -EINVAL;
	s->state = *p;
	p++;
	/* Fields from 4 on are numbers; keep them as field index - 4. */
	while (*p && n < 64) {
		char *end;

		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			break;
		f[n++] = strtoll(p, &end, 10);
		if (end == p)
			return -EINVAL;
		p = end;
	}
	if (n < 49)
		return -EINVAL;
#define F(i) f[(i) - 4]
	s->ppid = F(4);
	s->pgid = F(5);
	s->sid = F(6);
	s->tty_nr = F(7);
	s->tpgid = F(8);
	s->flags = F(9);
	s->nice = (long)F(19);
	s->num_threads = F(20);
	s->start_code = F(26);
	s->end_code = F(27);
	s->start_stack = F(28);
	s->exit_signal = F(38);
	s->rt_priority = F(40);
	s->policy = F(41);
	s->start_data = F(45);
	s->end_data = F(46);
	s->start_brk = F(47);
	s->arg_start = F(48);
	s->arg_end = F(49);
	s->env_start = F(50);
	s->env_end = F(51);
	s->exit_code = F(52);
#undef F
	return 0;
}

int proc_parse_maps_line(const char *line, struct proc_vma *v)
{
	char perms[5];
	int pos = 0;

	v->path = "";
	v->vmflags = 0;
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %" SCNx64 " %x:%x %" SCNu64 " %n", &v->start,
		   &v->end, perms, &v->pgoff, &v->dev_major, &v->dev_minor, &v->ino, &pos) < 7)
		return -EINVAL;
	if (v->end <= v->start || strlen(perms) != 4)
		return -EINVAL;
	v->prot = (perms[0] == 'r' ? 1 : 0) | (perms[1] == 'w' ? 2 : 0) | (perms[2] == 'x' ? 4 : 0);
	v->shared = perms[3] == 's';
	/* The path runs to the end of the line: a line, not a file (no "\n"). */
	if (pos)
		v->path = line + pos;
	return 0;
}

uint64_t proc_parse_vmflags(const char *s)
{
	static const struct {
		char name[3];
		uint64_t bit;
	} known[] = {
		{ "gd", VMF_GD }, { "lo", VMF_LO }, { "dc", VMF_DC }, { "dd", VMF_DD },
		{ "hg", VMF_HG }, { "nh", VMF_NH }, { "mg", VMF_MG }, { "wf", VMF_WF },
		{ "sd", VMF_SD }, { "io", VMF_IO }, { "pf", VMF_PF }, { "de", VMF_DE },
		{ "uw", VMF_UW }, { "um", VMF_UM }, { "ss", VMF_SS }, { "sl", VMF_SL },
		{ "lf", VMF_LF }, { "nr", VMF_NR }, { "sr", VMF_SR }, { "rr", VMF_RR },
		{ "dp", VMF_DP }, { "mr", VMF_MR }, { "mw", VMF_MW }, { "me", VMF_ME },
		{ "ac", VMF_AC },
	};
	uint64_t r = 0;

	while (*s) {
		while (*s == ' ')
			s++;
		if (!s[0] || !s[1] || s[0] == '\n')
			break;
		for (size_t i = 0; i < ARRAY_SIZE(known); i++)
			if (s[0] == known[i].name[0] && s[1] == known[i].name[1])
				r |= known[i].bit;
		s += 2;
	}
	return r;
}

int proc_parse_limits(const char *text, uint64_t cur[16], uint64_t max[16], int *ret_n)
{
	const char *line = strchr(text, '\n');
	int n = 0;

	/* Rows follow the header in RLIMIT_* order; the name column is padded to 26. */
	while (line && line[1] && n < 16) {
		const char *p = line + 1;
		char a[32], b[32];

		if (strlen(p) < 26 || sscanf(p + 26, "%31s %31s", a, b) != 2)
			return -EINVAL;
		cur[n] = !strcmp(a, "unlimited") ? RLIM_INFINITY : strtoull(a, NULL, 10);
		max[n] = !strcmp(b, "unlimited") ? RLIM_INFINITY : strtoull(b, NULL, 10);
		n++;
		line = strchr(p, '\n');
	}
	if (n != RLIM_NLIMITS)
		return -EINVAL;
	*ret_n = n;
	return 0;
}

static int read_proc(int pid, const char *file, char **ret)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	return read_file_at(AT_FDCWD, path, ret, 64 << 20);
}

int proc_read_status(int pid, struct proc_status *ret)
{
	_cleanup_free_ char *buf = NULL;
	int r = read_proc(pid, "status", &buf);

	if (r < 0)
		return r;
	return proc_parse_status(buf, ret);
}

int proc_read_stat(int pid, struct proc_stat *ret)
{
	_cleanup_free_ char *buf = NULL;
	int r = read_proc(pid, "stat", &buf);

	if (r < 0)
		return r;
	return proc_parse_stat(buf, ret);
}

/* One allocation: the array, then the paths it points to. */
static struct proc_vma *pack_vmas(const struct proc_vma *v, int n)
{
	size_t len = n * sizeof(*v);
	struct proc_vma *out;
	char *p;

	for (int i = 0; i < n; i++)
		len += strlen(v[i].path) + 1;
	out = malloc(len ? len : 1);
	if (!out)
		return NULL;
	memcpy(out, v, n * sizeof(*v));
	p = (char *)(out + n);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(v[i].path) + 1;

		memcpy(p, v[i].path, l);
		out[i].path = p;
		p += l;
	}
	return out;
}

int proc_read_vmas(int pid, struct proc_vma **ret, int *ret_n)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ struct proc_vma *v = NULL;
	int n = 0, cap = 0, r;
	char *line, *save = NULL;

	r = read_proc(pid, "smaps", &buf);
	if (r < 0)
		return log_error_errno(r, "cannot read /proc/%d/smaps", pid);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (isxdigit(line[0]) && strchr(line, '-') && strchr(line, ' ') > strchr(line, '-')) {
			if (n == cap) {
				struct proc_vma *nv;

				cap = cap ? cap * 2 : 64;
				nv = realloc(v, cap * sizeof(*v));
				if (!nv)
					return -ENOMEM;
				v = nv;
			}
			r = proc_parse_maps_line(line, &v[n]);
			if (r < 0)
				return log_error_ret(r, "bad smaps line of task %d: %s", pid, line);
			n++;
		} else if (!strncmp(line, "VmFlags:", 8) && n) {
			v[n - 1].vmflags = proc_parse_vmflags(line + 8);
		}
	}
	*ret = pack_vmas(v, n);
	if (!*ret)
		return -ENOMEM;
	*ret_n = n;
	return 0;
}

bool proc_in_vfork(int pid)
{
	_cleanup_free_ char *wchan = NULL;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/wchan", pid);
	if (read_file_at(AT_FDCWD, path, &wchan, 256) < 0)
		return false;
	/* The wait is inlined into kernel_clone on some builds. */
	return !strcmp(wchan, "wait_for_vfork_done") || !strcmp(wchan, "kernel_clone");
}
