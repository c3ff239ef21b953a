package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/tapeml/tapeml"
	"github.com/tapeml/tapeml/repo"
)

// The registry commands — publish, versions, compare, promote, rollback —
// are thin: package repo does the work on the model repository.

// registryContext is cancelled by Ctrl-C or SIGTERM, so a publish removes
// its unfinished copy (a kill leaves it to the next publish).
func registryContext(e env) (context.Context, func()) {
	if e.ctx != nil {
		return e.ctx, func() {}
	}
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// repoFlags are the flags naming a model in a repository.
func repoFlags(fs *pflag.FlagSet) (dir, name *string) {
	dir = fs.String("repo", "", "the model repository (the folder serve --models serves)")
	name = fs.String("name", "", "the model's name: its folder in the repository")
	return dir, name
}

func needRepo(dir, name string) error {
	switch {
	case dir == "":
		return usagef("--repo is required")
	case name == "":
		return usagef("--name is required")
	}
	if err := repo.CheckName(name); err != nil {
		return usagef("--name: %v", err)
	}
	return nil
}

func publishCmd(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "publish --checkpoint RUN --repo DIR --name NAME [--label L] [--note TEXT] [--intended-use TEXT] [--limitations TEXT] [--parent V]",
		Short: "copy a run's best checkpoint into a model repository as the next version, with a model card",
		Args:  noArgs,
	}
	fs := c.Flags()
	var o repo.PublishOptions
	fs.StringVar(&o.Checkpoint, "checkpoint", "", "a run folder (its best epoch), a checkpoint folder (int8 too) or an exported .safetensors file")
	dir, name := repoFlags(fs)
	fs.StringVar(&o.Label, "label", "", "move this label (stable, canary, …) to the new version, as promote does")
	fs.StringVar(&o.Note, "note", "", "a note for the model card")
	fs.StringVar(&o.IntendedUse, "intended-use", "", "the card's intended use (default: a template saying what the model classifies, marked as template text)")
	fs.StringVar(&o.Limitations, "limitations", "", "the card's limitations (default: a template saying what it was tested on, marked as template text)")
	fs.Int64Var(&o.Parent, "parent", 0, "the version this one was fine-tuned from (default: found from the checkpoint train --init started from, when it is a version of this model)")
	fs.BoolVar(&o.NoTest, "no-test", false, "do not score the version on its run's test split (the card then says so)")
	asJSON := fs.Bool("json", false, "print the card as JSON")
	c.RunE = func(*cobra.Command, []string) error {
		if o.Checkpoint == "" {
			return usagef("--checkpoint is required")
		}
		if err := needRepo(*dir, *name); err != nil {
			return err
		}
		if o.Parent < 0 {
			return usagef("--parent %d: want a version number", o.Parent)
		}
		o.Repo, o.Name = *dir, *name
		ctx, stop := registryContext(e)
		defer stop()
		p, err := repo.Publish(ctx, o)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e, p.Card)
		}
		fmt.Fprintf(e.stdout, "published %s version %d: %s\n", o.Name, p.Version, p.Path)
		fmt.Fprintf(e.stdout, "  %s\n", cardSummary(p.Card))
		if p.Card.Test.Error != "" {
			fmt.Fprintf(e.stderr, "tapeml publish: not tested: %s\n", p.Card.Test.Error)
		}
		if o.Label != "" {
			fmt.Fprintf(e.stdout, "  label %s → %d\n", o.Label, p.Version)
		}
		return nil
	}
	return c
}

// cardSummary is a card on one line: kind, test metrics, data hash.
func cardSummary(c *repo.Card) string {
	parts := []string{c.Kind}
	if c.Test.Error == "" {
		parts = append(parts, fmt.Sprintf("test n=%d %s", c.Test.N, formatMetrics(c.Test.Metrics, 3)))
	}
	if c.Data.SHA256 != "" {
		parts = append(parts, "data sha256 "+c.Data.SHA256[:12])
	}
	if c.Privacy != nil {
		parts = append(parts, fmt.Sprintf("DP ε=%.3g δ=%g", c.Privacy.Epsilon, c.Privacy.Delta))
	}
	if c.Quantization != nil {
		parts = append(parts, c.Quantization.Format)
	}
	return strings.Join(parts, ", ")
}

// formatMetrics words up to n metrics: "accuracy 0.9500 loss 0.1234".
func formatMetrics(ms []repo.Metric, n int) string {
	var parts []string
	for _, m := range ms {
		if n >= 0 && len(parts) == n {
			break
		}
		v := "NaN"
		if m.Value != nil {
			v = fmt.Sprintf("%.4f", *m.Value)
		}
		parts = append(parts, m.Name+" "+v)
	}
	return strings.Join(parts, " ")
}

func versionsCmd(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "versions --repo DIR --name NAME [--server URL] [--json]",
		Short: "list a model's versions: labels, test metrics, size, creation time and, with --server, their state there",
		Args:  noArgs,
	}
	fs := c.Flags()
	dir, name := repoFlags(fs)
	server := fs.String("server", "", "a running server (http://host:port) to ask which versions it serves")
	asJSON := fs.Bool("json", false, "print one JSON array")
	c.RunE = func(*cobra.Command, []string) error {
		if err := needRepo(*dir, *name); err != nil {
			return err
		}
		vs, err := repo.List(*dir, *name)
		if err != nil {
			return err
		}
		if *server != "" {
			ctx, stop := registryContext(e)
			defer stop()
			states, err := repo.ServerStates(ctx, nil, *server, *name)
			if err != nil {
				return err
			}
			for i := range vs {
				vs[i].State = "not loaded"
				if s, ok := states[vs[i].Version]; ok {
					vs[i].State = s
				}
			}
		}
		if *asJSON {
			if vs == nil {
				vs = []repo.VersionInfo{}
			}
			return printJSON(e, vs)
		}
		if len(vs) == 0 {
			fmt.Fprintf(e.stdout, "%s has no versions in %s\n", *name, *dir)
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		head := "VERSION\tLABELS\tKIND\tTEST\tSIZE\tCREATED"
		if *server != "" {
			head += "\tSERVER"
		}
		fmt.Fprintln(tw, head)
		for _, v := range vs {
			kind, test := "-", "-"
			if v.Card != nil {
				kind, test = v.Card.Kind, formatMetrics(v.Card.Test.Metrics, 2)
				if v.Card.Test.Error != "" {
					test = "not tested"
				}
			} else {
				test = v.CardError
			}
			row := fmt.Sprintf("%d\t%s\t%s\t%s\t%s\t%s", v.Version, orDash(strings.Join(v.Labels, ",")), kind, test,
				humanBytes(v.Size), v.Created.Local().Format(time.DateTime))
			if *server != "" {
				row += "\t" + v.State
			}
			fmt.Fprintln(tw, row)
		}
		return tw.Flush()
	}
	return c
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

func compareCmd(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "compare --repo DIR --name NAME A B [--data PATH] [--show N] [--json]",
		Short: "score two versions on the same data: metrics side by side, agreement, per-class changes, the examples they disagree on most",
	}
	fs := c.Flags()
	dir, name := repoFlags(fs)
	var o repo.CompareOptions
	fs.StringVar(&o.Data, "data", "", "score both on this data's test split (default: version A's run data)")
	fs.IntVar(&o.Show, "show", 5, "show this many of the examples the two disagree on most")
	asJSON := fs.Bool("json", false, "print one JSON object")
	c.Args = func(_ *cobra.Command, args []string) error {
		if len(args) != 2 {
			return usagef("want two versions, A and B (numbers or labels), got %d arguments", len(args))
		}
		return nil
	}
	c.RunE = func(_ *cobra.Command, args []string) error {
		if err := needRepo(*dir, *name); err != nil {
			return err
		}
		if o.Show < 0 {
			return usagef("--show %d: want 0 or more", o.Show)
		}
		vs, err := repo.List(*dir, *name)
		if err != nil {
			return err
		}
		var models [2]*tapeml.Model
		var names [2]string
		for i, arg := range args {
			v, err := pickVersion(vs, arg)
			if err != nil {
				return err
			}
			names[i] = strconv.FormatInt(v.Version, 10)
			if models[i], err = tapeml.Load(repo.LoadPath(v.Path)); err != nil {
				return err
			}
		}
		ctx, stop := registryContext(e)
		defer stop()
		r, err := repo.Compare(ctx, models[0], models[1], names[0], names[1], o)
		if err != nil {
			return err
		}
		if *asJSON {
			return printJSON(e, r)
		}
		printComparison(e, r)
		return nil
	}
	return c
}

// pickVersion finds a version by number or label.
func pickVersion(vs []repo.VersionInfo, arg string) (repo.VersionInfo, error) {
	for _, v := range vs {
		if strconv.FormatInt(v.Version, 10) == arg {
			return v, nil
		}
		for _, l := range v.Labels {
			if l == arg {
				return v, nil
			}
		}
	}
	return repo.VersionInfo{}, usagef("no version or label %q (see tapeml versions)", arg)
}

func printComparison(e env, r *repo.Comparison) {
	fmt.Fprintf(e.stdout, "versions %s and %s on the test split of %s (n=%d)\n\n", r.A.Name, r.B.Name, r.Data, r.N)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "metric\t%s\t%s\tchange\n", r.A.Name, r.B.Name)
	for i, m := range r.A.Metrics {
		if i >= len(r.B.Metrics) || r.B.Metrics[i].Name != m.Name {
			continue
		}
		b := r.B.Metrics[i]
		change := "-"
		if m.Value != nil && b.Value != nil {
			change = fmt.Sprintf("%+.4f", *b.Value-*m.Value)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Name, metricValue(m.Value), metricValue(b.Value), change)
	}
	tw.Flush()
	if r.Classes == nil {
		return
	}
	fmt.Fprintf(e.stdout, "\nagreement %.4f (%d of %d predictions the same)\n", r.Agreement, r.Agree, r.N)
	if r.Resplit {
		fmt.Fprintf(e.stdout, "(%s was trained with seed %d, %s with %d: predictions are compared on %s's split; metrics are each one's own, as eval reports them)\n",
			r.A.Name, r.A.Seed, r.B.Name, r.B.Seed, r.A.Name)
	}
	if len(r.PerClass) > 0 {
		fmt.Fprintln(e.stdout)
		tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "class\tsupport\trecall %s\trecall %s\tF1 %s\tF1 %s\tF1 change\n", r.A.Name, r.B.Name, r.A.Name, r.B.Name)
		for _, c := range r.PerClass {
			fmt.Fprintf(tw, "%s\t%d\t%.4f\t%.4f\t%.4f\t%.4f\t%+.4f\n", c.Class, c.Support, c.RecallA, c.RecallB, c.F1A, c.F1B, c.F1B-c.F1A)
		}
		tw.Flush()
	}
	if len(r.Disagree) > 0 {
		fmt.Fprintf(e.stdout, "\nthe %d examples they disagree on most:\n", len(r.Disagree))
		tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "example\ttrue\t%s\t%s\tdistance\n", r.A.Name, r.B.Name)
		for _, d := range r.Disagree {
			ex := d.Source
			if ex == "" {
				ex = fmt.Sprintf("#%d of the test split", d.Index)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s %.3f\t%s %.3f\t%.3f\n", ex, d.True, d.A, d.PA, d.B, d.PB, d.Distance)
		}
		tw.Flush()
	}
}

func metricValue(v *float64) string {
	if v == nil {
		return "NaN"
	}
	return fmt.Sprintf("%.4f", *v)
}

func promoteCmd(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "promote --repo DIR --name NAME --label L --version V",
		Short: "point a label at a version (config.json, atomically), recording the move for rollback",
		Args:  noArgs,
	}
	fs := c.Flags()
	dir, name := repoFlags(fs)
	label := fs.String("label", "", "the label to move (stable, canary, …)")
	version := fs.Int64("version", 0, "the version it names from now on")
	c.RunE = func(*cobra.Command, []string) error {
		if err := needRepo(*dir, *name); err != nil {
			return err
		}
		switch {
		case *label == "":
			return usagef("--label is required")
		case *version < 1:
			return usagef("--version is required: a version number (see tapeml versions)")
		}
		ctx, stop := registryContext(e)
		defer stop()
		m, err := repo.Promote(ctx, *dir, *name, *label, *version, repo.LabelOptions{})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: label %s → %d (was %s)\n", *name, m.Label, m.To, versionOrNone(m.From))
		return nil
	}
	return c
}

func rollbackCmd(e env) *cobra.Command {
	c := &cobra.Command{
		Use:   "rollback --repo DIR --name NAME --label L",
		Short: "undo a label's last move (promote or publish --label), from the recorded history",
		Args:  noArgs,
	}
	fs := c.Flags()
	dir, name := repoFlags(fs)
	label := fs.String("label", "", "the label to move back")
	c.RunE = func(*cobra.Command, []string) error {
		if err := needRepo(*dir, *name); err != nil {
			return err
		}
		if *label == "" {
			return usagef("--label is required")
		}
		ctx, stop := registryContext(e)
		defer stop()
		m, err := repo.Rollback(ctx, *dir, *name, *label, repo.LabelOptions{})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s: label %s → %s (was %d; history in %s)\n", *name, m.Label, versionOrNone(m.To), m.From,
			filepath.Join(*dir, *name, repo.HistoryFile))
		return nil
	}
	return c
}

func versionOrNone(v int64) string {
	if v == 0 {
		return "none"
	}
	return strconv.FormatInt(v, 10)
}
