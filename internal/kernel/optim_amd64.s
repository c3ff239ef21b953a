//go:build amd64 && !purego

#include "textflag.h"

// func adamAVX2(w, grad, m, v *float32, n int, c *AdamConsts)
//
// n is a multiple of 8. Per element, in float32 with the roundings
// of optim's scalar loop (each multiply, divide and add rounded, the two
// multiply-adds fused):
//   m ← fma(1−β1, g, β1·m); v ← fma((1−β2)·g, g, β2·v)
//   w ← w + (negStep·m) / (√v/bc2Sqrt + ε)
TEXT ·adamAVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Y9
	VBROADCASTSS 4(AX), Y10
	VBROADCASTSS 8(AX), Y11
	VBROADCASTSS 12(AX), Y12
	VBROADCASTSS 16(AX), Y13
	VBROADCASTSS 20(AX), Y14
	VBROADCASTSS 24(AX), Y15

adamAVX2Loop:
	CMPQ CX, $8
	JL   adamAVX2Done
	VMOVUPS     (SI), Y0
	VMULPS      (R8), Y9, Y1
	VFMADD231PS Y0, Y10, Y1
	VMOVUPS     Y1, (R8)
	VMULPS      Y0, Y12, Y4
	VMULPS      (R9), Y11, Y2
	VFMADD231PS Y0, Y4, Y2
	VMOVUPS     Y2, (R9)
	VSQRTPS     Y2, Y5
	VDIVPS      Y14, Y5, Y5
	VADDPS      Y15, Y5, Y5
	VMULPS      Y1, Y13, Y6
	VDIVPS      Y5, Y6, Y6
	VADDPS      (DI), Y6, Y3
	VMOVUPS     Y3, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	ADDQ $32, R9
	SUBQ $8, CX
	JMP  adamAVX2Loop

adamAVX2Done:
	VZEROUPPER
	RET

// func sgdMomentumAVX2(w, grad, buf *float32, n int, negLR, mom, keep float32)
//
// n is a multiple of 8: buf ← fma(keep, g, mom·buf); w ← fma(negLR, buf, w).
TEXT ·sgdMomentumAVX2(SB), NOSPLIT, $0-44
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ buf+16(FP), R8
	MOVQ n+24(FP), CX
	VBROADCASTSS negLR+32(FP), Y9
	VBROADCASTSS mom+36(FP), Y10
	VBROADCASTSS keep+40(FP), Y11

sgdmAVX2Loop:
	CMPQ CX, $8
	JL   sgdmAVX2Done
	VMOVUPS     (SI), Y0
	VMULPS      (R8), Y10, Y1
	VFMADD231PS Y0, Y11, Y1
	VMOVUPS     Y1, (R8)
	VMOVUPS     (DI), Y3
	VFMADD231PS Y1, Y9, Y3
	VMOVUPS     Y3, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	ADDQ $32, R8
	SUBQ $8, CX
	JMP  sgdmAVX2Loop

sgdmAVX2Done:
	VZEROUPPER
	RET

// func sgdAVX2(w, grad *float32, n int, negLR float32)
//
// n is a multiple of 8: w ← fma(negLR, g, w).
TEXT ·sgdAVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS negLR+24(FP), Y9

sgdAVX2Loop:
	CMPQ CX, $8
	JL   sgdAVX2Done
	VMOVUPS     (DI), Y3
	VFMADD231PS (SI), Y9, Y3
	VMOVUPS     Y3, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  sgdAVX2Loop

sgdAVX2Done:
	VZEROUPPER
	RET

// func adamAVX512(w, grad, m, v *float32, n int, c *AdamConsts)
//
// n is a multiple of 16. Per element, in float32 with the roundings
// of optim's scalar loop (each multiply, divide and add rounded, the two
// multiply-adds fused):
//   m ← fma(1−β1, g, β1·m); v ← fma((1−β2)·g, g, β2·v)
//   w ← w + (negStep·m) / (√v/bc2Sqrt + ε)
TEXT ·adamAVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	MOVQ c+40(FP), AX
	VBROADCASTSS 0(AX), Z9
	VBROADCASTSS 4(AX), Z10
	VBROADCASTSS 8(AX), Z11
	VBROADCASTSS 12(AX), Z12
	VBROADCASTSS 16(AX), Z13
	VBROADCASTSS 20(AX), Z14
	VBROADCASTSS 24(AX), Z15

adamAVX512Loop:
	CMPQ CX, $16
	JL   adamAVX512Done
	VMOVUPS     (SI), Z0
	VMULPS      (R8), Z9, Z1
	VFMADD231PS Z0, Z10, Z1
	VMOVUPS     Z1, (R8)
	VMULPS      Z0, Z12, Z4
	VMULPS      (R9), Z11, Z2
	VFMADD231PS Z0, Z4, Z2
	VMOVUPS     Z2, (R9)
	VSQRTPS     Z2, Z5
	VDIVPS      Z14, Z5, Z5
	VADDPS      Z15, Z5, Z5
	VMULPS      Z1, Z13, Z6
	VDIVPS      Z5, Z6, Z6
	VADDPS      (DI), Z6, Z3
	VMOVUPS     Z3, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JMP  adamAVX512Loop

adamAVX512Done:
	VZEROUPPER
	RET

// func sgdMomentumAVX512(w, grad, buf *float32, n int, negLR, mom, keep float32)
//
// n is a multiple of 16: buf ← fma(keep, g, mom·buf); w ← fma(negLR, buf, w).
TEXT ·sgdMomentumAVX512(SB), NOSPLIT, $0-44
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ buf+16(FP), R8
	MOVQ n+24(FP), CX
	VBROADCASTSS negLR+32(FP), Z9
	VBROADCASTSS mom+36(FP), Z10
	VBROADCASTSS keep+40(FP), Z11

sgdmAVX512Loop:
	CMPQ CX, $16
	JL   sgdmAVX512Done
	VMOVUPS     (SI), Z0
	VMULPS      (R8), Z10, Z1
	VFMADD231PS Z0, Z11, Z1
	VMOVUPS     Z1, (R8)
	VMOVUPS     (DI), Z3
	VFMADD231PS Z1, Z9, Z3
	VMOVUPS     Z3, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	ADDQ $64, R8
	SUBQ $16, CX
	JMP  sgdmAVX512Loop

sgdmAVX512Done:
	VZEROUPPER
	RET

// func sgdAVX512(w, grad *float32, n int, negLR float32)
//
// n is a multiple of 16: w ← fma(negLR, g, w).
TEXT ·sgdAVX512(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS negLR+24(FP), Z9

sgdAVX512Loop:
	CMPQ CX, $16
	JL   sgdAVX512Done
	VMOVUPS     (DI), Z3
	VFMADD231PS (SI), Z9, Z3
	VMOVUPS     Z3, (DI)
	ADDQ $64, DI
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  sgdAVX512Loop

sgdAVX512Done:
	VZEROUPPER
	RET

// func sumSquaresAVX2(part *[16]float64, g *float32, n int)
//
// Lane l of part (Y2: 0–3, Y3: 4–7, Y4: 8–11, Y5: 12–15) += g[i]² for
// i ≡ l mod 16, converted to float64; n is a multiple of 16.
TEXT ·sumSquaresAVX2(SB), NOSPLIT, $0-24
	MOVQ part+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ n+16(FP), CX
	VMOVUPD 0(DI), Y2
	VMOVUPD 32(DI), Y3
	VMOVUPD 64(DI), Y4
	VMOVUPD 96(DI), Y5

sq2Loop:
	CMPQ CX, $16
	JL   sq2Done
	VCVTPS2PD   0(SI), Y0
	VFMADD231PD Y0, Y0, Y2
	VCVTPS2PD   16(SI), Y1
	VFMADD231PD Y1, Y1, Y3
	VCVTPS2PD   32(SI), Y0
	VFMADD231PD Y0, Y0, Y4
	VCVTPS2PD   48(SI), Y1
	VFMADD231PD Y1, Y1, Y5
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  sq2Loop

sq2Done:
	VMOVUPD Y2, 0(DI)
	VMOVUPD Y3, 32(DI)
	VMOVUPD Y4, 64(DI)
	VMOVUPD Y5, 96(DI)
	VZEROUPPER
	RET

// func sumSquaresAVX512(part *[16]float64, g *float32, n int)
//
// sumSquaresAVX2 with lanes 0–7 in Z2 and 8–15 in Z3.
TEXT ·sumSquaresAVX512(SB), NOSPLIT, $0-24
	MOVQ part+0(FP), DI
	MOVQ grad+8(FP), SI
	MOVQ n+16(FP), CX
	VMOVUPD 0(DI), Z2
	VMOVUPD 64(DI), Z3

sq512Loop:
	CMPQ CX, $16
	JL   sq512Done
	VCVTPS2PD   0(SI), Z0
	VFMADD231PD Z0, Z0, Z2
	VCVTPS2PD   32(SI), Z1
	VFMADD231PD Z1, Z1, Z3
	ADDQ $64, SI
	SUBQ $16, CX
	JMP  sq512Loop

sq512Done:
	VMOVUPD Z2, 0(DI)
	VMOVUPD Z3, 64(DI)
	VZEROUPPER
	RET
