package imagedata

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestLoadIDX(t *testing.T) {
	images, labels := tinyIDX(40, 4)
	timages, tlabels := tinyIDX(8, 4)
	for _, tt := range []struct {
		name  string
		files map[string][]byte
		opt   Options
		sizes [3]int // train, val, test
	}{
		{"raw with test split", map[string][]byte{
			"train-images-idx3-ubyte": images, "train-labels-idx1-ubyte": labels,
			"t10k-images-idx3-ubyte": timages, "t10k-labels-idx1-ubyte": tlabels,
		}, Options{}, [3]int{36, 4, 8}},
		{"gzip, dotted names", map[string][]byte{
			"train-images.idx3-ubyte.gz": gz(images), "train-labels.idx1-ubyte.gz": gz(labels),
			"t10k-images.idx3-ubyte.gz": gz(timages), "t10k-labels.idx1-ubyte.gz": gz(tlabels),
		}, Options{ValFraction: 0.2}, [3]int{32, 8, 8}},
		{"gzip content under a raw name", map[string][]byte{
			"train-images-idx3-ubyte": gz(images), "train-labels-idx1-ubyte": labels,
		}, Options{}, [3]int{32, 4, 4}}, // no test split: 80/10/10 per class of 10
	} {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Load(writeFiles(t, tt.files), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if set.Format != FormatIDX || !reflect.DeepEqual(set.Classes, []string{"0", "1", "2", "3"}) {
				t.Errorf("format %q classes %q", set.Format, set.Classes)
			}
			if got := [3]int{set.Train.Len(), set.Val.Len(), set.Test.Len()}; got != tt.sizes {
				t.Errorf("split sizes %v, want %v", got, tt.sizes)
			}
			if c, h, w := set.Shape(); c != 1 || h != 2 || w != 3 {
				t.Errorf("shape %d×%d×%d, want 1×2×3", c, h, w)
			}
			// Every image keeps its label: pixel j is index+j, label index%4.
			for _, im := range []*Images{set.Train, set.Val, set.Test} {
				for i := range im.Len() {
					px := im.Image(i)
					if int(px[0])%4 != im.Labels[i] || px[5] != px[0]+5 {
						t.Fatalf("image %v has label %d", px, im.Labels[i])
					}
				}
			}
		})
	}
}

func TestIDXClassNames(t *testing.T) {
	images, labels := tinyIDX(20, 10)
	root := writeFiles(t, map[string][]byte{
		"fashion-mnist/train-images-idx3-ubyte": images, "fashion-mnist/train-labels-idx1-ubyte": labels,
		"digits/train-images-idx3-ubyte": images, "digits/train-labels-idx1-ubyte": labels,
		"named/train-images-idx3-ubyte": images, "named/train-labels-idx1-ubyte": labels,
		"named/classes.txt": []byte("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n"),
	})
	for _, tt := range []struct {
		dir  string
		opt  Options
		want []string
	}{
		{"fashion-mnist", Options{}, FashionMNISTClasses},
		{"digits", Options{}, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
		{"named", Options{}, strings.Split("abcdefghij", "")},
		{"fashion-mnist", Options{Classes: strings.Split("ABCDEFGHIJ", "")}, strings.Split("ABCDEFGHIJ", "")},
	} {
		set, err := Load(root+"/"+tt.dir, tt.opt)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(set.Classes, tt.want) {
			t.Errorf("%s %+v: classes %q, want %q", tt.dir, tt.opt, set.Classes, tt.want)
		}
	}
}

func TestIDXErrors(t *testing.T) {
	images, labels := tinyIDX(10, 2)
	short := images[:len(images)-5]
	for _, tt := range []struct {
		name  string
		files map[string][]byte
		opt   Options
		want  string // substrings of the error, in order
	}{
		{"truncated images", map[string][]byte{"train-images-idx3-ubyte": short, "train-labels-idx1-ubyte": labels},
			Options{}, "train-images-idx3-ubyte: truncated: 55 bytes of data after the header, want 60 (10×2×3)"},
		{"truncated gzip", map[string][]byte{"train-images-idx3-ubyte.gz": gz(images)[:30], "train-labels-idx1-ubyte": labels},
			Options{}, "train-images-idx3-ubyte.gz: gzip: unexpected EOF"},
		{"truncated header", map[string][]byte{"train-images-idx3-ubyte": images[:9], "train-labels-idx1-ubyte": labels},
			Options{}, "train-images-idx3-ubyte: truncated: 9 bytes, but the IDX images header is 16"},
		{"empty file", map[string][]byte{"train-images-idx3-ubyte": nil, "train-labels-idx1-ubyte": labels},
			Options{}, "train-images-idx3-ubyte: truncated: 0 bytes"},
		{"trailing bytes", map[string][]byte{"train-images-idx3-ubyte": append(images, 1, 2), "train-labels-idx1-ubyte": labels},
			Options{}, "train-images-idx3-ubyte: 62 bytes of data after the header, want 60 (10×2×3): trailing bytes"},
		{"wrong magic", map[string][]byte{"train-images-idx3-ubyte": append([]byte{0, 0, 8, 1}, images[4:]...), "train-labels-idx1-ubyte": labels},
			Options{}, "train-images-idx3-ubyte: magic number 0x00000801, want 0x00000803 (IDX images"},
		{"labels swapped for images", map[string][]byte{"train-images-idx3-ubyte": images, "train-labels-idx1-ubyte": images},
			Options{}, "train-labels-idx1-ubyte: magic number 0x00000803, want 0x00000801"},
		{"not IDX at all", map[string][]byte{"train-images-idx3-ubyte": []byte("<html>not found</html>"), "train-labels-idx1-ubyte": labels},
			Options{}, "train-images-idx3-ubyte: magic number 0x3C68746D"},
		{"count mismatch", map[string][]byte{"train-images-idx3-ubyte": images, "train-labels-idx1-ubyte": idxFile(idxLabelsMagic, []int{9}, make([]byte, 9))},
			Options{}, "train-images-idx3-ubyte and |train-labels-idx1-ubyte: 10 images but 9 labels"},
		{"no labels file", map[string][]byte{"train-images-idx3-ubyte.gz": gz(images)},
			Options{}, "train-images-idx3-ubyte.gz: no labels file next to it (expected |train-labels-idx1-ubyte.gz)"},
		{"label beyond the class names", map[string][]byte{"train-images-idx3-ubyte": images, "train-labels-idx1-ubyte": labels},
			Options{Classes: []string{"a", "b"}}, ""}, // labels 0/1 fit: no error
		{"label beyond classes.txt", map[string][]byte{"train-images-idx3-ubyte": images, "train-labels-idx1-ubyte": idxFile(idxLabelsMagic, []int{10}, []byte{0, 1, 0, 1, 7, 1, 0, 1, 0, 1}), "classes.txt": []byte("a\nb\n")},
			Options{}, "train-labels-idx1-ubyte: image 4 has label 7, but there are 2 classes (0 to 1)"},
		{"one class", map[string][]byte{"train-images-idx3-ubyte": images, "train-labels-idx1-ubyte": idxFile(idxLabelsMagic, []int{10}, make([]byte, 10))},
			Options{}, `1 class ["0"]: a classifier needs at least two`},
		{"forced but absent", map[string][]byte{"x.png": pngGray(2, 2, 0)},
			Options{Format: FormatIDX}, "no IDX training images (expected train-images-idx3-ubyte or train-images-idx3-ubyte.gz)"},
		{"zero-sized images", map[string][]byte{"train-images-idx3-ubyte": idxFile(idxImagesMagic, []int{2, 0, 3}, nil), "train-labels-idx1-ubyte": idxFile(idxLabelsMagic, []int{2}, []byte{0, 1})},
			Options{}, "train-images-idx3-ubyte: images of 3×0 pixels"},
		{"bad val fraction", map[string][]byte{"train-images-idx3-ubyte": images, "train-labels-idx1-ubyte": labels},
			Options{ValFraction: 1.5}, "validation fraction 1.5"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			_, err := Load(dir, tt.opt)
			checkError(t, err, dir, tt.want)
		})
	}
}

// checkError checks that err holds the pieces of want (separated by "|")
// in order and is one line; want "" means no error.
func checkError(t *testing.T, err error, dir, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want %q", want)
	}
	msg := err.Error()
	if dir != "" {
		msg = strings.ReplaceAll(msg, dir, "DIR")
	}
	t.Log(msg)
	rest := msg
	for _, piece := range strings.Split(want, "|") {
		i := strings.Index(rest, piece)
		if i < 0 {
			t.Fatalf("error %q lacks %q", msg, piece)
		}
		rest = rest[i+len(piece):]
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error spans lines: %q", msg)
	}
}

func TestReadWriteIDX(t *testing.T) {
	im := &Images{C: 1, H: 2, W: 3, Pixels: []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, Labels: []int{3, 9}}
	var images, labels bytes.Buffer
	if err := im.WriteIDX(&images, &labels); err != nil {
		t.Fatal(err)
	}
	back, err := ReadIDX(bytes.NewReader(gz(images.Bytes())), &labels)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, im) {
		t.Errorf("round trip: %+v, want %+v", back, im)
	}
	if err := (&Images{C: 3}).WriteIDX(&images, &labels); err == nil {
		t.Error("3-channel images written as IDX")
	}
	if err := (&Images{C: 1, H: 1, W: 1, Pixels: []uint8{0}, Labels: []int{300}}).WriteIDX(&images, &labels); err == nil {
		t.Error("label 300 written as a byte")
	}
}
