package imagedata

import (
	"reflect"
	"testing"
)

// cifarBatch builds n records: label i%10, every pixel of channel c of
// record i equal to i+c.
func cifarBatch(n, first int) []byte {
	var b []byte
	for i := range n {
		b = append(b, byte((first+i)%10))
		for c := range 3 {
			for range 1024 {
				b = append(b, byte(first+i+c))
			}
		}
	}
	return b
}

func TestLoadCIFAR(t *testing.T) {
	meta := []byte("airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n")
	for _, tt := range []struct {
		name  string
		files map[string][]byte
		opt   Options
		sizes [3]int
		notes int
	}{
		{"two batches and test", map[string][]byte{
			"data_batch_1.bin": cifarBatch(20, 0), "data_batch_2.bin": cifarBatch(20, 20),
			"test_batch.bin": cifarBatch(10, 100), "batches.meta.txt": meta,
		}, Options{}, [3]int{36, 4, 10}, 0},
		{"in cifar-10-batches-bin, no meta", map[string][]byte{
			"cifar-10-batches-bin/data_batch_1.bin": cifarBatch(30, 0), "cifar-10-batches-bin/test_batch.bin": cifarBatch(10, 100),
		}, Options{}, [3]int{27, 3, 10}, 1},
		{"forced, no test batch", map[string][]byte{
			"cifar-10-batches-bin/data_batch_3.bin": cifarBatch(50, 0), "cifar-10-batches-bin/batches.meta.txt": meta,
		}, Options{Format: FormatCIFAR}, [3]int{40, 5, 5}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Load(writeFiles(t, tt.files), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if set.Format != FormatCIFAR || !reflect.DeepEqual(set.Classes, CIFAR10Classes) || len(set.Notes) != tt.notes {
				t.Errorf("format %q classes %q notes %q", set.Format, set.Classes, set.Notes)
			}
			if got := [3]int{set.Train.Len(), set.Val.Len(), set.Test.Len()}; got != tt.sizes {
				t.Errorf("split sizes %v, want %v", got, tt.sizes)
			}
			for _, im := range []*Images{set.Train, set.Val, set.Test} {
				if im.C != 3 || im.H != 32 || im.W != 32 {
					t.Fatalf("shape %d×%d×%d", im.C, im.H, im.W)
				}
				for i := range im.Len() {
					px := im.Image(i)
					// Planes R, G, B in order, label from the record.
					if px[0]%10 != uint8(im.Labels[i]) || px[1023] != px[0] || px[1024] != px[0]+1 || px[3071] != px[0]+2 {
						t.Fatalf("image %d: label %d, pixels %d %d %d", i, im.Labels[i], px[0], px[1024], px[3071])
					}
				}
			}
		})
	}
}

func TestCIFARErrors(t *testing.T) {
	for _, tt := range []struct {
		name  string
		files map[string][]byte
		opt   Options
		want  string
	}{
		{"size not a multiple of 3073", map[string][]byte{"data_batch_1.bin": cifarBatch(3, 0)[:3*3073-100]},
			Options{}, "data_batch_1.bin: 9119 bytes is not a multiple of 3073 (a label byte and 32×32×3 pixels per record)"},
		{"bad test batch", map[string][]byte{"data_batch_1.bin": cifarBatch(10, 0), "test_batch.bin": cifarBatch(2, 0)[:3073+1]},
			Options{}, "test_batch.bin: 3074 bytes is not a multiple of 3073"},
		{"empty batch", map[string][]byte{"data_batch_1.bin": {}},
			Options{}, "data_batch_1.bin: empty file"},
		{"label beyond the classes", map[string][]byte{"data_batch_1.bin": cifarBatch(12, 0), "batches.meta.txt": []byte("a\nb\nc\n")},
			Options{}, "data_batch_1.bin: record 3 has label 3, but there are 3 classes (0 to 2)"},
		{"only a test batch", map[string][]byte{"test_batch.bin": cifarBatch(10, 0)},
			Options{}, "no CIFAR-10 training batch (expected data_batch_1.bin … data_batch_5.bin)"},
		{"empty meta", map[string][]byte{"data_batch_1.bin": cifarBatch(10, 0), "batches.meta.txt": []byte("\n\n")},
			Options{}, "batches.meta.txt: no class names"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			_, err := Load(dir, tt.opt)
			checkError(t, err, dir, tt.want)
		})
	}
}
