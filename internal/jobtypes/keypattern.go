package jobtypes

import (
	"fmt"
	"strings"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

// Key patterns of EXPORT_REVISIONS_TO_S3 (AWS's "Key patterns when
// exporting revisions"): text with dynamic references that each asset of
// the revision fills in to name its object.
const (
	refAssetID            = "${Asset.Id}"
	refAssetName          = "${Asset.Name}"
	refDataSetID          = "${DataSet.Id}"
	refDataSetName        = "${DataSet.Name}"
	refRevisionID         = "${Revision.Id}"
	refRevisionCreatedAt  = "${Revision.CreatedAt}"
	refRevisionCreatedDay = "${Revision.CreatedAt.Day}"
	refRevisionCreatedMon = "${Revision.CreatedAt.Month}"
	refRevisionCreatedYr  = "${Revision.CreatedAt.Year}"

	// DefaultKeyPattern is the KeyPattern of a revision export that names
	// none, as AWS documents it.
	DefaultKeyPattern = refAssetName
	// DefaultAutoExportKeyPattern is the KeyPattern of the jobs an event
	// action starts when its action names none, as AWS documents it.
	DefaultAutoExportKeyPattern = refRevisionCreatedAt + "/" + refAssetName

	// maxKeyPatternLen bounds a pattern, in bytes: no resolved key is
	// longer than an S3 key, and every reference resolves to at least one
	// byte, so a longer pattern could name no object. (AWS documents no
	// limit.)
	maxKeyPatternLen = 1024 * len(refRevisionCreatedDay)
)

// references are the dynamic references, in the order messages list them.
var references = []string{
	refAssetID, refAssetName, refDataSetID, refDataSetName, refRevisionID,
	refRevisionCreatedAt, refRevisionCreatedDay, refRevisionCreatedMon, refRevisionCreatedYr,
}

// revisionCreatedAtLayout is how ${Revision.CreatedAt} writes the time:
// UTC with milliseconds, AWS's example being 2021-10-08T16:33:19.787Z.
const revisionCreatedAtLayout = "2006-01-02T15:04:05.000Z"

// keyPattern is a parsed KeyPattern: literal text and references, in order.
type keyPattern struct {
	parts []patternPart
}

type patternPart struct {
	literal string
	ref     string // one of references; "" for a literal
}

// parseKeyPattern checks a KeyPattern: every "${" must open one of the
// references, and the pattern must hold ${Asset.Name} or ${Asset.Id} so
// that each asset gets its own key. field names the member for messages.
func parseKeyPattern(field, pattern string) (keyPattern, error) {
	if len(pattern) > maxKeyPatternLen {
		return keyPattern{}, fault.Validationf("%s must be at most %d bytes long (got %d)", field, maxKeyPatternLen, len(pattern))
	}
	var k keyPattern
	hasAsset := false
	rest := pattern
	for rest != "" {
		i := strings.Index(rest, "${")
		if i < 0 {
			k.parts = append(k.parts, patternPart{literal: rest})
			break
		}
		if i > 0 {
			k.parts = append(k.parts, patternPart{literal: rest[:i]})
		}
		rest = rest[i:]
		ref := ""
		for _, r := range references {
			if strings.HasPrefix(rest, r) {
				ref = r
				break
			}
		}
		if ref == "" {
			bad := rest
			if end := strings.IndexByte(bad, '}'); end >= 0 {
				bad = bad[:end+1]
			}
			return keyPattern{}, fault.Validationf("%s %q: %q is not a dynamic reference; the references are %s",
				field, pattern, bad, strings.Join(references, ", "))
		}
		hasAsset = hasAsset || ref == refAssetID || ref == refAssetName
		k.parts = append(k.parts, patternPart{ref: ref})
		rest = rest[len(ref):]
	}
	if !hasAsset {
		return keyPattern{}, fault.Validationf("%s %q must include %s or %s, so that each asset gets its own key",
			field, pattern, refAssetName, refAssetID)
	}
	return k, nil
}

// resolve returns the key of asset a of revision rev in data set ds.
func (k keyPattern) resolve(ds resource.DataSet, rev resource.Revision, a resource.Asset) string {
	var b strings.Builder
	created := rev.CreatedAt.UTC()
	for _, p := range k.parts {
		switch p.ref {
		case "":
			b.WriteString(p.literal)
		case refAssetID:
			b.WriteString(a.ID)
		case refAssetName:
			b.WriteString(a.Name)
		case refDataSetID:
			b.WriteString(ds.ID)
		case refDataSetName:
			b.WriteString(ds.Name)
		case refRevisionID:
			b.WriteString(rev.ID)
		case refRevisionCreatedAt:
			b.WriteString(created.Format(revisionCreatedAtLayout))
		case refRevisionCreatedDay:
			// Zero-padded, so that keys sort by date (AWS doesn't say).
			fmt.Fprintf(&b, "%02d", created.Day())
		case refRevisionCreatedMon:
			fmt.Fprintf(&b, "%02d", int(created.Month()))
		case refRevisionCreatedYr:
			fmt.Fprintf(&b, "%04d", created.Year())
		}
	}
	return b.String()
}
