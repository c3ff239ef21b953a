// Package imageclass is the image classification family: the kinds that
// read images and answer with one of several classes (convnet). A model's
// checkpoint carries its evaluation pipeline (resizing, channels, the
// training split's mean and standard deviation), its class names and its
// training augmentation, so prediction preprocesses as evaluation did and
// a resumed run augments as the original did.
package imageclass
