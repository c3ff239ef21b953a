package repo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/checkpoint"
	"github.com/tapeml/tapeml/internal/buildinfo"
	"github.com/tapeml/tapeml/internal/safeio"
)

// tmpPrefix starts the name of a version being published: serve skips it
// (not a number), and the next publish removes it if a kill left it.
const tmpPrefix = ".publish-"

// PublishOptions says what Publish copies where.
type PublishOptions struct {
	// Checkpoint is a run folder (its best epoch), a checkpoint folder
	// (an int8 one too) or a .safetensors file with tapeml metadata.
	Checkpoint string
	// Repo is the model repository and Name the model's folder in it.
	Repo, Name string
	// Label, when set, is moved to the new version (as Promote does).
	Label string
	// Note, IntendedUse and Limitations go on the card; the last two get
	// template text when empty.
	Note, IntendedUse, Limitations string
	// Parent is the version this one was fine-tuned from (0: none); it
	// must exist.
	Parent int64
	// NoTest skips scoring the version on its run's test split (a card
	// then says it was not tested).
	NoTest bool
	// Who and Now are the card's author and time; default the user and
	// host, and the clock.
	Who string
	Now func() time.Time
	// Wait bounds the wait for another publish or label move of the same
	// model to finish; default 5 minutes.
	Wait time.Duration
}

// Published is a version Publish made.
type Published struct {
	Version int64
	Path    string // its folder
	Card    *Card
}

// Publish copies a checkpoint into the repository as the model's next
// version, with its model card (card.json and MODEL_CARD.md), and moves
// opt.Label to it. The version is assembled in a temporary folder beside
// the versions, every file synced, loaded back to verify it, and renamed
// into place under the model's lock: concurrent publishes get consecutive
// numbers, and a kill at any point leaves either no new version or a
// complete one. Optimizer state is not copied: a version serves, and
// fine-tunes with train --init.
func Publish(ctx context.Context, opt PublishOptions) (*Published, error) {
	if err := CheckName(opt.Name); err != nil {
		return nil, err
	}
	if opt.Repo == "" {
		return nil, errors.New("publish: no repository folder")
	}
	if opt.Label != "" {
		if err := checkLabel(opt.Label); err != nil {
			return nil, err
		}
	}
	c, err := checkpoint.Open(opt.Checkpoint, checkpoint.PickBest)
	if err != nil {
		return nil, err
	}
	mdir := filepath.Join(opt.Repo, opt.Name)
	if err := fsops.MkdirAll(mdir, 0o755); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	unlock, err := lockModel(ctx, mdir, opt.Wait)
	if err != nil {
		return nil, err
	}
	defer unlock()
	removeLeftovers(mdir)
	next, err := nextVersion(mdir)
	if err != nil {
		return nil, err
	}
	if opt.Parent != 0 {
		if _, err := os.Stat(filepath.Join(mdir, strconv.FormatInt(opt.Parent, 10))); err != nil {
			return nil, fmt.Errorf("publish: parent version %d of %s: %w", opt.Parent, opt.Name, err)
		}
	} else {
		opt.Parent = parentOf(c.Meta.Init, mdir)
	}
	tmp, err := fsops.MkdirTemp(mdir, tmpPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	done := false
	defer func() {
		if !done {
			fsops.RemoveAll(tmp)
		}
	}()
	size, err := copyCheckpoint(c, tmp)
	if err != nil {
		return nil, fmt.Errorf("publish %s: %w", opt.Checkpoint, err)
	}
	m, err := tapeml.Load(LoadPath(tmp))
	if err != nil {
		return nil, fmt.Errorf("publish %s: the copy does not load: %w", opt.Checkpoint, err)
	}
	card, err := newCard(ctx, m, c, opt, next, size)
	if err != nil {
		return nil, err
	}
	if err := writeCard(tmp, card); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if err := fsops.SyncDir(tmp); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	path := filepath.Join(mdir, strconv.FormatInt(next, 10))
	if err := fsops.RenameNew(tmp, path); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	done = true
	if err := fsops.SyncDir(mdir); err != nil {
		return nil, fmt.Errorf("publish: version %d is in place but not yet durable: %w", next, err)
	}
	if opt.Label != "" {
		if _, err := moveLabel(mdir, opt.Label, next, card.CreatedBy, card.Created, "publish"); err != nil {
			return nil, fmt.Errorf("publish: version %d is in place; %w", next, err)
		}
	}
	return &Published{Version: next, Path: path, Card: card}, nil
}

// CheckName accepts a model name that is one plain folder name serve
// lists: not empty, no separators, no leading dot.
func CheckName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") || len(name) > 200 {
		return fmt.Errorf("model name %q: want a plain folder name (no separators, no leading dot, at most 200 bytes)", name)
	}
	return nil
}

// LoadPath is what a version folder serves, as serve picks it: the folder
// when it holds meta.json, otherwise its one .safetensors file.
func LoadPath(vdir string) string {
	if _, err := os.Stat(filepath.Join(vdir, checkpoint.MetaFile)); err == nil {
		return vdir
	}
	entries, _ := os.ReadDir(vdir)
	var tensors []string
	for _, e := range entries {
		if strings.EqualFold(filepath.Ext(e.Name()), ".safetensors") {
			tensors = append(tensors, filepath.Join(vdir, e.Name()))
		}
	}
	if len(tensors) == 1 {
		return tensors[0]
	}
	return vdir
}

// parentOf is the version of the model folder mdir that the checkpoint
// init (meta.json's init: train --init) is in, or 0.
func parentOf(init, mdir string) int64 {
	if init == "" {
		return 0
	}
	abs, err := filepath.Abs(mdir)
	if err != nil {
		return 0
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	if real, err := filepath.EvalSymlinks(init); err == nil {
		init = real
	}
	rel, err := filepath.Rel(abs, init)
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
	n, ok := parseVersion(first)
	if !ok {
		return 0
	}
	return n
}

// lockModel takes the model folder's lock, waiting for another holder up
// to wait (default 5 minutes) or until ctx ends.
func lockModel(ctx context.Context, mdir string, wait time.Duration) (func(), error) {
	if wait <= 0 {
		wait = 5 * time.Minute
	}
	deadline := time.Now().Add(wait)
	pause := 5 * time.Millisecond
	for {
		unlock, err := checkpoint.Dir{Root: mdir}.Lock()
		if err == nil {
			return func() { unlock() }, nil
		}
		var held *checkpoint.LockedError
		if !errors.As(err, &held) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("model %s: process %d holds its lock (%s) and did not finish in %v", mdir, held.PID, filepath.Join(mdir, checkpoint.LockFile), wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// removeLeftovers removes the temporary folders of publishes a kill
// interrupted; called under the lock, so none of them is in progress.
func removeLeftovers(mdir string) {
	entries, _ := os.ReadDir(mdir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) && e.IsDir() {
			fsops.RemoveAll(filepath.Join(mdir, e.Name()))
		}
	}
}

// nextVersion is one more than the highest version number in mdir,
// counting any entry named by a number, so a publish never takes a name
// something holds.
func nextVersion(mdir string) (int64, error) {
	entries, err := os.ReadDir(mdir)
	if err != nil {
		return 0, fmt.Errorf("publish: %w", err)
	}
	var top int64
	for _, e := range entries {
		if n, ok := parseVersion(e.Name()); ok && n > top {
			top = n
		}
	}
	return top + 1, nil
}

// parseVersion reads a version folder's name: a positive integer in
// canonical form, as serve reads it.
func parseVersion(name string) (int64, bool) {
	n, err := strconv.ParseInt(name, 10, 64)
	return n, err == nil && n > 0 && strconv.FormatInt(n, 10) == name
}

// copyCheckpoint copies c's files into dir, each synced: a checkpoint
// folder's weights and extra files with a meta.json marking it
// weights-only (no optimizer state), or a .safetensors file. Every byte
// copied is checked against the checksums the checkpoint recorded. It
// returns the bytes written.
func copyCheckpoint(c *checkpoint.Checkpoint, dir string) (int64, error) {
	if c.Dir == "" {
		if c.Source == "" {
			return 0, errors.New("the checkpoint was not read from a folder or file")
		}
		return copyFile(c.Source, filepath.Join(dir, checkpoint.WeightsFile), nil)
	}
	meta := c.Meta
	files := map[string]checkpoint.FileSum{}
	var total int64
	for name, sum := range meta.Files {
		if name == checkpoint.OptimizerFile {
			continue
		}
		if err := checkFileName(name); err != nil {
			return 0, err
		}
		n, err := copyFile(filepath.Join(c.Dir, name), filepath.Join(dir, name), &sum)
		if err != nil {
			return 0, err
		}
		files[name] = sum
		total += n
	}
	meta.Files, meta.WeightsOnly, meta.OptimizerState = files, true, nil
	raw, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return 0, err
	}
	n, err := writeSynced(filepath.Join(dir, checkpoint.MetaFile), func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	})
	return total + n, err
}

func checkFileName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return fmt.Errorf("meta.json lists %q, not a plain file name", name)
	}
	return nil
}

// copyFile copies a regular file to a new file, synced; with want, the
// bytes must have its size and sha256.
func copyFile(from, to string, want *checkpoint.FileSum) (int64, error) {
	f, _, err := safeio.Open(from, -1)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := writeSynced(to, func(w io.Writer) error {
		_, err := io.Copy(io.MultiWriter(w, h), f)
		return err
	})
	if err != nil {
		return 0, err
	}
	if want != nil && (n != want.Size || hex.EncodeToString(h.Sum(nil)) != want.SHA256) {
		return 0, fmt.Errorf("%s changed while it was copied (its checksum no longer matches meta.json)", from)
	}
	return n, nil
}

// writeSynced writes a new file through fsops and syncs it.
func writeSynced(path string, body func(io.Writer) error) (int64, error) {
	f, err := fsops.Create(path)
	if err != nil {
		return 0, err
	}
	cw := &countingWriter{w: f}
	if err := body(cw); err != nil {
		f.Close()
		return 0, err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, err
	}
	return cw.n, f.Close()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// newCard describes the version m, copied from c.
func newCard(ctx context.Context, m *tapeml.Model, c *checkpoint.Checkpoint, opt PublishOptions, version, size int64) (*Card, error) {
	now := time.Now
	if opt.Now != nil {
		now = opt.Now
	}
	who := opt.Who
	if who == "" {
		who = whoami()
	}
	src := c.Dir
	if src == "" {
		src = c.Source
	}
	if abs, err := filepath.Abs(src); err == nil {
		src = abs
	}
	card := &Card{
		Format: CardFormat, Name: opt.Name, Version: version,
		Kind: m.Kind(), Algo: m.Algo(), Config: c.Meta.ModelConfig, Classes: m.Classes(),
		Data:        HashData(m.TrainingData()),
		CodeVersion: buildinfo.Version(),
		Created:     now().UTC().Truncate(time.Second), CreatedBy: who,
		Source: src, Epoch: c.Meta.Epoch, Parent: opt.Parent, Init: c.Meta.Init,
		Note: opt.Note, IntendedUse: opt.IntendedUse, Limitations: opt.Limitations,
		Size: size,
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, c.Meta.ModelConfig); err == nil {
		card.Config = compact.Bytes()
	}
	var err error
	if card.Privacy, err = privacyCard(c.Meta.Privacy); err != nil {
		return nil, err
	}
	if raw, ok := c.Extra[checkpoint.QuantizationFile]; ok {
		card.Quantization = &checkpoint.Quantization{}
		if err := json.Unmarshal(raw, card.Quantization); err != nil {
			return nil, fmt.Errorf("%s: %w", checkpoint.QuantizationFile, err)
		}
	}
	switch {
	case opt.NoTest:
		card.Test.Error = "publish --no-test"
	default:
		r, err := m.EvaluateRunData(ctx, tapeml.EvalOptions{})
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			card.Test.Error = err.Error()
			break
		}
		card.Test = TestCard{Data: r.Data, N: r.N}
		for _, mt := range r.Metrics {
			card.Test.Metrics = append(card.Test.Metrics, Metric{Name: mt.Name, Value: finite(mt.Value)})
		}
	}
	if card.IntendedUse == "" {
		card.IntendedUse = defaultIntendedUse(card)
	}
	if card.Limitations == "" {
		card.Limitations = defaultLimitations(card)
	}
	return card, nil
}

// writeCard writes card.json and MODEL_CARD.md into dir, synced.
func writeCard(dir string, card *Card) error {
	raw, err := json.MarshalIndent(card, "", "  ")
	if err != nil {
		return err
	}
	if _, err := writeSynced(filepath.Join(dir, CardFile), func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	}); err != nil {
		return err
	}
	_, err = writeSynced(filepath.Join(dir, CardMarkdown), card.WriteMarkdown)
	return err
}

// whoami names the user and host making a change.
func whoami() string {
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	if host, err := os.Hostname(); err == nil && host != "" {
		name += "@" + host
	}
	return name
}
