/* A minimal unit-test harness: each CHECK prints PASS/FAIL with its line. */
#ifndef NESTOR_UNIT_H
#define NESTOR_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed;

#define CHECK(name, cond)                                                                          \
	do {                                                                                       \
		if (cond) {                                                                        \
			printf("PASS %s: %s\n", __FILE__, name);                                   \
		} else {                                                                           \
			printf("FAIL %s: %s (line %d: %s)\n", __FILE__, name, __LINE__, #cond);    \
			unit_failed++;                                                     \
		}                                                                                  \
	} while (0)

#define UNIT_END() return unit_failed ? 1 : 0

#endif
