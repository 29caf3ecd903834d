# nestor: checkpoint/restore for Linux process trees.
CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
VERSION := 0.1.0

CFLAGS_COMMON := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	-Wno-missing-field-initializers -D_GNU_SOURCE
CFLAGS  ?=
ALL_CFLAGS = $(CFLAGS_COMMON) $(CFLAGS) -I src -I $(BUILD)/proto -DNESTOR_VERSION='"$(VERSION)"'
LDLIBS  := -lprotobuf-c

PROTOS  := $(wildcard proto/*.proto)
PB_C    := $(patsubst proto/%.proto,$(BUILD)/proto/%.pb-c.c,$(PROTOS))
PB_O    := $(PB_C:.c=.o)
SRCS    := $(filter-out src/restorer/%,$(wildcard src/*/*.c))
OBJS    := $(patsubst src/%.c,$(BUILD)/src/%.o,$(SRCS))
LIB_OBJS := $(filter-out $(BUILD)/src/core/main.o,$(OBJS)) $(PB_O) $(BUILD)/src/restorer-blob.o

all: $(BUILD)/nestor

$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: proto/%.proto
	@mkdir -p $(BUILD)/proto
	protoc-c --proto_path=proto --c_out=$(BUILD)/proto $<

$(BUILD)/proto/%.pb-c.o: $(BUILD)/proto/%.pb-c.c
	$(CC) $(ALL_CFLAGS) -Wno-error -c -o $@ $<

$(BUILD)/src/%.o: src/%.c $(PB_C)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The restorer blob: freestanding, position independent, no relocations.
RST_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -ffreestanding \
	-fno-stack-protector -fpie -fno-plt -fno-asynchronous-unwind-tables -fno-builtin \
	-fno-jump-tables -mno-red-zone -mgeneral-regs-only -nostdlib -I src -I src/restorer
RST_SRCS := src/restorer/entry.S src/restorer/restorer.c
$(BUILD)/restorer/restorer.elf: $(RST_SRCS) src/restorer/restorer.lds src/restorer/*.h src/tree/proc.h
	@mkdir -p $(BUILD)/restorer
	$(CC) $(RST_CFLAGS) -static-pie -Wl,-T,src/restorer/restorer.lds -Wl,--no-dynamic-linker \
		-Wl,-z,norelro -Wl,--build-id=none -o $@ $(RST_SRCS)
	@if readelf -rW $@ | grep -q 'R_X86_64'; then \
		echo "restorer blob needs relocations; it must be position independent"; \
		readelf -rW $@; rm -f $@; exit 1; fi
$(BUILD)/restorer/restorer.bin: $(BUILD)/restorer/restorer.elf
	objcopy -O binary $< $@
$(BUILD)/src/restorer-blob.o: $(BUILD)/restorer/restorer.bin
	@mkdir -p $(BUILD)/src
	cd $(BUILD)/restorer && ld -r -b binary -z noexecstack -o ../src/restorer-blob.o restorer.bin

# Symbols bound at start and the GOT read-only after it: each task a restore
# forks would otherwise resolve (and copy) them again, one by one.
NESTOR_LDFLAGS := -Wl,-z,now -Wl,-z,relro
$(BUILD)/nestor: $(BUILD)/src/core/main.o $(LIB_OBJS)
	$(CC) $(NESTOR_LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(OBJS:.o=.d)
-include tests/tests.mk

# Unit tests of pure code.
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
$(BUILD)/tests/unit/%: tests/unit/%.c $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# The --shell-job test drives its own pty.
PTY_BINS := $(BUILD)/tests/pty/shell_job $(BUILD)/tests/pty/job
$(BUILD)/tests/pty/shell_job: tests/pty/shell_job.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -o $@ $< -lutil
$(BUILD)/tests/pty/job: tests/pty/job.c $(BUILD)/tests/lib/zdtm.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_COMMON) -Itests/lib -o $@ $^

deps:
	@./scripts/install-deps.sh

check: deps
	$(MAKE) all tests-bin $(UNIT_BINS) $(PTY_BINS) $(BUILD)/fuzz/restore-fuzz
	./tests/check.sh

demo: deps
	$(MAKE) all $(BUILD)/demo/counter
	./scripts/demo.sh

$(BUILD)/demo/counter: scripts/counter.c
	@mkdir -p $(dir $@)
	$(CC) -O1 -g -o $@ $<

bench: deps
	$(MAKE) all
	./bench/run.sh
	./bench/cow.sh
	./bench/nested.sh
	./bench/scale.sh

fuzz: deps
	$(MAKE) $(BUILD)/fuzz/image-fuzz $(BUILD)/fuzz/restore-fuzz

# The structure-aware fuzzer of the restore's validation (fuzz/restore-fuzz.c),
# built with the project's compiler: make check runs it for a bounded time.
RFUZZ_SRCS := fuzz/restore-fuzz.c fuzz/mutate.c fuzz/oracle.c fuzz/oracle-ipc.c
$(BUILD)/fuzz/restore-fuzz: $(RFUZZ_SRCS) fuzz/fuzz.h $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I . -o $@ $(RFUZZ_SRCS) $(LIB_OBJS) $(LDLIBS)

# The image reader built with clang's sanitizers, so libFuzzer sees its coverage.
FUZZ_CFLAGS = $(filter-out -O2 -Werror,$(ALL_CFLAGS)) -O1 -fsanitize=fuzzer-no-link,address
FUZZ_OBJS := $(addprefix $(BUILD)/fuzz/obj/src/core/,image.o util.o log.o) \
	$(patsubst $(BUILD)/proto/%,$(BUILD)/fuzz/obj/proto/%,$(PB_O))
$(BUILD)/fuzz/obj/src/%.o: src/%.c $(PB_C)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
$(BUILD)/fuzz/obj/proto/%.o: $(BUILD)/proto/%.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
$(BUILD)/fuzz/image-fuzz: fuzz/image-fuzz.c $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

install: all
	install -D -m 0755 $(BUILD)/nestor $(DESTDIR)$(PREFIX)/sbin/nestor

clean:
	rm -rf $(BUILD)

.PHONY: all check demo bench deps install clean fuzz
.SECONDARY:
