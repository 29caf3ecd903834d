// SPDX-License-Identifier: GPL-2.0
/*
 * snapshot [-x COMM]... ROOTPID: the state of every task and thread of the
 * tree below ROOTPID as the kernel shows it in /proc (tasks named COMM, the
 * short-lived commands of a shell test, aside), one "WHO KEY VALUE" line each,
 * for tests/run.sh to compare before the dump and after the restore.
 * WHO is PID for a task (what all its threads share: memory, descriptors,
 * limits...) and PID/TID for each thread, the leader included. KEY has no
 * blanks (stat.ppid, status.SigBlk, map.START-END.smaps.VmFlags,
 * fd.N.info.pos, ...). Everything is printed, accounting counters too: what
 * is not compared, and why, is the business of tests/snapshot-allow.txt.
 * Inode numbers of pipes, sockets, anonymous inodes, shared memory and
 * deleted files cannot match across a restore; they are replaced by labels
 * #1, #2... in order of first appearance (tasks by pid, then mappings by
 * address, then descriptors by number), so that two snapshots print the same
 * labels exactly when one inode maps to one inode (a bijection).
 * Tasks that vanish while being read are left out.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#define MAX_PIDS 4096
#define MAX_LABELS 8192
#define BUF (1 << 20)

static char buf[BUF];
static unsigned long labels[MAX_LABELS];
static int nlabels;

/* label INO: #N, the same N each time the same inode is seen. */
static int label(unsigned long ino)
{
	int i;

	for (i = 0; i < nlabels; i++)
		if (labels[i] == ino)
			return i + 1;
	if (nlabels == MAX_LABELS)
		return 0;
	labels[nlabels++] = ino;
	return nlabels;
}

/* Reads a whole /proc file into buf; returns its length or -1. */
static ssize_t slurp(const char *path)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + len, BUF - 1 - len)) > 0)
		len += n;
	close(fd);
	if (n < 0)
		return -1;
	buf[len] = 0;
	return len;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* The numeric entries of a /proc directory, sorted; returns how many. */
static int list_numeric(const char *path, long *out, int max)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < max)
		if (isdigit((unsigned char)e->d_name[0]))
			out[n++] = atol(e->d_name);
	closedir(d);
	qsort(out, n, sizeof(*out), cmp_long);
	return n;
}

/* WHO KEY VALUE, VALUE without leading or trailing blanks, its tabs and
 * newlines as blanks. */
static void put(const char *who, const char *key, const char *val)
{
	const char *end = val + strlen(val);

	while (*val == ' ' || *val == '\t')
		val++;
	while (end > val && isspace((unsigned char)end[-1]))
		end--;
	printf("%s %s ", who, key);
	for (; val < end; val++)
		putchar(*val == '\t' || *val == '\n' ? ' ' : *val);
	putchar('\n');
}

/* A signal mask of status, one key per signal: status.SigBlk.13 = 1. */
static void put_sigset(const char *who, const char *key, const char *hex)
{
	unsigned long long m = strtoull(hex, NULL, 16);
	char k[128];
	int sig;

	for (sig = 1; sig <= 64; sig++)
		if (m & (1ULL << (sig - 1))) {
			snprintf(k, sizeof(k), "%s.%d", key, sig);
			put(who, k, "1");
		}
}

/* "Key: value" lines (status, smaps' counters): PREFIX.Key = value;
 * signal masks one key per signal. */
static void put_colon_lines(const char *who, const char *prefix, char *text)
{
	char key[256], *line, *save, *colon, *k;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = 0;
		snprintf(key, sizeof(key), "%s.%s", prefix, line);
		for (k = key; *k; k++)
			if (isspace((unsigned char)*k))
				*k = '_';
		k = key + strlen(prefix) + 1;
		/* Running, sleeping or in a short uninterruptible wait is a matter
		 * of timing; stopped, traced, zombie are compared. */
		if (!strcmp(k, "State") && (strstr(colon + 1, "R (running)") ||
					    strstr(colon + 1, "D (disk sleep)"))) {
			put(who, key, "S (sleeping)");
			continue;
		}
		if (!strncmp(k, "Sig", 3) || !strcmp(k, "ShdPnd")) {
			if (strcmp(k, "SigQ")) {
				put_sigset(who, key, colon + 1);
				continue;
			}
		}
		put(who, key, colon + 1);
	}
}

static const char *stat_names[] = {
	"state", "ppid", "pgrp", "session", "tty_nr", "tpgid", "flags", "minflt", "cminflt",
	"majflt", "cmajflt", "utime", "stime", "cutime", "cstime", "priority", "nice",
	"num_threads", "itrealvalue", "starttime", "vsize", "rss", "rsslim", "startcode",
	"endcode", "startstack", "kstkesp", "kstkeip", "signal", "blocked", "sigignore",
	"sigcatch", "wchan", "nswap", "cnswap", "exit_signal", "processor", "rt_priority",
	"policy", "delayacct_blkio_ticks", "guest_time", "cguest_time", "start_data",
	"end_data", "start_brk", "arg_start", "arg_end", "env_start", "env_end", "exit_code",
};

static void put_stat(const char *who, const char *dir)
{
	char path[128], key[64], *p, *tok, *save;
	unsigned i = 0;

	snprintf(path, sizeof(path), "%s/stat", dir);
	if (slurp(path) < 0 || !(p = strrchr(buf, ')')))
		return;
	for (tok = strtok_r(p + 1, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save), i++) {
		snprintf(key, sizeof(key), "stat.%s",
			 i < sizeof(stat_names) / sizeof(*stat_names) ? stat_names[i] : "more");
		if (i == 0 && (!strcmp(tok, "R") || !strcmp(tok, "D")))
			tok = "S";
		if (i == 6) { /* the PF_ flags, one key per bit: stat.flags.0x40 */
			unsigned long f = strtoul(tok, NULL, 10), bit;

			for (bit = 1; bit; bit <<= 1)
				if (f & bit) {
					snprintf(key, sizeof(key), "stat.flags.%#lx", bit);
					put(who, key, "1");
				}
			continue;
		}
		put(who, key, tok);
	}
}

/* A small file, whole, as one value. */
static void put_file(const char *who, const char *dir, const char *name)
{
	char path[256], key[64], *k;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (slurp(path) < 0)
		return;
	snprintf(key, sizeof(key), "%s", name);
	for (k = key; *k; k++)
		if (*k == '/')
			*k = '.';
	put(who, key, buf);
}

/* A file of lines, one key per line: PREFIX.N, or PREFIX.WORDS for limits. */
static void put_lines(const char *who, const char *dir, const char *name, int limits)
{
	char path[256], key[128], *line, *save;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (slurp(path) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		if (limits) {
			if (n == 0)
				continue; /* the header */
			char *k = key + snprintf(key, sizeof(key), "limits.");
			int i;

			for (i = 0; i < 25 && line[i]; i++)
				*k++ = line[i] == ' ' ? '_' : line[i];
			while (k > key && k[-1] == '_')
				k--;
			*k = 0;
			put(who, key, line + i);
		} else {
			snprintf(key, sizeof(key), "%s.%d", name, n);
			put(who, key, line);
		}
	}
}

static void put_link(const char *who, const char *key, const char *path)
{
	char target[4096];
	ssize_t n = readlink(path, target, sizeof(target) - 1);

	if (n < 0)
		return;
	target[n] = 0;
	put(who, key, target);
}

/*
 * A namespace: "host" when it is the snapshot's own (the runner's), else a
 * label ns#N in order of first appearance. Inode numbers of namespaces made
 * again cannot match (and a freed number may come back for another one): the
 * structure is what is compared, which tasks and threads share which.
 */
static void put_ns_link(const char *who, const char *key, const char *path, const char *name)
{
	static unsigned long seen[MAX_LABELS];
	static int nseen;
	char target[128], own[128], self[64], label[32];
	ssize_t n = readlink(path, target, sizeof(target) - 1), m;
	int i;

	if (n < 0)
		return;
	target[n] = 0;
	/* pid_for_children and time_for_children are pid and time namespaces. */
	snprintf(self, sizeof(self), "/proc/self/ns/%.*s", (int)strcspn(name, "_"), name);
	m = readlink(self, own, sizeof(own) - 1);
	own[m > 0 ? m : 0] = 0;
	if (!strcmp(own, target)) {
		put(who, key, "host");
		return;
	}
	for (i = 0; i < nseen && seen[i] != strtoul(strchr(target, '[') + 1, NULL, 10); i++)
		;
	if (i == nseen && nseen < MAX_LABELS)
		seen[nseen++] = strtoul(strchr(target, '[') + 1, NULL, 10);
	snprintf(label, sizeof(label), "%.*s#%d", (int)strcspn(target, ":"), target, i + 1);
	put(who, key, label);
}

static void put_links(const char *who, const char *dir, const char *sub)
{
	char path[256], key[128];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	if (!(d = opendir(path)))
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, e->d_name);
		snprintf(key, sizeof(key), "%s.%s", sub, e->d_name);
		if (!strcmp(sub, "ns"))
			put_ns_link(who, key, path, e->d_name);
		else
			put_link(who, key, path);
	}
	closedir(d);
}

/* An anonymous object: its inode number can only be compared by label. The
 * files of /proc/PID are made anew with each process, so are theirs. */
static int anon_object(const char *name)
{
	size_t n = strlen(name);

	return !name[0] || !strncmp(name, "/memfd:", 7) || !strncmp(name, "/SYSV", 5) ||
	       !strncmp(name, "/dev/zero", 9) || (n > 10 && !strcmp(name + n - 10, " (deleted)")) ||
	       !strncmp(name, "pipe:", 5) || !strncmp(name, "socket:", 7) ||
	       !strncmp(name, "anon_inode:", 11) || !strncmp(name, "/dmabuf:", 8) ||
	       !strncmp(name, "/proc/", 6);
}


/* A lock line of fdinfo without the kernel's running id: "POSIX ADVISORY ...". */
static const char *lock_body(const char *v)
{
	const char *p = v;

	while (*p == ' ' || *p == '\t')
		p++;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == ':' ? p + 1 : v;
}

/* epoll's "tfd: N events: E data: D pos: P ino: HEX sdev: S": ino labelled.
 * The kernel lists them in the order of its tree (by file address): they
 * are sorted by target descriptor first, so that labels come in one order. */
static void put_tfd(const char *who, const char *fd, char *v)
{
	char key[128], val[512], *ino = strstr(v, "ino:");
	int tfd = atoi(v);

	snprintf(key, sizeof(key), "fd.%s.info.tfd.%d", fd, tfd);
	if (!ino) {
		put(who, key, v);
		return;
	}
	*ino = 0;
	snprintf(val, sizeof(val), "%sino:#%d%s", v, label(strtoul(ino + 4, NULL, 16)),
		 strchr(ino + 4, ' ') ? strchr(ino + 4, ' ') : "");
	put(who, key, val);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_tfd(const void *a, const void *b)
{
	return atoi(*(char *const *)a) - atoi(*(char *const *)b);
}

/* The open flags, one key per bit (fd.N.info.flags.0100000, octal as in
 * fcntl.h) and the access mode as fd.N.info.flags.mode. */
static void put_flags(const char *who, const char *fd, unsigned long f)
{
	char key[128], val[8];
	unsigned long bit;

	snprintf(key, sizeof(key), "fd.%s.info.flags.mode", fd);
	snprintf(val, sizeof(val), "%lu", f & 3);
	put(who, key, val);
	for (bit = 4; bit; bit <<= 1)
		if (f & bit) {
			snprintf(key, sizeof(key), "fd.%s.info.flags.0%lo", fd, bit);
			put(who, key, "1");
		}
}

static void put_fdinfo(const char *who, const char *dir, const char *fd, int anon)
{
	char path[256], key[256], *line, *save, *colon, *locks[64], *tfds[256], *k;
	int nlocks = 0, ntfds = 0, i, wd = 0;

	snprintf(path, sizeof(path), "%s/fdinfo/%s", dir, fd);
	if (slurp(path) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!(colon = strchr(line, ':')))
			continue;
		*colon++ = 0;
		if (!strcmp(line, "lock")) {
			if (nlocks < 64)
				locks[nlocks++] = strdup(lock_body(colon));
			continue;
		}
		if (!strcmp(line, "tfd")) {
			if (ntfds < 256)
				tfds[ntfds++] = strdup(colon);
			continue;
		}
		if (!strcmp(line, "flags")) {
			put_flags(who, fd, strtoul(colon, NULL, 8));
			continue;
		}
		if (!strncmp(line, "inotify wd", 10) || !strncmp(line, "fanotify", 8)) {
			snprintf(key, sizeof(key), "fd.%s.info.%.9s.%d", fd, line, wd++);
			put(who, key, colon);
			continue;
		}
		snprintf(key, sizeof(key), "fd.%s.info.%s", fd, line);
		for (k = key; *k; k++)
			if (isspace((unsigned char)*k))
				*k = '_';
		if (anon && !strcmp(line, "ino")) {
			char l[32];

			snprintf(l, sizeof(l), "#%d", label(strtoul(colon, NULL, 10)));
			put(who, key, l);
			continue;
		}
		put(who, key, colon);
	}
	qsort(tfds, ntfds, sizeof(*tfds), cmp_tfd);
	for (i = 0; i < ntfds; i++) {
		put_tfd(who, fd, tfds[i]);
		free(tfds[i]);
	}
	qsort(locks, nlocks, sizeof(*locks), cmp_str);
	for (i = 0; i < nlocks; i++) {
		snprintf(key, sizeof(key), "fd.%s.info.lock.%d", fd, i);
		put(who, key, locks[i]);
		free(locks[i]);
	}
}

/* fd.N.link: the link's name, inode numbers of pipe:[], socket:[] labelled. */
/* A POSIX message queue (its link is its bare name): a queue made again
 * has another inode number. */
static int mqueue_fd(const char *link)
{
	struct statfs sf;

	return !statfs(link, &sf) && sf.f_type == 0x19800202; /* MQUEUE_MAGIC */
}

static void put_fds(const char *who, const char *dir)
{
	static long fds[65536];
	char path[256], key[64], target[4096], val[4200], *br;
	int i, n;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/fd", dir);
	n = list_numeric(path, fds, 65536);
	for (i = 0; i < n; i++) {
		char fd[24];

		snprintf(fd, sizeof(fd), "%ld", fds[i]);
		snprintf(path, sizeof(path), "%s/fd/%s", dir, fd);
		if ((len = readlink(path, target, sizeof(target) - 1)) < 0)
			continue;
		target[len] = 0;
		snprintf(key, sizeof(key), "fd.%s.link", fd);
		br = strchr(target, '[');
		if (br && (!strncmp(target, "pipe:", 5) || !strncmp(target, "socket:", 7)) &&
		    isdigit((unsigned char)br[1])) {
			*br = 0;
			snprintf(val, sizeof(val), "%s[#%d]", target, label(strtoul(br + 1, NULL, 10)));
			*br = '[';
			put(who, key, val);
		} else {
			put(who, key, target);
		}
		put_fdinfo(who, dir, fd, anon_object(target) || mqueue_fd(path));
	}
}

/* smaps: map.START-END.line is the maps line (anonymous objects' inodes
 * labelled), map.START-END.smaps.KEY each of its fields. */
static void put_mm(const char *who, const char *dir)
{
	char path[256], key[256], range[64] = "", val[4400], *text, *line, *save, *colon;
	char perms[8], offset[32], dev[32], name[4096];
	unsigned long ino;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/smaps", dir);
	if ((len = slurp(path)) < 0)
		return;
	if (!(text = malloc(len + 1)))
		return;
	memcpy(text, buf, len + 1);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		colon = strchr(line, ':');
		if (isxdigit((unsigned char)line[0]) && strchr(line, '-') &&
		    (!colon || strchr(line, '-') < colon)) {
			name[0] = 0;
			if (sscanf(line, "%63s %7s %31s %31s %lu %4095[^\n]", range, perms, offset, dev,
				   &ino, name) < 5)
				continue;
			if (ino && anon_object(name))
				snprintf(val, sizeof(val), "%s %s %s #%d %s", perms, offset, dev,
					 label(ino), name);
			else
				snprintf(val, sizeof(val), "%s %s %s %lu %s", perms, offset, dev, ino,
					 name);
			snprintf(key, sizeof(key), "map.%s.line", range);
			put(who, key, val);
			continue;
		}
		if (!colon || !range[0])
			continue;
		*colon = 0;
		snprintf(key, sizeof(key), "map.%s.smaps.%s", range, line);
		put(who, key, colon + 1);
	}
	free(text);
	/* The NUMA policy of each area (its counters aside). */
	snprintf(path, sizeof(path), "%s/numa_maps", dir);
	if (slurp(path) < 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char addr[32], policy[128];

		if (sscanf(line, "%31s %127s", addr, policy) != 2)
			continue;
		snprintf(key, sizeof(key), "numa.%s", addr);
		put(who, key, policy);
	}
}

/* cmdline, environ: NUL-separated words, shown with blanks. */
static void put_cmdline(const char *who, const char *dir, const char *name)
{
	char path[256];
	ssize_t len, i;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((len = slurp(path)) < 0)
		return;
	for (i = 0; i < len; i++)
		if (!buf[i])
			buf[i] = ' ';
	put(who, name, buf);
}

/* auxv.TYPE = VALUE (hex), up to AT_NULL. */
static void put_auxv(const char *who, const char *dir)
{
	char path[256], key[64], val[32];
	unsigned long *v = (unsigned long *)buf;
	ssize_t len, i;

	snprintf(path, sizeof(path), "%s/auxv", dir);
	if ((len = slurp(path)) < 0)
		return;
	for (i = 0; i + 1 < len / (ssize_t)sizeof(*v) && v[i]; i += 2) {
		snprintf(key, sizeof(key), "auxv.%lu", v[i]);
		snprintf(val, sizeof(val), "%#lx", v[i + 1]);
		put(who, key, val);
	}
}

static void put_thread(long pid, long tid)
{
	char who[64], dir[128];

	snprintf(who, sizeof(who), "%ld/%ld", pid, tid);
	snprintf(dir, sizeof(dir), "/proc/%ld/task/%ld", pid, tid);
	put_stat(who, dir);
	snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/status");
	if (slurp(dir) >= 0)
		put_colon_lines(who, "status", buf);
	snprintf(dir, sizeof(dir), "/proc/%ld/task/%ld", pid, tid);
	put_file(who, dir, "comm");
	put_file(who, dir, "attr/current");
	put_lines(who, dir, "cgroup", 0);
	put_links(who, dir, "ns");
}

static void put_task(long pid)
{
	static long tids[MAX_PIDS];
	char who[32], dir[64];
	int i, n;

	snprintf(who, sizeof(who), "%ld", pid);
	snprintf(dir, sizeof(dir), "/proc/%ld", pid);
	put_mm(who, dir);
	put_fds(who, dir);
	put_lines(who, dir, "limits", 1);
	put_lines(who, dir, "timers", 0);
	put_file(who, dir, "personality");
	put_file(who, dir, "timerslack_ns");
	put_file(who, dir, "oom_score_adj");
	put_file(who, dir, "loginuid");
	put_file(who, dir, "sessionid");
	put_file(who, dir, "autogroup");
	put_file(who, dir, "coredump_filter");
	put_file(who, dir, "setgroups");
	put_cmdline(who, dir, "cmdline");
	put_cmdline(who, dir, "environ");
	put_auxv(who, dir);
	put_link(who, "exe", strcat(strcpy(buf, dir), "/exe"));
	put_link(who, "cwd", strcat(strcpy(buf, dir), "/cwd"));
	put_link(who, "root", strcat(strcpy(buf, dir), "/root"));
	snprintf(dir, sizeof(dir), "/proc/%ld/task", pid);
	n = list_numeric(dir, tids, MAX_PIDS);
	for (i = 0; i < n; i++)
		put_thread(pid, tids[i]);
}

/* Every pid of the tree below root, children of all threads, sorted. */
static int tree(long root, long *pids)
{
	static long tids[MAX_PIDS];
	char path[128], *p, *end;
	int n = 1, i, j, nt;

	pids[0] = root;
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/task", pids[i]);
		nt = list_numeric(path, tids, MAX_PIDS);
		for (j = 0; j < nt; j++) {
			snprintf(path, sizeof(path), "/proc/%ld/task/%ld/children", pids[i], tids[j]);
			if (slurp(path) < 0)
				continue;
			for (p = buf; n < MAX_PIDS; p = end) {
				long c = strtol(p, &end, 10);

				if (end == p)
					break;
				pids[n++] = c;
			}
		}
	}
	qsort(pids, n, sizeof(*pids), cmp_long);
	return n;
}

/* A task whose comm is one of the -x names: short-lived by design. */
static int transient(long pid, char **names, int nnames)
{
	char path[64];
	int i;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	if (slurp(path) < 0)
		return 1;
	buf[strcspn(buf, "\n")] = 0;
	for (i = 0; i < nnames; i++)
		if (!strcmp(buf, names[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	static long pids[MAX_PIDS];
	int i, n, opt;
	char *names[16];
	int nnames = 0;

	while ((opt = getopt(argc, argv, "x:")) != -1) {
		if (opt != 'x' || nnames == 16)
			goto usage;
		names[nnames++] = optarg;
	}
	if (optind != argc - 1 || atol(argv[optind]) <= 0)
		goto usage;
	n = tree(atol(argv[optind]), pids);
	for (i = 0; i < n; i++)
		if (!nnames || !transient(pids[i], names, nnames))
			put_task(pids[i]);
	return fflush(stdout) ? 1 : 0;
usage:
	fprintf(stderr, "usage: snapshot [-x COMM]... ROOTPID\n");
	return 2;
}
