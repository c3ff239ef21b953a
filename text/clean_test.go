package text

import "testing"

func TestClean(t *testing.T) {
	raw := CleanOptions{KeepHeaders: true, KeepHTML: true}
	headersOnly := CleanOptions{KeepHTML: true}
	htmlOnly := CleanOptions{KeepHeaders: true}
	tests := []struct {
		name string
		opt  CleanOptions
		in   string
		want string
	}{
		{"raw keeps everything", raw, "From: a\n\n<p>x</p>", "From: a\n\n<p>x</p>"},
		{"header block dropped", headersOnly, "From: a@b\nSubject: hi\n\nbody\n", "body\n"},
		{"mbox From line and folded field", headersOnly,
			"From a@b  Thu Aug 22 13:17:22 2002\nReceived: from x\n\tby y\nSubject: s\n\nbody", "body"},
		{"CRLF line ends", headersOnly, "Subject: s\r\nTo: t\r\n\r\nbody\r\n", "body\r\n"},
		{"only the first blank line ends the block", headersOnly, "Subject: s\n\nBcc: no\n\nmore", "Bcc: no\n\nmore"},
		{"prose is not a header", headersOnly, "Dear friend: hello\nthis is not mail\n\nbody", "Dear friend: hello\nthis is not mail\n\nbody"},
		{"a space in the field name", headersOnly, "Note well: x\n\nbody", "Note well: x\n\nbody"},
		{"no blank line after the block", headersOnly, "Subject: s\nTo: t", "Subject: s\nTo: t"},
		{"leading blank line", headersOnly, "\nSubject: s\n\nbody", "\nSubject: s\n\nbody"},
		{"continuation without a field", headersOnly, " folded\n\nbody", " folded\n\nbody"},
		{"HTML body reduced, headers kept", htmlOnly,
			"Subject: s\nContent-Type: text/html\n\n<b>Hello</b> <i>world</i>&amp;co",
			"Subject: s\nContent-Type: text/html\n\nHello world&co\n"},
		{"blocks become lines, script and style dropped", CleanOptions{},
			"<html><head><title>T</title><style>p{x:1}</style></head><body><p>One</p><div>Two<br>Three</div><script>x()</script></body></html>",
			"T\n\nOne\n\nTwo\nThree\n"},
		{"table cells do not run together", CleanOptions{}, "<table><tr><td>a</td><td>b</td></tr></table>", "a b\n"},
		{"no-break spaces become spaces", CleanOptions{}, "<p>a&nbsp;b\u00a0c</p>", "a b c\n"},
		{"plain text with angle brackets untouched", CleanOptions{}, "Write to <me@example.org> or <http://x.org>.\n", "Write to <me@example.org> or <http://x.org>.\n"},
		{"quoted-printable decoded in HTML", CleanOptions{},
			"Content-Transfer-Encoding: quoted-printable\nContent-Type: text/html; charset=utf-8\n\n<font size=3D2>Save mo=\nney=20now =C3=A9t=C3=A9</font>",
			"Save money now été\n"},
		{"an undeclared multipart, CRLF soft break", CleanOptions{},
			"Subject: s\n\n--b\r\nContent-Transfer-Encoding: Quoted-Printable\r\n\r\nsoft=\r\nbreak a=3Db",
			"softbreak a=b"},
		{"no quoted-printable declared", CleanOptions{}, "a=3Db=\nc", "a=3Db=\nc"},
		{"an e-mail without a transfer encoding", CleanOptions{}, "Subject: s\n\na=3Db=\nc", "a=3Db=\nc"},
		{"a non-e-mail declaring quoted-printable", CleanOptions{},
			"Content-Transfer-Encoding: quoted-printable and more\nsoft=\nbreak", "Content-Transfer-Encoding: quoted-printable and more\nsoft=\nbreak"},
		{"CSV-like text", CleanOptions{}, "id: 7, text: \"hello\"\nnext row", "id: 7, text: \"hello\"\nnext row"},
		{"quoted-printable left alone with KeepHTML", headersOnly,
			"Content-Transfer-Encoding: quoted-printable\n\na=3Db", "a=3Db"},
		{"empty", CleanOptions{}, "", ""},
		{"malformed HTML", CleanOptions{}, "<p>open <b>never closed <div", "open never closed\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.opt.Clean(tt.in); got != tt.want {
				t.Errorf("Clean(%q)\n = %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}
