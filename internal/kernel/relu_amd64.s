//go:build amd64 && !purego

#include "textflag.h"

// Go's max(x, 0): VMAXPS returns its second source (x here) when both are
// zeros or either is NaN, so −0 and NaN come out as x; adding +0 then
// turns −0 into +0 and changes nothing else (NaN stays NaN, and x + 0 is
// x for every other x, subnormals included: Go runs without
// flush-to-zero).

// func reluAVX2(dst, src *float32, n int)
//
// n is a multiple of 8.
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   n+16(FP), CX
	VXORPS Y9, Y9, Y9

reluAVX2Loop:
	CMPQ    CX, $8
	JL      reluAVX2Done
	VMOVUPS (SI), Y0
	VMAXPS  Y0, Y9, Y0
	VADDPS  Y9, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     reluAVX2Loop

reluAVX2Done:
	VZEROUPPER
	RET

// func reluAVX512(dst, src *float32, n int)
//
// n is a multiple of 16.
TEXT ·reluAVX512(SB), NOSPLIT, $0-24
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   n+16(FP), CX
	VXORPS Z9, Z9, Z9

reluAVX512Loop:
	CMPQ    CX, $16
	JL      reluAVX512Done
	VMOVUPS (SI), Z0
	VMAXPS  Z0, Z9, Z0
	VADDPS  Z9, Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     reluAVX512Loop

reluAVX512Done:
	VZEROUPPER
	RET

// func reluGradAVX2(d, x, grad *float32, n int)
//
// n is a multiple of 8: d = g where x > 0 (ordered: false for NaN), +0
// elsewhere.
TEXT ·reluGradAVX2(SB), NOSPLIT, $0-32
	MOVQ   d+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   grad+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPS Y9, Y9, Y9

reluGradAVX2Loop:
	CMPQ    CX, $8
	JL      reluGradAVX2Done
	VMOVUPS (SI), Y0
	VCMPPS  $0x1e, Y9, Y0, Y0 // GT_OQ: x > 0
	VANDPS  (DX), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DX
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     reluGradAVX2Loop

reluGradAVX2Done:
	VZEROUPPER
	RET

// func reluGradAVX512(d, x, grad *float32, n int)
//
// n is a multiple of 16.
TEXT ·reluGradAVX512(SB), NOSPLIT, $0-32
	MOVQ   d+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   grad+16(FP), DX
	MOVQ   n+24(FP), CX
	VXORPS Z9, Z9, Z9

reluGradAVX512Loop:
	CMPQ      CX, $16
	JL        reluGradAVX512Done
	VMOVUPS   (SI), Z1
	VCMPPS    $0x1e, Z9, Z1, K1 // GT_OQ: x > 0
	VMOVUPS.Z (DX), K1, Z0
	VMOVUPS   Z0, (DI)
	ADDQ      $64, SI
	ADDQ      $64, DX
	ADDQ      $64, DI
	SUBQ      $16, CX
	JMP       reluGradAVX512Loop

reluGradAVX512Done:
	VZEROUPPER
	RET

// func fillAVX2(dst *float32, n int, v float32)
//
// n is a multiple of 8.
TEXT ·fillAVX2(SB), NOSPLIT, $0-20
	MOVQ         dst+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS v+16(FP), Y0

fillAVX2Loop:
	CMPQ    CX, $8
	JL      fillAVX2Done
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     fillAVX2Loop

fillAVX2Done:
	VZEROUPPER
	RET

// func fillAVX512(dst *float32, n int, v float32)
//
// n is a multiple of 16.
TEXT ·fillAVX512(SB), NOSPLIT, $0-20
	MOVQ         dst+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS v+16(FP), Z0

fillAVX512Loop:
	CMPQ    CX, $16
	JL      fillAVX512Done
	VMOVUPS Z0, (DI)
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     fillAVX512Loop

fillAVX512Done:
	VZEROUPPER
	RET
