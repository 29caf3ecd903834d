// SPDX-License-Identifier: GPL-2.0
/*
 * memhog WORKDIR MIB: the big-memory workload. Maps MIB MiB of private
 * anonymous memory and writes a position-dependent pattern into every word
 * of it (no zero pages, no two pages alike), creates WORKDIR/ready, then
 * sleeps. On SIGUSR1 it checks every word again and writes "OK ..." or
 * "BAD ..." into WORKDIR/result, so the benchmark knows a restore brought
 * the memory back intact; SIGTERM ends it.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_term;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

static inline uint64_t pattern(uint64_t i)
{
	return (i + 1) * 0x9e3779b97f4a7c15ULL;
}

/* open/write/close: the reader polls for the file and must see it whole. */
static void put_file(const char *dir, const char *name, const char *text)
{
	char path[4096], tmp[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		dprintf(2, "memhog: cannot write %s: %m\n", tmp);
		exit(1);
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		dprintf(2, "memhog: cannot rename %s: %m\n", tmp);
		exit(1);
	}
}

static void verify(const char *dir, const uint64_t *mem, size_t words)
{
	char msg[256];
	size_t i;

	for (i = 0; i < words; i++)
		if (mem[i] != pattern(i))
			break;
	if (i == words)
		snprintf(msg, sizeof(msg), "OK %zu bytes intact\n", words * sizeof(*mem));
	else
		snprintf(msg, sizeof(msg), "BAD word at offset %zu: %#llx, expected %#llx\n",
			 i * sizeof(*mem), (unsigned long long)mem[i],
			 (unsigned long long)pattern(i));
	put_file(dir, "result", msg);
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t block, wait_mask;
	size_t len, words, i;
	uint64_t *mem;

	if (argc != 3 || atol(argv[2]) <= 0) {
		dprintf(2, "usage: %s WORKDIR MIB\n", argv[0]);
		return 2;
	}
	len = (size_t)atol(argv[2]) << 20;
	words = len / sizeof(*mem);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		dprintf(2, "memhog: mmap %zu bytes: %m\n", len);
		return 1;
	}
	for (i = 0; i < words; i++)
		mem[i] = pattern(i);

	/* Signals stay blocked outside sigsuspend(): none slips between check and wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &wait_mask);
	sigdelset(&wait_mask, SIGUSR1);
	sigdelset(&wait_mask, SIGTERM);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	put_file(argv[1], "ready", "ready\n");

	while (!got_term) {
		sigsuspend(&wait_mask);
		if (got_usr1) {
			got_usr1 = 0;
			verify(argv[1], mem, words);
		}
	}
	return 0;
}
