//go:build amd64 && !purego

#include "textflag.h"

// func absMaxBitsAVX512(x *float32, n int) uint32
TEXT ·absMaxBitsAVX512(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	MOVL         $0x7fffffff, AX
	VPBROADCASTD AX, Z2
	VPXORD       Z1, Z1, Z1
	VPXORD       Z3, Z3, Z3

absMax512Loop2: // two vectors a step, into two maxima
	CMPQ    CX, $32
	JL      absMax512Loop1
	VPANDD  (SI), Z2, Z0
	VPANDD  64(SI), Z2, Z4
	VPMAXUD Z0, Z1, Z1
	VPMAXUD Z4, Z3, Z3
	ADDQ    $128, SI
	SUBQ    $32, CX
	JMP     absMax512Loop2

absMax512Loop1:
	CMPQ    CX, $16
	JL      absMax512Done
	VPANDD  (SI), Z2, Z0
	VPMAXUD Z0, Z1, Z1
	ADDQ    $64, SI
	SUBQ    $16, CX
	JMP     absMax512Loop1

absMax512Done:
	VPMAXUD       Z3, Z1, Z1
	VEXTRACTI32X8 $1, Z1, Y0
	VPMAXUD       Y0, Y1, Y1
	VEXTRACTI128  $1, Y1, X0
	VPMAXUD       X0, X1, X1
	VPSHUFD       $0x4e, X1, X0
	VPMAXUD       X0, X1, X1
	VPSHUFD       $0xb1, X1, X0
	VPMAXUD       X0, X1, X1
	VMOVD         X1, AX
	MOVL          AX, ret+16(FP)
	VZEROUPPER
	RET
