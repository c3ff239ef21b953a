//go:build amd64 && !purego

#include "textflag.h"

// norm.go's loops sixteen values at a time: each half of sixteen widened
// to eight float64 lanes (lanes 0–7 and 8–15 of the partial sums), with a
// separate multiply and add, as Go rounds them.

// func sumLanesAVX512(part *[16]float64, x *float32, n int)
TEXT ·sumLanesAVX512(SB), NOSPLIT, $0-24
	MOVQ    part+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    n+16(FP), CX
	VMOVUPD 0(DI), Z2
	VMOVUPD 64(DI), Z3

sumLanes512Loop:
	CMPQ      CX, $16
	JL        sumLanes512Done
	VCVTPS2PD 0(SI), Z0
	VADDPD    Z0, Z2, Z2
	VCVTPS2PD 32(SI), Z1
	VADDPD    Z1, Z3, Z3
	ADDQ      $64, SI
	SUBQ      $16, CX
	JMP       sumLanes512Loop

sumLanes512Done:
	VMOVUPD Z2, 0(DI)
	VMOVUPD Z3, 64(DI)
	VZEROUPPER
	RET

// func sqDevLanesAVX512(part *[16]float64, x *float32, n int, mean float64)
TEXT ·sqDevLanesAVX512(SB), NOSPLIT, $0-32
	MOVQ         part+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSD mean+24(FP), Z4
	VMOVUPD      0(DI), Z2
	VMOVUPD      64(DI), Z3

sqDev512Loop:
	CMPQ      CX, $16
	JL        sqDev512Done
	VCVTPS2PD 0(SI), Z0
	VSUBPD    Z4, Z0, Z0
	VMULPD    Z0, Z0, Z0
	VADDPD    Z0, Z2, Z2
	VCVTPS2PD 32(SI), Z1
	VSUBPD    Z4, Z1, Z1
	VMULPD    Z1, Z1, Z1
	VADDPD    Z1, Z3, Z3
	ADDQ      $64, SI
	SUBQ      $16, CX
	JMP       sqDev512Loop

sqDev512Done:
	VMOVUPD Z2, 0(DI)
	VMOVUPD Z3, 64(DI)
	VZEROUPPER
	RET

// func normalizeAVX512(dst, x, gamma, beta *float32, n int, mean, inv float64)
TEXT ·normalizeAVX512(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gamma+16(FP), DX
	MOVQ         beta+24(FP), BX
	MOVQ         n+32(FP), CX
	VBROADCASTSD mean+40(FP), Z4
	VBROADCASTSD inv+48(FP), Z5

normalize512Loop:
	CMPQ      CX, $8
	JL        normalize512Done
	VCVTPS2PD (SI), Z0
	VSUBPD    Z4, Z0, Z0
	VMULPD    Z5, Z0, Z0
	VCVTPS2PD (DX), Z1
	VMULPD    Z1, Z0, Z0
	VCVTPS2PD (BX), Z2
	VADDPD    Z2, Z0, Z0
	VCVTPD2PS Z0, Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DX
	ADDQ      $32, BX
	ADDQ      $32, DI
	SUBQ      $8, CX
	JMP       normalize512Loop

normalize512Done:
	VZEROUPPER
	RET

// The AVX2 loops: four float64 lanes a register, four registers for the
// sixteen partial sums; normalizeAVX four values at a time.

// func sumLanesAVX(part *[16]float64, x *float32, n int)
TEXT ·sumLanesAVX(SB), NOSPLIT, $0-24
	MOVQ    part+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    n+16(FP), CX
	VMOVUPD 0(DI), Y4
	VMOVUPD 32(DI), Y5
	VMOVUPD 64(DI), Y6
	VMOVUPD 96(DI), Y7

sumLanesLoop:
	CMPQ      CX, $16
	JL        sumLanesDone
	VCVTPS2PD 0(SI), Y0
	VADDPD    Y0, Y4, Y4
	VCVTPS2PD 16(SI), Y1
	VADDPD    Y1, Y5, Y5
	VCVTPS2PD 32(SI), Y2
	VADDPD    Y2, Y6, Y6
	VCVTPS2PD 48(SI), Y3
	VADDPD    Y3, Y7, Y7
	ADDQ      $64, SI
	SUBQ      $16, CX
	JMP       sumLanesLoop

sumLanesDone:
	VMOVUPD Y4, 0(DI)
	VMOVUPD Y5, 32(DI)
	VMOVUPD Y6, 64(DI)
	VMOVUPD Y7, 96(DI)
	VZEROUPPER
	RET

// func sqDevLanesAVX(part *[16]float64, x *float32, n int, mean float64)
TEXT ·sqDevLanesAVX(SB), NOSPLIT, $0-32
	MOVQ         part+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSD mean+24(FP), Y8
	VMOVUPD      0(DI), Y4
	VMOVUPD      32(DI), Y5
	VMOVUPD      64(DI), Y6
	VMOVUPD      96(DI), Y7

sqDevLoop:
	CMPQ      CX, $16
	JL        sqDevDone
	VCVTPS2PD 0(SI), Y0
	VSUBPD    Y8, Y0, Y0
	VMULPD    Y0, Y0, Y0
	VADDPD    Y0, Y4, Y4
	VCVTPS2PD 16(SI), Y1
	VSUBPD    Y8, Y1, Y1
	VMULPD    Y1, Y1, Y1
	VADDPD    Y1, Y5, Y5
	VCVTPS2PD 32(SI), Y2
	VSUBPD    Y8, Y2, Y2
	VMULPD    Y2, Y2, Y2
	VADDPD    Y2, Y6, Y6
	VCVTPS2PD 48(SI), Y3
	VSUBPD    Y8, Y3, Y3
	VMULPD    Y3, Y3, Y3
	VADDPD    Y3, Y7, Y7
	ADDQ      $64, SI
	SUBQ      $16, CX
	JMP       sqDevLoop

sqDevDone:
	VMOVUPD Y4, 0(DI)
	VMOVUPD Y5, 32(DI)
	VMOVUPD Y6, 64(DI)
	VMOVUPD Y7, 96(DI)
	VZEROUPPER
	RET

// func normalizeAVX(dst, x, gamma, beta *float32, n int, mean, inv float64)
TEXT ·normalizeAVX(SB), NOSPLIT, $0-56
	MOVQ         dst+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         gamma+16(FP), DX
	MOVQ         beta+24(FP), BX
	MOVQ         n+32(FP), CX
	VBROADCASTSD mean+40(FP), Y4
	VBROADCASTSD inv+48(FP), Y5

normalizeLoop:
	CMPQ       CX, $4
	JL         normalizeDone
	VCVTPS2PD  (SI), Y0
	VSUBPD     Y4, Y0, Y0
	VMULPD     Y5, Y0, Y0
	VCVTPS2PD  (DX), Y1
	VMULPD     Y1, Y0, Y0
	VCVTPS2PD  (BX), Y2
	VADDPD     Y2, Y0, Y0
	VCVTPD2PSY Y0, X0
	VMOVUPS    X0, (DI)
	ADDQ       $16, SI
	ADDQ       $16, DX
	ADDQ       $16, BX
	ADDQ       $16, DI
	SUBQ       $4, CX
	JMP        normalizeLoop

normalizeDone:
	VZEROUPPER
	RET
