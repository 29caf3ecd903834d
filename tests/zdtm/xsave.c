// SPDX-License-Identifier: GPL-2.0
/*
 * xsave: the extended FPU state of a task caught in user space. Known
 * values sit in the vector registers (zmm0-31 and k0-7 with AVX-512, else
 * ymm0-15), on the x87 stack, in MXCSR (non-default rounding, FTZ, DAZ, a
 * sticky flag) and the x87 control word, while an asm loop spins without
 * touching them until SIGTERM; then the loop stores them for comparison.
 */
#include <stddef.h>
#include <string.h>

#include "zdtm.h"

#define MXCSR_SET 0xffc1 /* all masked, round to zero, FTZ, DAZ, IE flag */
#define FCW_SET	  0x0f7f /* all masked, 64-bit precision, round to zero */

struct fpstate {
	uint8_t vec[32][64];
	uint16_t k[8];
	long double st[3];
	uint32_t mxcsr;
	uint16_t fcw;
};

static struct fpstate in, out;

/* clang-format off */
#define X87_LOAD   "fldt (%[si])\n\tfldt 16(%[si])\n\tfldt 32(%[si])\n\t"
#define X87_STORE  "fstpt 32(%[so])\n\tfstpt 16(%[so])\n\tfstpt (%[so])\n\t"
#define CTRL_LOAD  "ldmxcsr %[mi]\n\tfldcw %[fi]\n\t"
#define CTRL_STORE "stmxcsr %[mo]\n\tfnstcw %[fo]\n\t"
/* Reads test_stop from memory on every turn: the handler sets it. */
#define SPIN       "1: pause\n\tcmpl $0, %[stop]\n\tje 1b\n\t"
#define OPERANDS							\
	: [mo] "=m"(out.mxcsr), [fo] "=m"(out.fcw)			\
	: [vi] "r"(in.vec), [ki] "r"(in.k), [si] "r"(in.st),		\
	  [mi] "m"(in.mxcsr), [fi] "m"(in.fcw), [vo] "r"(out.vec),	\
	  [ko] "r"(out.k), [so] "r"(out.st), [stop] "m"(test_stop)
#define X87_CLOBBERS "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"

#define Z8(op, a, b, c, d, e, f, g, h) op(a) op(b) op(c) op(d) op(e) op(f) op(g) op(h)
#define ZLD(n) "vmovdqu64 " #n "*64(%[vi]), %%zmm" #n "\n\t"
#define ZST(n) "vmovdqu64 %%zmm" #n ", " #n "*64(%[vo])\n\t"
#define KLD(n) "kmovw " #n "*2(%[ki]), %%k" #n "\n\t"
#define KST(n) "kmovw %%k" #n ", " #n "*2(%[ko])\n\t"
#define YLD(n) "vmovdqu " #n "*64(%[vi]), %%ymm" #n "\n\t"
#define YST(n) "vmovdqu %%ymm" #n ", " #n "*64(%[vo])\n\t"

#define XMM0_15 "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", \
		"xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"
#define XMM16_31 "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", \
		"xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31"

__attribute__((target("avx512f"))) static void spin_avx512(void)
{
	asm volatile(Z8(ZLD, 0, 1, 2, 3, 4, 5, 6, 7) Z8(ZLD, 8, 9, 10, 11, 12, 13, 14, 15)
		     Z8(ZLD, 16, 17, 18, 19, 20, 21, 22, 23) Z8(ZLD, 24, 25, 26, 27, 28, 29, 30, 31)
		     Z8(KLD, 0, 1, 2, 3, 4, 5, 6, 7)
		     X87_LOAD CTRL_LOAD SPIN CTRL_STORE X87_STORE
		     Z8(ZST, 0, 1, 2, 3, 4, 5, 6, 7) Z8(ZST, 8, 9, 10, 11, 12, 13, 14, 15)
		     Z8(ZST, 16, 17, 18, 19, 20, 21, 22, 23) Z8(ZST, 24, 25, 26, 27, 28, 29, 30, 31)
		     Z8(KST, 0, 1, 2, 3, 4, 5, 6, 7)
		     OPERANDS
		     : "memory", XMM0_15, XMM16_31, "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7",
		       X87_CLOBBERS);
}

__attribute__((target("avx"))) static void spin_avx(void)
{
	asm volatile(Z8(YLD, 0, 1, 2, 3, 4, 5, 6, 7) Z8(YLD, 8, 9, 10, 11, 12, 13, 14, 15)
		     X87_LOAD CTRL_LOAD SPIN CTRL_STORE X87_STORE
		     Z8(YST, 0, 1, 2, 3, 4, 5, 6, 7) Z8(YST, 8, 9, 10, 11, 12, 13, 14, 15)
		     OPERANDS
		     : "memory", XMM0_15, X87_CLOBBERS);
}
/* clang-format on */

int main(int argc, char **argv)
{
	bool avx512 = __builtin_cpu_supports("avx512f");
	int nvec = avx512 ? 32 : 16, width = avx512 ? 64 : 32;
	const uint32_t mxcsr_default = 0x1f80;
	const uint16_t fcw_default = 0x037f;

	test_init(argc, argv);
	if (!avx512 && !__builtin_cpu_supports("avx"))
		skip("no AVX on this CPU");
	for (int r = 0; r < 32; r++)
		for (int b = 0; b < 64; b++)
			in.vec[r][b] = (uint8_t)((r * 64 + b) * 37 + 11);
	for (int k = 0; k < 8; k++)
		in.k[k] = 0x1111 * (k + 1) ^ 0x8421;
	in.st[0] = 1.0L / 3;
	in.st[1] = -12345.678901234567L;
	in.st[2] = 6.02214076e23L;
	in.mxcsr = MXCSR_SET;
	in.fcw = FCW_SET;

	test_daemon();
	if (avx512)
		spin_avx512();
	else
		spin_avx();
	/* Back to the defaults before any C code computes with floats. */
	asm volatile("ldmxcsr %0\n\tfldcw %1" : : "m"(mxcsr_default), "m"(fcw_default));

	for (int r = 0; r < nvec; r++)
		for (int b = 0; b < width; b++)
			if (out.vec[r][b] != in.vec[r][b])
				fail("%s%d byte %d: %#x, expected %#x", avx512 ? "zmm" : "ymm", r,
				     b, out.vec[r][b], in.vec[r][b]);
	for (int k = 0; avx512 && k < 8; k++)
		if (out.k[k] != in.k[k])
			fail("k%d: %#x, expected %#x", k, out.k[k], in.k[k]);
	for (int i = 0; i < 3; i++)
		if (memcmp(&out.st[i], &in.st[i], 10))
			fail("x87 stack value %d differs", i);
	if (out.mxcsr != MXCSR_SET)
		fail("MXCSR %#x, expected %#x", out.mxcsr, MXCSR_SET);
	if (out.fcw != FCW_SET)
		fail("x87 control word %#x, expected %#x", out.fcw, FCW_SET);
	pass();
}
