package text

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// lowerLikePython lower-cases s exactly as Python 3's str.lower does, which
// is what Keras applies. Go's strings.ToLower differs in two places:
//
//   - U+0130 (İ) has an unconditional full mapping to "i" + U+0307 in
//     SpecialCasing.txt, which Python uses and Go does not.
//   - Python implements the Final_Sigma condition: Σ becomes ς at the end of
//     a word and σ elsewhere; Go always produces σ.
//
// Every other rune uses the simple UnicodeData mapping, as both languages do.
// (Go and Python may ship different Unicode versions; only runes added in
// between could differ.)
func lowerLikePython(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, r := range s {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(s, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma reports whether the Σ at byte offset i of s is in the
// Final_Sigma context of the Unicode standard (section 3.13), the way
// CPython's handle_capital_sigma tests it: preceded by a cased letter
// (skipping case-ignorable runes) and not followed by one.
func finalSigma(s string, i int) bool {
	before := false
	for j := i; j > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if caseIgnorable(r) {
			continue
		}
		before = cased(r)
		break
	}
	if !before {
		return false
	}
	for _, r := range s[i+len("Σ"):] {
		if caseIgnorable(r) {
			continue
		}
		return !cased(r)
	}
	return true
}

// cased is Unicode's derived property Cased: Lowercase, Uppercase or Lt.
func cased(r rune) bool {
	return unicode.In(r, unicode.Ll, unicode.Lu, unicode.Lt, unicode.Other_Lowercase, unicode.Other_Uppercase)
}

// caseIgnorable is Unicode's derived property Case_Ignorable: general
// categories Mn, Me, Cf, Lm and Sk, plus the Word_Break values MidLetter,
// MidNumLet and Single_Quote (listed here because Go has no Word_Break table).
func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '\u00B7', '\u0387', '\u055F', '\u05F4', '\u2018', '\u2019',
		'\u2024', '\u2027', '\uFE13', '\uFE52', '\uFE55', '\uFF07', '\uFF0E', '\uFF1A':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}
