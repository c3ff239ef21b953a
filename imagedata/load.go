package imagedata

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tapeml/tapeml/dataset"
)

// Format is an on-disk layout of an image data set.
type Format string

// The formats Load reads.
const (
	FormatAuto   Format = ""        // detect from the folder's contents
	FormatIDX    Format = "idx"     // MNIST / Fashion-MNIST: train-images-idx3-ubyte[.gz] and friends
	FormatCIFAR  Format = "cifar10" // CIFAR-10 binary: data_batch_1..5.bin, test_batch.bin, batches.meta.txt
	FormatFolder Format = "folder"  // one sub-folder of PNG/JPEG files per class, under train/, val/, test/ when present
)

// ParseFormat parses a --format flag value: "auto" (or ""), "idx",
// "cifar10" (or "cifar"), "folder".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return FormatAuto, nil
	case "idx", "mnist":
		return FormatIDX, nil
	case "cifar10", "cifar-10", "cifar":
		return FormatCIFAR, nil
	case "folder", "imagefolder":
		return FormatFolder, nil
	}
	return "", fmt.Errorf("unknown image format %q: want auto, idx, cifar10 or folder", s)
}

// Class names of the well-known data sets, in label order.
var (
	FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}
	CIFAR10Classes      = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
)

// KnownNormalization holds the published per-channel mean and standard
// deviation of well-known training sets ("fashion-mnist", "mnist",
// "cifar-10"), for pipelines that want them rather than statistics computed
// from the data at hand (Set.Pipeline computes them). The CIFAR-10 values
// are the standard deviations over all pixels; the often-copied
// (0.2023, 0.1994, 0.2010) are averages of per-image deviations.
var KnownNormalization = map[string]struct{ Mean, Std []float64 }{
	"fashion-mnist": {[]float64{0.2860}, []float64{0.3530}},
	"mnist":         {[]float64{0.1307}, []float64{0.3081}},
	"cifar-10":      {[]float64{0.4914, 0.4822, 0.4465}, []float64{0.2470, 0.2435, 0.2616}},
}

// Options configures Load. The zero value is the default.
type Options struct {
	// Format forces a layout. Default FormatAuto: IDX if the folder holds
	// train-images-idx3-ubyte[.gz] (or t10k-…), CIFAR-10 if it holds
	// data_batch_1.bin or test_batch.bin (or a cifar-10-batches-bin/
	// sub-folder that does), an image-folder tree otherwise.
	Format Format

	// Classes names the labels of IDX and CIFAR-10 data, overriding the
	// names found as described at Load. Default nil. Image folders name
	// their classes by sub-folder; setting Classes for one is an error.
	Classes []string

	// Seed drives the stratified splits. Default 0; the same seed gives
	// the same split on every machine.
	Seed uint64

	// ValFraction is the share of each class of the training split held
	// out for validation when the data ships a test split but no
	// validation split. Default 0.1.
	ValFraction float64

	// RejectMixedSizes makes an image folder whose images differ in size
	// an error. Default false: images are resized to the first image's size
	// (bilinear, antialiased) and Set.Resized counts them.
	RejectMixedSizes bool
}

// Set is a labelled image data set split into train, validation and test
// sets, all of one image shape.
type Set struct {
	Format  Format
	Classes []string // label names; Images.Labels index it

	Train, Val, Test *Images

	// TestGiven says the data shipped its test split (a test folder, IDX
	// t10k files); otherwise Test was carved out of the training images.
	TestGiven bool

	// Resized counts the images of an image folder that were resized to the
	// first image's size; Notes says so in words, with other remarks worth
	// showing the user (where class names came from).
	Resized int
	Notes   []string
}

// All joins the set's splits, train, val and test, in that order.
func (s *Set) All() *Images { return concatImages(s.Train, s.Val, s.Test) }

// Shape is the images' channels, height and width.
func (s *Set) Shape() (c, h, w int) { return s.Train.C, s.Train.H, s.Train.W }

// Load reads an image data set from a folder. The format is detected as
// described at Options.Format; its splits are used as shipped (IDX t10k-*,
// CIFAR-10 test_batch.bin, a folder's train/, val/ and test/), and missing
// ones carved out of the training split, stratified by class and seeded
// (Options.Seed): validation is Options.ValFraction of train when there is
// a test split, and a data set without one is split 80/10/10.
//
// Class names: IDX data take Options.Classes, else classes.txt in the
// folder (one name a line), else the Fashion-MNIST names when the folder's
// path mentions "fashion" (as Zalando's, Debian's, Keras's and
// torchvision's folders do), else the label numbers "0", "1", … (right for
// MNIST digits, and never a wrong name). CIFAR-10 data take
// Options.Classes, else batches.meta.txt, else CIFAR-10's names. Image
// folders take their sub-folder names, sorted.
//
// Image folders: every file below a class folder must be a PNG or JPEG
// image (hidden files such as .DS_Store are skipped; files beside the class
// folders are ignored). A set is grayscale (1 channel) when every image is
// gray — R = G = B at every pixel, whatever the file's colour type — and
// RGB otherwise, gray images being repeated into three channels. Alpha is
// dropped. Images are read in sorted path order, train/ first.
//
// A path starting with dataset.BuiltinPrefix names a built-in set,
// registered as a BuiltinLoader.
func Load(path string, opt Options) (*Set, error) {
	if dataset.IsBuiltin(path) {
		load, err := dataset.Builtin[BuiltinLoader](path)
		if err != nil {
			return nil, err
		}
		return load(opt)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("image data: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("image data: %s is a file; want the folder holding the IDX files, the CIFAR-10 batches or one sub-folder of images per class", path)
	}
	abs, _ := filepath.Abs(path)
	set, err := load(source{fsys: os.DirFS(path), name: filepath.ToSlash(path), dir: "."}, abs, opt)
	if err != nil {
		return nil, fmt.Errorf("image data: %w", err)
	}
	return set, nil
}

// BuiltinLoader loads a built-in image set (dataset.RegisterBuiltin).
type BuiltinLoader func(Options) (*Set, error)

// LoadFS is Load for a folder of a file system (an embedded one, say);
// name is how errors show the folder.
func LoadFS(fsys fs.FS, dir, name string, opt Options) (*Set, error) {
	set, err := load(source{fsys: fsys, name: name, dir: dir}, name, opt)
	if err != nil {
		return nil, fmt.Errorf("image data: %w", err)
	}
	return set, nil
}

func load(src source, fullName string, opt Options) (*Set, error) {
	if opt.ValFraction == 0 {
		opt.ValFraction = 0.1
	}
	if opt.ValFraction < 0 || opt.ValFraction >= 1 {
		return nil, fmt.Errorf("validation fraction %g: want a share of the training set in (0, 1)", opt.ValFraction)
	}
	format := opt.Format
	if format == FormatAuto {
		format = detect(&src)
	} else if format == FormatCIFAR && !isCIFAR(src) && isCIFAR(src.sub(cifarSubfolder)) {
		src = src.sub(cifarSubfolder)
	}
	var (
		set *Set
		err error
	)
	switch format {
	case FormatIDX:
		set, err = loadIDX(src, fullName, opt)
	case FormatCIFAR:
		set, err = loadCIFAR(src, opt)
	case FormatFolder:
		set, err = loadFolder(src, opt)
	default:
		return nil, fmt.Errorf("unknown format %q: want %q, %q or %q", format, FormatIDX, FormatCIFAR, FormatFolder)
	}
	if err != nil {
		return nil, err
	}
	set.Format = format
	return set, nil
}

// detect picks a folder's format, stepping into cifar-10-batches-bin/.
func detect(src *source) Format {
	switch {
	case findIDX(*src, "train", "images") != "" || findIDX(*src, "test", "images") != "":
		return FormatIDX
	case isCIFAR(*src):
		return FormatCIFAR
	case isCIFAR(src.sub(cifarSubfolder)):
		*src = src.sub(cifarSubfolder)
		return FormatCIFAR
	}
	return FormatFolder
}

func loadIDX(src source, fullName string, opt Options) (*Set, error) {
	train, err := readIDXSplit(src, "train")
	if err != nil {
		return nil, err
	}
	if train == nil {
		return nil, fmt.Errorf("%s: no IDX training images (expected %s or %s.gz)", src.display("."), idxNames("train", "images")[0], idxNames("train", "images")[0])
	}
	test, err := readIDXSplit(src, "test")
	if err != nil {
		return nil, err
	}
	if test != nil && (test.H != train.H || test.W != train.W) {
		return nil, fmt.Errorf("%s: test images are %d×%d but training images %d×%d", src.display(findIDX(src, "test", "images")), test.W, test.H, train.W, train.H)
	}
	set := &Set{}
	switch names, err := readClassNames(src, "classes.txt"); {
	case err != nil:
		return nil, err
	case opt.Classes != nil:
		set.Classes = slices.Clone(opt.Classes)
	case names != nil:
		set.Classes = names
		set.Notes = append(set.Notes, "class names from "+src.display("classes.txt"))
	case strings.Contains(strings.ToLower(fullName), "fashion"):
		set.Classes = slices.Clone(FashionMNISTClasses)
		set.Notes = append(set.Notes, "Fashion-MNIST class names (the folder's path mentions fashion)")
	default:
		top := maxLabel(train)
		if test != nil {
			top = max(top, maxLabel(test))
		}
		for l := range top + 1 {
			set.Classes = append(set.Classes, strconv.Itoa(l))
		}
	}
	for _, part := range []struct {
		im    *Images
		split string
	}{{train, "train"}, {test, "test"}} {
		if part.im == nil {
			continue
		}
		if err := checkLabels(part.im, len(set.Classes), "image"); err != nil {
			return nil, fmt.Errorf("%s: %w", src.display(findIDX(src, part.split, "labels")), err)
		}
	}
	return set, set.split(src, train, nil, test, opt)
}

func loadCIFAR(src source, opt Options) (*Set, error) {
	set := &Set{Classes: slices.Clone(opt.Classes)}
	if set.Classes == nil {
		names, err := readClassNames(src, cifarMetaFile)
		if err != nil {
			return nil, err
		}
		set.Classes = names
		if names == nil {
			set.Classes = slices.Clone(CIFAR10Classes)
			set.Notes = append(set.Notes, fmt.Sprintf("no %s: CIFAR-10 class names", src.display(cifarMetaFile)))
		}
	}
	train, test, err := readCIFAR(src, len(set.Classes))
	if err != nil {
		return nil, err
	}
	return set, set.split(src, train, nil, test, opt)
}

func loadFolder(src source, opt Options) (*Set, error) {
	if opt.Classes != nil {
		return nil, errors.New("class names were given, but an image folder names its classes by sub-folder")
	}
	splits, classes, resized, err := readFolder(src, opt)
	if err != nil {
		return nil, err
	}
	set := &Set{Classes: classes, Resized: resized}
	train := splits["train"]
	if all, ok := splits[""]; ok {
		train = all
	}
	if train == nil {
		return nil, fmt.Errorf("%s: no training images", src.display("train"))
	}
	if resized > 0 {
		set.Notes = append(set.Notes, fmt.Sprintf("resized %d of %d images to %d×%d, the size of the first image (%s)",
			resized, train.Len()+lenOf(splits["val"])+lenOf(splits["test"]), train.W, train.H, train.Sources[0]))
	}
	return set, set.split(src, train, splits["val"], splits["test"], opt)
}

func lenOf(im *Images) int {
	if im == nil {
		return 0
	}
	return im.Len()
}

// split fills the set's splits from those the data ships, carving the
// missing ones out of train.
func (s *Set) split(src source, train, val, test *Images, opt Options) error {
	s.TestGiven = test != nil
	if len(s.Classes) < 2 {
		return fmt.Errorf("%s: %d class %q: a classifier needs at least two", src.display("."), len(s.Classes), s.Classes)
	}
	counts := train.Counts(len(s.Classes))
	for c, n := range counts {
		if n == 0 {
			return fmt.Errorf("%s: class %q has no training images", src.display("."), s.Classes[c])
		}
	}
	switch {
	case val == nil && test == nil:
		parts := stratifiedSplit(train.Labels, len(s.Classes), []float64{0.8, 0.1, 0.1}, opt.Seed)
		train, val, test = train.Subset(parts[0]), train.Subset(parts[1]), train.Subset(parts[2])
	case val == nil:
		parts := stratifiedSplit(train.Labels, len(s.Classes), []float64{1 - opt.ValFraction, opt.ValFraction}, opt.Seed)
		train, val = train.Subset(parts[0]), train.Subset(parts[1])
	case test == nil:
		parts := stratifiedSplit(train.Labels, len(s.Classes), []float64{1 - opt.ValFraction, opt.ValFraction}, opt.Seed)
		train, test = train.Subset(parts[0]), train.Subset(parts[1])
	}
	s.Train, s.Val, s.Test = train, val, test
	return nil
}

func maxLabel(im *Images) int {
	top := 0
	for _, l := range im.Labels {
		top = max(top, l)
	}
	return top
}

// checkLabels checks that every label names a class; unit names the thing
// a label belongs to ("image", "record").
func checkLabels(im *Images, numClasses int, unit string) error {
	for i, l := range im.Labels {
		if l < 0 || l >= numClasses {
			return fmt.Errorf("%s %d has label %d, but there are %d classes (0 to %d)", unit, i, l, numClasses, numClasses-1)
		}
	}
	return nil
}
