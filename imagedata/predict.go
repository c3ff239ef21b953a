package imagedata

import (
	"fmt"

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

func preprocessFile(b []byte, p Pipeline) ([]float32, ImageInfo, error) {
	if err := p.Validate(); err != nil {
		return nil, ImageInfo{}, err
	}
	img, err := decodeImage(b)
	if err != nil {
		return nil, ImageInfo{}, err
	}
	px, c := imageToCHW(img)
	info := ImageInfo{Channels: c, Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}
	px, err = convertChannels(px, c, p.Channels, info.Height, info.Width)
	if err != nil {
		return nil, info, err
	}
	if info.Height != p.Height || info.Width != p.Width {
		resized := make([]uint8, p.Channels*p.Height*p.Width)
		resizeBytes(resized, p.Height, p.Width, px, p.Channels, info.Height, info.Width, &resizeScratch{})
		px, info.Resized = resized, true
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
