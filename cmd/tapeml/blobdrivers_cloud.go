//go:build cloud

package main

// S3, Google Cloud Storage and Azure Blob Storage for serve --models
// s3://…, gs://… and azblob://…: go build -tags cloud ./cmd/tapeml. Their
// SDKs take minutes to compile and tens of megabytes, so the default
// build has file:// only.
import (
	_ "gocloud.dev/blob/azureblob"
	_ "gocloud.dev/blob/gcsblob"
	_ "gocloud.dev/blob/s3blob"
)
