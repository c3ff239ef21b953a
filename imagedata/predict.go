package imagedata

import (
	"fmt"
	"image"

	"github.com/tapeml/tapeml/internal/safeio"
)

// ImageInfo describes an image file as read, before preprocessing.
type ImageInfo struct {
	Channels      int  // 1 if the image is gray (R = G = B everywhere), else 3
	Width, Height int  // as stored
	Resized       bool // its size differed from the pipeline's and it was resized
}

// Note is a one-line remark for the user, or "" when there is nothing to
// say.
func (i ImageInfo) Note(p Pipeline) string {
	if !i.Resized {
		return ""
	}
	return fmt.Sprintf("resized from %d×%d to the model's %d×%d", i.Width, i.Height, p.Width, p.Height)
}

// LoadImageFile reads a PNG or JPEG file and preprocesses it with the
// evaluation pipeline p (its augmentations, if any, are not applied):
// the result is C×H×W float32 values, normalized, ready for the model.
//
// An image of another size is resized to the model's (bilinear,
// antialiased, stretching if the aspect ratio differs) and info.Resized
// says so. Channels follow the model: a gray image feeds a 3-channel model
// by repeating its channel; an RGB image feeds a 1-channel model only if it
// is gray (R = G = B at every pixel, as in a grayscale picture saved as
// RGB) — a colour image for a grayscale model is an error rather than a
// silent conversion, since such a model was trained on a different kind of
// picture.
func LoadImageFile(path string, p Pipeline) ([]float32, ImageInfo, error) {
	b, err := safeio.ReadFile(path, MaxFileBytes)
	if err != nil {
		return nil, ImageInfo{}, err
	}
	x, info, err := preprocessFile(b, p)
	if err != nil {
		return nil, info, fmt.Errorf("%s: %w", path, err)
	}
	return x, info, nil
}

// ReadImage reads and decodes the PNG or JPEG file a user named: a
// regular file (a FIFO or a device such as /dev/zero is refused, not read
// forever) of at most MaxFileBytes, whose declared size is checked
// against MaxPixels before decoding. Errors name path.
func ReadImage(path string) (image.Image, error) {
	b, err := safeio.ReadFile(path, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	img, err := decodeImage(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

func preprocessFile(b []byte, p Pipeline) ([]float32, ImageInfo, error) {
	if err := p.Validate(); err != nil {
		return nil, ImageInfo{}, err
	}
	img, err := decodeImage(b)
	if err != nil {
		return nil, ImageInfo{}, err
	}
	return preprocess(img, p)
}

// DecodeImage decodes a PNG or JPEG file's bytes; errors say what the
// bytes are not.
func DecodeImage(b []byte) (image.Image, error) { return decodeImage(b) }

// DecodedPixels is what preprocessing an encoded PNG or JPEG file for an
// h×w model costs, in pixels: the image's own (from its header, without
// decoding it) plus the h×w buffer it is resized into when its size
// differs. A file that is not a PNG or JPEG, or over MaxPixels, is an
// error, as DecodeImage would give.
func DecodedPixels(b []byte, h, w int) (int64, error) {
	cfg, err := decodeConfig(b)
	if err != nil {
		return 0, err
	}
	n := int64(cfg.Width) * int64(cfg.Height)
	if cfg.Width != w || cfg.Height != h {
		n += int64(h) * int64(w)
	}
	return n, nil
}

// PreprocessImage is LoadImageFile for an image already decoded: resizing,
// channels and normalization as the evaluation pipeline p says.
func PreprocessImage(img image.Image, p Pipeline) ([]float32, ImageInfo, error) {
	if err := p.Validate(); err != nil {
		return nil, ImageInfo{}, err
	}
	if img == nil || img.Bounds().Empty() {
		return nil, ImageInfo{}, fmt.Errorf("image of 0 pixels")
	}
	return preprocess(img, p)
}

// NormalizeRaw turns raw pixel values in [0, 255], laid out C×H×W per
// image as the pipeline's shape, into model inputs in place: scaled to
// [0, 1], then Normalize(Mean, Std). A value outside [0, 255] or NaN is an
// error naming its position.
func (p Pipeline) NormalizeRaw(x []float32) error {
	size := p.Channels * p.Height * p.Width
	if size == 0 || len(x)%size != 0 {
		return fmt.Errorf("%d values are not whole %d×%d×%d images", len(x), p.Channels, p.Height, p.Width)
	}
	for i, v := range x {
		if !(v >= 0 && v <= 255) {
			return fmt.Errorf("pixel value %v at position %d is outside [0, 255]", v, i)
		}
		x[i] = v / 255
	}
	mean, std := make([]float32, p.Channels), make([]float32, p.Channels)
	for ch := range p.Channels {
		mean[ch], std[ch] = float32(p.Mean[ch]), float32(p.Std[ch])
	}
	for off := 0; off < len(x); off += size {
		normalize(x[off:off+size], mean, std)
	}
	return nil
}

func preprocess(img image.Image, p Pipeline) ([]float32, ImageInfo, error) {
	px, c := imageToCHW(img)
	info := ImageInfo{Channels: c, Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}
	// Resize in as few channels as the image has: a gray image for an RGB
	// model is resized once and then repeated (the same values as
	// resizing three equal planes, a third of the work, and no 3-plane
	// copy of a large input).
	if c > p.Channels {
		var err error
		if px, err = convertChannels(px, c, p.Channels, info.Height, info.Width); err != nil {
			return nil, info, err
		}
		c = p.Channels
	}
	if info.Height != p.Height || info.Width != p.Width {
		resized := make([]uint8, c*p.Height*p.Width)
		resizeBytes(resized, p.Height, p.Width, px, c, info.Height, info.Width, &resizeScratch{})
		px, info.Resized = resized, true
	}
	px, err := convertChannels(px, c, p.Channels, p.Height, p.Width)
	if err != nil {
		return nil, info, err
	}
	x := make([]float32, p.Channels*p.Height*p.Width)
	toFloat(x, px)
	mean, std := make([]float32, p.Channels), make([]float32, p.Channels)
	for ch := range p.Channels {
		mean[ch], std[ch] = float32(p.Mean[ch]), float32(p.Std[ch])
	}
	normalize(x, mean, std)
	return x, info, nil
}
