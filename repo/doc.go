// Package repo manages a model repository — the folder `tapeml serve`
// serves, DIR/<name>/<version>/ — as a registry: Publish copies a
// checkpoint in as the next version with a model card, List describes the
// versions, Compare scores two of them on the same data, and Promote and
// Rollback move labels in DIR/<name>/config.json with a history of the
// moves. Files are the database; every change is atomic, and concurrent
// publishers are serialized by a lock in the model's folder.
//
// The layout of a model folder:
//
//	DIR/NAME/config.json          version policy and labels (package serve reads it)
//	DIR/NAME/label-history.json   every label move: who, when, from, to
//	DIR/NAME/lock                 held while a publish or a label move runs
//	DIR/NAME/1/meta.json …        a published checkpoint (weights only)
//	DIR/NAME/1/card.json          its model card; MODEL_CARD.md renders it
//	DIR/NAME/.publish-*           a publish in progress (skipped by serve)
package repo
