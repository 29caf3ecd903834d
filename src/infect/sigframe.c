/*
 * The x86_64 signal frame nestor builds for each thread it runs code in:
 * the thread's own registers, signal mask and xsave area, laid out as the
 * kernel's rt_sigreturn reads them. A thread resumed without nestor (nestor
 * died) goes through rt_sigreturn with it and is itself again.
 */
#define LOG_PREFIX "sigframe: "
#include <cpuid.h>
#include <string.h>
#include "core/log.h"
#include "infect/sigframe.h"

#define FP_XSTATE_MAGIC1 0x46505853U
#define FP_XSTATE_MAGIC2 0x46505845U
#define UC_FP_XSTATE         1
#define UC_SIGCONTEXT_SS     2
#define UC_STRICT_RESTORE_SS 4
#define XSAVE_LEGACY 512
#define XSAVE_HDR    64
#define SW_BYTES_OFF 464
#define FPSTATE_OFF  512 /* from the frame's start: 64-byte aligned */

/* The kernel's struct sigcontext (64-bit). */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t di, si, bp, bx, dx, ax, cx, sp, ip, flags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct k_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t ss_pad;
	uint64_t ss_size;
	struct k_sigcontext mc;
	uint64_t sigmask;
};

/* struct _fpx_sw_bytes, in the legacy area's software-reserved bytes. */
struct k_sw_bytes {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size;
	uint32_t padding[7];
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext layout");
_Static_assert(sizeof(struct k_ucontext) == 304, "ucontext layout");
_Static_assert(8 + sizeof(struct k_ucontext) + 128 <= FPSTATE_OFF, "frame layout");

size_t sigframe_size(size_t xlen)
{
	return FPSTATE_OFF + xlen + 64;
}

uint64_t sigframe_uc_stack(uint64_t frame)
{
	return frame + 8 + offsetof(struct k_ucontext, ss_sp);
}

uint64_t sigframe_sp(uint64_t frame)
{
	return frame + 8; /* rt_sigreturn finds the frame just below: the pretcode a handler popped */
}

/*
 * The smallest xstate size that holds every component in use: the kernel
 * accepts no more than the task's own size, which is below the ptrace
 * buffer's when the task has no permission for the dynamic features.
 */
static uint32_t xstate_size_for(uint64_t xstate_bv, size_t xlen)
{
	uint32_t size = XSAVE_LEGACY + XSAVE_HDR;

	for (unsigned i = 2; i < 64; i++) {
		unsigned a, b, c, d;

		if (!(xstate_bv & (1ULL << i)))
			continue;
		__cpuid_count(0xd, i, a, b, c, d);
		if (c & 1) /* supervisor state: not in a user buffer */
			continue;
		if (b + a > size)
			size = b + a;
	}
	return size <= xlen ? size : xlen;
}

int sigframe_build(const struct user_regs_struct *r, uint64_t sigmask, const uint8_t *xsave,
		   size_t xlen, uint64_t frame, uint8_t *buf, size_t buflen)
{
	struct k_ucontext *uc = (struct k_ucontext *)(buf + 8);
	struct k_sigcontext *sc = &uc->mc;
	struct k_sw_bytes sw = { 0 };
	uint32_t size, magic2 = FP_XSTATE_MAGIC2;
	uint64_t xstate_bv;

	if (buflen < sigframe_size(xlen) || xlen < XSAVE_LEGACY + XSAVE_HDR)
		return log_error_ret(-EINVAL, "xsave area of %zu bytes does not fit a frame", xlen);
	memset(buf, 0, FPSTATE_OFF);
	uc->uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	uc->ss_flags = 2; /* SS_DISABLE until the thread's own altstack is read into it */
	sc->r8 = r->r8, sc->r9 = r->r9, sc->r10 = r->r10, sc->r11 = r->r11;
	sc->r12 = r->r12, sc->r13 = r->r13, sc->r14 = r->r14, sc->r15 = r->r15;
	sc->di = r->rdi, sc->si = r->rsi, sc->bp = r->rbp, sc->bx = r->rbx;
	sc->dx = r->rdx, sc->ax = r->rax, sc->cx = r->rcx, sc->sp = r->rsp;
	sc->ip = r->rip, sc->flags = r->eflags;
	sc->cs = r->cs, sc->ss = r->ss;
	sc->fpstate = frame + FPSTATE_OFF;
	uc->sigmask = sigmask;
	memcpy(buf + FPSTATE_OFF, xsave, xlen);
	memcpy(&xstate_bv, xsave + XSAVE_LEGACY, sizeof(xstate_bv));
	size = xstate_size_for(xstate_bv, xlen);
	sw.magic1 = FP_XSTATE_MAGIC1;
	sw.xstate_size = size;
	sw.extended_size = size + sizeof(uint32_t);
	sw.xfeatures = xstate_bv | 3; /* x87 and SSE always come from the legacy area */
	memcpy(buf + FPSTATE_OFF + SW_BYTES_OFF, &sw, sizeof(sw));
	memset(buf + FPSTATE_OFF + xlen, 0, sigframe_size(xlen) - FPSTATE_OFF - xlen);
	memcpy(buf + FPSTATE_OFF + size, &magic2, sizeof(magic2));
	return 0;
}
