//go:build amd64 && !purego

package simd

// detect is the highest level the CPU and the OS support: AVX2 with FMA,
// and AVX-512 F, BW, DQ and VL with the OS saving the ZMM and opmask state.
func detect() Level {
	_, _, ecx1, _ := cpuid(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&fma == 0 || ecx1&osxsave == 0 || ecx1&avx == 0 {
		return Generic
	}
	xcr0, _ := xgetbv()
	if xcr0&6 != 6 { // the OS saves XMM and YMM state
		return Generic
	}
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return Generic
	}
	_, ebx7, _, _ := cpuid(7, 0)
	if ebx7&(1<<5) == 0 { // AVX2
		return Generic
	}
	const avx512f, avx512dq, avx512bw, avx512vl = 1 << 16, 1 << 17, 1 << 30, 1 << 31
	const want = avx512f | avx512dq | avx512bw | avx512vl
	if ebx7&want != want || xcr0&0xe6 != 0xe6 { // opmask, ZMM0–15 upper halves, ZMM16–31
		return AVX2
	}
	return AVX512
}

// cpuid executes CPUID with the given leaf and sub-leaf.
//
//go:noescape
func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads extended control register 0.
//
//go:noescape
func xgetbv() (eax, edx uint32)
