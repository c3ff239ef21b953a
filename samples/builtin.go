package samples

import (
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
}
