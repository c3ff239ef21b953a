package imagedata

import (
	"image/color"
	"reflect"
	"strings"
	"testing"
)

func TestLoadFolder(t *testing.T) {
	red := color.NRGBA{200, 10, 10, 255}
	tree := func(n int, img func(i int) []byte, prefix string, classes ...string) map[string][]byte {
		files := map[string][]byte{}
		for _, c := range classes {
			for i := range n {
				files[prefix+c+"/"+string(rune('a'+i))+".png"] = img(i)
			}
		}
		return files
	}
	merge := func(ms ...map[string][]byte) map[string][]byte {
		out := map[string][]byte{}
		for _, m := range ms {
			for k, v := range m {
				out[k] = v
			}
		}
		return out
	}
	gray := func(i int) []byte { return pngGray(4, 3, uint8(10*i)) }
	for _, tt := range []struct {
		name    string
		files   map[string][]byte
		opt     Options
		classes []string
		shape   [3]int
		sizes   [3]int
		resized int
	}{
		{"flat, gray, 80/10/10", merge(tree(10, gray, "", "dog", "cat"), map[string][]byte{
			"README.md": []byte("beside the classes: ignored"), "cat/.DS_Store": []byte("hidden: skipped"),
			".git/config": []byte("hidden folder"), "cat/nested/z.png": pngGray(4, 3, 1),
		}), Options{}, []string{"cat", "dog"}, [3]int{1, 3, 4}, [3]int{17, 2, 2}, 0},
		{"splits, colour wins", merge(tree(5, gray, "train/", "a", "b"), tree(2, gray, "test/", "a", "b"),
			map[string][]byte{"train/b/rgb.png": pngRGB(4, 3, red), "train/a/photo.jpg": jpegRGB(4, 3, color.RGBA{0, 0, 250, 255})}),
			Options{}, []string{"a", "b"}, [3]int{3, 3, 4}, [3]int{11, 1, 4}, 0},
		{"val folder kept", merge(tree(5, gray, "train/", "a", "b"), tree(1, gray, "valid/", "a", "b")),
			Options{}, []string{"a", "b"}, [3]int{1, 3, 4}, [3]int{9, 2, 1}, 0},
		{"mixed sizes resized", merge(tree(5, gray, "train/", "a", "b"), map[string][]byte{
			"train/b/big.png": pngGray(40, 30, 7), "test/a/small.png": pngGray(2, 2, 9), "test/b/x.png": pngGray(4, 3, 1),
		}), Options{}, []string{"a", "b"}, [3]int{1, 3, 4}, [3]int{10, 1, 2}, 2},
		{"gray stored as RGB is gray", tree(5, func(i int) []byte { return pngRGB(4, 3, color.NRGBA{50, 50, 50, 128}) }, "", "x", "y"),
			Options{}, []string{"x", "y"}, [3]int{1, 3, 4}, [3]int{8, 1, 1}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Load(writeFiles(t, tt.files), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if set.Format != FormatFolder || !reflect.DeepEqual(set.Classes, tt.classes) {
				t.Errorf("format %q classes %q", set.Format, set.Classes)
			}
			if c, h, w := set.Shape(); [3]int{c, h, w} != tt.shape {
				t.Errorf("shape %d×%d×%d, want %v", c, h, w, tt.shape)
			}
			if got := [3]int{set.Train.Len(), set.Val.Len(), set.Test.Len()}; got != tt.sizes {
				t.Errorf("split sizes %v, want %v", got, tt.sizes)
			}
			if set.Resized != tt.resized || (tt.resized > 0) != (len(set.Notes) == 1) {
				t.Errorf("resized %d, notes %q; want %d resized", set.Resized, set.Notes, tt.resized)
			}
			for _, im := range []*Images{set.Train, set.Val, set.Test} {
				for i := range im.Len() {
					src := im.Sources[i]
					if !strings.Contains(src, "/"+set.Classes[im.Labels[i]]+"/") {
						t.Errorf("%s has label %q", src, set.Classes[im.Labels[i]])
					}
					px := im.Image(i)
					switch {
					case strings.HasSuffix(src, "rgb.png") && (px[0] != 200 || px[12] != 10 || px[24] != 10):
						t.Errorf("%s: R, G, B = %d, %d, %d, want 200, 10, 10", src, px[0], px[12], px[24])
					case strings.HasSuffix(src, "photo.jpg") && (px[0] > 5 || px[24] < 245):
						t.Errorf("%s: R = %d, B = %d, want blue", src, px[0], px[24])
					case strings.HasSuffix(src, "big.png") || strings.HasSuffix(src, "small.png"):
						want := map[bool]uint8{true: 7, false: 9}[strings.HasSuffix(src, "big.png")]
						for _, v := range px {
							if v != want {
								t.Errorf("%s resized: pixel %d, want %d", src, v, want)
								break
							}
						}
					}
				}
			}
		})
	}
}

func TestFolderErrors(t *testing.T) {
	ok := func(v uint8) []byte { return pngGray(4, 3, v) }
	for _, tt := range []struct {
		name  string
		files map[string][]byte
		opt   Options
		want  string
	}{
		{"non-image file", map[string][]byte{"cat/a.png": ok(1), "cat/notes.txt": []byte("hello"), "dog/b.png": ok(2)},
			Options{}, "DIR/cat/notes.txt: not a PNG or JPEG image"},
		{"corrupt PNG", map[string][]byte{"cat/a.png": ok(1), "dog/b.png": ok(2)[:40]},
			Options{}, "DIR/dog/b.png: bad PNG image: "},
		{"mixed sizes rejected", map[string][]byte{"train/cat/a.png": ok(1), "train/dog/b.png": pngGray(5, 5, 0)},
			Options{RejectMixedSizes: true}, "DIR/train/dog/b.png: 5×5 pixels, but the first image, DIR/train/cat/a.png, is 4×3"},
		{"empty class folder", map[string][]byte{"cat/a.png": ok(1), "dog/.keep": nil},
			Options{}, "DIR/dog: class folder holds no images"},
		{"one class", map[string][]byte{"cat/a.png": ok(1)},
			Options{}, `DIR: found 1 class folder ["cat"]; an image folder needs one sub-folder`},
		{"no class folders", map[string][]byte{"a.png": ok(1)},
			Options{}, "DIR: found 0 class folders []"},
		{"class only in test", map[string][]byte{"train/cat/a.png": ok(1), "train/dog/a.png": ok(1), "test/cow/a.png": ok(1)},
			Options{}, `class "cow" has no training images`},
		{"two validation folders", map[string][]byte{"train/cat/a.png": ok(1), "val/cat/a.png": ok(1), "valid/cat/a.png": ok(1)},
			Options{}, "DIR: both val/ and valid/ hold the val split"},
		{"class names given", map[string][]byte{"cat/a.png": ok(1), "dog/a.png": ok(1)},
			Options{Classes: []string{"x", "y"}}, "an image folder names its classes by sub-folder"},
		{"a file, not a folder", map[string][]byte{"x.png": ok(1)}, Options{}, "DIR/x.png is a file; want the folder holding the IDX files"},
		{"missing", nil, Options{}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, tt.files)
			if tt.files == nil {
				_, err := Load(dir+"/missing", tt.opt)
				checkError(t, err, dir, "DIR/missing: no such file")
				return
			}
			if tt.name == "a file, not a folder" {
				dir += "/x.png"
			}
			_, err := Load(dir, tt.opt)
			checkError(t, err, strings.TrimSuffix(dir, "/x.png"), tt.want)
		})
	}
}
