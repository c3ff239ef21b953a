package imagedata

import (
	"fmt"
	"strings"
)

// CIFAR-10's binary version packs records of one label byte and a 32×32
// RGB image stored as three 1,024-byte planes (red, green, blue), rows top
// to bottom: already the CHW layout Images uses.
const (
	cifarSide   = 32
	cifarRecord = 1 + 3*cifarSide*cifarSide // 3,073 bytes
)

// cifarTrainFiles and cifarTestFile are the file names of the binary
// version (cifar-10-binary.tar.gz, extracted: cifar-10-batches-bin/).
var (
	cifarTrainFiles = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	cifarTestFile   = "test_batch.bin"
	cifarMetaFile   = "batches.meta.txt"
	cifarSubfolder  = "cifar-10-batches-bin"
)

// isCIFAR reports whether a folder holds a CIFAR-10 batch.
func isCIFAR(src source) bool {
	for _, name := range append(cifarTrainFiles, cifarTestFile) {
		if src.exists(name) {
			return true
		}
	}
	return false
}

// readCIFAR reads the training batches present and the test batch, if any.
// Batches missing from data_batch_1..5 are skipped, so a folder holding a
// subset of them loads; a folder with no training batch is an error.
// Labels must be below numClasses.
func readCIFAR(src source, numClasses int) (train, test *Images, err error) {
	var parts []*Images
	for _, name := range cifarTrainFiles {
		if !src.exists(name) {
			continue
		}
		im, err := readCIFARFile(src, name, numClasses)
		if err != nil {
			return nil, nil, err
		}
		parts = append(parts, im)
	}
	if len(parts) == 0 {
		return nil, nil, fmt.Errorf("%s: no CIFAR-10 training batch (expected %s … %s)", src.display("."), cifarTrainFiles[0], cifarTrainFiles[4])
	}
	train = concatImages(parts...)
	if src.exists(cifarTestFile) {
		if test, err = readCIFARFile(src, cifarTestFile, numClasses); err != nil {
			return nil, nil, err
		}
	}
	return train, test, nil
}

func readCIFARFile(src source, name string, numClasses int) (*Images, error) {
	b, err := src.read(name)
	if err != nil {
		return nil, err
	}
	im, err := DecodeCIFAR(b)
	if err == nil {
		err = checkLabels(im, numClasses, "record")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src.display(name), err)
	}
	return im, nil
}

// DecodeCIFAR decodes the records of a CIFAR-10 binary batch file.
func DecodeCIFAR(b []byte) (*Images, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty file, want records of %d bytes (a label byte and 32×32×3 pixels)", cifarRecord)
	}
	if len(b)%cifarRecord != 0 {
		return nil, fmt.Errorf("%d bytes is not a multiple of %d (a label byte and 32×32×3 pixels per record): truncated, or not a CIFAR-10 binary batch", len(b), cifarRecord)
	}
	n := len(b) / cifarRecord
	im := &Images{C: 3, H: cifarSide, W: cifarSide, Pixels: make([]uint8, n*(cifarRecord-1)), Labels: make([]int, n)}
	for i := range n {
		rec := b[i*cifarRecord : (i+1)*cifarRecord]
		im.Labels[i] = int(rec[0])
		copy(im.Pixels[i*(cifarRecord-1):], rec[1:])
	}
	return im, nil
}

// readClassNames reads one class name a line, ignoring blank lines, or
// returns nil when the file is absent.
func readClassNames(src source, name string) ([]string, error) {
	if !src.exists(name) {
		return nil, nil
	}
	b, err := src.read(name)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			names = append(names, line)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no class names (want one a line)", src.display(name))
	}
	return names, nil
}
