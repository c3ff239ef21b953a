//go:build amd64 && !purego

package kernel

// sgemmKernel12x32Stream is sgemmKernel12x32Set for a whole 12×32 tile
// with non-temporal stores (C's lines are not read into the cache before
// they are written); c and ldc·4 must be multiples of 64 bytes.
//
//go:noescape
func sgemmKernel12x32Stream(k int, a, b, c *float32, ldc int, alpha float32)

// sgemmSfence orders the non-temporal stores before it before every later
// store, so that another thread that sees the product's end sees C.
func sgemmSfence()
