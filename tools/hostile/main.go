// Command hostile makes small hostile inputs for tapeml's readers and runs
// one reader on one of them, to measure what each costs:
//
//	go build -o /tmp/hostile ./tools/hostile
//	/tmp/hostile make /tmp/hostile-inputs
//	for c in $(/tmp/hostile list); do
//	  /usr/bin/time -v /tmp/hostile run $c /tmp/hostile-inputs 2>&1 |
//	    grep -E '^(case|error|ok)|Maximum resident'
//	done
//
// Each run prints "case NAME", then "error: ..." (the reader's one-line
// error) or "ok"; /usr/bin/time reports the peak resident set size. The
// inputs are a few kilobytes to a megabyte each: a FIFO and a link to
// /dev/zero in place of checkpoint files, a meta.json or exported file
// whose config asks for billions of parameters, NaN weights, a PNG
// declaring 20,000×20,000 pixels (and a real one that large), gzip and
// .tgz bombs inflating to a gigabyte, a CSV and a ratings FIFO. Only
// public library calls are used, so the program also builds against older
// versions of tapeml for a before/after comparison.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"gorgonia.org/tensor"

	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/graph"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/kinds"
	"github.com/tapeml/tapeml/models/textcnn"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/safetensors"
	"github.com/tapeml/tapeml/textdata"
)

// hostileCase makes its input under dir and runs the reader on it.
type hostileCase struct {
	make func(dir string) error
	run  func(dir string) error
}

var cases = map[string]hostileCase{
	"checkpoint-weights-fifo": {
		make: func(dir string) error {
			return goodCheckpoint(dir, checkpoint.WeightsFile, func(p string) error { return syscall.Mkfifo(p, 0o644) })
		},
		run: loadCheckpoint,
	},
	"checkpoint-weights-devzero": {
		make: func(dir string) error {
			return goodCheckpoint(dir, checkpoint.WeightsFile, func(p string) error { return os.Symlink("/dev/zero", p) })
		},
		run: loadCheckpoint,
	},
	"checkpoint-meta-devzero": {
		make: func(dir string) error {
			return goodCheckpoint(dir, checkpoint.MetaFile, func(p string) error { return os.Symlink("/dev/zero", p) })
		},
		run: loadCheckpoint,
	},
	"checkpoint-nan-weights": {
		make: func(dir string) error {
			c := sample()
			last := len(c.Weights) - 1 // fc.bias
			c.Weights[last] = safetensors.F32(c.Weights[last].Name, []int{1}, []float32{float32(math.NaN())})
			return checkpoint.Save(dir, c)
		},
		run: loadCheckpoint,
	},
	// meta.json asks for a vocabulary of two billion words: a loader that
	// builds the model before comparing shapes allocates 512 GB.
	"checkpoint-config-vocab-2e9": {
		make: func(dir string) error {
			c := sample()
			c.Meta.ModelConfig = json.RawMessage(`{"model":{"num_words":2000000000,"embed_dim":64,"filters":8,"kernel":3,"pool":2,"maxlen":20}}`)
			return checkpoint.Save(dir, c)
		},
		run: buildFromCheckpoint,
	},
	// Within every bound (3,000,000 × 32: 384 MB of float32) but not the
	// weight file's shapes.
	"checkpoint-config-vocab-3e6": {
		make: func(dir string) error {
			c := sample()
			c.Meta.ModelConfig = json.RawMessage(`{"model":{"num_words":3000000,"embed_dim":32,"filters":8,"kernel":3,"pool":2,"maxlen":20}}`)
			return checkpoint.Save(dir, c)
		},
		run: buildFromCheckpoint,
	},
	"import-metadata-vocab-2e9": {
		make: func(dir string) error {
			return exported(dir, `{"model":{"num_words":2000000000,"embed_dim":64,"filters":8,"kernel":3,"pool":2,"maxlen":20}}`)
		},
		run: importFile,
	},
	"import-metadata-vocab-3e6": {
		make: func(dir string) error {
			return exported(dir, `{"model":{"num_words":3000000,"embed_dim":32,"filters":8,"kernel":3,"pool":2,"maxlen":20}}`)
		},
		run: importFile,
	},
	"png-declares-20000x20000": {
		make: func(dir string) error { return imageFolder(dir, pngDeclaring(20000, 20000)) },
		run:  loadImages,
	},
	"png-real-20000x20000": {
		make: func(dir string) error {
			var buf bytes.Buffer
			enc := png.Encoder{CompressionLevel: png.BestCompression}
			if err := enc.Encode(&buf, image.NewGray(image.Rect(0, 0, 20000, 20000))); err != nil {
				return err
			}
			return imageFolder(dir, buf.Bytes())
		},
		run: loadImages,
	},
	// 40 PNGs of 4096×4096 (a 16.7-megapixel gray image of zeros is 17 KB):
	// each within the per-image limit, 671 million pixels together.
	"png-folder-40x4096x4096": {
		make: func(dir string) error {
			var buf bytes.Buffer
			enc := png.Encoder{CompressionLevel: png.BestCompression}
			if err := enc.Encode(&buf, image.NewGray(image.Rect(0, 0, 4096, 4096))); err != nil {
				return err
			}
			for i := range 40 {
				class := []string{"a", "b"}[i%2]
				if err := os.MkdirAll(filepath.Join(dir, class), 0o755); err != nil {
					return err
				}
				if err := os.WriteFile(filepath.Join(dir, class, fmt.Sprintf("%02d.png", i)), buf.Bytes(), 0o644); err != nil {
					return err
				}
			}
			return nil
		},
		run: loadImages,
	},
	"predict-png-declares-20000x20000": {
		make: func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "big.png"), pngDeclaring(20000, 20000), 0o644)
		},
		run: func(dir string) error {
			p := imagedata.Pipeline{Channels: 1, Height: 28, Width: 28, Mean: []float64{0.5}, Std: []float64{0.5}}
			_, _, err := imagedata.LoadImageFile(filepath.Join(dir, "big.png"), p)
			return err
		},
	},
	// 1 MB of gzip inflating to 1 GB of zeros after a valid IDX header.
	"idx-gzip-bomb": {
		make: func(dir string) error {
			header := binary.BigEndian.AppendUint32(nil, 0x00000803)
			for _, d := range []uint32{60000, 28, 28} {
				header = binary.BigEndian.AppendUint32(header, d)
			}
			if err := os.WriteFile(filepath.Join(dir, "train-images-idx3-ubyte.gz"), gzipBomb(header, 1<<30), 0o644); err != nil {
				return err
			}
			labels := binary.BigEndian.AppendUint32(nil, 0x00000801)
			labels = binary.BigEndian.AppendUint32(labels, 60000)
			return os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte"), append(labels, make([]byte, 60000)...), 0o644)
		},
		run: loadImages,
	},
	"tgz-bomb": {
		make: func(dir string) error {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			tw := tar.NewWriter(zw)
			msg := []byte(`{"id":"1","group":"spam-1","text":"buy now"}`)
			tw.WriteHeader(&tar.Header{Name: "package/data/spam-1/1.json", Mode: 0o644, Size: int64(len(msg)), Typeflag: tar.TypeReg})
			tw.Write(msg)
			// One member of 1 GiB of "a": a message text of a gigabyte.
			body := `{"id":"2","group":"spam-1","text":"`
			size := int64(1<<30) + int64(len(body)) + 2
			tw.WriteHeader(&tar.Header{Name: "package/data/spam-1/2.json", Mode: 0o644, Size: size, Typeflag: tar.TypeReg})
			tw.Write([]byte(body))
			chunk := bytes.Repeat([]byte("a"), 1<<20)
			for range 1 << 10 {
				tw.Write(chunk)
			}
			tw.Write([]byte(`"}`))
			tw.Close()
			zw.Close()
			return os.WriteFile(filepath.Join(dir, "bomb.tgz"), buf.Bytes(), 0o644)
		},
		run: func(dir string) error {
			_, err := textdata.LoadText(filepath.Join(dir, "bomb.tgz"), textdata.TextOptions{})
			return err
		},
	},
	// 1 MB inflating to 1 GB in a member the loader skips (not .json).
	"tgz-bomb-skipped-member": {
		make: func(dir string) error {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			tw := tar.NewWriter(zw)
			msg := []byte(`{"id":"1","group":"spam-1","text":"buy now"}`)
			tw.WriteHeader(&tar.Header{Name: "package/data/spam-1/1.json", Mode: 0o644, Size: int64(len(msg)), Typeflag: tar.TypeReg})
			tw.Write(msg)
			tw.WriteHeader(&tar.Header{Name: "package/big.bin", Mode: 0o644, Size: 1 << 30, Typeflag: tar.TypeReg})
			io.CopyN(tw, zeros{}, 1<<30)
			tw.Close()
			zw.Close()
			return os.WriteFile(filepath.Join(dir, "bomb.tgz"), buf.Bytes(), 0o644)
		},
		run: func(dir string) error {
			_, err := textdata.LoadText(filepath.Join(dir, "bomb.tgz"), textdata.TextOptions{})
			return err
		},
	},
	"csv-fifo": {
		make: func(dir string) error { return syscall.Mkfifo(filepath.Join(dir, "texts.csv"), 0o644) },
		run: func(dir string) error {
			_, err := textdata.LoadText(filepath.Join(dir, "texts.csv"), textdata.TextOptions{})
			return err
		},
	},
	"ratings-fifo": {
		make: func(dir string) error { return syscall.Mkfifo(filepath.Join(dir, "ratings.csv"), 0o644) },
		run: func(dir string) error {
			_, _, err := recsys.ReadRatings(filepath.Join(dir, "ratings.csv"), recsys.ReadOptions{})
			return err
		},
	},
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "list":
		for _, n := range names() {
			fmt.Println(n)
		}
	case "make":
		if len(os.Args) != 3 {
			usage()
		}
		for _, n := range names() {
			dir := filepath.Join(os.Args[2], n)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				fail(err)
			}
			if err := cases[n].make(dir); err != nil {
				fail(fmt.Errorf("%s: %w", n, err))
			}
		}
	case "run":
		if len(os.Args) != 4 {
			usage()
		}
		c, ok := cases[os.Args[2]]
		if !ok {
			usage()
		}
		fmt.Println("case", os.Args[2])
		if err := c.run(filepath.Join(os.Args[3], os.Args[2])); err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Println("ok")
	default:
		usage()
	}
}

func names() []string {
	var out []string
	for n := range cases {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: hostile list | make DIR | run CASE DIR")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "hostile:", err)
	os.Exit(1)
}

// sample is a small TextCNN checkpoint (weights of a 30-word, 4-wide model).
func sample() *checkpoint.Checkpoint {
	cfg := textcnn.Config{NumWords: 30, EmbedDim: 4, Filters: 3, Kernel: 2, Pool: 2, MaxLen: 8}
	m, _ := textcnn.New(cfg)
	params := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(m.Build, params); err != nil {
		fail(err)
	}
	var ws []safetensors.Tensor
	for _, p := range params.List() {
		ws = append(ws, safetensors.F32(p.Name, p.Shape(), p.Value.Float32s()))
	}
	raw, _ := json.Marshal(map[string]any{"model": cfg})
	return &checkpoint.Checkpoint{
		Meta: checkpoint.Meta{
			ModelKind: textcnn.Kind, ModelConfig: raw, WeightsOnly: true,
			Preprocessing: json.RawMessage(`{"pad":{"MaxLen":8}}`),
		},
		Weights: ws,
	}
}

// goodCheckpoint saves a checkpoint in dir and replaces its file name
// with what replace makes at that path.
func goodCheckpoint(dir, name string, replace func(path string) error) error {
	if err := checkpoint.Save(dir, sample()); err != nil {
		return err
	}
	path := filepath.Join(dir, name)
	if err := os.Remove(path); err != nil {
		return err
	}
	return replace(path)
}

func loadCheckpoint(dir string) error {
	_, err := checkpoint.Load(dir)
	return err
}

// buildFromCheckpoint loads a checkpoint and builds its TextCNN with the
// weights, as a loader does: config, then (where the library offers it)
// shapes against the weight file, then parameters.
func buildFromCheckpoint(dir string) error {
	c, err := checkpoint.Load(dir)
	if err != nil {
		return err
	}
	var run struct {
		Model textcnn.Config `json:"model"`
	}
	if err := json.Unmarshal(c.Meta.ModelConfig, &run); err != nil {
		return err
	}
	m, err := textcnn.New(run.Model)
	if err != nil {
		return err
	}
	if err := checkShapes(m, c.Weights, filepath.Join(dir, checkpoint.WeightsFile)); err != nil {
		return err
	}
	params := graph.NewParams(tensor.Float32, 1)
	if err := graph.Materialize(m.Build, params); err != nil {
		return err
	}
	return fmt.Errorf("built %d parameters that the weights do not fit", params.Count())
}

func exported(dir, config string) error {
	c := sample()
	md := checkpoint.Metadata(c)
	md[checkpoint.MetaConfig] = config
	return safetensors.WriteFile(filepath.Join(dir, "model.safetensors"), c.Weights, md)
}

func importFile(dir string) error {
	_, err := kinds.Import(filepath.Join(dir, "model.safetensors"), nil)
	return err
}

func imageFolder(dir string, bad []byte) error {
	for _, class := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(dir, class), 0o755); err != nil {
			return err
		}
		var buf bytes.Buffer
		png.Encode(&buf, image.NewGray(image.Rect(0, 0, 28, 28)))
		if err := os.WriteFile(filepath.Join(dir, class, "ok.png"), buf.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(dir, "b", "bad.png"), bad, 0o644)
}

func loadImages(dir string) error {
	_, err := imagedata.Load(dir, imagedata.Options{})
	return err
}

// pngDeclaring returns a valid 1×1 PNG whose header claims w×h pixels.
func pngDeclaring(w, h uint32) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// gzipBomb compresses prefix followed by n zero bytes.
func gzipBomb(prefix []byte, n int64) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(prefix)
	io.CopyN(zw, zeros{}, n)
	zw.Close()
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
