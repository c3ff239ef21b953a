package imagedata

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // registers JPEG with image.Decode
	_ "image/png"  // registers PNG with image.Decode
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/tapeml/tapeml/internal/safeio"
)

// folderSplitNames are the split folders an image-folder tree may have;
// without a train/ folder, the root's sub-folders are the classes.
var folderSplitNames = map[string]string{"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}

// folderImage is one file of an image-folder tree.
type folderImage struct {
	split string // train, val, test, or "" for a tree without splits
	label int
	path  string // inside the file system
	shown string // as errors show it
}

// decoded is a folderImage's pixels.
type decoded struct {
	px      []uint8 // CHW
	c, h, w int
}

// readFolder reads an image-folder tree. The result maps "train", "val",
// "test" (those present), or "" for a tree without split folders.
func readFolder(src source, opt Options) (splits map[string]*Images, classes []string, resized int, err error) {
	files, classes, err := listFolder(src)
	if err != nil {
		return nil, nil, 0, err
	}
	pix, err := decodeAll(src, files)
	if err != nil {
		return nil, nil, 0, err
	}
	// One channel only if every image is gray; one size, the first image's.
	c, h, w := 1, pix[0].h, pix[0].w
	for _, d := range pix {
		if d.c == 3 {
			c = 3
		}
	}
	splits = map[string]*Images{}
	var scratch resizeScratch
	for i, f := range files {
		im := splits[f.split]
		if im == nil {
			im = &Images{C: c, H: h, W: w, Sources: []string{}}
			splits[f.split] = im
		}
		d := pix[i]
		if d.h != h || d.w != w {
			if opt.RejectMixedSizes {
				return nil, nil, 0, fmt.Errorf("%s: %d×%d pixels, but the first image, %s, is %d×%d: all images must have one size (or let them be resized)", f.shown, d.w, d.h, files[0].shown, w, h)
			}
			px := make([]uint8, d.c*h*w)
			resizeBytes(px, h, w, d.px, d.c, d.h, d.w, &scratch)
			d.px, d.h, d.w = px, h, w
			resized++
		}
		px, err := convertChannels(d.px, d.c, c, h, w)
		if err != nil {
			panic(err) // gray to RGB cannot fail
		}
		im.Pixels = append(im.Pixels, px...)
		im.Labels = append(im.Labels, f.label)
		im.Sources = append(im.Sources, f.shown)
	}
	return splits, classes, resized, nil
}

// listFolder lists a tree's image files in sorted order, train split
// first, and its sorted class names.
func listFolder(src source) ([]folderImage, []string, error) {
	splitDirs := map[string]string{} // split → folder
	if st, err := fs.Stat(src.fsys, src.path("train")); err == nil && st.IsDir() {
		entries, err := fs.ReadDir(src.fsys, src.path("."))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", src.display("."), unwrapPathError(err))
		}
		for _, e := range entries {
			split, ok := folderSplitNames[e.Name()]
			if !ok || !e.IsDir() {
				continue
			}
			if other, dup := splitDirs[split]; dup {
				return nil, nil, fmt.Errorf("%s: both %s/ and %s/ hold the %s split", src.display("."), other, e.Name(), split)
			}
			splitDirs[split] = e.Name()
		}
	} else {
		splitDirs[""] = "."
	}
	classSet := map[string]bool{}
	classDirs := map[string][]string{}
	for split, dir := range splitDirs {
		entries, err := fs.ReadDir(src.fsys, src.path(dir))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", src.display(dir), unwrapPathError(err))
		}
		for _, e := range entries {
			// Files beside the class folders (a README, a labels list) are
			// not images of a class: skipped.
			if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
				classSet[e.Name()] = true
				classDirs[split] = append(classDirs[split], e.Name())
			}
		}
	}
	classes := slices.Sorted(func(yield func(string) bool) {
		for c := range classSet {
			if !yield(c) {
				return
			}
		}
	})
	if len(classes) < 2 {
		where := src.display(splitDirs["train"])
		if _, ok := splitDirs[""]; ok {
			where = src.display(".")
		}
		return nil, nil, fmt.Errorf("%s: found %d class folder%s %q; an image folder needs one sub-folder of PNG or JPEG images per class, at least two", where, len(classes), map[bool]string{true: "", false: "s"}[len(classes) == 1], classes)
	}
	var files []folderImage
	for _, split := range []string{"", "train", "val", "test"} {
		dir, ok := splitDirs[split]
		if !ok {
			continue
		}
		for _, class := range classDirs[split] {
			label, _ := slices.BinarySearch(classes, class)
			classDir := path.Join(dir, class)
			n := 0
			err := fs.WalkDir(src.fsys, src.path(classDir), func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if strings.HasPrefix(d.Name(), ".") && p != src.path(classDir) {
					if d.IsDir() {
						return fs.SkipDir
					}
					return nil // .DS_Store and the like
				}
				if d.Type().IsRegular() {
					rel := strings.TrimPrefix(p, src.path(".")+"/")
					if src.path(".") == "." {
						rel = p
					}
					files = append(files, folderImage{split: split, label: label, path: p, shown: src.display(rel)})
					n++
				}
				return nil
			})
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", src.display(classDir), unwrapPathError(err))
			}
			if n == 0 {
				return nil, nil, fmt.Errorf("%s: class folder holds no images", src.display(classDir))
			}
		}
	}
	return files, classes, nil
}

// decodeAll decodes the files on every core, keeping their order.
func decodeAll(src source, files []folderImage) ([]decoded, error) {
	out := make([]decoded, len(files))
	errs := make([]error, len(files))
	var next sync.Mutex
	at := 0
	budget := pixelBudget{left: MaxTotalPixels}
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				next.Lock()
				i := at
				at++
				next.Unlock()
				if i >= len(files) {
					return
				}
				b, err := safeio.ReadFS(src.fsys, files[i].path, MaxFileBytes)
				if err != nil {
					errs[i] = fmt.Errorf("%s: %w", files[i].shown, unwrapPathError(err))
					continue
				}
				img, err := decodeImageWithin(b, &budget)
				if err != nil {
					errs[i] = fmt.Errorf("%s: %w", files[i].shown, err)
					continue
				}
				px, c := imageToCHW(img)
				out[i] = decoded{px: px, c: c, h: img.Bounds().Dy(), w: img.Bounds().Dx()}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, e := range errs {
			if e != nil {
				return nil, e // the first in file order, so the message is stable
			}
		}
	}
	return out, nil
}

// pixelBudget is the pixels a folder load may still decode
// (MaxTotalPixels at the start), shared by the decoding goroutines.
type pixelBudget struct {
	mu   sync.Mutex
	left int64
}

func (b *pixelBudget) take(n int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.left {
		return fmt.Errorf("the images so far exceed the %d-pixel limit for one data set", MaxTotalPixels)
	}
	b.left -= n
	return nil
}

// decodeImage decodes a PNG or JPEG file.
func decodeImage(b []byte) (image.Image, error) { return decodeImageWithin(b, nil) }

// decodeImageWithin decodes a PNG or JPEG file whose header declares at
// most MaxPixels pixels, and takes them from budget (if not nil), before
// decoding: the header is read by image.DecodeConfig, so a small file
// declaring a huge image costs nothing.
func decodeImageWithin(b []byte, budget *pixelBudget) (image.Image, error) {
	cfg, err := decodeConfig(b)
	if err != nil {
		return nil, err
	}
	if budget != nil {
		if err := budget.take(int64(cfg.Width) * int64(cfg.Height)); err != nil {
			return nil, err
		}
	}
	img, format, err := image.Decode(bytes.NewReader(b))
	if errors.Is(err, image.ErrFormat) {
		return nil, errors.New("not a PNG or JPEG image")
	}
	if err != nil {
		return nil, fmt.Errorf("bad %s image: %w", strings.ToUpper(formatOr(format, "PNG or JPEG")), err)
	}
	if r := img.Bounds(); r.Empty() {
		return nil, errors.New("image of 0 pixels")
	}
	return img, nil
}

// decodeConfig reads a PNG or JPEG file's header and checks its size:
// positive, at most MaxPixels.
func decodeConfig(b []byte) (image.Config, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if errors.Is(err, image.ErrFormat) {
		return cfg, errors.New("not a PNG or JPEG image")
	}
	if err != nil {
		return cfg, fmt.Errorf("bad %s image: %w", strings.ToUpper(formatOr(format, "PNG or JPEG")), err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return cfg, errors.New("image of 0 pixels")
	}
	if n := int64(cfg.Width) * int64(cfg.Height); n > MaxPixels {
		return cfg, fmt.Errorf("%s image of %d×%d pixels is over the %d-pixel limit", strings.ToUpper(format), cfg.Width, cfg.Height, MaxPixels)
	}
	return cfg, nil
}

func formatOr(format, fallback string) string {
	if format == "" {
		return fallback
	}
	return format
}

// imageToCHW returns an image's pixels as CHW bytes: one channel if the
// image is gray (every pixel has R = G = B, whatever the file's colour
// type), three (R, G, B) otherwise. Alpha is dropped, keeping the colour
// values as stored (non-premultiplied), as PIL's convert("RGB") does.
func imageToCHW(img image.Image) ([]uint8, int) {
	r := img.Bounds()
	w, h := r.Dx(), r.Dy()
	plane := w * h
	if g, ok := img.(*image.Gray); ok {
		if g.Stride == w {
			// Already one plane: share it (its users only read it), so a
			// tall gray image is not held twice.
			return g.Pix[:plane:plane], 1
		}
		px := make([]uint8, plane)
		for y := range h {
			copy(px[y*w:(y+1)*w], g.Pix[y*g.Stride:y*g.Stride+w])
		}
		return px, 1
	}
	px := make([]uint8, 3*plane)
	R, G, B := px[:plane], px[plane:2*plane], px[2*plane:]
	switch m := img.(type) {
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[y*m.Stride : y*m.Stride+4*w]
			for x := range w {
				R[y*w+x], G[y*w+x], B[y*w+x] = row[4*x], row[4*x+1], row[4*x+2]
			}
		}
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi, ci := m.YOffset(x+r.Min.X, y+r.Min.Y), m.COffset(x+r.Min.X, y+r.Min.Y)
				R[y*w+x], G[y*w+x], B[y*w+x] = color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := color.NRGBAModel.Convert(img.At(x+r.Min.X, y+r.Min.Y)).(color.NRGBA)
				R[y*w+x], G[y*w+x], B[y*w+x] = c.R, c.G, c.B
			}
		}
	}
	if slices.Equal(R, G) && slices.Equal(R, B) {
		return R[:plane:plane], 1
	}
	return px, 3
}
