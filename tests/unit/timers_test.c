/* Unit tests of the POSIX timers code: the /proc/PID/timers parser on a sample
 * from this kernel, and the image checks on every kind of bad entry. */
#include <signal.h>
#include <time.h>
#include "core/arena.h"
#include "core/log.h"
#include "tree/timers.h"
#include "unit.h"

/* What a process made with: a signal with a 64-bit value, one to a thread,
 * SIGEV_NONE with a bad signal number on the process CPU clock, the default
 * sigevent, and the kernel's SIGEV_THREAD on the thread CPU clock. */
static const char sample[] = "ID: 4\nsignal: 12/0000000000000000\nnotify: thread/pid.29497\n"
			     "ClockID: -2\nID: 3\nsignal: 14/0000000000000003\n"
			     "notify: signal/pid.29497\nClockID: 7\nID: 2\n"
			     "signal: -5/0000000000000000\nnotify: none/pid.29497\nClockID: -6\n"
			     "ID: 1\nsignal: 10/0000000000000000\nnotify: signal/tid.29498\n"
			     "ClockID: 0\nID: 0\nsignal: 34/deadbeef12345678\n"
			     "notify: signal/pid.29497\nClockID: 1\n";

static void test_parse(void)
{
	PosixTimerEntry **v = NULL;
	size_t n = 0;

	CHECK("sample parses", timers_parse_proc(sample, 29497, &v, &n) == 0 && n == 5);
	if (n != 5)
		return;
	CHECK("newest first", v[0]->id == 4 && v[4]->id == 0);
	CHECK("SIGEV_THREAD kind", v[0]->notify == SIGEV_THREAD && v[0]->clock == -2);
	CHECK("default sigevent", v[1]->signo == SIGALRM && v[1]->sigev_value == 3);
	CHECK("SIGEV_NONE keeps its signal", v[2]->notify == SIGEV_NONE && v[2]->signo == -5);
	CHECK("thread id", v[3]->notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID) &&
			       v[3]->has_notify_tid && v[3]->notify_tid == 29498);
	CHECK("64-bit value", v[4]->sigev_value == 0xdeadbeef12345678ULL && !v[4]->has_notify_tid);
	CHECK("no timers", timers_parse_proc("", 1, &v, &n) == 0 && n == 0);
	CHECK("another process's pid fails", timers_parse_proc(sample, 29498, &v, &n) < 0);
	CHECK("missing ClockID fails",
	      timers_parse_proc("ID: 0\nsignal: 14/0\nnotify: signal/pid.7\n", 7, &v, &n) < 0);
	CHECK("a line before any ID fails",
	      timers_parse_proc("ClockID: 0\nID: 0\nsignal: 14/0\nnotify: signal/pid.7\n"
				"ClockID: 0\n",
				7, &v, &n) < 0);
	CHECK("unknown notify fails",
	      timers_parse_proc("ID: 0\nsignal: 14/0\nnotify: carrier/pid.7\nClockID: 0\n", 7, &v,
				&n) < 0);
	CHECK("garbage fails", timers_parse_proc("ID: 0\nwhat\n", 7, &v, &n) < 0);
}

static ThreadEntry main_thread = THREAD_ENTRY__INIT, other = THREAD_ENTRY__INIT;
static ThreadEntry *others[] = {&other};

/* timers_validate on a task 100 (threads 100, 101) with timers a and b. */
static int validate(const PosixTimerEntry *a, const PosixTimerEntry *b)
{
	TaskCoreEntry c = TASK_CORE_ENTRY__INIT;
	PosixTimerEntry ea = *a, eb = *b, *v[] = {&ea, &eb};
	struct restore_task t = {.pid = 100, .core = &c};

	main_thread.tid = 100;
	other.tid = 101;
	c.pid = 100;
	c.thread = &main_thread;
	c.threads = others;
	c.n_threads = 1;
	c.timers = v;
	c.n_timers = 2;
	return timers_validate(&t);
}

/* The kernel's CPU clock ids: ~pid << 3, the per-thread bit, which clock. */
static int cpuclock(int pid, int bits)
{
	return (int)((unsigned int)~pid << 3) | bits;
}

static void test_validate(void)
{
	PosixTimerEntry ok = POSIX_TIMER_ENTRY__INIT, other_ok = POSIX_TIMER_ENTRY__INIT, e;

	ok.id = 7;
	ok.clock = CLOCK_MONOTONIC;
	ok.notify = SIGEV_SIGNAL;
	ok.signo = SIGRTMIN;
	ok.value_ns = 5;
	other_ok.id = 3;
	other_ok.clock = -2;
	other_ok.notify = SIGEV_SIGNAL | SIGEV_THREAD_ID;
	other_ok.has_notify_tid = true;
	other_ok.notify_tid = 100;
	other_ok.signo = SIGUSR1;
	other_ok.queued = true;
	CHECK("good timers pass", validate(&ok, &other_ok) == 0);
	e = ok, e.id = 3;
	CHECK("an id twice fails", validate(&e, &other_ok) < 0);
	e = ok, e.id = -1;
	CHECK("a negative id fails", validate(&e, &other_ok) < 0);
	e = ok, e.clock = CLOCK_MONOTONIC_RAW;
	CHECK("a clock without timers fails", validate(&e, &other_ok) < 0);
	e = ok, e.clock = cpuclock(3, 3);
	CHECK("a clock device fails", validate(&e, &other_ok) < 0);
	e = ok, e.clock = cpuclock(555, 2);
	CHECK("another process's CPU clock fails", validate(&e, &other_ok) < 0);
	e = ok, e.clock = cpuclock(555, 4 | 2);
	CHECK("a foreign thread's CPU clock fails", validate(&e, &other_ok) < 0);
	e = other_ok, e.notify_tid = 555;
	CHECK("a foreign thread fails", validate(&ok, &e) < 0);
	e = other_ok, e.has_notify_tid = false;
	CHECK("SIGEV_THREAD_ID without a thread fails", validate(&ok, &e) < 0);
	e = ok, e.has_notify_tid = true, e.notify_tid = 100;
	CHECK("a thread without SIGEV_THREAD_ID fails", validate(&e, &other_ok) < 0);
	e = ok, e.notify = SIGEV_NONE | SIGEV_THREAD_ID;
	CHECK("SIGEV_NONE | SIGEV_THREAD_ID fails", validate(&e, &other_ok) < 0);
	e = ok, e.notify = 3;
	CHECK("an unknown notify fails", validate(&e, &other_ok) < 0);
	e = ok, e.signo = 65;
	CHECK("signal 65 fails", validate(&e, &other_ok) < 0);
	e = ok, e.signo = 0;
	CHECK("signal 0 fails", validate(&e, &other_ok) < 0);
	e = ok, e.notify = SIGEV_NONE, e.signo = 12345;
	CHECK("SIGEV_NONE with any signal passes", validate(&e, &other_ok) == 0);
	e.queued = true;
	CHECK("SIGEV_NONE queued fails", validate(&e, &other_ok) < 0);
	e = ok, e.value_ns = 9223372036ULL * 1000000000ULL;
	CHECK("a time past the kernel's fails", validate(&e, &other_ok) < 0);
	e = ok, e.overrun = 1U << 31;
	CHECK("an overrun past INT_MAX fails", validate(&e, &other_ok) < 0);
}

int main(void)
{
	log_init(-1, -1, NULL); /* keep expected errors quiet */
	test_parse();
	test_validate();
	arena_free_all();
	UNIT_END();
}
