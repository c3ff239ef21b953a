//go:build amd64 && !purego

#include "textflag.h"

// The permutes' indices into two vectors of sixteen (16–31: the second):
// even and odd elements (a window's left and right columns), and the two
// halves of interleaving two vectors (left and right columns back into a
// row).
DATA poolIdx<>+0(SB)/4, $0
DATA poolIdx<>+4(SB)/4, $2
DATA poolIdx<>+8(SB)/4, $4
DATA poolIdx<>+12(SB)/4, $6
DATA poolIdx<>+16(SB)/4, $8
DATA poolIdx<>+20(SB)/4, $10
DATA poolIdx<>+24(SB)/4, $12
DATA poolIdx<>+28(SB)/4, $14
DATA poolIdx<>+32(SB)/4, $16
DATA poolIdx<>+36(SB)/4, $18
DATA poolIdx<>+40(SB)/4, $20
DATA poolIdx<>+44(SB)/4, $22
DATA poolIdx<>+48(SB)/4, $24
DATA poolIdx<>+52(SB)/4, $26
DATA poolIdx<>+56(SB)/4, $28
DATA poolIdx<>+60(SB)/4, $30
DATA poolIdx<>+64(SB)/4, $1
DATA poolIdx<>+68(SB)/4, $3
DATA poolIdx<>+72(SB)/4, $5
DATA poolIdx<>+76(SB)/4, $7
DATA poolIdx<>+80(SB)/4, $9
DATA poolIdx<>+84(SB)/4, $11
DATA poolIdx<>+88(SB)/4, $13
DATA poolIdx<>+92(SB)/4, $15
DATA poolIdx<>+96(SB)/4, $17
DATA poolIdx<>+100(SB)/4, $19
DATA poolIdx<>+104(SB)/4, $21
DATA poolIdx<>+108(SB)/4, $23
DATA poolIdx<>+112(SB)/4, $25
DATA poolIdx<>+116(SB)/4, $27
DATA poolIdx<>+120(SB)/4, $29
DATA poolIdx<>+124(SB)/4, $31
DATA poolIdx<>+128(SB)/4, $0
DATA poolIdx<>+132(SB)/4, $16
DATA poolIdx<>+136(SB)/4, $1
DATA poolIdx<>+140(SB)/4, $17
DATA poolIdx<>+144(SB)/4, $2
DATA poolIdx<>+148(SB)/4, $18
DATA poolIdx<>+152(SB)/4, $3
DATA poolIdx<>+156(SB)/4, $19
DATA poolIdx<>+160(SB)/4, $4
DATA poolIdx<>+164(SB)/4, $20
DATA poolIdx<>+168(SB)/4, $5
DATA poolIdx<>+172(SB)/4, $21
DATA poolIdx<>+176(SB)/4, $6
DATA poolIdx<>+180(SB)/4, $22
DATA poolIdx<>+184(SB)/4, $7
DATA poolIdx<>+188(SB)/4, $23
DATA poolIdx<>+192(SB)/4, $8
DATA poolIdx<>+196(SB)/4, $24
DATA poolIdx<>+200(SB)/4, $9
DATA poolIdx<>+204(SB)/4, $25
DATA poolIdx<>+208(SB)/4, $10
DATA poolIdx<>+212(SB)/4, $26
DATA poolIdx<>+216(SB)/4, $11
DATA poolIdx<>+220(SB)/4, $27
DATA poolIdx<>+224(SB)/4, $12
DATA poolIdx<>+228(SB)/4, $28
DATA poolIdx<>+232(SB)/4, $13
DATA poolIdx<>+236(SB)/4, $29
DATA poolIdx<>+240(SB)/4, $14
DATA poolIdx<>+244(SB)/4, $30
DATA poolIdx<>+248(SB)/4, $15
DATA poolIdx<>+252(SB)/4, $31
GLOBL poolIdx<>(SB), RODATA|NOPTR, $256

// POOL_WINDOWS pools the windows of Z0, Z1 (row 0) and Z2, Z3 (row 1),
// whose indices in the plane (plus base) start at R10, into Z10 (values)
// and Z11 (indices). Z20, Z21: even and odd permutes; Z23, Z24, Z25: 1, w
// and w+1 in each lane.
#define POOL_WINDOWS \
	VMOVAPS       Z0, Z4; \
	VPERMT2PS     Z1, Z20, Z4; \
	VPERMT2PS     Z1, Z21, Z0; \
	VMOVAPS       Z2, Z5; \
	VPERMT2PS     Z3, Z20, Z5; \
	VPERMT2PS     Z3, Z21, Z2; \
	VPBROADCASTD  R10, Z6; \
	VPADDD        Z20, Z6, Z6; \
	VPADDD        Z23, Z6, Z7; \
	VPADDD        Z24, Z6, Z8; \
	VPADDD        Z25, Z6, Z9; \
	VMOVAPS       Z4, Z10; \
	VMOVDQA32     Z6, Z11; \
	VCMPPS        $0x1e, Z10, Z0, K3; \
	VCMPPS        $0x00, Z10, Z0, K4; \
	VPANDD        Z0, Z10, K4, Z10; \
	VMOVAPS       Z0, K3, Z10; \
	VMOVDQA32     Z7, K3, Z11; \
	VCMPPS        $0x1e, Z10, Z5, K3; \
	VCMPPS        $0x00, Z10, Z5, K4; \
	VPANDD        Z5, Z10, K4, Z10; \
	VMOVAPS       Z5, K3, Z10; \
	VMOVDQA32     Z8, K3, Z11; \
	VCMPPS        $0x1e, Z10, Z2, K3; \
	VCMPPS        $0x00, Z10, Z2, K4; \
	VPANDD        Z2, Z10, K4, Z10; \
	VMOVAPS       Z2, K3, Z10; \
	VMOVDQA32     Z9, K3, Z11; \
	VCMPPS        $0x03, Z2, Z2, K3; \
	VMOVAPS       Z2, K3, Z10; \
	VMOVDQA32     Z9, K3, Z11; \
	VCMPPS        $0x03, Z5, Z5, K3; \
	VMOVAPS       Z5, K3, Z10; \
	VMOVDQA32     Z8, K3, Z11; \
	VCMPPS        $0x03, Z0, Z0, K3; \
	VMOVAPS       Z0, K3, Z10; \
	VMOVDQA32     Z7, K3, Z11; \
	VCMPPS        $0x03, Z4, Z4, K3; \
	VMOVAPS       Z4, K3, Z10; \
	VMOVDQA32     Z6, K3, Z11

// func maxPool2x2AVX512(y *float32, arg *int32, x *float32, base, w, oh, ow, full int, out, in0, in1 uint64)
TEXT ·maxPool2x2AVX512(SB), NOSPLIT, $0-88
	MOVQ      y+0(FP), DI
	MOVQ      arg+8(FP), R8
	MOVQ      x+16(FP), SI
	MOVQ      base+24(FP), R12
	MOVQ      w+32(FP), DX
	MOVQ      oh+40(FP), CX
	MOVQ      full+56(FP), BX
	KMOVQ     out+64(FP), K5
	KMOVQ     in0+72(FP), K6
	KMOVQ     in1+80(FP), K7
	VMOVDQU32 poolIdx<>+0(SB), Z20
	VMOVDQU32 poolIdx<>+64(SB), Z21
	MOVL      $1, AX
	VPBROADCASTD AX, Z23
	VPBROADCASTD DX, Z24
	VPADDD    Z23, Z24, Z25
	SHLQ      $2, DX            // bytes per input row

pool512Row:
	MOVQ SI, R11
	MOVQ DI, R13
	MOVQ R8, R14
	MOVQ R12, R10
	MOVQ BX, R9

pool512Vec:
	TESTQ     R9, R9
	JZ        pool512Tail
	VMOVUPS   0(R11), Z0
	VMOVUPS   64(R11), Z1
	VMOVUPS   0(R11)(DX*1), Z2
	VMOVUPS   64(R11)(DX*1), Z3
	POOL_WINDOWS
	VMOVUPS   Z10, 0(R13)
	VMOVDQU32 Z11, 0(R14)
	ADDQ      $128, R11
	ADDQ      $64, R13
	ADDQ      $64, R14
	ADDQ      $32, R10
	DECQ      R9
	JMP       pool512Vec

pool512Tail:
	KORTESTW  K5, K5
	JZ        pool512Next
	VMOVUPS.Z 0(R11), K6, Z0
	VMOVUPS.Z 64(R11), K7, Z1
	VMOVUPS.Z 0(R11)(DX*1), K6, Z2
	VMOVUPS.Z 64(R11)(DX*1), K7, Z3
	POOL_WINDOWS
	VMOVUPS   Z10, K5, 0(R13)
	VMOVDQU32 Z11, K5, 0(R14)

pool512Next:
	MOVQ ow+48(FP), AX
	SHLQ $2, AX
	ADDQ AX, DI                 // next output row
	ADDQ AX, R8
	LEAQ 0(SI)(DX*2), SI        // two input rows on
	MOVQ w+32(FP), AX
	LEAQ 0(R12)(AX*2), R12
	DECQ CX
	JNZ  pool512Row
	VZEROUPPER
	RET

// UNPOOL_WINDOWS spreads the gradients Z0 of sixteen outputs whose
// maxima are at Z1 over their windows, whose indices start at R10 (0 + g,
// which turns −0 into +0): row 0 into Z7, Z2 and row 1 into Z8, Z4. Z19:
// zeros; Z26, Z27: the interleaving permutes.
#define UNPOOL_WINDOWS \
	VADDPS       Z19, Z0, Z0; \
	VPBROADCASTD R10, Z6; \
	VPADDD       Z20, Z6, Z6; \
	VPADDD       Z23, Z6, Z7; \
	VPADDD       Z24, Z6, Z8; \
	VPADDD       Z25, Z6, Z9; \
	VPCMPEQD     Z6, Z1, K1; \
	VPCMPEQD     Z7, Z1, K2; \
	VPCMPEQD     Z8, Z1, K3; \
	VPCMPEQD     Z9, Z1, K4; \
	VMOVAPS.Z    Z0, K1, Z2; \
	VMOVAPS.Z    Z0, K2, Z3; \
	VMOVAPS.Z    Z0, K3, Z4; \
	VMOVAPS.Z    Z0, K4, Z5; \
	VMOVAPS      Z2, Z7; \
	VPERMT2PS    Z3, Z26, Z7; \
	VPERMT2PS    Z3, Z27, Z2; \
	VMOVAPS      Z4, Z8; \
	VPERMT2PS    Z5, Z26, Z8; \
	VPERMT2PS    Z5, Z27, Z4

// func unpool2x2AVX512(gz, grad *float32, arg *int32, base, w, oh, ow, full int, out, in0, in1 uint64)
TEXT ·unpool2x2AVX512(SB), NOSPLIT, $0-88
	MOVQ      gz+0(FP), SI
	MOVQ      grad+8(FP), DI
	MOVQ      arg+16(FP), R8
	MOVQ      base+24(FP), R12
	MOVQ      w+32(FP), DX
	MOVQ      oh+40(FP), CX
	MOVQ      full+56(FP), BX
	KMOVQ     out+64(FP), K5
	KMOVQ     in0+72(FP), K6
	KMOVQ     in1+80(FP), K7
	VMOVDQU32 poolIdx<>+0(SB), Z20
	VMOVDQU32 poolIdx<>+128(SB), Z26
	VMOVDQU32 poolIdx<>+192(SB), Z27
	MOVL      $1, AX
	VPBROADCASTD AX, Z23
	VPBROADCASTD DX, Z24
	VPADDD    Z23, Z24, Z25
	VPXORD    Z19, Z19, Z19
	SHLQ      $2, DX

unpool512Row:
	MOVQ SI, R11
	MOVQ DI, R13
	MOVQ R8, R14
	MOVQ R12, R10
	MOVQ BX, R9

unpool512Vec:
	TESTQ     R9, R9
	JZ        unpool512Tail
	VMOVUPS   0(R13), Z0
	VMOVDQU32 0(R14), Z1
	UNPOOL_WINDOWS
	VMOVUPS   Z7, 0(R11)
	VMOVUPS   Z2, 64(R11)
	VMOVUPS   Z8, 0(R11)(DX*1)
	VMOVUPS   Z4, 64(R11)(DX*1)
	ADDQ      $128, R11
	ADDQ      $64, R13
	ADDQ      $64, R14
	ADDQ      $32, R10
	DECQ      R9
	JMP       unpool512Vec

unpool512Tail:
	KORTESTW  K5, K5
	JZ        unpool512Next
	VMOVUPS.Z   0(R13), K5, Z0
	VMOVDQU32.Z 0(R14), K5, Z1
	UNPOOL_WINDOWS
	VMOVUPS     Z7, K6, 0(R11)
	VMOVUPS     Z2, K7, 64(R11)
	VMOVUPS     Z8, K6, 0(R11)(DX*1)
	VMOVUPS     Z4, K7, 64(R11)(DX*1)

unpool512Next:
	MOVQ ow+48(FP), AX
	SHLQ $2, AX
	ADDQ AX, DI
	ADDQ AX, R8
	LEAQ 0(SI)(DX*2), SI
	MOVQ w+32(FP), AX
	LEAQ 0(R12)(AX*2), R12
	DECQ CX
	JNZ  unpool512Row
	VZEROUPPER
	RET
