package recsys

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/tapeml/tapeml/internal/safeio"
)

// Item is an item's metadata.
type Item struct {
	ID     string   `json:"id"` // the raw id, as in the ratings file
	Title  string   `json:"title"`
	Genres []string `json:"genres,omitempty"`
}

// Catalog is item metadata by raw id.
type Catalog struct {
	Items map[string]Item
	// Source is the file it was read from.
	Source string
}

// Title returns the title of raw item id, and "" when it is unknown.
func (c *Catalog) Title(id string) string {
	if c == nil {
		return ""
	}
	return c.Items[id].Title
}

// ItemFormat is an item metadata layout.
type ItemFormat string

// The MovieLens item files.
const (
	// MoviesCSV is movies.csv: movieId,title,genres with a header; titles
	// holding commas are quoted; genres are separated by "|", and
	// "(no genres listed)" means none.
	MoviesCSV ItemFormat = "movies.csv"
	// UItem is ml-100k's u.item: id|title|release date|video release
	// date|IMDb URL followed by 19 0/1 genre flags, in Latin-1.
	UItem ItemFormat = "u.item"
	// MoviesDAT is movies.dat of ml-1m and ml-10m: MovieID::Title::Genres
	// (Latin-1 in ml-1m, UTF-8 in ml-10m).
	MoviesDAT ItemFormat = "movies.dat"
)

// uItemGenres are ml-100k's genres in u.item's flag order (its u.genre).
var uItemGenres = []string{"unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
	"Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
	"Thriller", "War", "Western"}

// ReadItems reads item metadata. format may be empty: it is then taken from
// the file name (.csv → movies.csv, .item → u.item, .dat → movies.dat).
// Lines that are not valid UTF-8 are decoded as Latin-1, which is what
// u.item and ml-1m's movies.dat are in. A malformed line or a repeated id is
// an error naming the line.
func ReadItems(path string, format ItemFormat) (*Catalog, error) {
	if format == "" {
		switch base := strings.ToLower(filepath.Base(path)); {
		case strings.HasSuffix(base, ".csv"):
			format = MoviesCSV
		case strings.HasSuffix(base, ".item"):
			format = UItem
		case strings.HasSuffix(base, ".dat"):
			format = MoviesDAT
		default:
			return nil, fmt.Errorf("items: %s: cannot tell the format from the name: want movies.csv, u.item or movies.dat", path)
		}
	}
	// A regular file only: a FIFO would block, /dev/zero never end.
	f, _, err := safeio.Open(path, MaxItemsBytes)
	if err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	defer f.Close()
	return ParseItems(f, path, format)
}

// Limits of item metadata files: variables, so that a program can raise
// them for an unusual catalogue.
var (
	// MaxItemsBytes bounds an item file (1 GiB; MovieLens' largest
	// movies.csv is 4 MB).
	MaxItemsBytes int64 = 1 << 30
	// MaxItemLine bounds one line, and one CSV record (1 MiB).
	MaxItemLine = 1 << 20
)

// ParseItems reads item metadata from r; name is used in errors.
func ParseItems(r io.Reader, name string, format ItemFormat) (*Catalog, error) {
	c := &Catalog{Items: map[string]Item{}, Source: name}
	firstLine := map[string]int{}
	add := func(line int, it Item) error {
		if it.ID == "" {
			return fmt.Errorf("%s:%d: empty item id", name, line)
		}
		if prev, ok := firstLine[it.ID]; ok {
			return fmt.Errorf("%s:%d: item id %q was already defined at line %d", name, line, it.ID, prev)
		}
		firstLine[it.ID] = line
		c.Items[it.ID] = it
		return nil
	}
	switch format {
	case MoviesCSV:
		// Lines and records (a quoted title may span lines) are bounded.
		bounded := safeio.NewRecords(&latin1Fallback{r: bufio.NewReader(r), max: MaxItemLine}, int64(MaxItemLine))
		cr := csv.NewReader(bounded)
		cr.FieldsPerRecord = -1
		header, err := cr.Read()
		if err == io.EOF {
			return nil, fmt.Errorf("%s: no items: the file is empty", name)
		}
		if err != nil {
			return nil, fmt.Errorf("%s:1: %w", name, err)
		}
		bounded.Mark(cr.InputOffset())
		idCol, titleCol, genreCol := -1, -1, -1
		for k, h := range header {
			switch strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "\ufeff")) {
			case "movieid", "itemid", "item_id", "movie_id":
				idCol = k
			case "title":
				titleCol = k
			case "genres":
				genreCol = k
			}
		}
		if idCol < 0 || titleCol < 0 {
			return nil, fmt.Errorf("%s:1: header %q: expected columns movieId and title (and optionally genres)", name, strings.Join(header, ","))
		}
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			var perr *csv.ParseError
			if errors.As(err, &perr) {
				return nil, fmt.Errorf("%s:%d: %v", name, perr.Line, perr.Err)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			bounded.Mark(cr.InputOffset())
			line, _ := cr.FieldPos(0)
			if len(rec) != len(header) {
				return nil, fmt.Errorf("%s:%d: %d fields, expected %d (%s); quote titles that contain commas", name, line, len(rec), len(header), strings.Join(header, ","))
			}
			it := Item{ID: strings.TrimSpace(rec[idCol]), Title: rec[titleCol]}
			if genreCol >= 0 {
				it.Genres = splitGenres(rec[genreCol])
			}
			if err := add(line, it); err != nil {
				return nil, err
			}
		}
	case UItem, MoviesDAT:
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), MaxItemLine)
		for line := 1; sc.Scan(); line++ {
			text := strings.TrimRight(decodeLatin1IfInvalid(sc.Bytes()), "\r")
			if strings.TrimSpace(text) == "" {
				continue
			}
			var it Item
			if format == UItem {
				f := strings.Split(text, "|")
				if len(f) != 5+len(uItemGenres) {
					return nil, fmt.Errorf("%s:%d: %d fields, expected %d (id|title|release date|video release date|IMDb URL|19 genre flags)", name, line, len(f), 5+len(uItemGenres))
				}
				it = Item{ID: strings.TrimSpace(f[0]), Title: f[1]}
				for k, flag := range f[5:] {
					switch strings.TrimSpace(flag) {
					case "1":
						it.Genres = append(it.Genres, uItemGenres[k])
					case "0":
					default:
						return nil, fmt.Errorf("%s:%d: genre flag %d (%s) is %q, expected 0 or 1", name, line, k+1, uItemGenres[k], flag)
					}
				}
			} else {
				f := strings.Split(text, "::")
				if len(f) != 3 {
					return nil, fmt.Errorf("%s:%d: %d fields, expected 3 (MovieID::Title::Genres)", name, line, len(f))
				}
				it = Item{ID: strings.TrimSpace(f[0]), Title: f[1], Genres: splitGenres(f[2])}
			}
			if err := add(line, it); err != nil {
				return nil, err
			}
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	default:
		return nil, fmt.Errorf("%s: unknown item format %q: want movies.csv, u.item or movies.dat", name, format)
	}
	if len(c.Items) == 0 {
		return nil, fmt.Errorf("%s: no items: the file is empty", name)
	}
	return c, nil
}

func splitGenres(s string) []string {
	s = strings.TrimSpace(s)
	if s == "" || s == "(no genres listed)" {
		return nil
	}
	return strings.Split(s, "|")
}

// decodeLatin1IfInvalid returns b as a string, reading it as Latin-1 (each
// byte one code point) when it is not valid UTF-8. Latin-1 text with
// accented letters is practically never valid UTF-8, so a file already
// converted to UTF-8 is left alone.
func decodeLatin1IfInvalid(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	rs := make([]rune, len(b))
	for k, c := range b {
		rs[k] = rune(c)
	}
	return string(rs)
}

// latin1Fallback is a reader that converts each line that is not valid UTF-8
// from Latin-1, for movies.csv files saved in Latin-1; a line longer than
// max bytes is an error.
type latin1Fallback struct {
	r   *bufio.Reader
	buf []byte
	max int
}

func (l *latin1Fallback) Read(p []byte) (int, error) {
	for len(l.buf) == 0 {
		line, err := l.readLine()
		if len(line) > 0 {
			l.buf = []byte(decodeLatin1IfInvalid(line))
		}
		if err != nil {
			if len(l.buf) == 0 {
				return 0, err
			}
			break
		}
	}
	n := copy(p, l.buf)
	l.buf = l.buf[n:]
	return n, nil
}

// readLine reads up to and including the next newline, at most max bytes.
func (l *latin1Fallback) readLine() ([]byte, error) {
	var line []byte
	for {
		frag, err := l.r.ReadSlice('\n')
		if len(line)+len(frag) > l.max {
			return nil, safeio.TooLargef("a line is longer than the %d-byte limit", l.max)
		}
		line = append(line, frag...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}
