package detector

// globMatch reports whether s matches pattern, where '*' matches any run of characters
// (including '/' and ':') and '?' matches exactly one, as in IAM policy ARN matching. All other
// characters match themselves, case-sensitively. It runs in O(len(s)·len(pattern)) at worst.
func globMatch(pattern, s string) bool {
	return GlobMatch(pattern, s)
}

// GlobMatch is the allow-list's pattern match (see globMatch), for reports.
func GlobMatch(pattern, s string) bool {
	px, sx := 0, 0
	nextPx, nextSx := -1, -1
	for px < len(pattern) || sx < len(s) {
		if px < len(pattern) {
			switch c := pattern[px]; c {
			case '*':
				nextPx, nextSx = px, sx+1
				px++
				continue
			case '?':
				if sx < len(s) {
					px++
					sx++
					continue
				}
			default:
				if sx < len(s) && s[sx] == c {
					px++
					sx++
					continue
				}
			}
		}
		if nextSx > 0 && nextSx <= len(s) {
			px, sx = nextPx, nextSx
			continue
		}
		return false
	}
	return true
}

func hasGlob(p string) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == '*' || p[i] == '?' {
			return true
		}
	}
	return false
}
