/*
 * affinity: the main thread and a second thread each pinned to a CPU of
 * their own keep their CPU affinity.
 */
#include <pthread.h>
#include <stdbool.h>
#include <sched.h>
#include <unistd.h>
#include "zdtm.h"

static int ncpu;
static volatile int thread_cpu_ok = -1;
static volatile int thread_go;

static bool only_on(int cpu)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return false;
	return CPU_COUNT(&set) == 1 && CPU_ISSET(cpu, &set);
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		fail("sched_setaffinity: %m");
}

static void *thread_main(void *arg)
{
	(void)arg;
	pin(0);
	thread_cpu_ok = 0;
	while (!thread_go)
		usleep(10000);
	thread_cpu_ok = only_on(0);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	test_init(argc, argv);
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 2)
		skip("one CPU only");
	pin(ncpu - 1);
	if (pthread_create(&t, NULL, thread_main, NULL))
		fail("pthread_create");
	while (thread_cpu_ok < 0)
		usleep(1000);
	test_daemon();
	test_waitsig();
	if (!only_on(ncpu - 1))
		fail("the main thread is no longer pinned to CPU %d only", ncpu - 1);
	thread_go = 1;
	pthread_join(t, NULL);
	if (!thread_cpu_ok)
		fail("the second thread is no longer pinned to CPU 0 only");
	pass();
}
