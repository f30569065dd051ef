package web

import (
	"strings"

	"github.com/tresor-evidence/tresor/incident"
)

// fileKind names a media type in words people know ("Fotos (JPEG)"),
// never as the media type itself: by its catalog entry (forms.kind.EXT,
// with the extension incident.MediaExt gives it), or else by the subtype in
// capitals ("XYZ-Dateien") for a type a provider added to the policy.
func (l *localizer) fileKind(mediaType string) string {
	if ext := incident.MediaExt(mediaType); ext != "" {
		if key := "forms.kind." + strings.TrimPrefix(ext, "."); l.Has(key) {
			return l.T(key)
		}
	}
	_, sub, _ := strings.Cut(mediaType, "/")
	sub = strings.TrimPrefix(strings.TrimPrefix(sub, "x-"), "vnd.")
	return l.T("forms.kind.other", strings.ToUpper(sub))
}

// fileKinds lists media types in words, "A, B oder C".
func (l *localizer) fileKinds(mediaTypes []string) string {
	names := make([]string, 0, len(mediaTypes))
	for _, mt := range mediaTypes {
		names = append(names, l.fileKind(mt))
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + l.T("forms.or") + " " + names[len(names)-1]
}

// Size names a byte count in whole megabytes (MiB, as phones count them),
// rounded down so that a file of the named size fits, or in kilobytes
// below one megabyte.
func (l *localizer) Size(limit int64) string {
	if limit >= 1<<20 {
		return l.T("forms.megabytes", limit>>20)
	}
	return l.T("forms.kilobytes", max(limit>>10, 1))
}
