package recsys

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tapeml/tapeml/internal/safeio"
)

// Format is a ratings file layout.
type Format string

// The MovieLens layouts.
const (
	// CSV is ratings.csv of ml-latest, ml-latest-small and ml-25m: a header
	// line naming the columns (userId, movieId, rating, timestamp; itemId,
	// item_id, user_id are accepted too, in any order, timestamp optional),
	// then comma-separated rows.
	CSV Format = "csv"
	// TSV is ml-100k's u.data: user, item, rating, timestamp separated by
	// tabs, no header.
	TSV Format = "tsv"
	// DAT is ratings.dat of ml-1m and ml-10m: UserID::MovieID::Rating::Timestamp,
	// no header.
	DAT Format = "dat"
)

// ReadOptions tunes ReadRatings. The zero value reads MovieLens files
// strictly.
type ReadOptions struct {
	// Format forces a layout; default: from the file name (.csv → CSV,
	// .dat → DAT, u.data, .data, .tsv → TSV), else from the first line.
	Format Format
	// Scale is the range a rating must fall in; default 0.5–5.
	Scale Scale
	// SkipMalformed skips bad rows (missing or extra fields, unparsable or
	// out-of-scale values) instead of failing on the first, and counts them
	// in the report; default false.
	SkipMalformed bool
}

// ReadReport says what a reader did besides returning ratings.
type ReadReport struct {
	Rows       int      // data rows read (the header excluded)
	Skipped    int      // malformed rows skipped (SkipMalformed only)
	Examples   []string // the first few skipped rows' errors
	Duplicates int      // rows whose (user, item) pair came again later: the last one wins
}

func (r ReadReport) String() string {
	s := fmt.Sprintf("%d rows", r.Rows)
	if r.Skipped > 0 {
		s += fmt.Sprintf(", %d malformed rows skipped (first: %s)", r.Skipped, r.Examples[0])
	}
	if r.Duplicates > 0 {
		s += fmt.Sprintf(", %d duplicate (user, item) pairs: the last rating kept", r.Duplicates)
	}
	return s
}

// maxExamples bounds ReadReport.Examples.
const maxExamples = 5

// ReadRatings reads a MovieLens-style ratings file.
func ReadRatings(path string, opt ReadOptions) (*Dataset, ReadReport, error) {
	// A FIFO or device would block or never end; ratings are streamed, so
	// a regular file of any size is fine.
	f, _, err := safeio.Open(path, -1)
	if err != nil {
		return nil, ReadReport{}, fmt.Errorf("ratings: %w", err)
	}
	defer f.Close()
	if opt.Format == "" {
		opt.Format = formatOfName(path)
	}
	return ParseRatings(f, path, opt)
}

// formatOfName guesses the layout from a file name; "" means sniff.
func formatOfName(path string) Format {
	base := strings.ToLower(filepath.Base(path))
	switch {
	case strings.HasSuffix(base, ".csv"):
		return CSV
	case strings.HasSuffix(base, ".dat"):
		return DAT
	case base == "u.data" || strings.HasSuffix(base, ".data") || strings.HasSuffix(base, ".tsv"):
		return TSV
	}
	return ""
}

// sniff guesses the layout from the first line.
func sniff(line string) Format {
	switch {
	case strings.Contains(line, "::"):
		return DAT
	case strings.Contains(line, "\t"):
		return TSV
	}
	return CSV
}

// columns says where each field of a row is.
type columns struct {
	user, item, rating, time int // time −1: absent
	n                        int // fields per row
}

var fixedColumns = columns{user: 0, item: 1, rating: 2, time: 3, n: 4}

// ParseRatings reads ratings from r; name is used in errors (the file name).
func ParseRatings(r io.Reader, name string, opt ReadOptions) (*Dataset, ReadReport, error) {
	var rep ReadReport
	opt.Scale = opt.Scale.orDefault()
	if err := opt.Scale.Validate(); err != nil {
		return nil, rep, fmt.Errorf("%s: %w", name, err)
	}
	d := &Dataset{Users: &IDMap{}, Items: &IDMap{}, Scale: opt.Scale, Source: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	format := opt.Format
	cols := fixedColumns
	sep := ""
	fail := func(line int, msg string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(msg, args...))
	}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimRight(sc.Text(), "\r")
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff") // a byte-order mark
			if format == "" {
				format = sniff(text)
			}
			switch format {
			case CSV:
				sep = ","
				c, err := csvHeader(text)
				if err != nil {
					return nil, rep, fail(line, "%v", err)
				}
				cols = c
				continue
			case TSV:
				sep = "\t"
			case DAT:
				sep = "::"
			default:
				return nil, rep, fmt.Errorf("%s: unknown ratings format %q: want csv, tsv or dat", name, format)
			}
		}
		if strings.TrimSpace(text) == "" {
			continue // a blank line, typically the last
		}
		rep.Rows++
		rt, err := parseRow(text, sep, cols, opt.Scale, d)
		if err != nil {
			if !opt.SkipMalformed {
				return nil, rep, fail(line, "%v", err)
			}
			rep.Skipped++
			if len(rep.Examples) < maxExamples {
				rep.Examples = append(rep.Examples, fmt.Sprintf("line %d: %v", line, err))
			}
			continue
		}
		d.Ratings = append(d.Ratings, rt)
	}
	if err := sc.Err(); err != nil {
		return nil, rep, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(d.Ratings) == 0 {
		if rep.Skipped > 0 {
			return nil, rep, fmt.Errorf("%s: no valid ratings: all %d rows were malformed (first: %s)", name, rep.Skipped, rep.Examples[0])
		}
		return nil, rep, fmt.Errorf("%s: no ratings: the file is empty", name)
	}
	d.Ratings, rep.Duplicates = dropDuplicates(d.Ratings)
	return d, rep, nil
}

// csvHeader finds the columns in a ratings.csv header.
func csvHeader(text string) (columns, error) {
	c := columns{user: -1, item: -1, rating: -1, time: -1}
	fields := strings.Split(text, ",")
	c.n = len(fields)
	for k, f := range fields {
		switch strings.ToLower(strings.Trim(strings.TrimSpace(f), `"`)) {
		case "userid", "user_id", "user":
			c.user = k
		case "movieid", "movie_id", "itemid", "item_id", "item", "movie":
			c.item = k
		case "rating":
			c.rating = k
		case "timestamp", "time":
			c.time = k
		}
	}
	if c.user < 0 || c.item < 0 || c.rating < 0 {
		return c, fmt.Errorf("header %q: expected columns userId, movieId (or itemId) and rating, and optionally timestamp", text)
	}
	return c, nil
}

// parseRow parses one data row, adding its ids to d's maps.
func parseRow(text, sep string, cols columns, scale Scale, d *Dataset) (Rating, error) {
	var fields []string
	if sep == "," && strings.Contains(text, `"`) {
		rec, err := csv.NewReader(strings.NewReader(text)).Read()
		if err != nil {
			return Rating{}, fmt.Errorf("unparsable CSV row %q: %v", text, err)
		}
		fields = rec
	} else {
		fields = strings.Split(text, sep)
	}
	want := cols.n
	if len(fields) != want && !(cols.time == 3 && len(fields) == 3 && sep != ",") {
		return Rating{}, fmt.Errorf("%d fields, expected %d (user, item, rating, timestamp) in %q", len(fields), want, text)
	}
	user, item := strings.TrimSpace(fields[cols.user]), strings.TrimSpace(fields[cols.item])
	if user == "" || item == "" {
		return Rating{}, fmt.Errorf("empty user or item id in %q", text)
	}
	rs := strings.TrimSpace(fields[cols.rating])
	v, err := strconv.ParseFloat(rs, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return Rating{}, fmt.Errorf("rating %q is not a number", rs)
	}
	if !scale.Contains(v) {
		return Rating{}, fmt.Errorf("rating %v is outside the scale [%v, %v]", v, scale.Min, scale.Max)
	}
	var ts int64
	if cols.time >= 0 && cols.time < len(fields) {
		s := strings.TrimSpace(fields[cols.time])
		if ts, err = strconv.ParseInt(s, 10, 64); err != nil {
			return Rating{}, fmt.Errorf("timestamp %q is not an integer (Unix seconds)", s)
		}
	}
	return Rating{User: int32(d.Users.Add(user)), Item: int32(d.Items.Add(item)), Value: float32(v), Time: ts}, nil
}

// dropDuplicates keeps the last rating of each (user, item) pair, in file
// order, and counts the others.
func dropDuplicates(rs []Rating) ([]Rating, int) {
	order := make([]int32, len(rs))
	for k := range order {
		order[k] = int32(k)
	}
	slices.SortFunc(order, func(a, b int32) int {
		ra, rb := rs[a], rs[b]
		if ra.User != rb.User {
			return int(ra.User - rb.User)
		}
		if ra.Item != rb.Item {
			return int(ra.Item - rb.Item)
		}
		return int(a - b)
	})
	var dead []bool
	dups := 0
	for k := 1; k < len(order); k++ {
		a, b := rs[order[k-1]], rs[order[k]]
		if a.User == b.User && a.Item == b.Item {
			if dead == nil {
				dead = make([]bool, len(rs))
			}
			dead[order[k-1]] = true
			dups++
		}
	}
	if dups == 0 {
		return rs, 0
	}
	out := rs[:0]
	for k, r := range rs {
		if !dead[k] {
			out = append(out, r)
		}
	}
	return out, dups
}

// WriteCSV writes ratings in ratings.csv layout (userId,movieId,rating,timestamp)
// with d's raw ids: the format of the built-in sample and of generated data.
func WriteCSV(w io.Writer, d *Dataset) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("userId,movieId,rating,timestamp\n")
	var buf bytes.Buffer
	for _, r := range d.Ratings {
		buf.Reset()
		buf.WriteString(d.Users.Raw(int(r.User)))
		buf.WriteByte(',')
		buf.WriteString(d.Items.Raw(int(r.Item)))
		buf.WriteByte(',')
		buf.WriteString(strconv.FormatFloat(float64(r.Value), 'f', -1, 32))
		buf.WriteByte(',')
		buf.WriteString(strconv.FormatInt(r.Time, 10))
		buf.WriteByte('\n')
		if _, err := bw.Write(buf.Bytes()); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// BuiltinLoader loads a built-in ratings set and its item catalogue (nil
// for none), registered with dataset.RegisterBuiltin.
type BuiltinLoader func() (*Dataset, *Catalog, error)
