//go:build !wharf_crashpoints || !unix

package crashpoint

// Enabled reports whether this binary was built with crash points.
const Enabled = false

// Reached does nothing: this binary was built without crash points.
func Reached(string) {}
