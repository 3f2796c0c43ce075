package exchange

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

// Field limits, in characters (not bytes), from the API reference.
const (
	maxDataSetNameLen        = 256
	maxDataSetDescriptionLen = 16384
	maxRevisionCommentLen    = 16384
	minRevocationCommentLen  = 10
	maxRevocationCommentLen  = 512
	maxAssetNameLen          = 1024
	maxTagKeyLen             = 128
	maxTagValueLen           = 256
	reservedTagPrefix        = "aws:"
	MaxTagsPerResource       = 50
	defaultPageSize          = 25
	maxPageSize              = 200
)

func requireID(field, id string) error {
	if !resource.ValidID(id) {
		return fault.Validationf("%s %q is not a valid id: ids are 30 to 40 letters and digits", field, id)
	}
	return nil
}

// requireIDs checks field/value pairs in order.
func requireIDs(pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if err := requireID(pairs[i], pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func checkLength(field, value string, min, max int) error {
	n := utf8.RuneCountInString(value)
	if n < min || n > max {
		if min == 0 {
			return fault.Validationf("%s must be at most %d characters long (got %d)", field, max, n)
		}
		return fault.Validationf("%s must be %d to %d characters long (got %d)", field, min, max, n)
	}
	return nil
}

func requireString(field string, value *string, min, max int) error {
	if value == nil {
		return fault.Validationf("%s is required", field)
	}
	return checkLength(field, *value, min, max)
}

func optionalString(field string, value *string, min, max int) error {
	if value == nil {
		return nil
	}
	return checkLength(field, *value, min, max)
}

func checkAssetType(assetType *string) error {
	if assetType == nil {
		return fault.Validationf("AssetType is required")
	}
	if !slices.Contains(resource.AssetTypes, *assetType) {
		return fault.Validationf("AssetType %q is not one of %s", *assetType, strings.Join(resource.AssetTypes, ", "))
	}
	return nil
}

func checkTagKey(key string) error {
	if err := checkLength("tag key", key, 1, maxTagKeyLen); err != nil {
		return err
	}
	// AWS reserves the prefix whatever its case.
	if strings.HasPrefix(strings.ToLower(key), reservedTagPrefix) {
		return fault.Validationf("tag key %q: keys starting with %q are reserved for AWS", key, reservedTagPrefix)
	}
	return nil
}

// checkTags validates tags given by a client; count is the number of tags
// the resource would have afterwards.
func checkTags(tags map[string]string, count int) error {
	for k, v := range tags {
		if err := checkTagKey(k); err != nil {
			return err
		}
		if err := checkLength("value of tag "+k, v, 0, maxTagValueLen); err != nil {
			return err
		}
	}
	if count > MaxTagsPerResource {
		return fault.Validationf("Tags: a resource can have at most %d tags (this request would leave %d)", MaxTagsPerResource, count)
	}
	return nil
}

// ValidateTags checks tags a client gives a new resource (package jobs: the
// tags of the assets a job creates): key and value lengths, reserved
// prefixes and the per-resource count.
func ValidateTags(tags map[string]string) error { return checkTags(tags, len(tags)) }
