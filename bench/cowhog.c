// SPDX-License-Identifier: GPL-2.0
/*
 * cowhog WORKDIR MIB N [rewrite]: a parent that writes a pattern into MIB
 * MiB of private anonymous memory and forks N children, which share it
 * copy-on-write (none writes); with "rewrite" the parent then writes
 * another pattern over all of its copy (a preforked server: the children
 * share the old pages between themselves only); then WORKDIR/ready and
 * sleep. On SIGUSR1
 * the parent passes it on and every task checks every word of the area,
 * writing "OK ..." or "BAD ..." into WORKDIR/result.PID; SIGTERM ends them.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_term;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static uint64_t salt; /* the parent's, once it rewrote its copy */

static inline uint64_t pattern(uint64_t i)
{
	return ((i + 1) * 0x9e3779b97f4a7c15ULL) ^ salt;
}

static void put_file(const char *dir, const char *name, const char *text)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) ||
	    rename(tmp, path)) {
		dprintf(2, "cowhog: cannot write %s: %m\n", path);
		exit(1);
	}
}

static void verify(const char *dir, const uint64_t *mem, size_t words)
{
	char msg[256], name[64];
	size_t i;

	for (i = 0; i < words && mem[i] == pattern(i); i++)
		;
	if (i == words)
		snprintf(msg, sizeof(msg), "OK %zu bytes intact\n", words * sizeof(*mem));
	else
		snprintf(msg, sizeof(msg), "BAD word at offset %zu\n", i * sizeof(*mem));
	snprintf(name, sizeof(name), "result.%d", getpid());
	put_file(dir, name, msg);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t block, wait_mask;
	size_t len, words;
	uint64_t *mem;
	pid_t kids[256];
	bool parent = true;
	int n;

	if (argc < 4 || argc > 5 || atol(argv[2]) <= 0 || (n = atoi(argv[3])) < 0 || n > 256 ||
	    (argc == 5 && strcmp(argv[4], "rewrite"))) {
		dprintf(2, "usage: %s WORKDIR MIB N [rewrite]\n", argv[0]);
		return 2;
	}
	len = (size_t)atol(argv[2]) << 20;
	words = len / sizeof(*mem);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		dprintf(2, "cowhog: mmap %zu bytes: %m\n", len);
		return 1;
	}
	for (size_t i = 0; i < words; i++)
		mem[i] = pattern(i);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGUSR1);
	sigdelset(&wait_mask, SIGTERM);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			dprintf(2, "cowhog: fork: %m\n");
			return 1;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			n = 0;
			parent = false;
			break;
		}
		kids[i] = pid;
	}
	if (parent && argc == 5) {
		salt = 0x5555aaaa5555aaaaULL;
		for (size_t i = 0; i < words; i++)
			mem[i] = pattern(i);
	}
	if (parent)
		put_file(argv[1], "ready", "ready\n");
	while (!got_term) {
		sigsuspend(&wait_mask);
		if (got_usr1) {
			got_usr1 = 0;
			for (int i = 0; i < n; i++)
				kill(kids[i], SIGUSR1);
			verify(argv[1], mem, words);
		}
	}
	return 0;
}
