//go:build !amd64 || purego

package graph

func qgemmKernelVNNI(kq int, a []byte, lda, rows int, b []byte, tile []int32) {
	panic("graph: int8 VNNI kernel without amd64")
}

func qgemmKernelAVX2(kq int, a []byte, lda, rows int, b []byte, tile []int32) {
	panic("graph: int8 AVX2 kernel without amd64")
}
