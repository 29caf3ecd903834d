/* Kernel features and facts, probed once at start-up. */
#ifndef NESTOR_KERNDAT_H
#define NESTOR_KERNDAT_H

#include <stdbool.h>
#include <stdint.h>

struct kerndat {
	uint64_t zero_pfn;
	bool has_zero_pfn;
	uint32_t last_cap;
};

extern struct kerndat kdat;

int kerndat_init(void);
/* The full probe behind "nestor check": prints what is missing. */
int kerndat_check(void);

#endif
