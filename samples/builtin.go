package samples

import (
	"io"
	"io/fs"

	"github.com/tapeml/tapeml/dataset"
	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/recsys"
	"github.com/tapeml/tapeml/textdata"
)

// The names the samples go by wherever a data path is read, and in
// checkpoints trained on them.
const (
	SpamAssassinName = textdata.BuiltinSample
	// SpamAssassinGroupsName is the same sample as a three-class task.
	SpamAssassinGroupsName = textdata.BuiltinGroups
	FashionMNISTName       = imagedata.BuiltinSample
	RatingsName            = recsys.BuiltinSample
)

func init() {
	dataset.RegisterBuiltin(SpamAssassinName, textdata.BuiltinLoader(SpamAssassin))
	dataset.RegisterBuiltin(SpamAssassinGroupsName, textdata.BuiltinLoader(SpamAssassinGroups))
	dataset.RegisterBuiltin(FashionMNISTName, imagedata.BuiltinLoader(FashionMNIST))
	dataset.RegisterBuiltin(RatingsName, recsys.BuiltinLoader(func() (*recsys.Dataset, *recsys.Catalog, error) {
		d, err := Ratings()
		if err != nil {
			return nil, nil, err
		}
		return d, RatingsCatalog(d), nil
	}))
	dataset.RegisterBuiltinContent(SpamAssassinName, writeBytes(spamAssassinGzip))
	dataset.RegisterBuiltinContent(RatingsName, writeBytes(ratingsGzip))
	dataset.RegisterBuiltinContent(FashionMNISTName, func(w io.Writer) error {
		return fs.WalkDir(fashionMNISTFiles, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := fashionMNISTFiles.ReadFile(p)
			if err == nil {
				_, err = io.WriteString(w, p+"\x00")
			}
			if err == nil {
				_, err = w.Write(b)
			}
			return err
		})
	})
}

// writeBytes writes one embedded file's bytes.
func writeBytes(b []byte) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	}
}
