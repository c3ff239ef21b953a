package samples_test

import (
	"fmt"

	"github.com/tapeml/tapeml/imagedata"
	"github.com/tapeml/tapeml/samples"
)

func ExampleFashionMNIST() {
	set, err := samples.FashionMNIST(imagedata.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, h, w := set.Shape()
	fmt.Println(len(set.Classes), "classes, e.g.", set.Classes[0], "and", set.Classes[9])
	fmt.Printf("%d×%d×%d images: train %d, val %d, test %d\n", c, h, w, set.Train.Len(), set.Val.Len(), set.Test.Len())
	// Output:
	// 10 classes, e.g. T-shirt/top and Ankle boot
	// 1×28×28 images: train 3600, val 400, test 1000
}
