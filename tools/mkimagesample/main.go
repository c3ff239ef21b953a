// Command mkimagesample builds the Fashion-MNIST sample that package
// samples embeds: a stratified, seeded subset of Zalando's Fashion-MNIST
// (MIT licence, see samples/LICENSE-fashion-mnist.txt), stored as the
// original is, gzip-compressed IDX files.
//
// Debian's dataset-fashion-mnist package installs the full data set in
// /usr/share/datasets/fashion-mnist (Zalando's GitHub repository has the
// same four .gz files). Rebuild the sample, from the repository root, with
//
//	go run ./tools/mkimagesample -src /usr/share/datasets/fashion-mnist -train 4000 -test 1000 -seed 1 -out samples/fashionmnist
//
// Each split keeps every class's share of the original split, rounded by
// largest remainder (Fashion-MNIST is balanced: 400 of each class's 6,000
// training images, 100 of its 1,000 test images); within a class the images
// with the smallest FNV-1a hashes of the seed and their index are taken, so
// the sample depends only on the data, the sizes and the seed. Images keep
// their original order. The output is byte-for-byte reproducible.
//
// resize_golden.py, beside this file, writes the PyTorch reference outputs
// that package imagedata's resize tests compare against.
package main

import (
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"

	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/textdata"
)

func main() {
	src := flag.String("src", "/usr/share/datasets/fashion-mnist", "folder holding Fashion-MNIST's four IDX .gz files")
	nTrain := flag.Int("train", 4000, "training images to sample")
	nTest := flag.Int("test", 1000, "test images to sample")
	seed := flag.Uint64("seed", 1, "sampling seed")
	out := flag.String("out", "samples/fashionmnist", "output folder")
	flag.Parse()
	if err := run(*src, *nTrain, *nTest, *seed, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkimagesample:", err)
		os.Exit(1)
	}
}

// files are the split's IDX files, as Fashion-MNIST names them.
var files = map[string][2]string{
	"train": {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"},
	"test":  {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"},
}

func run(src string, nTrain, nTest int, seed uint64, out string) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, split := range []struct {
		name string
		n    int
	}{{"train", nTrain}, {"test", nTest}} {
		names := files[split.name]
		im, err := readSplit(filepath.Join(src, names[0]), filepath.Join(src, names[1]))
		if err != nil {
			return err
		}
		sample, err := sampleImages(im, split.n, seed)
		if err != nil {
			return fmt.Errorf("%s split: %w", split.name, err)
		}
		if err := writeSplit(filepath.Join(out, names[0]), filepath.Join(out, names[1]), sample); err != nil {
			return err
		}
		fmt.Printf("mkimagesample: %s: %d of %d images, per class %v\n", split.name, sample.Len(), im.Len(), sample.Counts(10))
	}
	return nil
}

func readSplit(imagesPath, labelsPath string) (*imagedata.Images, error) {
	images, err := os.Open(imagesPath)
	if err != nil {
		return nil, err
	}
	defer images.Close()
	labels, err := os.Open(labelsPath)
	if err != nil {
		return nil, err
	}
	defer labels.Close()
	im, err := imagedata.ReadIDX(images, labels)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", imagesPath, labelsPath, err)
	}
	return im, nil
}

// sampleImages draws n images, keeping every class's share, in their
// original order.
func sampleImages(im *imagedata.Images, n int, seed uint64) (*imagedata.Images, error) {
	if n < 1 || n > im.Len() {
		return nil, fmt.Errorf("sample size %d: want 1 to %d, the split's size", n, im.Len())
	}
	numClasses := slices.Max(im.Labels) + 1
	byClass := make([][]int, numClasses)
	for i, l := range im.Labels {
		byClass[l] = append(byClass[l], i)
	}
	sizes := make([]int, numClasses)
	for c, idx := range byClass {
		sizes[c] = len(idx)
	}
	var chosen []int
	for c, quota := range textdata.Apportion(sizes, n) {
		idx := byClass[c]
		slices.SortFunc(idx, func(a, b int) int {
			ka, kb := hashKey(seed, a), hashKey(seed, b)
			switch {
			case ka < kb:
				return -1
			case ka > kb:
				return 1
			}
			return a - b
		})
		chosen = append(chosen, idx[:quota]...)
	}
	slices.Sort(chosen)
	return im.Subset(chosen), nil
}

func hashKey(seed uint64, index int) uint64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(index))
	h.Write(b[:])
	return h.Sum64()
}

// writeSplit writes gzip-compressed IDX files; gzip.Writer leaves the
// header's name and time empty, so the bytes depend only on the images.
func writeSplit(imagesPath, labelsPath string, im *imagedata.Images) error {
	images, err := os.Create(imagesPath)
	if err != nil {
		return err
	}
	labels, err := os.Create(labelsPath)
	if err != nil {
		images.Close()
		return err
	}
	zi, _ := gzip.NewWriterLevel(images, gzip.BestCompression)
	zl, _ := gzip.NewWriterLevel(labels, gzip.BestCompression)
	err = im.WriteIDX(zi, zl)
	for _, c := range []interface{ Close() error }{zi, zl, images, labels} {
		if cerr := c.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", imagesPath, err)
	}
	return nil
}
