//go:build amd64 && !purego

#include "textflag.h"

// gelu32 and geluGrad32 (gelu.go) eight values at a time with AVX2 and
// sixteen with AVX-512, both branches computed and blended: the same
// operations at both levels, so the same bits. The exponential is Exp32's
// (exp_amd64.s) for arguments in [−78.2, 0], where 2ⁿ is a normal float32
// built from its exponent bits.
DATA geluConst<>+0(SB)/4, $0x7fffffff   // |·| mask
DATA geluConst<>+4(SB)/4, $0x3f000000   // 0.5
DATA geluConst<>+8(SB)/4, $0x3f800000   // 1
DATA geluConst<>+12(SB)/4, $0x3fc00000  // 1.5 (cdfSplit)
DATA geluConst<>+16(SB)/4, $0x41480000  // 12.5 (cdfZero)
DATA geluConst<>+20(SB)/4, $0xc1480000  // −12.5
DATA geluConst<>+24(SB)/4, $0xc1a00000  // −20
DATA geluConst<>+28(SB)/4, $0xbf000000  // −0.5
DATA geluConst<>+32(SB)/4, $0x3fb8aa3b  // log2e
DATA geluConst<>+36(SB)/4, $0x3f318000  // c1
DATA geluConst<>+40(SB)/4, $0xb95e8083  // c2
DATA geluConst<>+44(SB)/4, $0x39506967  // e^x's p0…p5
DATA geluConst<>+48(SB)/4, $0x3ab743ce
DATA geluConst<>+52(SB)/4, $0x3c088908
DATA geluConst<>+56(SB)/4, $0x3d2aa9c1
DATA geluConst<>+60(SB)/4, $0x3e2aaaaa
DATA geluConst<>+64(SB)/4, $0x3f000000
DATA geluConst<>+68(SB)/4, $0x0000007f  // 127, the exponent bias
DATA geluConst<>+72(SB)/4, $0x3ecc422a  // 1/√(2π)
DATA geluConst<>+76(SB)/4, $0x34ddb73a  // P, highest degree first
DATA geluConst<>+80(SB)/4, $0xb7126e83
DATA geluConst<>+84(SB)/4, $0x38efdffd
DATA geluConst<>+88(SB)/4, $0xba9b84f0
DATA geluConst<>+92(SB)/4, $0x3c2366df
DATA geluConst<>+96(SB)/4, $0xbd882c16
DATA geluConst<>+100(SB)/4, $0x3ecc422a
DATA geluConst<>+104(SB)/4, $0xbe1a453d // S, highest degree first
DATA geluConst<>+108(SB)/4, $0x3edce65b
DATA geluConst<>+112(SB)/4, $0xbecd0e4e
DATA geluConst<>+116(SB)/4, $0x3d1df3dc
DATA geluConst<>+120(SB)/4, $0x3ce73846
DATA geluConst<>+124(SB)/4, $0x3e1c15da
DATA geluConst<>+128(SB)/4, $0x3e4c0c32
DATA geluConst<>+132(SB)/4, $0x3e4c43d9
GLOBL geluConst<>(SB), RODATA|NOPTR, $136

// Y6 ← geluConst at off, broadcast; then dst = dst·x + Y6.
#define HORNER(off, x, dst) \
	VBROADCASTSS geluConst<>+off(SB), Y6 \
	VFMADD213PS  Y6, x, dst

#define GELU_CONSTANTS \
	VBROADCASTSS geluConst<>+0(SB), Y15 \
	VBROADCASTSS geluConst<>+4(SB), Y14 \
	VBROADCASTSS geluConst<>+8(SB), Y13 \
	VBROADCASTSS geluConst<>+16(SB), Y12 \
	VBROADCASTSS geluConst<>+12(SB), Y11 \
	VBROADCASTSS geluConst<>+20(SB), Y10 \
	VBROADCASTSS geluConst<>+24(SB), Y9

// From x in Y0: Φ(x) in Y5 and e^(−x²/2) in Y4 (0 where |x| > 12.5 or x
// is NaN). Uses Y1–Y8; needs GELU_CONSTANTS.
#define CDF \
	VANDPS       Y15, Y0, Y1 /* a = |x| */ \
	VMINPS       Y12, Y1, Y2 /* min(a, 12.5): 12.5 for NaN */ \
	VMULPS       Y2, Y2, Y3 \
	VBROADCASTSS geluConst<>+28(SB), Y6 \
	VMULPS       Y6, Y3, Y3 /* h = −a²/2 ∈ [−78.2, 0] */ \
	VBROADCASTSS geluConst<>+32(SB), Y6 \
	VMULPS       Y6, Y3, Y7 \
	VCVTPS2DQ    Y7, Y7 /* n = round(h·log2e) */ \
	VCVTDQ2PS    Y7, Y8 \
	VBROADCASTSS geluConst<>+36(SB), Y6 \
	VFNMADD231PS Y6, Y8, Y3 /* r = h − n·c1 */ \
	VBROADCASTSS geluConst<>+40(SB), Y6 \
	VFNMADD231PS Y6, Y8, Y3 /* r −= n·c2 */ \
	VBROADCASTSS geluConst<>+44(SB), Y4 \
	HORNER(48, Y3, Y4) \
	HORNER(52, Y3, Y4) \
	HORNER(56, Y3, Y4) \
	HORNER(60, Y3, Y4) \
	HORNER(64, Y3, Y4) \
	VMULPS       Y3, Y3, Y8 \
	VFMADD213PS  Y3, Y8, Y4 /* p·r² + r */ \
	VADDPS       Y13, Y4, Y4 /* + 1 */ \
	VPBROADCASTD geluConst<>+68(SB), Y6 \
	VPADDD       Y6, Y7, Y7 \
	VPSLLD       $23, Y7, Y7 /* 2ⁿ */ \
	VMULPS       Y7, Y4, Y4 \
	VCMPPS       $0x12, Y12, Y1, Y6 /* a ≤ 12.5, false for NaN */ \
	VANDPS       Y6, Y4, Y4 /* e */ \
	VMULPS       Y0, Y0, Y2 /* x², NaN for NaN */ \
	VBROADCASTSS geluConst<>+76(SB), Y5 \
	HORNER(80, Y2, Y5) \
	HORNER(84, Y2, Y5) \
	HORNER(88, Y2, Y5) \
	HORNER(92, Y2, Y5) \
	HORNER(96, Y2, Y5) \
	HORNER(100, Y2, Y5) \
	VFMADD213PS  Y14, Y0, Y5 /* Φ = ½ + x·P(x²) below 1.5 */ \
	VMULPS       Y14, Y1, Y3 \
	VADDPS       Y13, Y3, Y3 \
	VDIVPS       Y3, Y13, Y3 /* t = 1/(1 + a/2) */ \
	VBROADCASTSS geluConst<>+104(SB), Y7 \
	HORNER(108, Y3, Y7) \
	HORNER(112, Y3, Y7) \
	HORNER(116, Y3, Y7) \
	HORNER(120, Y3, Y7) \
	HORNER(124, Y3, Y7) \
	HORNER(128, Y3, Y7) \
	HORNER(132, Y3, Y7) \
	VMULPS       Y3, Y7, Y7 \
	VMULPS       Y4, Y7, Y7 /* c = Φ(−a) = t·S(t)·e */ \
	VSUBPS       Y7, Y13, Y8 /* 1 − c */ \
	VBLENDVPS    Y0, Y7, Y8, Y8 /* c where x < 0 */ \
	VCMPPS       $0x19, Y11, Y1, Y6 /* !(a ≥ 1.5): below the split or NaN */ \
	VBLENDVPS    Y6, Y5, Y8, Y5

// func geluAVX(dst, src *float32, n int)
TEXT ·geluAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	GELU_CONSTANTS

geluLoop:
	CMPQ    CX, $8
	JL      geluDone
	VMOVUPS (SI), Y0
	CDF
	VMAXPS  Y9, Y0, Y6 // max(x, −20): −∞·0 would be NaN
	VMULPS  Y6, Y5, Y5
	VMOVUPS Y5, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     geluLoop

geluDone:
	VZEROUPPER
	RET

// func geluGradAVX(dst, x, grad *float32, n int)
TEXT ·geluGradAVX(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ grad+16(FP), DX
	MOVQ n+24(FP), CX
	GELU_CONSTANTS

geluGradLoop:
	CMPQ         CX, $8
	JL           geluGradDone
	VMOVUPS      (SI), Y0
	CDF
	VMINPS       Y12, Y0, Y6
	VMAXPS       Y10, Y6, Y6 // x within ±12.5: ±∞·0 would be NaN
	VMULPS       Y4, Y6, Y6
	VBROADCASTSS geluConst<>+72(SB), Y7
	VFMADD213PS  Y5, Y7, Y6 // Φ + x·e/√(2π)
	VMULPS       (DX), Y6, Y6
	VMOVUPS      Y6, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DX
	ADDQ         $32, DI
	SUBQ         $8, CX
	JMP          geluGradLoop

geluGradDone:
	VZEROUPPER
	RET

// Z6 ← geluConst at off, broadcast; then dst = dst·x + Z6.
#define HORNER512(off, x, dst) \
	VBROADCASTSS geluConst<>+off(SB), Z6 \
	VFMADD213PS  Z6, x, dst

#define GELU_CONSTANTS512 \
	VBROADCASTSS geluConst<>+0(SB), Z15 \
	VBROADCASTSS geluConst<>+4(SB), Z14 \
	VBROADCASTSS geluConst<>+8(SB), Z13 \
	VBROADCASTSS geluConst<>+16(SB), Z12 \
	VBROADCASTSS geluConst<>+12(SB), Z11 \
	VBROADCASTSS geluConst<>+20(SB), Z10 \
	VBROADCASTSS geluConst<>+24(SB), Z9 \
	VXORPS       Z16, Z16, Z16

// CDF with AVX-512: from x in Z0, Φ(x) in Z5 and e^(−x²/2) in Z4; the
// blends through the masks K1–K3 (Z16 is 0). Uses Z1–Z8; needs
// GELU_CONSTANTS512.
#define CDF512 \
	VANDPS       Z15, Z0, Z1 /* a = |x| */ \
	VMINPS       Z12, Z1, Z2 /* min(a, 12.5): 12.5 for NaN */ \
	VMULPS       Z2, Z2, Z3 \
	VBROADCASTSS geluConst<>+28(SB), Z6 \
	VMULPS       Z6, Z3, Z3 /* h = −a²/2 ∈ [−78.2, 0] */ \
	VBROADCASTSS geluConst<>+32(SB), Z6 \
	VMULPS       Z6, Z3, Z7 \
	VCVTPS2DQ    Z7, Z7 /* n = round(h·log2e) */ \
	VCVTDQ2PS    Z7, Z8 \
	VBROADCASTSS geluConst<>+36(SB), Z6 \
	VFNMADD231PS Z6, Z8, Z3 /* r = h − n·c1 */ \
	VBROADCASTSS geluConst<>+40(SB), Z6 \
	VFNMADD231PS Z6, Z8, Z3 /* r −= n·c2 */ \
	VBROADCASTSS geluConst<>+44(SB), Z4 \
	HORNER512(48, Z3, Z4) \
	HORNER512(52, Z3, Z4) \
	HORNER512(56, Z3, Z4) \
	HORNER512(60, Z3, Z4) \
	HORNER512(64, Z3, Z4) \
	VMULPS       Z3, Z3, Z8 \
	VFMADD213PS  Z3, Z8, Z4 /* p·r² + r */ \
	VADDPS       Z13, Z4, Z4 /* + 1 */ \
	VPBROADCASTD geluConst<>+68(SB), Z6 \
	VPADDD       Z6, Z7, Z7 \
	VPSLLD       $23, Z7, Z7 /* 2ⁿ */ \
	VMULPS       Z7, Z4, Z4 \
	VCMPPS       $0x12, Z12, Z1, K1 \
	VBLENDMPS    Z4, Z16, K1, Z4 \
	VMULPS       Z0, Z0, Z2 /* x², NaN for NaN */ \
	VBROADCASTSS geluConst<>+76(SB), Z5 \
	HORNER512(80, Z2, Z5) \
	HORNER512(84, Z2, Z5) \
	HORNER512(88, Z2, Z5) \
	HORNER512(92, Z2, Z5) \
	HORNER512(96, Z2, Z5) \
	HORNER512(100, Z2, Z5) \
	VFMADD213PS  Z14, Z0, Z5 /* Φ = ½ + x·P(x²) below 1.5 */ \
	VMULPS       Z14, Z1, Z3 \
	VADDPS       Z13, Z3, Z3 \
	VDIVPS       Z3, Z13, Z3 /* t = 1/(1 + a/2) */ \
	VBROADCASTSS geluConst<>+104(SB), Z7 \
	HORNER512(108, Z3, Z7) \
	HORNER512(112, Z3, Z7) \
	HORNER512(116, Z3, Z7) \
	HORNER512(120, Z3, Z7) \
	HORNER512(124, Z3, Z7) \
	HORNER512(128, Z3, Z7) \
	HORNER512(132, Z3, Z7) \
	VMULPS       Z3, Z7, Z7 \
	VMULPS       Z4, Z7, Z7 /* c = Φ(−a) = t·S(t)·e */ \
	VSUBPS       Z7, Z13, Z8 /* 1 − c */ \
	VPMOVD2M     Z0, K2 /* x's sign bits */ \
	VBLENDMPS    Z7, Z8, K2, Z8 /* c where x < 0 */ \
	VCMPPS       $0x19, Z11, Z1, K3 /* !(a ≥ 1.5): below the split or NaN */ \
	VBLENDMPS    Z5, Z8, K3, Z5

// func geluAVX512(dst, src *float32, n int)
TEXT ·geluAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	GELU_CONSTANTS512

gelu512Loop:
	CMPQ    CX, $16
	JL      gelu512Done
	VMOVUPS (SI), Z0
	CDF512
	VMAXPS  Z9, Z0, Z6 // max(x, −20): −∞·0 would be NaN
	VMULPS  Z6, Z5, Z5
	VMOVUPS Z5, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     gelu512Loop

gelu512Done:
	VZEROUPPER
	RET

// func geluGradAVX512(dst, x, grad *float32, n int)
TEXT ·geluGradAVX512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ grad+16(FP), DX
	MOVQ n+24(FP), CX
	GELU_CONSTANTS512

geluGrad512Loop:
	CMPQ         CX, $16
	JL           geluGrad512Done
	VMOVUPS      (SI), Z0
	CDF512
	VMINPS       Z12, Z0, Z6
	VMAXPS       Z10, Z6, Z6 // x within ±12.5: ±∞·0 would be NaN
	VMULPS       Z4, Z6, Z6
	VBROADCASTSS geluConst<>+72(SB), Z7
	VFMADD213PS  Z5, Z7, Z6 // Φ + x·e/√(2π)
	VMULPS       (DX), Z6, Z6
	VMOVUPS      Z6, (DI)
	ADDQ         $64, SI
	ADDQ         $64, DX
	ADDQ         $64, DI
	SUBQ         $16, CX
	JMP          geluGrad512Loop

geluGrad512Done:
	VZEROUPPER
	RET
