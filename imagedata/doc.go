// Package imagedata loads labelled image data sets, splits them, and serves
// them to the trainer through seeded torchvision-style transforms.
//
// Load reads a folder in one of three layouts, detected from its contents
// (or forced with Options.Format): IDX files as MNIST and Fashion-MNIST ship
// them (train-images-idx3-ubyte[.gz], t10k-…; gzip is recognised by
// content), CIFAR-10's binary batches (data_batch_1..5.bin, test_batch.bin,
// batches.meta.txt), or an image-folder tree with one sub-folder of PNG or
// JPEG files per class, under train/, val/ and test/ when present. Every
// layout gives a Set: class names and train, validation and test Images.
// A data set's own splits are kept; missing ones are carved out of the
// training split, stratified by class and seeded: validation is 10% of
// train when there is a test split, and data without one is split
// 80/10/10. Load's documentation says where class names come from and how
// image folders of mixed sizes and colour types are handled.
//
//	set, err := imagedata.Load("/usr/share/datasets/fashion-mnist", imagedata.Options{})
//	augment, err := imagedata.ParseAugment("crop,flip")
//	p, err := set.Pipeline(augment)                      // shape, augmentations, mean/std of train
//	trainSet, err := imagedata.NewDataset(set.Train, p, seed)  // a dataset.Dataset and train.EpochAware
//	valSet, err := imagedata.NewDataset(set.Val, p.Eval(), 0)
//	x, info, err := imagedata.LoadImageFile("shoe.png", p.Eval()) // at predict time
//
// Images are kept as bytes in CHW order (60,000 Fashion-MNIST images take
// 47 MB) and become float32 in Dataset.Gather: scaled to [0, 1] as
// torchvision's ToTensor does, augmented, then normalized per channel.
// The normalization statistics are by default those of the training split
// (Images.MeanStd: exact, population standard deviation; 0.2860 and 0.3530
// on the full Fashion-MNIST); KnownNormalization has the published ones.
//
// Augmentations follow torchvision: RandomResizedCrop (area share 0.08–1,
// aspect ratio 3/4–4/3, resized back to the input size — the input size,
// not 224, because a model's first linear layer is sized for it),
// RandomCrop with zero padding (an eighth of the side: 4 for 28×28 and
// 32×32) and RandomHorizontalFlip (p = 0.5). Their randomness is a pure
// function of (seed, epoch, example index), drawn from a generator this
// package implements, so a resumed run sees exactly the images an
// uninterrupted one would. Resizing is antialiased bilinear, matching
// PyTorch's interpolate(antialias=True) and PIL (testdata holds PyTorch's
// outputs, made by tools/mkimagesample/resize_golden.py).
//
// A Pipeline is a JSON-serialisable description of all this; its Eval form
// is saved with a checkpoint, so predict preprocesses a user's picture as
// evaluation did (LoadImageFile).
//
// Bad input is an error naming the file and what was expected: a truncated
// IDX file, a wrong magic number, images and labels of different counts, a
// CIFAR-10 batch whose size is not a multiple of 3,073 bytes, a label with
// no class, a file that is not a PNG or JPEG image in an image folder, an
// empty class folder, images of mixed sizes when Options.RejectMixedSizes
// is set, and, at predict time, a colour image for a grayscale model.
package imagedata
