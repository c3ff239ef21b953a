//go:build amd64 && !purego

#include "textflag.h"

// Exp32's algorithm sixteen values at a time: x clamped to [−110, 89]
// (NaN kept), n = round(x·log2e), r = x − n·ln2 in two parts, the same
// polynomial, and p·2ⁿ by VSCALEFPS, which gives +Inf above the float32
// range and 0 (through subnormals) below it.
DATA expConst512<>+0(SB)/4, $0xc2dc0000  // −110
DATA expConst512<>+4(SB)/4, $0x42b20000  // 89
DATA expConst512<>+8(SB)/4, $0x3fb8aa3b  // log2e
DATA expConst512<>+12(SB)/4, $0x3f318000 // c1
DATA expConst512<>+16(SB)/4, $0xb95e8083 // c2
DATA expConst512<>+20(SB)/4, $0x39506967 // p0
DATA expConst512<>+24(SB)/4, $0x3ab743ce // p1
DATA expConst512<>+28(SB)/4, $0x3c088908 // p2
DATA expConst512<>+32(SB)/4, $0x3d2aa9c1 // p3
DATA expConst512<>+36(SB)/4, $0x3e2aaaaa // p4
DATA expConst512<>+40(SB)/4, $0x3f000000 // p5
DATA expConst512<>+44(SB)/4, $0x3f800000 // 1
GLOBL expConst512<>(SB), RODATA|NOPTR, $48

// EXP512_CONSTS broadcasts expConst512 to Z4–Z15.
#define EXP512_CONSTS \
	VBROADCASTSS expConst512<>+0(SB), Z4; \
	VBROADCASTSS expConst512<>+4(SB), Z5; \
	VBROADCASTSS expConst512<>+8(SB), Z6; \
	VBROADCASTSS expConst512<>+12(SB), Z7; \
	VBROADCASTSS expConst512<>+16(SB), Z8; \
	VBROADCASTSS expConst512<>+20(SB), Z9; \
	VBROADCASTSS expConst512<>+24(SB), Z10; \
	VBROADCASTSS expConst512<>+28(SB), Z11; \
	VBROADCASTSS expConst512<>+32(SB), Z12; \
	VBROADCASTSS expConst512<>+36(SB), Z13; \
	VBROADCASTSS expConst512<>+40(SB), Z14; \
	VBROADCASTSS expConst512<>+44(SB), Z15

// EXP512_Z0 sets Z0 = e^Z0 with the constants of EXP512_CONSTS; it
// clobbers Z1–Z3 and Z16. NaN in x is returned as it is (VMAXPS/VMINPS
// keep their second operand); n = round(x·log2e) to nearest; r = x − n·c1
// − n·c2; p·r² + r + 1 by the polynomial; ·2ⁿ by VSCALEFPS.
#define EXP512_Z0 \
	VMAXPS       Z0, Z4, Z0; \
	VMINPS       Z0, Z5, Z0; \
	VMULPS       Z6, Z0, Z1; \
	VRNDSCALEPS  $0, Z1, Z1; \
	VMOVAPS      Z0, Z2; \
	VFNMADD231PS Z7, Z1, Z2; \
	VFNMADD231PS Z8, Z1, Z2; \
	VMOVAPS      Z9, Z3; \
	VFMADD213PS  Z10, Z2, Z3; \
	VFMADD213PS  Z11, Z2, Z3; \
	VFMADD213PS  Z12, Z2, Z3; \
	VFMADD213PS  Z13, Z2, Z3; \
	VFMADD213PS  Z14, Z2, Z3; \
	VMULPS       Z2, Z2, Z16; \
	VFMADD213PS  Z2, Z16, Z3; \
	VADDPS       Z15, Z3, Z3; \
	VSCALEFPS    Z1, Z3, Z0

// func expAVX512(dst, src *float32, n int)
TEXT ·expAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	EXP512_CONSTS

exp512Loop:
	CMPQ CX, $16
	JL   exp512Done
	VMOVUPS      (SI), Z0
	EXP512_Z0
	VMOVUPS      Z0, (DI)
	ADDQ         $64, SI
	ADDQ         $64, DI
	SUBQ         $16, CX
	JMP          exp512Loop

exp512Done:
	VZEROUPPER
	RET

// func expSumAVX512(dst, src *float32, n int, shift float32) float32
TEXT ·expSumAVX512(SB), NOSPLIT, $0-36
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS shift+24(FP), Z17
	VXORPS       Z18, Z18, Z18 // the sum's lanes
	EXP512_CONSTS

expSum512Loop:
	CMPQ         CX, $16
	JL           expSum512Done
	VMOVUPS      (SI), Z0
	VSUBPS       Z17, Z0, Z0    // x − shift
	EXP512_Z0
	VMOVUPS      Z0, (DI)
	VADDPS       Z0, Z18, Z18
	ADDQ         $64, SI
	ADDQ         $64, DI
	SUBQ         $16, CX
	JMP          expSum512Loop

expSum512Done:
	TESTQ        CX, CX
	JE           expSum512Reduce
	MOVL         $1, AX // the tail's CX lanes, under K1
	SHLL         CX, AX
	DECL         AX
	KMOVW        AX, K1
	VMOVUPS.Z    (SI), K1, Z0
	VSUBPS       Z17, Z0, Z0
	EXP512_Z0
	VMOVUPS      Z0, K1, (DI)
	VADDPS       Z0, Z18, K1, Z18 // lanes off K1 keep their sums

expSum512Reduce:
	VMOVAPS       Z18, Z0
	VEXTRACTF32X8 $1, Z0, Y1
	VADDPS        Y1, Y0, Y0
	VEXTRACTF128  $1, Y0, X1
	VADDPS        X1, X0, X0
	VPERMILPS     $0x4e, X0, X1
	VADDPS        X1, X0, X0
	VPERMILPS     $0xb1, X0, X1
	VADDPS        X1, X0, X0
	VMOVSS        X0, ret+32(FP)
	VZEROUPPER
	RET

// func maxAVX512(x *float32, n int) float32
TEXT ·maxAVX512(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	MOVL         $0xff800000, AX // −∞
	VPBROADCASTD AX, Z1

max512Loop:
	CMPQ    CX, $16
	JL      max512Done
	VMOVUPS (SI), Z0
	VMAXPS  Z1, Z0, Z1 // max(x, best): best where x is NaN
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     max512Loop

max512Done:
	TESTQ     CX, CX
	JE        max512Reduce
	MOVL      $1, AX // the tail's CX lanes, under K1
	SHLL      CX, AX
	DECL      AX
	KMOVW     AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VMAXPS    Z1, Z0, K1, Z1 // lanes off K1 keep best

max512Reduce:
	VEXTRACTF32X8 $1, Z1, Y0
	VMAXPS        Y0, Y1, Y1
	VEXTRACTF128  $1, Y1, X0
	VMAXPS        X0, X1, X1
	VPERMILPS     $0x4e, X1, X0
	VMAXPS        X0, X1, X1
	VPERMILPS     $0xb1, X1, X0
	VMAXPS        X0, X1, X1
	VMOVSS        X1, ret+16(FP)
	VZEROUPPER
	RET

// func maxAVX(x *float32, n int) float32
TEXT ·maxAVX(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	MOVL         $0xff800000, AX // −∞
	VMOVD        AX, X1
	VBROADCASTSS X1, Y1

maxLoop:
	CMPQ    CX, $8
	JL      maxDone
	VMOVUPS (SI), Y0
	VMAXPS  Y1, Y0, Y1 // max(x, best): best where x is NaN
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     maxLoop

maxDone:
	VEXTRACTF128 $1, Y1, X0
	VMAXPS       X0, X1, X1
	VPERMILPS    $0x4e, X1, X0
	VMAXPS       X0, X1, X1
	VPERMILPS    $0xb1, X1, X0
	VMAXPS       X0, X1, X1
	VMOVSS       X1, ret+16(FP)
	VZEROUPPER
	RET
