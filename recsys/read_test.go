package recsys

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestReadRatingsFormats(t *testing.T) {
	cases := []struct {
		file  string
		users []string
		items []string
		first Rating
		n     int
	}{
		{"testdata/ratings.csv", []string{"1", "2", "3"}, []string{"31", "1029", "10"}, Rating{0, 0, 2.5, 1260759144}, 5},
		{"testdata/u.data", []string{"196", "186", "22"}, []string{"242", "302", "377"}, Rating{0, 0, 3, 881250949}, 4},
		{"testdata/ratings.dat", []string{"1", "2"}, []string{"1193", "661"}, Rating{0, 0, 5, 978300760}, 3},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			d, rep, err := ReadRatings(c.file, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Ratings) != c.n || rep.Rows != c.n || rep.Skipped != 0 || rep.Duplicates != 0 {
				t.Errorf("%d ratings, report %+v; want %d rows, nothing skipped", len(d.Ratings), rep, c.n)
			}
			for k, id := range c.users {
				if got := d.Users.Raw(k); got != id {
					t.Errorf("user %d is %q, want %q", k, got, id)
				}
			}
			for k, id := range c.items {
				if got := d.Items.Raw(k); got != id {
					t.Errorf("item %d is %q, want %q", k, got, id)
				}
			}
			if d.Ratings[0] != c.first {
				t.Errorf("first rating %+v, want %+v", d.Ratings[0], c.first)
			}
		})
	}
}

func TestParseRatingsVariants(t *testing.T) {
	cases := []struct {
		name, text string
		opt        ReadOptions
		want       []Rating
	}{
		{"columns in another order, CRLF, BOM", "\ufeffmovieId,rating,userId\r\n7,4,u1\r\n8,3.5,u2\r\n", ReadOptions{Format: CSV},
			[]Rating{{0, 0, 4, 0}, {1, 1, 3.5, 0}}},
		{"quoted fields", "userId,movieId,rating,timestamp\n\"1\",\"2\",\"4.5\",\"10\"\n", ReadOptions{Format: CSV},
			[]Rating{{0, 0, 4.5, 10}}},
		{"sniffed tabs without timestamps", "1\t2\t3\n1\t3\t4\n", ReadOptions{},
			[]Rating{{0, 0, 3, 0}, {0, 1, 4, 0}}},
		{"sniffed double colons, blank last line", "5::6::1::99\n\n", ReadOptions{},
			[]Rating{{0, 0, 1, 99}}},
		{"another scale", "1\t2\t10\t1\n", ReadOptions{Scale: Scale{Min: 1, Max: 10}},
			[]Rating{{0, 0, 10, 1}}},
		{"duplicate pair: the last wins", "1\t2\t3\t1\n1\t3\t4\t2\n1\t2\t5\t3\n", ReadOptions{},
			[]Rating{{0, 1, 4, 2}, {0, 0, 5, 3}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, _, err := ParseRatings(strings.NewReader(c.text), "x", c.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.Ratings, c.want) {
				t.Errorf("ratings %+v, want %+v", d.Ratings, c.want)
			}
		})
	}
}

func TestParseRatingsDuplicatesReported(t *testing.T) {
	_, rep, err := ParseRatings(strings.NewReader("1,2,3,1\n1,2,4,2\n1,2,5,3\n"), "dups.csv", ReadOptions{Format: TSV})
	if err == nil {
		t.Fatal("comma-separated rows read as TSV: expected an error")
	}
	_, rep, err = ParseRatings(strings.NewReader("1\t2\t3\t1\n1\t2\t4\t2\n1\t2\t5\t3\n"), "dups", ReadOptions{})
	if err != nil || rep.Duplicates != 2 || !strings.Contains(rep.String(), "2 duplicate") {
		t.Errorf("report %+v (%v), want 2 duplicates", rep, err)
	}
}

func TestParseRatingsErrors(t *testing.T) {
	const header = "userId,movieId,rating,timestamp\n"
	cases := []struct {
		name, text string
		format     Format
		want       string
	}{
		{"empty file", "", CSV, "bad.csv: no ratings: the file is empty"},
		{"header only", header, CSV, "bad.csv: no ratings"},
		{"bad header", "a,b,c\n1,2,3\n", CSV, "bad.csv:1: header"},
		{"missing field", header + "1,2,4,5\n1,2\n", CSV, "bad.csv:3: 2 fields, expected 4"},
		{"non-numeric rating", header + "1,2,four,5\n", CSV, `bad.csv:2: rating "four" is not a number`},
		{"NaN rating", header + "1,2,NaN,5\n", CSV, `bad.csv:2: rating "NaN" is not a number`},
		{"rating above the scale", header + "1,2,4,5\n1,3,6,5\n", CSV, "bad.csv:3: rating 6 is outside the scale [0.5, 5]"},
		{"rating below the scale", "1\t2\t0\t5\n", TSV, "bad.csv:1: rating 0 is outside the scale"},
		{"bad timestamp", "1::2::3::yesterday\n", DAT, `bad.csv:1: timestamp "yesterday" is not an integer`},
		{"empty id", "1::::3::4\n", DAT, "bad.csv:1: empty user or item id"},
		{"too many fields", "1\t2\t3\t4\t5\n", TSV, "bad.csv:1: 5 fields, expected 4"},
		{"unknown format", "1,2,3\n", "xml", `unknown ratings format "xml"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ParseRatings(strings.NewReader(c.text), "bad.csv", ReadOptions{Format: c.format})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, _, err := ReadRatings("testdata/missing.csv", ReadOptions{}); err == nil || !strings.Contains(err.Error(), "missing.csv") {
		t.Errorf("missing file: error %v, want one naming it", err)
	}
	if _, _, err := ParseRatings(strings.NewReader("1\t2\t3\n"), "x", ReadOptions{Scale: Scale{Min: 5, Max: 1}}); err == nil {
		t.Error("inverted scale: expected an error")
	}
}

func TestParseRatingsSkipMalformed(t *testing.T) {
	text := "userId,movieId,rating,timestamp\n1,2,4,5\n1,3,x,5\n1,4\n2,2,9,1\n2,3,3,1\n"
	d, rep, err := ParseRatings(strings.NewReader(text), "some.csv", ReadOptions{SkipMalformed: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Ratings) != 2 || rep.Rows != 5 || rep.Skipped != 3 {
		t.Errorf("%d ratings, report %+v; want 2 kept of 5 rows, 3 skipped", len(d.Ratings), rep)
	}
	if len(rep.Examples) != 3 || !strings.HasPrefix(rep.Examples[0], "line 3:") || !strings.Contains(rep.String(), "3 malformed rows skipped") {
		t.Errorf("examples %q, report %q", rep.Examples, rep)
	}
	if _, _, err := ParseRatings(strings.NewReader("1\tx\t9\n"), "all-bad", ReadOptions{SkipMalformed: true}); err == nil || !strings.Contains(err.Error(), "all 1 rows were malformed") {
		t.Errorf("all rows bad: error %v", err)
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	d, _, err := ReadRatings("testdata/ratings.csv", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := WriteCSV(&b, d); err != nil {
		t.Fatal(err)
	}
	back, _, err := ParseRatings(strings.NewReader(b.String()), "round trip", ReadOptions{Format: CSV})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back.Ratings, d.Ratings) {
		t.Errorf("round trip changed the ratings:\n%s", b.String())
	}
}

func TestReadItems(t *testing.T) {
	cases := []struct {
		file   string
		id     string
		title  string
		genres []string
		n      int
	}{
		{"testdata/movies.csv", "11", "American President, The (1995)", []string{"Comedy", "Drama", "Romance"}, 3},
		{"testdata/movies.csv", "182727", `Bicentennial Man, the "Robot" (1999)`, nil, 3},
		{"testdata/u.item", "1682", "Misérables, Les (1995)", []string{"Drama"}, 2},
		{"testdata/u.item", "1", "Toy Story (1995)", []string{"Animation", "Children's", "Comedy"}, 2},
		{"testdata/movies.dat", "73", "Misérables, Les (1995)", []string{"Drama", "Musical"}, 2},
	}
	for _, c := range cases {
		t.Run(c.file+"/"+c.id, func(t *testing.T) {
			cat, err := ReadItems(c.file, "")
			if err != nil {
				t.Fatal(err)
			}
			it := cat.Items[c.id]
			if len(cat.Items) != c.n || it.Title != c.title || !reflect.DeepEqual(it.Genres, c.genres) || cat.Title(c.id) != c.title {
				t.Errorf("%d items; %q = %+v, want %q %v", len(cat.Items), c.id, it, c.title, c.genres)
			}
		})
	}
}

func TestParseItemsErrors(t *testing.T) {
	flags := strings.Repeat("|0", 19)
	cases := []struct {
		name, text string
		format     ItemFormat
		want       string
	}{
		{"empty", "", MoviesCSV, "items.txt: no items: the file is empty"},
		{"unquoted comma", "movieId,title,genres\n1,A, B,Drama\n", MoviesCSV, "items.txt:2: 4 fields, expected 3"},
		{"bad quote", "movieId,title,genres\n1,\"A\"x,Drama\n", MoviesCSV, "items.txt:2:"},
		{"no title column", "movieId,name\n1,A\n", MoviesCSV, "items.txt:1: header"},
		{"duplicate id", "1::A::Drama\n1::B::Drama\n", MoviesDAT, `items.txt:2: item id "1" was already defined at line 1`},
		{"dat fields", "1::A\n", MoviesDAT, "items.txt:1: 2 fields, expected 3"},
		{"u.item fields", "1|A|x|y|z|0|1\n", UItem, "items.txt:1: 7 fields, expected 24"},
		{"u.item flag", "1|A|x|y|z" + strings.Repeat("|0", 18) + "|2\n", UItem, `genre flag 19 (Western) is "2"`},
		{"u.item empty id", " |A|x|y|z" + flags + "\n", UItem, "items.txt:1: empty item id"},
		{"unknown format", "x", "items.xml", "unknown item format"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseItems(strings.NewReader(c.text), "items.txt", c.format)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
	if _, err := ReadItems("testdata/ratings.data.txt", ""); err == nil || !strings.Contains(err.Error(), "cannot tell the format") {
		t.Errorf("unknown name: %v", err)
	}
}

func TestIDMap(t *testing.T) {
	var m IDMap
	for _, id := range []string{"10", "3", "10", "x"} {
		m.Add(id)
	}
	if m.Len() != 3 || m.Raw(1) != "3" || m.Raw(3) != "" || m.Raw(-1) != "" {
		t.Errorf("map %+v", m)
	}
	if i, ok := m.Index("x"); !ok || i != 2 {
		t.Errorf("Index(x) = %d, %v", i, ok)
	}
	if i, ok := m.Index("nope"); ok || i != -1 {
		t.Errorf("Index(nope) = %d, %v; want -1, false", i, ok)
	}
	b, err := json.Marshal(&m)
	if err != nil || string(b) != `["10","3","x"]` {
		t.Fatalf("JSON %s, %v", b, err)
	}
	var back IDMap
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, m) {
		t.Errorf("round trip %+v (%v), want %+v", back, err, m)
	}
	if err := json.Unmarshal([]byte(`["1","2","1"]`), &back); err == nil || !strings.Contains(err.Error(), `"1" appears at positions 0 and 2`) {
		t.Errorf("duplicate ids: %v", err)
	}
	if err := json.Unmarshal([]byte(`{"a":1}`), &back); err == nil {
		t.Error("an object: expected an error")
	}
	if b, _ := json.Marshal(&IDMap{}); string(b) != "[]" {
		t.Errorf("empty map marshals to %s", b)
	}
}
