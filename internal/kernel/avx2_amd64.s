//go:build amd64 && !purego

#include "textflag.h"

// Y0–Y11 ← the 6×16 product of the packed panels at SI (A) and DI (B) over
// CX depths; Y12–Y15 are scratch.
#define KERNEL_LOOP(loop, done) \
	VXORPS Y0, Y0, Y0 \
	VXORPS Y1, Y1, Y1 \
	VXORPS Y2, Y2, Y2 \
	VXORPS Y3, Y3, Y3 \
	VXORPS Y4, Y4, Y4 \
	VXORPS Y5, Y5, Y5 \
	VXORPS Y6, Y6, Y6 \
	VXORPS Y7, Y7, Y7 \
	VXORPS Y8, Y8, Y8 \
	VXORPS Y9, Y9, Y9 \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y11, Y11, Y11 \
loop: \
	TESTQ CX, CX \
	JE    done \
	VMOVUPS      (DI), Y12 \
	VMOVUPS      32(DI), Y13 \
	VBROADCASTSS (SI), Y14 \
	VFMADD231PS  Y12, Y14, Y0 \
	VFMADD231PS  Y13, Y14, Y1 \
	VBROADCASTSS 4(SI), Y15 \
	VFMADD231PS  Y12, Y15, Y2 \
	VFMADD231PS  Y13, Y15, Y3 \
	VBROADCASTSS 8(SI), Y14 \
	VFMADD231PS  Y12, Y14, Y4 \
	VFMADD231PS  Y13, Y14, Y5 \
	VBROADCASTSS 12(SI), Y15 \
	VFMADD231PS  Y12, Y15, Y6 \
	VFMADD231PS  Y13, Y15, Y7 \
	VBROADCASTSS 16(SI), Y14 \
	VFMADD231PS  Y12, Y14, Y8 \
	VFMADD231PS  Y13, Y14, Y9 \
	VBROADCASTSS 20(SI), Y15 \
	VFMADD231PS  Y12, Y15, Y10 \
	VFMADD231PS  Y13, Y15, Y11 \
	ADDQ $24, SI \
	ADDQ $64, DI \
	DECQ CX \
	JMP  loop \
done:

// func sgemmKernel6x16(k int, a, b, c *float32)
//
// Y0–Y11 accumulate the 6×16 tile (row i in Y(2i), Y(2i+1)); each depth
// loads 16 values of B into Y12, Y13 and broadcasts the 6 values of A.
TEXT ·sgemmKernel6x16(SB), NOSPLIT, $0-32
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	KERNEL_LOOP(k6Loop, k6Done)
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	VMOVUPS Y2, 64(DX)
	VMOVUPS Y3, 96(DX)
	VMOVUPS Y4, 128(DX)
	VMOVUPS Y5, 160(DX)
	VMOVUPS Y6, 192(DX)
	VMOVUPS Y7, 224(DX)
	VMOVUPS Y8, 256(DX)
	VMOVUPS Y9, 288(DX)
	VMOVUPS Y10, 320(DX)
	VMOVUPS Y11, 352(DX)
	VZEROUPPER
	RET

// Adds alpha times the two accumulators of one tile row to C's row at DX,
// then moves DX to the next row (R8 bytes on).
#define ADD_ROW(lo, hi) \
	VMOVUPS     (DX), Y13 \
	VFMADD231PS lo, Y12, Y13 \
	VMOVUPS     Y13, (DX) \
	VMOVUPS     32(DX), Y14 \
	VFMADD231PS hi, Y12, Y14 \
	VMOVUPS     Y14, 32(DX) \
	ADDQ        R8, DX

// func sgemmKernel6x16Add(k int, a, b, c *float32, ldc int, alpha float32)
//
// sgemmKernel6x16 adding alpha times the tile to the 6×16 block of C at c
// whose rows are ldc floats apart.
TEXT ·sgemmKernel6x16Add(SB), NOSPLIT, $0-44
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	KERNEL_LOOP(k6aLoop, k6aDone)
	VBROADCASTSS alpha+40(FP), Y12
	ADD_ROW(Y0, Y1)
	ADD_ROW(Y2, Y3)
	ADD_ROW(Y4, Y5)
	ADD_ROW(Y6, Y7)
	ADD_ROW(Y8, Y9)
	ADD_ROW(Y10, Y11)
	VZEROUPPER
	RET

DATA tanhConst<>+0(SB)/4, $0x40fcf84f  // clamp 7.90531110763549805
DATA tanhConst<>+4(SB)/4, $0xc0fcf84f  // −clamp
DATA tanhConst<>+8(SB)/4, $0xa59f25c0  // α13
DATA tanhConst<>+12(SB)/4, $0x2a61337e // α11
DATA tanhConst<>+16(SB)/4, $0xaebd37ff // α9
DATA tanhConst<>+20(SB)/4, $0x335c0041 // α7
DATA tanhConst<>+24(SB)/4, $0x3779434a // α5
DATA tanhConst<>+28(SB)/4, $0x3a270ded // α3
DATA tanhConst<>+32(SB)/4, $0x3ba059dc // α1
DATA tanhConst<>+36(SB)/4, $0x35a0d3d8 // β6
DATA tanhConst<>+40(SB)/4, $0x38f895d6 // β4
DATA tanhConst<>+44(SB)/4, $0x3b14aa05 // β2
DATA tanhConst<>+48(SB)/4, $0x3ba059dd // β0
DATA tanhConst<>+52(SB)/4, $0x3f000000 // ½
GLOBL tanhConst<>(SB), RODATA|NOPTR, $56

// Y4–Y15 hold clamp, −clamp, α13…α1, β6, β4, β2.
#define TANH_CONSTANTS \
	VBROADCASTSS tanhConst<>+0(SB), Y4 \
	VBROADCASTSS tanhConst<>+4(SB), Y5 \
	VBROADCASTSS tanhConst<>+8(SB), Y6 \
	VBROADCASTSS tanhConst<>+12(SB), Y7 \
	VBROADCASTSS tanhConst<>+16(SB), Y8 \
	VBROADCASTSS tanhConst<>+20(SB), Y9 \
	VBROADCASTSS tanhConst<>+24(SB), Y10 \
	VBROADCASTSS tanhConst<>+28(SB), Y11 \
	VBROADCASTSS tanhConst<>+32(SB), Y12 \
	VBROADCASTSS tanhConst<>+36(SB), Y13 \
	VBROADCASTSS tanhConst<>+40(SB), Y14 \
	VBROADCASTSS tanhConst<>+44(SB), Y15

// Y0 ← tanh(Y0) as tanh32 computes it; Y1–Y3 are scratch.
#define TANH \
	VMINPS      Y4, Y0, Y0 \
	VMAXPS      Y5, Y0, Y0 \
	VMULPS      Y0, Y0, Y1 \
	VMOVAPS     Y6, Y2 \
	VFMADD213PS Y7, Y1, Y2 \
	VFMADD213PS Y8, Y1, Y2 \
	VFMADD213PS Y9, Y1, Y2 \
	VFMADD213PS Y10, Y1, Y2 \
	VFMADD213PS Y11, Y1, Y2 \
	VFMADD213PS Y12, Y1, Y2 \
	VMULPS      Y0, Y2, Y2 \
	VMOVAPS     Y13, Y3 \
	VFMADD213PS Y14, Y1, Y3 \
	VFMADD213PS Y15, Y1, Y3 \
	VBROADCASTSS tanhConst<>+48(SB), Y0 \
	VFMADD213PS Y0, Y1, Y3 \
	VDIVPS      Y3, Y2, Y0

// func tanhAVX(dst, src *float32, n int)
TEXT ·tanhAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TANH_CONSTANTS

tanhLoop:
	CMPQ CX, $8
	JL   tanhDone
	VMOVUPS (SI), Y0
	TANH
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  tanhLoop

tanhDone:
	VZEROUPPER
	RET

// func sigmoidAVX(dst, src *float32, n int)
TEXT ·sigmoidAVX(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	TANH_CONSTANTS

sigmoidLoop:
	CMPQ CX, $8
	JL   sigmoidDone
	VMOVUPS      (SI), Y0
	VBROADCASTSS tanhConst<>+52(SB), Y1
	VMULPS       Y1, Y0, Y0
	TANH
	VBROADCASTSS tanhConst<>+52(SB), Y1
	VFMADD213PS  Y1, Y1, Y0
	VMOVUPS      Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JMP  sigmoidLoop

sigmoidDone:
	VZEROUPPER
	RET

// Stores alpha (Y12) times one tile row into C's row at DX, without
// reading C, then moves DX to the next row.
#define SET_ROW(lo, hi) \
	VMULPS  lo, Y12, Y13 \
	VMOVUPS Y13, (DX) \
	VMULPS  hi, Y12, Y14 \
	VMOVUPS Y14, 32(DX) \
	ADDQ    R8, DX

// func sgemmKernel6x16Set(k int, a, b, c *float32, ldc int, alpha float32)
//
// sgemmKernel6x16Add storing alpha times the tile instead of adding it.
TEXT ·sgemmKernel6x16Set(SB), NOSPLIT, $0-44
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	KERNEL_LOOP(k6sLoop, k6sDone)
	VBROADCASTSS alpha+40(FP), Y12
	SET_ROW(Y0, Y1)
	SET_ROW(Y2, Y3)
	SET_ROW(Y4, Y5)
	SET_ROW(Y6, Y7)
	SET_ROW(Y8, Y9)
	SET_ROW(Y10, Y11)
	VZEROUPPER
	RET
