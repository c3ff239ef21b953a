package imagedata

// Limits on what the loaders read and decode, so that a small hostile
// file (a PNG declaring 20,000×20,000 pixels, a gzip bomb, a link to a
// device) is refused with an error instead of exhausting memory. Image
// dimensions are read from the file's header (image.DecodeConfig) and
// checked before any pixel is decoded. They are variables so that a
// program (a command-line flag) can raise them for unusually large data.
var (
	// MaxPixels bounds the width × height of one image (16,777,216:
	// 4096×4096).
	MaxPixels int64 = 1 << 24
	// MaxTotalPixels bounds the pixels of all images of one image-folder
	// load together, counted from their headers before decoding
	// (67,108,864: 85,000 images of 28×28, 1,300 of 224×224; at most 192 MiB
	// of RGB).
	MaxTotalPixels int64 = 1 << 26
	// MaxFileBytes bounds every file read: IDX, CIFAR batch, image (1 GiB).
	MaxFileBytes int64 = 1 << 30
	// MaxDecompressedBytes bounds what one gzip-compressed IDX file
	// inflates to (256 MiB; Fashion-MNIST's training images are 47 MB).
	MaxDecompressedBytes int64 = 256 << 20
)
