//go:build amd64 && !purego

package kernel

import "golang.org/x/sys/cpu"

// detect is the highest level the CPU and the OS support: AVX2 with FMA,
// and AVX-512 F, BW, DQ and VL. x/sys/cpu reports AVX, AVX2 and AVX-512
// only when the OS saves the YMM (and for AVX-512 the opmask and ZMM)
// state too, which the kernels need.
func detect() Level {
	x := &cpu.X86
	if !x.HasAVX || !x.HasAVX2 || !x.HasFMA {
		return Generic
	}
	if !x.HasAVX512 || !x.HasAVX512F || !x.HasAVX512BW || !x.HasAVX512DQ || !x.HasAVX512VL {
		return AVX2
	}
	return AVX512
}

// detectVNNI reports AVX-512 VNNI (vpdpbusd on ZMM registers); x/sys/cpu
// sets it only along with AVX-512's OS state.
func detectVNNI() bool { return cpu.X86.HasAVX512VNNI }
