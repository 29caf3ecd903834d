/* The demo workload: counts once every 100 ms, printing each value, so a
 * restore shows it going on from where it stopped. */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	unsigned long n = 0;

	setvbuf(stdout, NULL, _IONBF, 0);
	for (;;) {
		printf("%lu\n", n++);
		nanosleep(&ts, NULL);
	}
}
