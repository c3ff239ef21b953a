package textdata

// Limits on what the loaders read, so that a small hostile input (a
// FIFO, a link to /dev/zero, a gzip bomb) is refused with an error instead
// of exhausting memory. They are variables so a program with unusually
// large data can raise them.
var (
	// MaxFileBytes bounds every text, CSV, JSON and .tgz file read (1 GiB).
	MaxFileBytes int64 = 1 << 30
	// MaxDecompressedBytes bounds what a .tgz inflates to in total (256 MiB;
	// the full SpamAssassin corpus is about 40 MiB), counting members that
	// are skipped, so a gzip bomb stops early whatever it holds.
	MaxDecompressedBytes int64 = 256 << 20
	// MaxMemberBytes bounds one message file, in a folder or a .tgz (16 MiB).
	MaxMemberBytes int64 = 16 << 20
)
