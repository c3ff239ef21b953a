//go:build amd64 && !purego

#include "textflag.h"

// One depth of the 12×32 product: Z24, Z25 ← 32 values of B at DI; for
// each of the 12 values of A at SI, broadcast, row i of the tile
// (Z(2i), Z(2i+1)) += a_i·B.
#define DEPTH512 \
	VMOVUPS (DI), Z24 \
	VMOVUPS 64(DI), Z25 \
	VBROADCASTSS 0(SI), Z26 \
	VFMADD231PS Z24, Z26, Z0 \
	VFMADD231PS Z25, Z26, Z1 \
	VBROADCASTSS 4(SI), Z27 \
	VFMADD231PS Z24, Z27, Z2 \
	VFMADD231PS Z25, Z27, Z3 \
	VBROADCASTSS 8(SI), Z28 \
	VFMADD231PS Z24, Z28, Z4 \
	VFMADD231PS Z25, Z28, Z5 \
	VBROADCASTSS 12(SI), Z29 \
	VFMADD231PS Z24, Z29, Z6 \
	VFMADD231PS Z25, Z29, Z7 \
	VBROADCASTSS 16(SI), Z30 \
	VFMADD231PS Z24, Z30, Z8 \
	VFMADD231PS Z25, Z30, Z9 \
	VBROADCASTSS 20(SI), Z31 \
	VFMADD231PS Z24, Z31, Z10 \
	VFMADD231PS Z25, Z31, Z11 \
	VBROADCASTSS 24(SI), Z26 \
	VFMADD231PS Z24, Z26, Z12 \
	VFMADD231PS Z25, Z26, Z13 \
	VBROADCASTSS 28(SI), Z27 \
	VFMADD231PS Z24, Z27, Z14 \
	VFMADD231PS Z25, Z27, Z15 \
	VBROADCASTSS 32(SI), Z28 \
	VFMADD231PS Z24, Z28, Z16 \
	VFMADD231PS Z25, Z28, Z17 \
	VBROADCASTSS 36(SI), Z29 \
	VFMADD231PS Z24, Z29, Z18 \
	VFMADD231PS Z25, Z29, Z19 \
	VBROADCASTSS 40(SI), Z30 \
	VFMADD231PS Z24, Z30, Z20 \
	VFMADD231PS Z25, Z30, Z21 \
	VBROADCASTSS 44(SI), Z31 \
	VFMADD231PS Z24, Z31, Z22 \
	VFMADD231PS Z25, Z31, Z23

// Adds alpha (Z26) times one tile row to C's row at DX under the column
// masks K1 and K2 (masked-off columns are neither read nor written), then
// moves DX to the next row (R8 bytes on).
#define ADD_ROW512(lo, hi) \
	VMOVUPS.Z   (DX), K1, Z27 \
	VFMADD231PS lo, Z26, Z27 \
	VMOVUPS     Z27, K1, (DX) \
	VMOVUPS.Z   64(DX), K2, Z28 \
	VFMADD231PS hi, Z26, Z28 \
	VMOVUPS     Z28, K2, 64(DX) \
	ADDQ        R8, DX

// Stores alpha (Z26) times one tile row into C's row at DX under the
// column masks K1 and K2, without reading C, then moves DX to the next row.
#define SET_ROW512(lo, hi) \
	VMULPS  lo, Z26, Z27 \
	VMOVUPS Z27, K1, (DX) \
	VMULPS  hi, Z26, Z28 \
	VMOVUPS Z28, K2, 64(DX) \
	ADDQ    R8, DX

// ZERO24 clears the 24 accumulators of a 12×32 tile, Z0–Z23.
#define ZERO24 \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7 \
	VPXORD Z8, Z8, Z8 \
	VPXORD Z9, Z9, Z9 \
	VPXORD Z10, Z10, Z10 \
	VPXORD Z11, Z11, Z11 \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13 \
	VPXORD Z14, Z14, Z14 \
	VPXORD Z15, Z15, Z15 \
	VPXORD Z16, Z16, Z16 \
	VPXORD Z17, Z17, Z17 \
	VPXORD Z18, Z18, Z18 \
	VPXORD Z19, Z19, Z19 \
	VPXORD Z20, Z20, Z20 \
	VPXORD Z21, Z21, Z21 \
	VPXORD Z22, Z22, Z22 \
	VPXORD Z23, Z23, Z23

// ADD_ROWS12(done) adds (ADD_ROW512) the tile's first R9 rows (1–12, R9
// counting down), then jumps to done; after the twelfth it falls through.
#define ADD_ROWS12(done) \
	ADD_ROW512(Z0, Z1) \
	DECQ R9 \
	JZ   done \
	ADD_ROW512(Z2, Z3) \
	DECQ R9 \
	JZ   done \
	ADD_ROW512(Z4, Z5) \
	DECQ R9 \
	JZ   done \
	ADD_ROW512(Z6, Z7) \
	DECQ R9 \
	JZ   done \
	ADD_ROW512(Z8, Z9) \
	DECQ R9 \
	JZ   done \
	ADD_ROW512(Z10, Z11) \
	DECQ R9 \
	JZ   done \
	ADD_ROW512(Z12, Z13) \
	DECQ R9 \
	JZ   done \
	ADD_ROW512(Z14, Z15) \
	DECQ R9 \
	JZ   done \
	ADD_ROW512(Z16, Z17) \
	DECQ R9 \
	JZ   done \
	ADD_ROW512(Z18, Z19) \
	DECQ R9 \
	JZ   done \
	ADD_ROW512(Z20, Z21) \
	DECQ R9 \
	JZ   done \
	ADD_ROW512(Z22, Z23)

// SET_ROWS12(done) stores (SET_ROW512) the tile's first R9 rows (1–12, R9
// counting down), then jumps to done; after the twelfth it falls through.
#define SET_ROWS12(done) \
	SET_ROW512(Z0, Z1) \
	DECQ R9 \
	JZ   done \
	SET_ROW512(Z2, Z3) \
	DECQ R9 \
	JZ   done \
	SET_ROW512(Z4, Z5) \
	DECQ R9 \
	JZ   done \
	SET_ROW512(Z6, Z7) \
	DECQ R9 \
	JZ   done \
	SET_ROW512(Z8, Z9) \
	DECQ R9 \
	JZ   done \
	SET_ROW512(Z10, Z11) \
	DECQ R9 \
	JZ   done \
	SET_ROW512(Z12, Z13) \
	DECQ R9 \
	JZ   done \
	SET_ROW512(Z14, Z15) \
	DECQ R9 \
	JZ   done \
	SET_ROW512(Z16, Z17) \
	DECQ R9 \
	JZ   done \
	SET_ROW512(Z18, Z19) \
	DECQ R9 \
	JZ   done \
	SET_ROW512(Z20, Z21) \
	DECQ R9 \
	JZ   done \
	SET_ROW512(Z22, Z23)

// func sgemmKernel12x32(k int, a, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32)
//
// Z0–Z23 accumulate the 12×32 tile (row i in Z(2i), Z(2i+1)); the depth
// loop is unrolled twice. Only the first rows rows of C are touched.
TEXT ·sgemmKernel12x32(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ rows+48(FP), R9
	ZERO24

k12x32Loop2:
	CMPQ CX, $2
	JL   k12x32Tail
	DEPTH512
	ADDQ $48, SI
	ADDQ $128, DI
	DEPTH512
	ADDQ $48, SI
	ADDQ $128, DI
	SUBQ $2, CX
	JMP  k12x32Loop2

k12x32Tail:
	TESTQ CX, CX
	JE    k12x32Store
	DEPTH512

k12x32Store:
	VBROADCASTSS alpha+40(FP), Z26
	MOVL         mask0+56(FP), AX
	KMOVW        AX, K1
	MOVL         mask1+60(FP), AX
	KMOVW        AX, K2
	ADD_ROWS12(k12x32Done)

k12x32Done:
	VZEROUPPER
	RET

// func sgemmKernel12x32Set(k int, a, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32)
//
// sgemmKernel12x32 storing alpha times the tile instead of adding it (C's
// old values are not read: a product with beta 0).
TEXT ·sgemmKernel12x32Set(SB), NOSPLIT, $0-64
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ rows+48(FP), R9
	ZERO24

k12x32sLoop2:
	CMPQ CX, $2
	JL   k12x32sTail
	DEPTH512
	ADDQ $48, SI
	ADDQ $128, DI
	DEPTH512
	ADDQ $48, SI
	ADDQ $128, DI
	SUBQ $2, CX
	JMP  k12x32sLoop2

k12x32sTail:
	TESTQ CX, CX
	JE    k12x32sStore
	DEPTH512

k12x32sStore:
	VBROADCASTSS alpha+40(FP), Z26
	MOVL         mask0+56(FP), AX
	KMOVW        AX, K1
	MOVL         mask1+60(FP), AX
	KMOVW        AX, K2
	SET_ROWS12(k12x32sDone)

k12x32sDone:
	VZEROUPPER
	RET

// Stores Z24 (the bias of columns 0–15) and Z25 (16–31) plus alpha (Z26)
// times one tile row into C's row at DX under the column masks K1 and K2,
// without reading C, then moves DX to the next row: the same fused
// multiply-add as ADD_ROW512 over a C that holds the bias.
#define BIAS_ROW512(lo, hi) \
	VMOVAPS     Z24, Z27 \
	VFMADD231PS lo, Z26, Z27 \
	VMOVUPS     Z27, K1, (DX) \
	VMOVAPS     Z25, Z28 \
	VFMADD231PS hi, Z26, Z28 \
	VMOVUPS     Z28, K2, 64(DX) \
	ADDQ        R8, DX

// func sgemmKernel12x32Strided(k int, a *float32, rs, ds int, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32, mode int, bias *float32)
//
// sgemmKernel12x32 with A read at any strides: value (i, p) of the 12×k
// block of A at a[i·rs + p·ds]. A packed panel is rs 1, ds 12; a row-major
// A read in place, without packing, is rs lda, ds 1 (then all 12 rows must
// exist). The sums are the same fused multiply-adds in the same order as
// sgemmKernel12x32's, so the same bits. mode 0 adds alpha times the tile to
// C, 1 stores it, 2 stores it plus bias[j] (C not read; bias read under
// the column masks). Rows of A are four pointers apart (SI, R11, R12, R13,
// three rows each) so that every row is one addressing mode away.
TEXT ·sgemmKernel12x32Strided(SB), NOSPLIT, $0-96
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ rs+16(FP), R10
	SHLQ $2, R10
	MOVQ ds+24(FP), BX
	SHLQ $2, BX
	MOVQ b+32(FP), DI
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8
	MOVQ rows+64(FP), R9
	LEAQ (SI)(R10*2), R11
	ADDQ R10, R11
	LEAQ (R11)(R10*2), R12
	ADDQ R10, R12
	LEAQ (R12)(R10*2), R13
	ADDQ R10, R13
	ZERO24
	TESTQ CX, CX
	JE    k12x32xStore

k12x32xLoop:
	// B 32 depths (4 KiB) ahead: a serving graph's weights (the packed
	// B of SgemmPacked, read once per call) stream from memory, and the
	// hardware prefetcher alone left the product waiting on them. A
	// prefetch never faults, so reading past B's end is harmless.
	PREFETCHT0 4096(DI)
	PREFETCHT0 4160(DI)
	VMOVUPS (DI), Z24
	VMOVUPS 64(DI), Z25
	VBROADCASTSS (SI), Z26
	VFMADD231PS Z24, Z26, Z0
	VFMADD231PS Z25, Z26, Z1
	VBROADCASTSS (SI)(R10*1), Z27
	VFMADD231PS Z24, Z27, Z2
	VFMADD231PS Z25, Z27, Z3
	VBROADCASTSS (SI)(R10*2), Z28
	VFMADD231PS Z24, Z28, Z4
	VFMADD231PS Z25, Z28, Z5
	VBROADCASTSS (R11), Z29
	VFMADD231PS Z24, Z29, Z6
	VFMADD231PS Z25, Z29, Z7
	VBROADCASTSS (R11)(R10*1), Z30
	VFMADD231PS Z24, Z30, Z8
	VFMADD231PS Z25, Z30, Z9
	VBROADCASTSS (R11)(R10*2), Z31
	VFMADD231PS Z24, Z31, Z10
	VFMADD231PS Z25, Z31, Z11
	VBROADCASTSS (R12), Z26
	VFMADD231PS Z24, Z26, Z12
	VFMADD231PS Z25, Z26, Z13
	VBROADCASTSS (R12)(R10*1), Z27
	VFMADD231PS Z24, Z27, Z14
	VFMADD231PS Z25, Z27, Z15
	VBROADCASTSS (R12)(R10*2), Z28
	VFMADD231PS Z24, Z28, Z16
	VFMADD231PS Z25, Z28, Z17
	VBROADCASTSS (R13), Z29
	VFMADD231PS Z24, Z29, Z18
	VFMADD231PS Z25, Z29, Z19
	VBROADCASTSS (R13)(R10*1), Z30
	VFMADD231PS Z24, Z30, Z20
	VFMADD231PS Z25, Z30, Z21
	VBROADCASTSS (R13)(R10*2), Z31
	VFMADD231PS Z24, Z31, Z22
	VFMADD231PS Z25, Z31, Z23
	ADDQ BX, SI
	ADDQ BX, R11
	ADDQ BX, R12
	ADDQ BX, R13
	ADDQ $128, DI
	DECQ CX
	JNZ  k12x32xLoop

k12x32xStore:
	VBROADCASTSS alpha+56(FP), Z26
	MOVL         mask0+72(FP), AX
	KMOVW        AX, K1
	MOVL         mask1+76(FP), AX
	KMOVW        AX, K2
	MOVQ         mode+80(FP), AX
	CMPQ         AX, $1
	JEQ          k12x32xSet
	JGT          k12x32xBias
	ADD_ROWS12(k12x32xDone)
	JMP k12x32xDone

k12x32xSet:
	SET_ROWS12(k12x32xDone)
	JMP k12x32xDone

k12x32xBias:
	MOVQ      bias+88(FP), AX
	VMOVUPS.Z (AX), K1, Z24
	VMOVUPS.Z 64(AX), K2, Z25
	BIAS_ROW512(Z0, Z1)
	DECQ R9
	JZ   k12x32xDone
	BIAS_ROW512(Z2, Z3)
	DECQ R9
	JZ   k12x32xDone
	BIAS_ROW512(Z4, Z5)
	DECQ R9
	JZ   k12x32xDone
	BIAS_ROW512(Z6, Z7)
	DECQ R9
	JZ   k12x32xDone
	BIAS_ROW512(Z8, Z9)
	DECQ R9
	JZ   k12x32xDone
	BIAS_ROW512(Z10, Z11)
	DECQ R9
	JZ   k12x32xDone
	BIAS_ROW512(Z12, Z13)
	DECQ R9
	JZ   k12x32xDone
	BIAS_ROW512(Z14, Z15)
	DECQ R9
	JZ   k12x32xDone
	BIAS_ROW512(Z16, Z17)
	DECQ R9
	JZ   k12x32xDone
	BIAS_ROW512(Z18, Z19)
	DECQ R9
	JZ   k12x32xDone
	BIAS_ROW512(Z20, Z21)
	DECQ R9
	JZ   k12x32xDone
	BIAS_ROW512(Z22, Z23)

k12x32xDone:
	VZEROUPPER
	RET

DATA tanhConst512<>+0(SB)/4, $0x40fcf84f  // clamp 7.90531110763549805
DATA tanhConst512<>+4(SB)/4, $0xc0fcf84f  // −clamp
DATA tanhConst512<>+8(SB)/4, $0xa59f25c0  // α13
DATA tanhConst512<>+12(SB)/4, $0x2a61337e // α11
DATA tanhConst512<>+16(SB)/4, $0xaebd37ff // α9
DATA tanhConst512<>+20(SB)/4, $0x335c0041 // α7
DATA tanhConst512<>+24(SB)/4, $0x3779434a // α5
DATA tanhConst512<>+28(SB)/4, $0x3a270ded // α3
DATA tanhConst512<>+32(SB)/4, $0x3ba059dc // α1
DATA tanhConst512<>+36(SB)/4, $0x35a0d3d8 // β6
DATA tanhConst512<>+40(SB)/4, $0x38f895d6 // β4
DATA tanhConst512<>+44(SB)/4, $0x3b14aa05 // β2
DATA tanhConst512<>+48(SB)/4, $0x3ba059dd // β0
DATA tanhConst512<>+52(SB)/4, $0x3f000000 // ½
GLOBL tanhConst512<>(SB), RODATA|NOPTR, $56

// (constants as in avx2_amd64.s)
// The activations sixteen at a time: the same operations as the AVX2
// versions (avx2_amd64.s), so the same bits.

// Z4–Z15 hold clamp, −clamp, α13…α1, β6, β4, β2.
#define TANH_CONSTANTS512 \
	VBROADCASTSS tanhConst512<>+0(SB), Z4 \
	VBROADCASTSS tanhConst512<>+4(SB), Z5 \
	VBROADCASTSS tanhConst512<>+8(SB), Z6 \
	VBROADCASTSS tanhConst512<>+12(SB), Z7 \
	VBROADCASTSS tanhConst512<>+16(SB), Z8 \
	VBROADCASTSS tanhConst512<>+20(SB), Z9 \
	VBROADCASTSS tanhConst512<>+24(SB), Z10 \
	VBROADCASTSS tanhConst512<>+28(SB), Z11 \
	VBROADCASTSS tanhConst512<>+32(SB), Z12 \
	VBROADCASTSS tanhConst512<>+36(SB), Z13 \
	VBROADCASTSS tanhConst512<>+40(SB), Z14 \
	VBROADCASTSS tanhConst512<>+44(SB), Z15

// Z0 ← tanh(Z0) as tanh32 computes it; Z1–Z3 are scratch.
#define TANH512 \
	VMINPS      Z4, Z0, Z0 \
	VMAXPS      Z5, Z0, Z0 \
	VMULPS      Z0, Z0, Z1 \
	VMOVAPS     Z6, Z2 \
	VFMADD213PS Z7, Z1, Z2 \
	VFMADD213PS Z8, Z1, Z2 \
	VFMADD213PS Z9, Z1, Z2 \
	VFMADD213PS Z10, Z1, Z2 \
	VFMADD213PS Z11, Z1, Z2 \
	VFMADD213PS Z12, Z1, Z2 \
	VMULPS      Z0, Z2, Z2 \
	VMOVAPS     Z13, Z3 \
	VFMADD213PS Z14, Z1, Z3 \
	VFMADD213PS Z15, Z1, Z3 \
	VBROADCASTSS tanhConst512<>+48(SB), Z0 \
	VFMADD213PS Z0, Z1, Z3 \
	VDIVPS      Z3, Z2, Z0

// func tanhAVX512(dst, src *float32, n int)
TEXT ·tanhAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TANH_CONSTANTS512

tanh512Loop:
	CMPQ CX, $16
	JL   tanh512Done
	VMOVUPS (SI), Z0
	TANH512
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  tanh512Loop

tanh512Done:
	VZEROUPPER
	RET

// func sigmoidAVX512(dst, src *float32, n int)
TEXT ·sigmoidAVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TANH_CONSTANTS512

sigmoid512Loop:
	CMPQ CX, $16
	JL   sigmoid512Done
	VMOVUPS      (SI), Z0
	VBROADCASTSS tanhConst512<>+52(SB), Z1
	VMULPS       Z1, Z0, Z0
	TANH512
	VBROADCASTSS tanhConst512<>+52(SB), Z1
	VFMADD213PS  Z1, Z1, Z0
	VMOVUPS      Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JMP  sigmoid512Loop

sigmoid512Done:
	VZEROUPPER
	RET

// One depth of the narrow product: Z16–Z19 ← the 64 values of B of two
// panels (32 at DI, 32 at DI+R14).
#define NARROW_LOAD \
	VMOVUPS (DI), Z16 \
	VMOVUPS 64(DI), Z17 \
	VMOVUPS (DI)(R14*1), Z18 \
	VMOVUPS 64(DI)(R14*1), Z19

// One row of one depth of the narrow product: broadcast A's value at src
// into bc, then the row's four accumulators += a·B.
#define NARROW_ROW(src, bc, z0, z1, z2, z3) \
	VBROADCASTSS src, bc \
	VFMADD231PS  Z16, bc, z0 \
	VFMADD231PS  Z17, bc, z1 \
	VFMADD231PS  Z18, bc, z2 \
	VFMADD231PS  Z19, bc, z3

// Moves the narrow product's pointers to the next depth and loops to
// label while depths remain.
#define NARROW_NEXT(label) \
	ADDQ $4, SI \
	ADDQ $4, R11 \
	ADDQ $128, DI \
	DECQ CX \
	JNZ  label

// The narrow product's stores of one row of 64 columns (accumulators z0–z3)
// under the masks K1–K4, each as its 12×32 counterpart (ADD_ROW512,
// SET_ROW512, BIAS_ROW512 with the bias in Z28–Z31), then DX to the next
// row.
#define NARROW_ADD(z0, z1, z2, z3) \
	VMOVUPS.Z   (DX), K1, Z24 \
	VFMADD231PS z0, Z26, Z24 \
	VMOVUPS     Z24, K1, (DX) \
	VMOVUPS.Z   64(DX), K2, Z25 \
	VFMADD231PS z1, Z26, Z25 \
	VMOVUPS     Z25, K2, 64(DX) \
	VMOVUPS.Z   128(DX), K3, Z24 \
	VFMADD231PS z2, Z26, Z24 \
	VMOVUPS     Z24, K3, 128(DX) \
	VMOVUPS.Z   192(DX), K4, Z25 \
	VFMADD231PS z3, Z26, Z25 \
	VMOVUPS     Z25, K4, 192(DX) \
	ADDQ        R8, DX

#define NARROW_SET(z0, z1, z2, z3) \
	VMULPS  z0, Z26, Z24 \
	VMOVUPS Z24, K1, (DX) \
	VMULPS  z1, Z26, Z25 \
	VMOVUPS Z25, K2, 64(DX) \
	VMULPS  z2, Z26, Z24 \
	VMOVUPS Z24, K3, 128(DX) \
	VMULPS  z3, Z26, Z25 \
	VMOVUPS Z25, K4, 192(DX) \
	ADDQ    R8, DX

#define NARROW_BIAS(z0, z1, z2, z3) \
	VMOVAPS     Z28, Z24 \
	VFMADD231PS z0, Z26, Z24 \
	VMOVUPS     Z24, K1, (DX) \
	VMOVAPS     Z29, Z25 \
	VFMADD231PS z1, Z26, Z25 \
	VMOVUPS     Z25, K2, 64(DX) \
	VMOVAPS     Z30, Z24 \
	VFMADD231PS z2, Z26, Z24 \
	VMOVUPS     Z24, K3, 128(DX) \
	VMOVAPS     Z31, Z25 \
	VFMADD231PS z3, Z26, Z25 \
	VMOVUPS     Z25, K4, 192(DX) \
	ADDQ        R8, DX

// func sgemmKernelNarrow(k int, a *float32, lda int, b *float32, bstride int, c *float32, ldc int, alpha float32, rows int, masks uint64, mode int, bias *float32)
//
// The product of rows (1–4) rows of a row-major A read in place (row i at
// a[i·lda]) and two packed B panels (k depths of 32 values at b and at
// b+bstride), into a rows×64 block of C under the column masks (16 bits
// each, columns 0–15 in the lowest): for products with few rows, where the
// 12×32 kernel would spend most of its multiply-adds on rows that are not
// there. Row i of the tile accumulates in Z(4i)…Z(4i+3), one depth after
// the other, with the fused multiply-adds of sgemmKernel12x32 in the same
// order, so the same bits; the stores are those of
// sgemmKernel12x32Strided's modes (0 add, 1 set, 2 set plus bias). Only
// the rows that exist are read: each height has its own loop.
TEXT ·sgemmKernelNarrow(SB), NOSPLIT, $0-96
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R10
	SHLQ $2, R10
	MOVQ b+24(FP), DI
	MOVQ bstride+32(FP), R14
	SHLQ $2, R14
	MOVQ c+40(FP), DX
	MOVQ ldc+48(FP), R8
	SHLQ $2, R8
	MOVQ rows+64(FP), R9
	LEAQ (SI)(R10*1), R11 // row 3 is at (R11)(R10*2)
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	TESTQ CX, CX
	JE    narrowStore
	CMPQ  R9, $2
	JLT   narrow1
	JEQ   narrow2
	CMPQ  R9, $3
	JEQ   narrow3

narrow4:
	NARROW_LOAD
	NARROW_ROW((SI), Z20, Z0, Z1, Z2, Z3)
	NARROW_ROW((SI)(R10*1), Z21, Z4, Z5, Z6, Z7)
	NARROW_ROW((SI)(R10*2), Z22, Z8, Z9, Z10, Z11)
	NARROW_ROW((R11)(R10*2), Z23, Z12, Z13, Z14, Z15)
	NARROW_NEXT(narrow4)
	JMP narrowStore

narrow3:
	NARROW_LOAD
	NARROW_ROW((SI), Z20, Z0, Z1, Z2, Z3)
	NARROW_ROW((SI)(R10*1), Z21, Z4, Z5, Z6, Z7)
	NARROW_ROW((SI)(R10*2), Z22, Z8, Z9, Z10, Z11)
	NARROW_NEXT(narrow3)
	JMP narrowStore

narrow2:
	NARROW_LOAD
	NARROW_ROW((SI), Z20, Z0, Z1, Z2, Z3)
	NARROW_ROW((SI)(R10*1), Z21, Z4, Z5, Z6, Z7)
	NARROW_NEXT(narrow2)
	JMP narrowStore

narrow1:
	NARROW_LOAD
	NARROW_ROW((SI), Z20, Z0, Z1, Z2, Z3)
	NARROW_NEXT(narrow1)

narrowStore:
	VBROADCASTSS alpha+56(FP), Z26
	MOVQ         masks+72(FP), AX
	KMOVW        AX, K1
	SHRQ         $16, AX
	KMOVW        AX, K2
	SHRQ         $16, AX
	KMOVW        AX, K3
	SHRQ         $16, AX
	KMOVW        AX, K4
	MOVQ         mode+80(FP), AX
	CMPQ         AX, $1
	JEQ          narrowSet
	JGT          narrowBias
	NARROW_ADD(Z0, Z1, Z2, Z3)
	DECQ R9
	JZ   narrowDone
	NARROW_ADD(Z4, Z5, Z6, Z7)
	DECQ R9
	JZ   narrowDone
	NARROW_ADD(Z8, Z9, Z10, Z11)
	DECQ R9
	JZ   narrowDone
	NARROW_ADD(Z12, Z13, Z14, Z15)
	JMP  narrowDone

narrowSet:
	NARROW_SET(Z0, Z1, Z2, Z3)
	DECQ R9
	JZ   narrowDone
	NARROW_SET(Z4, Z5, Z6, Z7)
	DECQ R9
	JZ   narrowDone
	NARROW_SET(Z8, Z9, Z10, Z11)
	DECQ R9
	JZ   narrowDone
	NARROW_SET(Z12, Z13, Z14, Z15)
	JMP  narrowDone

narrowBias:
	MOVQ      bias+88(FP), AX
	VMOVUPS.Z (AX), K1, Z28
	VMOVUPS.Z 64(AX), K2, Z29
	VMOVUPS.Z 128(AX), K3, Z30
	VMOVUPS.Z 192(AX), K4, Z31
	NARROW_BIAS(Z0, Z1, Z2, Z3)
	DECQ R9
	JZ   narrowDone
	NARROW_BIAS(Z4, Z5, Z6, Z7)
	DECQ R9
	JZ   narrowDone
	NARROW_BIAS(Z8, Z9, Z10, Z11)
	DECQ R9
	JZ   narrowDone
	NARROW_BIAS(Z12, Z13, Z14, Z15)

narrowDone:
	VZEROUPPER
	RET

// Sets K1–K4 from the four 16-bit masks in AX (lowest first).
#define ROW_MASKS \
	KMOVW AX, K1 \
	SHRQ  $16, AX \
	KMOVW AX, K2 \
	SHRQ  $16, AX \
	KMOVW AX, K3 \
	SHRQ  $16, AX \
	KMOVW AX, K4

// func sgemmKernelRow(k int, a, b *float32, bstride int, c *float32, alpha float32, masks0, masks1 uint64, mode int, bias *float32)
//
// sgemmKernelNarrow for one row and four panels (128 columns, panel j at
// b+j·bstride; masks0 for columns 0–63, masks1 for 64–127): a batch of
// one's product, with eight accumulators (Z0–Z7) so that the multiply-adds'
// latency does not bound it, and B read straight from memory by the
// multiply-adds. Each column is still one chain of fused multiply-adds in
// depth order: the bits of sgemmKernel12x32.
TEXT ·sgemmKernelRow(SB), NOSPLIT, $0-80
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ bstride+24(FP), R14
	SHLQ $2, R14
	MOVQ c+32(FP), DX
	LEAQ (DI)(R14*1), R13 // panel 3 is at (R13)(R14*2)
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	TESTQ CX, CX
	JE    rowStore

rowLoop:
	VBROADCASTSS (SI), Z31
	VFMADD231PS  (DI), Z31, Z0
	VFMADD231PS  64(DI), Z31, Z1
	VFMADD231PS  (DI)(R14*1), Z31, Z2
	VFMADD231PS  64(DI)(R14*1), Z31, Z3
	VFMADD231PS  (DI)(R14*2), Z31, Z4
	VFMADD231PS  64(DI)(R14*2), Z31, Z5
	VFMADD231PS  (R13)(R14*2), Z31, Z6
	VFMADD231PS  64(R13)(R14*2), Z31, Z7
	ADDQ         $4, SI
	ADDQ         $128, DI
	ADDQ         $128, R13
	DECQ         CX
	JNZ          rowLoop

rowStore:
	VBROADCASTSS alpha+40(FP), Z26
	MOVQ         $256, R8 // NARROW_* move DX on by R8: to the second half
	MOVQ         mode+64(FP), BX
	MOVQ         bias+72(FP), R9
	MOVQ         masks0+48(FP), AX
	ROW_MASKS
	CMPQ         BX, $1
	JEQ          rowSet0
	JGT          rowBias0
	NARROW_ADD(Z0, Z1, Z2, Z3)
	JMP rowHalf

rowSet0:
	NARROW_SET(Z0, Z1, Z2, Z3)
	JMP rowHalf

rowBias0:
	VMOVUPS.Z (R9), K1, Z28
	VMOVUPS.Z 64(R9), K2, Z29
	VMOVUPS.Z 128(R9), K3, Z30
	VMOVUPS.Z 192(R9), K4, Z31
	NARROW_BIAS(Z0, Z1, Z2, Z3)

rowHalf:
	MOVQ masks1+56(FP), AX
	ROW_MASKS
	CMPQ BX, $1
	JEQ  rowSet1
	JGT  rowBias1
	NARROW_ADD(Z4, Z5, Z6, Z7)
	JMP rowDone

rowSet1:
	NARROW_SET(Z4, Z5, Z6, Z7)
	JMP rowDone

rowBias1:
	VMOVUPS.Z 256(R9), K1, Z28
	VMOVUPS.Z 320(R9), K2, Z29
	VMOVUPS.Z 384(R9), K3, Z30
	VMOVUPS.Z 448(R9), K4, Z31
	NARROW_BIAS(Z4, Z5, Z6, Z7)

rowDone:
	VZEROUPPER
	RET

// The distance in bytes (of packed A, 48 per depth: 85 depths) at which
// sgemmKernel12x32PA prefetches. The ConvNet's 8192→1024 layer at a batch
// of 32 on one thread (Zen 5, loaded machine, CPU time) ran at 173–176
// GFLOP/s with 768, 184–191 with 1536, 194–206 with 3072, 4096 or 6144.
#define PA_AHEAD 4096

// func sgemmKernel12x32PA(k int, a, b, c *float32, ldc int, alpha float32, rows int, mask0, mask1 uint32, set bool)
//
// sgemmKernel12x32 (or, with set, sgemmKernel12x32Set) prefetching A
// PA_AHEAD bytes ahead: for a packed A that streams from memory once per
// product (SgemmPackedAB's weights) while B stays in cache. The same sums
// in the same order, so the same bits.
TEXT ·sgemmKernel12x32PA(SB), NOSPLIT, $0-65
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ rows+48(FP), R9
	ZERO24

k12x32paLoop4:
	CMPQ CX, $4
	JL   k12x32paTail
	// Four depths are 192 bytes of A: three cache lines.
	PREFETCHT0 PA_AHEAD(SI)
	PREFETCHT0 PA_AHEAD+64(SI)
	PREFETCHT0 PA_AHEAD+128(SI)
	DEPTH512
	ADDQ $48, SI
	ADDQ $128, DI
	DEPTH512
	ADDQ $48, SI
	ADDQ $128, DI
	DEPTH512
	ADDQ $48, SI
	ADDQ $128, DI
	DEPTH512
	ADDQ $48, SI
	ADDQ $128, DI
	SUBQ $4, CX
	JMP  k12x32paLoop4

k12x32paTail:
	TESTQ CX, CX
	JE    k12x32paStore
	DEPTH512
	ADDQ $48, SI
	ADDQ $128, DI
	DECQ CX
	JMP  k12x32paTail

k12x32paStore:
	VBROADCASTSS alpha+40(FP), Z26
	MOVL         mask0+56(FP), AX
	KMOVW        AX, K1
	MOVL         mask1+60(FP), AX
	KMOVW        AX, K2
	MOVBLZX      set+64(FP), AX
	TESTQ        AX, AX
	JNE          k12x32paSet
	ADD_ROWS12(k12x32paDone)
	JMP  k12x32paDone

k12x32paSet:
	SET_ROWS12(k12x32paDone)

k12x32paDone:
	VZEROUPPER
	RET

// func sgemmKernel12x32Stream(k int, a, b, c *float32, ldc int, alpha float32)
//
// sgemmKernel12x32Set for a whole 12×32 tile, stored with non-temporal
// stores: C's lines are written without being read into the cache first
// (a large product written once, such as a dense layer's weight
// gradient). c and ldc·4 must be multiples of 64 bytes; the caller runs
// sgemmSfence before anything else reads C.
TEXT ·sgemmKernel12x32Stream(SB), NOSPLIT, $0-44
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	ZERO24

k12x32nLoop2:
	CMPQ CX, $2
	JL   k12x32nTail
	DEPTH512
	ADDQ $48, SI
	ADDQ $128, DI
	DEPTH512
	ADDQ $48, SI
	ADDQ $128, DI
	SUBQ $2, CX
	JMP  k12x32nLoop2

k12x32nTail:
	TESTQ CX, CX
	JE    k12x32nStore
	DEPTH512

k12x32nStore:
	VBROADCASTSS alpha+40(FP), Z26
	VMULPS   Z0, Z26, Z27
	VMOVNTPS Z27, (DX)
	VMULPS   Z1, Z26, Z28
	VMOVNTPS Z28, 64(DX)
	ADDQ     R8, DX
	VMULPS   Z2, Z26, Z27
	VMOVNTPS Z27, (DX)
	VMULPS   Z3, Z26, Z28
	VMOVNTPS Z28, 64(DX)
	ADDQ     R8, DX
	VMULPS   Z4, Z26, Z27
	VMOVNTPS Z27, (DX)
	VMULPS   Z5, Z26, Z28
	VMOVNTPS Z28, 64(DX)
	ADDQ     R8, DX
	VMULPS   Z6, Z26, Z27
	VMOVNTPS Z27, (DX)
	VMULPS   Z7, Z26, Z28
	VMOVNTPS Z28, 64(DX)
	ADDQ     R8, DX
	VMULPS   Z8, Z26, Z27
	VMOVNTPS Z27, (DX)
	VMULPS   Z9, Z26, Z28
	VMOVNTPS Z28, 64(DX)
	ADDQ     R8, DX
	VMULPS   Z10, Z26, Z27
	VMOVNTPS Z27, (DX)
	VMULPS   Z11, Z26, Z28
	VMOVNTPS Z28, 64(DX)
	ADDQ     R8, DX
	VMULPS   Z12, Z26, Z27
	VMOVNTPS Z27, (DX)
	VMULPS   Z13, Z26, Z28
	VMOVNTPS Z28, 64(DX)
	ADDQ     R8, DX
	VMULPS   Z14, Z26, Z27
	VMOVNTPS Z27, (DX)
	VMULPS   Z15, Z26, Z28
	VMOVNTPS Z28, 64(DX)
	ADDQ     R8, DX
	VMULPS   Z16, Z26, Z27
	VMOVNTPS Z27, (DX)
	VMULPS   Z17, Z26, Z28
	VMOVNTPS Z28, 64(DX)
	ADDQ     R8, DX
	VMULPS   Z18, Z26, Z27
	VMOVNTPS Z27, (DX)
	VMULPS   Z19, Z26, Z28
	VMOVNTPS Z28, 64(DX)
	ADDQ     R8, DX
	VMULPS   Z20, Z26, Z27
	VMOVNTPS Z27, (DX)
	VMULPS   Z21, Z26, Z28
	VMOVNTPS Z28, 64(DX)
	ADDQ     R8, DX
	VMULPS   Z22, Z26, Z27
	VMOVNTPS Z27, (DX)
	VMULPS   Z23, Z26, Z28
	VMOVNTPS Z28, 64(DX)
	ADDQ     R8, DX
	VZEROUPPER
	RET

// func sgemmSfence()
//
// Orders the non-temporal stores before it before every later store.
TEXT ·sgemmSfence(SB), NOSPLIT, $0-0
	SFENCE
	RET
