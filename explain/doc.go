// Package explain says why a model predicted what it did: Integrated
// Gradients (Gauss–Legendre or trapezoid), saliency and occlusion per
// token of a text or pixel of an image, with IG's completeness delta;
// HTML pages and heat maps of the results; the model-randomization sanity
// check (Randomized, Spearman); and, for recommenders, the neighbours or
// rated items behind a predicted rating.
//
//	m, _ := tapeml.Load("runs/spam")
//	ex, _ := explain.Texts(ctx, m, []string{"WIN a FREE prize"}, explain.Options{})
//	os.WriteFile("why.html", ex[0].HTML(), 0o644)
//
// Explanations run on the model's own attribution machines, compiled on
// first use and kept with the model, under the runtime's compile lock; any
// number of goroutines may explain at once.
package explain
