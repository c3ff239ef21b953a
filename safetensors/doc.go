// Package safetensors reads and writes the Hugging Face safetensors format,
// the weight file PyTorch users load with safetensors.torch.load_file.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON, then
// one byte buffer holding every tensor's data, little-endian, row-major:
//
//	{"__metadata__":{"format":"pt"},
//	 "fc.weight":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}, ...}
//
// data_offsets are relative to the start of the buffer. The JSON is padded
// with spaces to a multiple of 8 bytes, so that 8-byte-aligned tensors stay
// aligned in memory-mapped files.
//
// Write lays tensors out in the order it is given them (a state_dict's order)
// and writes the same JSON bytes as the reference Rust implementation for the
// same layout; WriteFile replaces its file atomically. Read and ReadFile
// validate everything the reference reader validates, and a little more:
// duplicate names, unknown dtypes, offsets that overlap, leave gaps or run
// past the buffer, and byte lengths that disagree with dtype × shape are
// errors naming the file and the tensor, never a panic or a silently wrong
// tensor.
//
// The reference implementation sorts tensors by decreasing dtype size before
// writing so that each one starts at a multiple of its element size; Write
// does not reorder, so a buffer mixing dtypes (an odd-length F32 tensor
// followed by an I64 one) may hold unaligned tensors. Every reader copes:
// alignment only matters for zero-copy memory mapping.
//
// The golden files in testdata were written by a script that builds a real
// PyTorch state_dict (testdata/torch_golden.py, Debian's python3-torch); the
// Python safetensors package is not packaged for Debian, so the script
// serializes with the reference implementation's rules, and checks files
// written by this package by loading them into the same torch module.
package safetensors
