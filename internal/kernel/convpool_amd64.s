//go:build amd64 && !purego

#include "textflag.h"

// The lane permutations of the pooling: the even lanes of a vector
// (pooled column t's left values) and its odd lanes (its right values)
// into lanes 0–7.
DATA convPoolPerm<>+0(SB)/4, $0
DATA convPoolPerm<>+4(SB)/4, $2
DATA convPoolPerm<>+8(SB)/4, $4
DATA convPoolPerm<>+12(SB)/4, $6
DATA convPoolPerm<>+16(SB)/4, $8
DATA convPoolPerm<>+20(SB)/4, $10
DATA convPoolPerm<>+24(SB)/4, $12
DATA convPoolPerm<>+28(SB)/4, $14
DATA convPoolPerm<>+32(SB)/4, $0
DATA convPoolPerm<>+36(SB)/4, $2
DATA convPoolPerm<>+40(SB)/4, $4
DATA convPoolPerm<>+44(SB)/4, $6
DATA convPoolPerm<>+48(SB)/4, $8
DATA convPoolPerm<>+52(SB)/4, $10
DATA convPoolPerm<>+56(SB)/4, $12
DATA convPoolPerm<>+60(SB)/4, $14
DATA convPoolPerm<>+64(SB)/4, $1
DATA convPoolPerm<>+68(SB)/4, $3
DATA convPoolPerm<>+72(SB)/4, $5
DATA convPoolPerm<>+76(SB)/4, $7
DATA convPoolPerm<>+80(SB)/4, $9
DATA convPoolPerm<>+84(SB)/4, $11
DATA convPoolPerm<>+88(SB)/4, $13
DATA convPoolPerm<>+92(SB)/4, $15
DATA convPoolPerm<>+96(SB)/4, $1
DATA convPoolPerm<>+100(SB)/4, $3
DATA convPoolPerm<>+104(SB)/4, $5
DATA convPoolPerm<>+108(SB)/4, $7
DATA convPoolPerm<>+112(SB)/4, $9
DATA convPoolPerm<>+116(SB)/4, $11
DATA convPoolPerm<>+120(SB)/4, $13
DATA convPoolPerm<>+124(SB)/4, $15
GLOBL convPoolPerm<>(SB), RODATA|NOPTR, $128

// CONV_DEPTH's first 4 rows of the panel (Z0–Z7): alone, a last panel
// of at most 4 output channels (the ConvNet's first layer: 64 = 5·12 + 4).
#define CONV_DEPTH4 \
	VMOVUPS (DX), Z24 \
	VMOVUPS (DX)(R10*1), Z25 \
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
	VFMADD231PS Z25, Z29, Z7

// CONV_DEPTH's first 8 rows of the panel (Z0–Z15): alone, a last panel
// of at most 8 output channels, without the multiply-adds of 4 empty rows.
#define CONV_DEPTH8 \
	CONV_DEPTH4 \
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
	VFMADD231PS Z25, Z27, Z15

// One depth of the tile: Z24 ← 16 input values at DX, Z25 ← 16 at DX+R10
// (the next row); for each of the 12 weights at SI, broadcast, row i of
// the tile (Z(2i), Z(2i+1)) += w_i·(Z24, Z25). As DEPTH512 in
// avx512_amd64.s with B read in place.
#define CONV_DEPTH \
	CONV_DEPTH8 \
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

// The maximum of a and b into dst, NaN when either is: VMAXPS returns
// its last operand when one is a NaN, so the lanes where the two are
// unordered (K2) take their sum, a NaN, instead.
#define MAX_NAN(a, b, dst) \
	VMAXPS a, b, dst \
	VCMPPS $3, a, b, K2 \
	VADDPS a, b, K2, dst

// Pools one tile row (lo: the upper convolution row's 16 lanes, hi: the
// lower's) into 8 values, adds the bias at BX, rectifies and stores them
// under K1 at DX; then moves DX to the next channel (R8 bytes on) and BX
// to the next bias. The ReLU's VMAXPS has the value last, so a NaN stays.
#define POOL_ROW(lo, hi) \
	MAX_NAN(hi, lo, Z27) \
	VPERMPS      Z27, Z24, Z28 \
	VPERMPS      Z27, Z25, Z29 \
	MAX_NAN(Z29, Z28, Z27) \
	VBROADCASTSS (BX), Z30 \
	VADDPS       Z30, Z27, Z27 \
	VMAXPS       Z27, Z26, Z27 \
	VMOVUPS      Z27, K1, (DX) \
	ADDQ         R8, DX \
	ADDQ         $4, BX

// Zeroes the accumulators of a 4×32 tile (Z0–Z7).
#define CONV_ZERO4 \
	VPXORD Z0, Z0, Z0 \
	VPXORD Z1, Z1, Z1 \
	VPXORD Z2, Z2, Z2 \
	VPXORD Z3, Z3, Z3 \
	VPXORD Z4, Z4, Z4 \
	VPXORD Z5, Z5, Z5 \
	VPXORD Z6, Z6, Z6 \
	VPXORD Z7, Z7, Z7

// Zeroes the accumulators of an 8×32 tile (Z0–Z15).
#define CONV_ZERO8 \
	CONV_ZERO4 \
	VPXORD Z8, Z8, Z8 \
	VPXORD Z9, Z9, Z9 \
	VPXORD Z10, Z10, Z10 \
	VPXORD Z11, Z11, Z11 \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13 \
	VPXORD Z14, Z14, Z14 \
	VPXORD Z15, Z15, Z15

// Loads the epilogue's arguments (y in DX, its channel stride in R8, bias
// in BX, rows in R9, the column mask in K1), the pooling permutations
// (Z24, Z25) and ReLU's zero (Z26).
#define POOL_SETUP \
	MOVQ    y+56(FP), DX \
	MOVQ    ldy+64(FP), R8 \
	SHLQ    $2, R8 \
	MOVQ    bias+72(FP), BX \
	MOVQ    rows+80(FP), R9 \
	MOVL    mask+88(FP), AX \
	KMOVW   AX, K1 \
	VMOVUPS convPoolPerm<>+0(SB), Z24 \
	VMOVUPS convPoolPerm<>+64(SB), Z25 \
	VPXORD  Z26, Z26, Z26

// Pools, biases, rectifies and stores the first of rows (R9, at least 1)
// tile rows up to 8, jumping to done after the last.
#define POOL_ROWS8(done) \
	POOL_ROW(Z0, Z1) \
	DECQ R9 \
	JZ   done \
	POOL_ROW(Z2, Z3) \
	DECQ R9 \
	JZ   done \
	POOL_ROW(Z4, Z5) \
	DECQ R9 \
	JZ   done \
	POOL_ROW(Z6, Z7) \
	DECQ R9 \
	JZ   done \
	POOL_ROW(Z8, Z9) \
	DECQ R9 \
	JZ   done \
	POOL_ROW(Z10, Z11) \
	DECQ R9 \
	JZ   done \
	POOL_ROW(Z12, Z13) \
	DECQ R9 \
	JZ   done \
	POOL_ROW(Z14, Z15)

// Adds the bias at BX to one tile row (lo: the upper convolution row's 16
// lanes, hi: the lower's) and stores lo under K1 at DX and hi under K2 at
// DX+AX (the next output row); then moves DX to the next channel (R8
// bytes on) and BX to the next bias.
#define CONV_STORE_ROW(lo, hi) \
	VBROADCASTSS (BX), Z26 \
	VADDPS       Z26, lo, lo \
	VADDPS       Z26, hi, hi \
	VMOVUPS      lo, K1, (DX) \
	VMOVUPS      hi, K2, (DX)(AX*1) \
	ADDQ         R8, DX \
	ADDQ         $4, BX

// Loads the store epilogue's arguments: y in DX, its channel stride in
// R8 and the output row's in AX (bytes), bias in BX, rows in R9 and the
// two halves' column masks in K1 and K2.
#define CONV_STORE_SETUP \
	MOVL  mask0+96(FP), AX \
	KMOVW AX, K1 \
	MOVL  mask1+100(FP), AX \
	KMOVW AX, K2 \
	MOVQ  y+56(FP), DX \
	MOVQ  ldy+64(FP), R8 \
	SHLQ  $2, R8 \
	MOVQ  ow+72(FP), AX \
	SHLQ  $2, AX \
	MOVQ  bias+80(FP), BX \
	MOVQ  rows+88(FP), R9

// func convPool12x32(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy int, bias *float32, rows int, mask uint32)
//
// Z0–Z23 accumulate the 12×32 tile (row i in Z(2i), Z(2i+1)). The depth
// loops run over c (DI, a channel of the input), i (BX, a row) and j (DX,
// a column); c, kh and kw are at least 1.
TEXT ·convPool12x32(SB), NOSPLIT, $0-92
	MOVQ a+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ c+16(FP), CX
	MOVQ kh+24(FP), R12
	MOVQ kw+32(FP), R13
	MOVQ plane+40(FP), R11
	SHLQ $2, R11
	MOVQ row+48(FP), R10
	SHLQ $2, R10
	CONV_ZERO8
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

convPoolC:
	MOVQ DI, BX
	MOVQ R12, R8

convPoolI:
	MOVQ BX, DX
	MOVQ R13, R9

convPoolJ:
	CONV_DEPTH
	ADDQ $48, SI
	ADDQ $4, DX
	DECQ R9
	JNZ  convPoolJ
	ADDQ R10, BX
	DECQ R8
	JNZ  convPoolI
	ADDQ R11, DI
	DECQ CX
	JNZ  convPoolC

	POOL_SETUP
	POOL_ROWS8(convPoolDone)
	DECQ R9
	JZ   convPoolDone
	POOL_ROW(Z16, Z17)
	DECQ R9
	JZ   convPoolDone
	POOL_ROW(Z18, Z19)
	DECQ R9
	JZ   convPoolDone
	POOL_ROW(Z20, Z21)
	DECQ R9
	JZ   convPoolDone
	POOL_ROW(Z22, Z23)

convPoolDone:
	VZEROUPPER
	RET

// func convPool8x32(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy int, bias *float32, rows int, mask uint32)
//
// convPool12x32 for a panel's first rows (1–8) rows only: Z0–Z15
// accumulate the 8×32 tile, with the same multiply-adds in the same order
// for those rows, so the same bits.
TEXT ·convPool8x32(SB), NOSPLIT, $0-92
	MOVQ a+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ c+16(FP), CX
	MOVQ kh+24(FP), R12
	MOVQ kw+32(FP), R13
	MOVQ plane+40(FP), R11
	SHLQ $2, R11
	MOVQ row+48(FP), R10
	SHLQ $2, R10
	CONV_ZERO8

convPool8C:
	MOVQ DI, BX
	MOVQ R12, R8

convPool8I:
	MOVQ BX, DX
	MOVQ R13, R9

convPool8J:
	CONV_DEPTH8
	ADDQ $48, SI
	ADDQ $4, DX
	DECQ R9
	JNZ  convPool8J
	ADDQ R10, BX
	DECQ R8
	JNZ  convPool8I
	ADDQ R11, DI
	DECQ CX
	JNZ  convPool8C

	POOL_SETUP
	POOL_ROWS8(convPool8Done)

convPool8Done:
	VZEROUPPER
	RET

// func convPool4x32(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy int, bias *float32, rows int, mask uint32)
//
// convPool12x32 for a panel's first rows (1–4) rows only: Z0–Z7
// accumulate the 4×32 tile, with the same multiply-adds in the same order
// for those rows, so the same bits. POOL_ROWS8 stops after rows rows.
TEXT ·convPool4x32(SB), NOSPLIT, $0-92
	MOVQ a+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ c+16(FP), CX
	MOVQ kh+24(FP), R12
	MOVQ kw+32(FP), R13
	MOVQ plane+40(FP), R11
	SHLQ $2, R11
	MOVQ row+48(FP), R10
	SHLQ $2, R10
	CONV_ZERO4

convPool4C:
	MOVQ DI, BX
	MOVQ R12, R8

convPool4I:
	MOVQ BX, DX
	MOVQ R13, R9

convPool4J:
	CONV_DEPTH4
	ADDQ $48, SI
	ADDQ $4, DX
	DECQ R9
	JNZ  convPool4J
	ADDQ R10, BX
	DECQ R8
	JNZ  convPool4I
	ADDQ R11, DI
	DECQ CX
	JNZ  convPool4C

	POOL_SETUP
	POOL_ROWS8(convPool4Done)

convPool4Done:
	VZEROUPPER
	RET

// func conv12x32(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy, ow int, bias *float32, rows int, mask0, mask1 uint32)
//
// convPool12x32's product (the same depth loops and multiply-adds), then,
// for each of the first rows rows, bias[r] added to both halves of the
// tile's row, the upper stored under mask0 at y + r·ldy and the lower
// under mask1 one output row (ow floats) further.
TEXT ·conv12x32(SB), NOSPLIT, $0-104
	MOVQ a+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ c+16(FP), CX
	MOVQ kh+24(FP), R12
	MOVQ kw+32(FP), R13
	MOVQ plane+40(FP), R11
	SHLQ $2, R11
	MOVQ row+48(FP), R10
	SHLQ $2, R10
	CONV_ZERO8
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23

conv12C:
	MOVQ DI, BX
	MOVQ R12, R8

conv12I:
	MOVQ BX, DX
	MOVQ R13, R9

conv12J:
	CONV_DEPTH
	ADDQ $48, SI
	ADDQ $4, DX
	DECQ R9
	JNZ  conv12J
	ADDQ R10, BX
	DECQ R8
	JNZ  conv12I
	ADDQ R11, DI
	DECQ CX
	JNZ  conv12C

	CONV_STORE_SETUP
	CONV_STORE_ROW(Z0, Z1)
	DECQ  R9
	JZ    conv12Done
	CONV_STORE_ROW(Z2, Z3)
	DECQ  R9
	JZ    conv12Done
	CONV_STORE_ROW(Z4, Z5)
	DECQ  R9
	JZ    conv12Done
	CONV_STORE_ROW(Z6, Z7)
	DECQ  R9
	JZ    conv12Done
	CONV_STORE_ROW(Z8, Z9)
	DECQ  R9
	JZ    conv12Done
	CONV_STORE_ROW(Z10, Z11)
	DECQ  R9
	JZ    conv12Done
	CONV_STORE_ROW(Z12, Z13)
	DECQ  R9
	JZ    conv12Done
	CONV_STORE_ROW(Z14, Z15)
	DECQ  R9
	JZ    conv12Done
	CONV_STORE_ROW(Z16, Z17)
	DECQ  R9
	JZ    conv12Done
	CONV_STORE_ROW(Z18, Z19)
	DECQ  R9
	JZ    conv12Done
	CONV_STORE_ROW(Z20, Z21)
	DECQ  R9
	JZ    conv12Done
	CONV_STORE_ROW(Z22, Z23)

conv12Done:
	VZEROUPPER
	RET

// func conv8x32(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy, ow int, bias *float32, rows int, mask0, mask1 uint32)
//
// conv12x32 for a panel's first rows (1–8) rows only: Z0–Z15 accumulate
// the 8×32 tile, with the same multiply-adds in the same order for those
// rows, so the same bits.
TEXT ·conv8x32(SB), NOSPLIT, $0-104
	MOVQ a+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ c+16(FP), CX
	MOVQ kh+24(FP), R12
	MOVQ kw+32(FP), R13
	MOVQ plane+40(FP), R11
	SHLQ $2, R11
	MOVQ row+48(FP), R10
	SHLQ $2, R10
	CONV_ZERO8

conv8x32C:
	MOVQ DI, BX
	MOVQ R12, R8

conv8x32I:
	MOVQ BX, DX
	MOVQ R13, R9

conv8x32J:
	CONV_DEPTH8
	ADDQ $48, SI
	ADDQ $4, DX
	DECQ R9
	JNZ  conv8x32J
	ADDQ R10, BX
	DECQ R8
	JNZ  conv8x32I
	ADDQ R11, DI
	DECQ CX
	JNZ  conv8x32C

	CONV_STORE_SETUP
	CONV_STORE_ROW(Z0, Z1)
	DECQ  R9
	JZ    conv8x32Done
	CONV_STORE_ROW(Z2, Z3)
	DECQ  R9
	JZ    conv8x32Done
	CONV_STORE_ROW(Z4, Z5)
	DECQ  R9
	JZ    conv8x32Done
	CONV_STORE_ROW(Z6, Z7)
	DECQ  R9
	JZ    conv8x32Done
	CONV_STORE_ROW(Z8, Z9)
	DECQ  R9
	JZ    conv8x32Done
	CONV_STORE_ROW(Z10, Z11)
	DECQ  R9
	JZ    conv8x32Done
	CONV_STORE_ROW(Z12, Z13)
	DECQ  R9
	JZ    conv8x32Done
	CONV_STORE_ROW(Z14, Z15)

conv8x32Done:
	VZEROUPPER
	RET

// func conv4x32(a, x *float32, c, kh, kw, plane, row int, y *float32, ldy, ow int, bias *float32, rows int, mask0, mask1 uint32)
//
// conv12x32 for a panel's first rows (1–4) rows only: Z0–Z7 accumulate
// the 4×32 tile, with the same multiply-adds in the same order for those
// rows, so the same bits.
TEXT ·conv4x32(SB), NOSPLIT, $0-104
	MOVQ a+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ c+16(FP), CX
	MOVQ kh+24(FP), R12
	MOVQ kw+32(FP), R13
	MOVQ plane+40(FP), R11
	SHLQ $2, R11
	MOVQ row+48(FP), R10
	SHLQ $2, R10
	CONV_ZERO4

conv4x32C:
	MOVQ DI, BX
	MOVQ R12, R8

conv4x32I:
	MOVQ BX, DX
	MOVQ R13, R9

conv4x32J:
	CONV_DEPTH4
	ADDQ $48, SI
	ADDQ $4, DX
	DECQ R9
	JNZ  conv4x32J
	ADDQ R10, BX
	DECQ R8
	JNZ  conv4x32I
	ADDQ R11, DI
	DECQ CX
	JNZ  conv4x32C

	CONV_STORE_SETUP
	CONV_STORE_ROW(Z0, Z1)
	DECQ  R9
	JZ    conv4x32Done
	CONV_STORE_ROW(Z2, Z3)
	DECQ  R9
	JZ    conv4x32Done
	CONV_STORE_ROW(Z4, Z5)
	DECQ  R9
	JZ    conv4x32Done
	CONV_STORE_ROW(Z6, Z7)

conv4x32Done:
	VZEROUPPER
	RET
