//go:build amd64 && !purego

#include "textflag.h"

// batchnorm.go's loops sixteen values at a time: each half of sixteen
// widened to eight float64 lanes, with separate multiplies and adds, as
// Go rounds them.

// func affineAVX512(dst, x *float32, n int, scale, shift float64)
TEXT ·affineAVX512(SB), NOSPLIT, $0-40
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSD scale+24(FP), Z4
	VBROADCASTSD shift+32(FP), Z5

affine512Loop:
	CMPQ      CX, $16
	JL        affine512Done
	VCVTPS2PD 0(SI), Z0
	VMULPD    Z4, Z0, Z0
	VADDPD    Z5, Z0, Z0
	VCVTPD2PS Z0, Y0
	VMOVUPS   Y0, 0(DI)
	VCVTPS2PD 32(SI), Z1
	VMULPD    Z4, Z1, Z1
	VADDPD    Z5, Z1, Z1
	VCVTPD2PS Z1, Y1
	VMOVUPS   Y1, 32(DI)
	ADDQ      $64, SI
	ADDQ      $64, DI
	SUBQ      $16, CX
	JMP       affine512Loop

affine512Done:
	VZEROUPPER
	RET

// func batchNormSumsAVX512(sumG, sumGX *[16]float64, grad, x *float32, n int, mean float64)
TEXT ·batchNormSumsAVX512(SB), NOSPLIT, $0-48
	MOVQ         sumG+0(FP), DI
	MOVQ         sumGX+8(FP), R8
	MOVQ         grad+16(FP), SI
	MOVQ         x+24(FP), DX
	MOVQ         n+32(FP), CX
	VBROADCASTSD mean+40(FP), Z8
	VMOVUPD      0(DI), Z2
	VMOVUPD      64(DI), Z3
	VMOVUPD      0(R8), Z4
	VMOVUPD      64(R8), Z5

bnSums512Loop:
	CMPQ      CX, $16
	JL        bnSums512Done
	VCVTPS2PD 0(SI), Z0
	VADDPD    Z0, Z2, Z2
	VCVTPS2PD 0(DX), Z1
	VSUBPD    Z8, Z1, Z1
	VMULPD    Z1, Z0, Z0
	VADDPD    Z0, Z4, Z4
	VCVTPS2PD 32(SI), Z6
	VADDPD    Z6, Z3, Z3
	VCVTPS2PD 32(DX), Z7
	VSUBPD    Z8, Z7, Z7
	VMULPD    Z7, Z6, Z6
	VADDPD    Z6, Z5, Z5
	ADDQ      $64, SI
	ADDQ      $64, DX
	SUBQ      $16, CX
	JMP       bnSums512Loop

bnSums512Done:
	VMOVUPD Z2, 0(DI)
	VMOVUPD Z3, 64(DI)
	VMOVUPD Z4, 0(R8)
	VMOVUPD Z5, 64(R8)
	VZEROUPPER
	RET

// func batchNormGradAVX512(dst, x, grad *float32, n int, scale, a, mean, b float64)
TEXT ·batchNormGradAVX512(SB), NOSPLIT, $0-64
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         grad+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSD scale+32(FP), Z4
	VBROADCASTSD a+40(FP), Z5
	VBROADCASTSD mean+48(FP), Z6
	VBROADCASTSD b+56(FP), Z7

bnGrad512Loop:
	CMPQ      CX, $16
	JL        bnGrad512Done
	VCVTPS2PD 0(SI), Z0
	VSUBPD    Z6, Z0, Z0
	VMULPD    Z7, Z0, Z0
	VCVTPS2PD 0(DX), Z1
	VSUBPD    Z5, Z1, Z1
	VSUBPD    Z0, Z1, Z1
	VMULPD    Z4, Z1, Z1
	VCVTPD2PS Z1, Y1
	VMOVUPS   Y1, 0(DI)
	VCVTPS2PD 32(SI), Z2
	VSUBPD    Z6, Z2, Z2
	VMULPD    Z7, Z2, Z2
	VCVTPS2PD 32(DX), Z3
	VSUBPD    Z5, Z3, Z3
	VSUBPD    Z2, Z3, Z3
	VMULPD    Z4, Z3, Z3
	VCVTPD2PS Z3, Y3
	VMOVUPS   Y3, 32(DI)
	ADDQ      $64, SI
	ADDQ      $64, DX
	ADDQ      $64, DI
	SUBQ      $16, CX
	JMP       bnGrad512Loop

bnGrad512Done:
	VZEROUPPER
	RET
