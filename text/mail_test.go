package text

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// msg joins lines with CRLF, as mail travels.
func msg(lines ...string) string { return strings.Join(lines, "\r\n") }

func b64(s string) string {
	enc := base64.StdEncoding.EncodeToString([]byte(s))
	var b strings.Builder
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	return b.String() + enc
}

// mailCases are constructed messages and the text Clean{} gives them. They
// seed FuzzClean as well.
var mailCases = []struct {
	name, in, want string
}{
	{"base64 body",
		msg("From: a@example.com", "Subject: hi", "MIME-Version: 1.0",
			"Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "",
			b64("Grüße aus Köln.\r\nSee you at the meeting on Monday, the agenda follows.\r\n")),
		"Grüße aus Köln.\r\nSee you at the meeting on Monday, the agenda follows.\r\n"},
	{"base64 without padding, broken at the end",
		msg("Content-Transfer-Encoding: BASE64", "", "aGVsbG8gd29ybGQ", "!!!"),
		"hello wor"},
	{"quoted-printable Latin-1",
		msg("Subject: x", "Content-Type: text/plain; charset=\"ISO-8859-1\"", "Content-Transfer-Encoding: quoted-printable", "",
			"Caf=E9 cr=E8me =3D 3 =80 ", "long line joined=", "here"),
		"Café crème = 3 €\r\nlong line joinedhere"}, // ISO-8859-1 is read as Windows-1252 (WHATWG), so =80 is €
	{"Windows-1252 euro",
		msg("Subject: x", "Content-Type: text/plain; charset=windows-1252", "Content-Transfer-Encoding: quoted-printable", "",
			"only =8099 =93today=94"),
		"only €99 “today”"},
	{"multipart/alternative prefers text/plain",
		msg("Subject: alt", "MIME-Version: 1.0", `Content-Type: multipart/alternative; boundary="XYZ"`, "",
			"This is a multi-part message in MIME format.", "",
			"--XYZ", "Content-Type: text/html; charset=us-ascii", "", "<html><body><p>the <b>HTML</b> version</p></body></html>",
			"--XYZ", "Content-Type: text/plain; charset=us-ascii", "", "the plain version",
			"--XYZ--", "epilogue"),
		"the plain version"},
	{"multipart/alternative with an empty text/plain uses the HTML",
		msg("Content-Type: multipart/alternative; boundary=b1", "",
			"--b1", "Content-Type: text/plain", "", "   ",
			"--b1", "Content-Type: text/html", "Content-Transfer-Encoding: quoted-printable", "",
			"<p>Click <a href=3D\"http://x\">here</a>&nbsp;now</p>",
			"--b1--"),
		"Click here now\n"},
	{"nested mixed > alternative > related, attachments skipped",
		msg("From: shop@example.com", "Subject: =?UTF-8?B?w5xiZXI=?= your order", "MIME-Version: 1.0",
			`Content-Type: multipart/mixed; boundary="outer"`, "",
			"preamble", "--outer",
			`Content-Type: multipart/alternative; boundary="mid"`, "",
			"--mid", "Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: quoted-printable", "",
			"Your order n=B0 12 has shipped.",
			"--mid", `Content-Type: multipart/related; boundary="inner"`, "",
			"--inner", "Content-Type: text/html; charset=utf-8", "", "<p>Your order n° 12 has <b>shipped</b>.</p><img src=\"cid:logo\">",
			"--inner", "Content-Type: image/png", "Content-Transfer-Encoding: base64", "Content-ID: <logo>", "", b64("\x89PNG\r\n\x1a\n not text"),
			"--inner--",
			"--mid--",
			"--outer", "Content-Type: application/pdf; name=invoice.pdf", "Content-Transfer-Encoding: base64",
			"Content-Disposition: attachment; filename=invoice.pdf", "", b64("%PDF-1.4 binary stuff"),
			"--outer", "Content-Type: text/plain; name=notes.txt", "Content-Disposition: attachment; filename=notes.txt", "", "attached notes, not the message",
			"--outer", "Content-Type: text/plain", "", "Thanks for shopping.",
			"--outer--"),
		"Your order n° 12 has shipped.\nThanks for shopping."},
	{"alternative holding a related HTML and no plain text",
		msg("Content-Type: multipart/alternative; boundary=a", "",
			"--a", "Content-Type: multipart/related; boundary=r", "",
			"--r", "Content-Type: text/html; charset=gb2312", "Content-Transfer-Encoding: base64", "", b64("<p>\xd6\xd0\xce\xc4</p>"),
			"--r--", "--a--"),
		"中文\n"},
	{"GB2312 text",
		msg("Subject: =?GB2312?B?1tDOxA==?=", "Content-Type: text/plain; charset=GB2312", "Content-Transfer-Encoding: 8bit", "",
			"\xd6\xd0\xce\xc4 text"),
		"中文 text"},
	{"Big5, Shift_JIS, KOI8-R, EUC-KR and Windows-1251 parts",
		msg("Content-Type: multipart/mixed; boundary=cs", "",
			"--cs", "Content-Type: text/plain; charset=big5", "", "\xa4\xa4\xa4\xe5",
			"--cs", "Content-Type: text/plain; charset=Shift_JIS", "", "\x93\xfa\x96\x7b",
			"--cs", "Content-Type: text/plain; charset=koi8-r", "", "\xd0\xd2\xc9\xd7\xc5\xd4",
			"--cs", "Content-Type: text/plain; charset=ks_c_5601-1987", "", "\xc7\xd1\xb1\xb9",
			"--cs", "Content-Type: text/plain; charset=windows-1251", "", "\xef\xf0\xe8\xe2\xe5\xf2",
			"--cs--"),
		"中文\n日本\nпривет\n한국\nпривет"},
	{"undeclared 8-bit text is read as Windows-1252",
		msg("Subject: s", "", "na\xefve caf\xe9"),
		"naïve café"},
	{"an unknown charset is treated as none",
		msg("Content-Type: text/plain; charset=x-no-such-charset", "", "plain ascii"),
		"plain ascii"},
	{"malformed boundary: declared but never used",
		msg("Content-Type: multipart/mixed; boundary=\"nowhere\"", "", "--elsewhere", "just text", "--elsewhere--"),
		"--elsewhere\r\njust text\r\n--elsewhere--"},
	{"malformed boundary: no boundary parameter",
		msg("Content-Type: multipart/alternative", "", "body text"),
		"body text"},
	{"malformed parameters still give the boundary",
		msg("Content-Type: multipart/mixed; boundary=\"q1\";; charset=\"x", "", "--q1", "", "part one", "--q1--"),
		"part one"},
	{"undeclared multipart after a preamble",
		msg("Subject: s", "MIME-Version: 1.0", "", "This is a multipart MIME message.", "",
			"--= Multipart Boundary 0626", "Content-Type: text/plain", "", "the text",
			"--= Multipart Boundary 0626", "Content-Type: application/octet-stream", "Content-Transfer-Encoding: base64", "", b64("<html>attachment</html>"),
			"--= Multipart Boundary 0626--"),
		"the text"},
	{"truncated message keeps what arrived",
		msg("Content-Type: multipart/mixed; boundary=t", "",
			"--t", "Content-Type: text/plain", "", "first part",
			"--t", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: base64", "",
			b64("second part, cut short")[:20]),
		"first part\nsecond part, cu"}, // 20 base64 characters are 15 bytes
	{"a malformed part header ends the multipart",
		msg("Content-Type: multipart/mixed; boundary=m", "",
			"--m", "Content-Type: text/plain", "", "good part",
			"--m", "Content-Type text/plain no colon", "", "bad part",
			"--m--"),
		"good part"},
	{"forwarded message",
		msg("Subject: Fwd", "Content-Type: multipart/mixed; boundary=f", "",
			"--f", "Content-Type: text/plain", "", "see below",
			"--f", "Content-Type: message/rfc822", "",
			"From: b@example.com", "Subject: =?ISO-8859-1?Q?r=E9sum=E9?=", "Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: quoted-printable", "",
			"R=E9sum=E9 attached.",
			"--f--"),
		"see below\nRésumé attached."},
	{"HTML without a declared type is sniffed",
		msg("Subject: s", "", "<html><body><div>Buy&nbsp;now</div></body></html>"),
		"Buy now\n"},
}

func TestCleanMail(t *testing.T) {
	for _, tt := range mailCases {
		t.Run(tt.name, func(t *testing.T) {
			got := CleanOptions{}.Clean(tt.in)
			if got != tt.want {
				t.Errorf("Clean\n = %q\nwant %q", got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("not valid UTF-8: %q", got)
			}
		})
	}
}

func TestCleanMailOptions(t *testing.T) {
	in := msg("From someone  Mon Jun 25 21:59:46 2001",
		"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and",
		"  =?GB2312?B?1tDOxA==?= =?GB2312?B?1tDOxA==?=",
		"From: =?iso-8859-1?q?Andr=E9?= <a@example.com>",
		"X-Raw: caf\xe9",
		"Content-Type: text/plain; charset=utf-8",
		"Content-Transfer-Encoding: base64", "",
		b64("<div>bold</div> body"))
	for _, tt := range []struct {
		name string
		opt  CleanOptions
		want string
	}{
		{"default", CleanOptions{}, "bold\nbody\n"},
		{"headers kept decoded", CleanOptions{KeepHeaders: true},
			"From someone  Mon Jun 25 21:59:46 2001\n" +
				"Subject: Grüße and  中文中文\n" +
				"From: André <a@example.com>\n" +
				"X-Raw: café\n" +
				"Content-Type: text/plain; charset=utf-8\n" +
				"Content-Transfer-Encoding: base64\n\nbold\nbody\n"},
		{"HTML kept: the body as written", CleanOptions{KeepHTML: true}, b64("<div>bold</div> body")},
		{"both kept: unchanged", CleanOptions{KeepHeaders: true, KeepHTML: true}, in},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.opt.Clean(in); got != tt.want {
				t.Errorf("Clean\n = %q\nwant %q", got, tt.want)
			}
		})
	}
}

// nest wraps a text part in depth multiparts.
func nest(depth int, inner string) string {
	if depth == 0 {
		return "Content-Type: text/plain\r\n\r\n" + inner
	}
	b := fmt.Sprintf("b%d", depth)
	return msg("Content-Type: multipart/mixed; boundary="+b, "", "--"+b, nest(depth-1, inner), "--"+b+"--")
}

func TestCleanMailLimits(t *testing.T) {
	t.Run("depth", func(t *testing.T) {
		if got := (CleanOptions{}).Clean(nest(MaxMailDepth, "deep enough")); got != "deep enough" {
			t.Errorf("%d levels: %q", MaxMailDepth, got)
		}
		if got := (CleanOptions{}).Clean(nest(MaxMailDepth+1, "too deep")); got != "" {
			t.Errorf("%d levels: %q, want nothing", MaxMailDepth+1, got)
		}
	})
	t.Run("parts", func(t *testing.T) {
		lines := []string{"Content-Type: multipart/mixed; boundary=p", ""}
		for i := range MaxMailParts + 10 {
			lines = append(lines, "--p", "", fmt.Sprint("part", i))
		}
		got := CleanOptions{}.Clean(msg(append(lines, "--p--")...))
		parts := strings.Split(got, "\n")
		if len(parts) != MaxMailParts || parts[len(parts)-1] != fmt.Sprint("part", MaxMailParts-1) {
			t.Errorf("%d parts kept, the last %q; want %d", len(parts), parts[len(parts)-1], MaxMailParts)
		}
	})
	t.Run("decoded size", func(t *testing.T) {
		body := strings.Repeat("é", MaxMailText) // 2 bytes each: twice the limit
		got := CleanOptions{}.Clean("Content-Type: text/plain; charset=utf-8\n\n" + body)
		if len(got) > MaxMailText || len(got) < MaxMailText-1 || !utf8.ValidString(got) {
			t.Errorf("kept %d bytes (valid UTF-8: %v), want %d cut at a character", len(got), utf8.ValidString(got), MaxMailText)
		}
	})
	t.Run("line length", func(t *testing.T) {
		long := "Subject: " + strings.Repeat("x", MaxMailLine) + "\n\n<p>body</p>"
		if got := (CleanOptions{KeepHTML: true}).Clean(long); got != long {
			t.Error("a text with a header field over MaxMailLine was read as an e-mail")
		}
		folded := "Subject: a\nTo: " + strings.Repeat("b@example.com,\n ", MaxMailLine/8) + "\n\nbody"
		if got := (CleanOptions{}).Clean(folded); got != folded {
			t.Error("a folded field over MaxMailLine was read as an e-mail")
		}
		short := "Subject: " + strings.Repeat("x", MaxMailLine-100) + "\n\nbody"
		if got := (CleanOptions{}).Clean(short); got != "body" {
			t.Errorf("a field under MaxMailLine: %.40q", got)
		}
	})
}

// FuzzClean: any text cleans without a panic into bounded output; texts
// that are not e-mails and hold no HTML come back unchanged; e-mails come
// back as valid UTF-8.
func FuzzClean(f *testing.F) {
	for _, c := range mailCases {
		f.Add(c.in, uint8(0))
	}
	f.Add("Subject: s\n\nbody", uint8(1))
	f.Add("From x\nA: b\n\n<p>x", uint8(2))
	f.Add(nest(3, "x"), uint8(3))
	f.Fuzz(func(t *testing.T, s string, opts uint8) {
		o := CleanOptions{KeepHeaders: opts&1 != 0, KeepHTML: opts&2 != 0}
		got := o.Clean(s)
		// Charset decoding turns a byte into at most 3 (U+FFFD, €), and
		// kept headers gain ": " and a line break per field.
		if limit := 3*len(s) + 16; len(got) > limit {
			t.Fatalf("%d bytes out of %d in, more than %d", len(got), len(s), limit)
		}
		if len(got) > MaxMailText+len(s) {
			t.Fatalf("%d bytes out, more than MaxMailText", len(got))
		}
		header, _ := splitHeader(s)
		fields, isMail := headerFields(header)
		isMail = isMail && header != ""
		switch {
		case !isMail && !looksHTML(strings.ToLower(s)) && got != s:
			t.Fatalf("a text that is not an e-mail changed: %q → %q", s, got)
		case isMail && !o.KeepHTML && !utf8.ValidString(got):
			t.Fatalf("an e-mail cleaned into invalid UTF-8: %q", got)
		case isMail && o.KeepHeaders && !o.KeepHTML && len(fields) > 0 && fields[0].raw && !strings.HasPrefix(got, toUTF8("", []byte(fields[0].value))):
			t.Fatalf("the mbox From line was not kept first: %q", got)
		}
	})
}
