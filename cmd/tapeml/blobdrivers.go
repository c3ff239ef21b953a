package main

// The object-store drivers serve --models URL can open (gocloud.dev/blob):
// file:// always; s3://, gs:// and azblob:// in builds with the cloud tag
// (blobdrivers_cloud.go), whose SDKs are large.
import _ "gocloud.dev/blob/fileblob"
