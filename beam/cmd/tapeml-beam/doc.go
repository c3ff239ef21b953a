// Command tapeml-beam scores files with a tapeml model on Apache Beam: text
// lines, JSONL or CSV texts for a text model, image files for an image
// model, user ids for a recommender, into one JSONL file of the objects
// `tapeml predict --json` and `tapeml recommend --json` print, each joined
// to its input by file and line.
//
//	tapeml-beam --model runs/spam --input 'mail/*.txt' --output scores.jsonl              # Prism, in process
//	tapeml-beam --model gs://b/spam --input 'gs://b/mail/*.jsonl' --input-format jsonl \
//	    --output gs://b/scores.jsonl --runner dataflow --project P --region R --staging_location gs://b/staging
//
// Beam's own flags (--runner, --endpoint, --project, ...) pass through;
// docs/beam.md has the commands for Prism, Dataflow and Flink.
package main
