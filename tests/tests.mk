# Checkpoint/restore test programs: build/tests/subreaper, build/tests/snapshot,
# build/tests/lib/zdtm.o
# and one build/tests/zdtm/NAME per tests/zdtm/NAME.c.
# Included by the top Makefile; also usable alone: make -f tests/tests.mk tests-bin
CC    ?= cc
BUILD ?= build

ZDTM_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Itests/lib
ZDTM_SRCS   := $(wildcard tests/zdtm/*.c)
ZDTM_BINS   := $(patsubst tests/zdtm/%.c,$(BUILD)/tests/zdtm/%,$(ZDTM_SRCS))
ZDTM_LIB    := $(BUILD)/tests/lib/zdtm.o

# Per-test extras go in ZDTM_CFLAGS_<name> / ZDTM_LDLIBS_<name>. xsave needs
# none: it selects AVX/AVX-512 per function with target attributes, so the
# rest of the program still runs on a CPU without them.

tests-bin: $(BUILD)/tests/subreaper $(BUILD)/tests/snapshot $(BUILD)/tests/nsinit $(ZDTM_LIB) $(ZDTM_BINS)

# The state of a tree as /proc shows it, compared by tests/run.sh.
$(BUILD)/tests/snapshot: tests/snapshot.c
	@mkdir -p $(dir $@)
	$(CC) $(ZDTM_CFLAGS) -O2 -Wno-format-truncation -o $@ $<

# The init of tests/run.sh's ns and uns flavours.
$(BUILD)/tests/nsinit: tests/nsinit.c
	@mkdir -p $(dir $@)
	$(CC) $(ZDTM_CFLAGS) -o $@ $<

$(BUILD)/tests/subreaper: tests/subreaper.c
	@mkdir -p $(dir $@)
	$(CC) $(ZDTM_CFLAGS) -o $@ $<

$(ZDTM_LIB): tests/lib/zdtm.c tests/lib/zdtm.h
	@mkdir -p $(dir $@)
	$(CC) $(ZDTM_CFLAGS) -c -o $@ $<

$(BUILD)/tests/zdtm/%: tests/zdtm/%.c $(ZDTM_LIB) tests/lib/zdtm.h tests/lib/tree.h tests/lib/ptimer.h tests/lib/unixsk.h
	@mkdir -p $(dir $@)
	$(CC) $(ZDTM_CFLAGS) $(ZDTM_CFLAGS_$*) -o $@ $< $(ZDTM_LIB) $(ZDTM_LDLIBS_$*)

.PHONY: tests-bin

# cow_window is cow_fork with a restore hook.
$(BUILD)/tests/zdtm/cow_window: tests/zdtm/cow_fork.c
$(BUILD)/tests/zdtm/cow_adjacent_window: tests/zdtm/cow_adjacent.c
$(BUILD)/tests/zdtm/cow_siblings_window: tests/zdtm/cow_siblings.c
$(BUILD)/tests/zdtm/cow_grown_window: tests/zdtm/cow_grown.c
