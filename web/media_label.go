package web

import (
	"strings"

	"github.com/tresor-evidence/tresor/incident"
)

// mediaFormats names the file formats of common media types as people
// know them from file names.
var mediaFormats = map[string]string{
	"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP", "image/heic": "HEIC", "image/gif": "GIF",
	"video/mp4": "MP4", "video/3gpp": "3GP", "video/quicktime": "MOV",
	"audio/ogg": "OGG", "audio/mpeg": "MP3", "audio/mp4": "M4A", "application/pdf": "PDF",
}

// mediaKind is the kind of message a media type is, as people see it.
func mediaKind(mt string) incident.MessageKind {
	top, sub, _ := strings.Cut(mt, "/")
	switch {
	case top == "image":
		return incident.KindPhoto
	case top == "video":
		return incident.KindVideo
	case mt == "audio/ogg": // WhatsApp's voice messages
		return incident.KindVoice
	case top == "audio":
		return incident.KindAudio
	case top == "application" || top == "text" || sub == "":
		return incident.KindDocument
	}
	return incident.KindOther
}

// Media names a media type for people: "Foto (JPEG)", "Sprachnachricht
// (OGG)", never "image/jpeg". "" stays "".
func (l *localizer) Media(mt string) string {
	mt = strings.ToLower(strings.TrimSpace(mt))
	if mt == "" {
		return ""
	}
	format, ok := mediaFormats[mt]
	if !ok {
		_, sub, _ := strings.Cut(mt, "/")
		sub = strings.TrimPrefix(strings.TrimPrefix(sub, "x-"), "vnd.")
		format = strings.ToUpper(sub)
	}
	kind := l.Kind(mediaKind(mt))
	if format == "" {
		return kind
	}
	return kind + " (" + format + ")"
}

// Kind names a kind of message.
func (l *localizer) Kind(k incident.MessageKind) string {
	if k == "" {
		return ""
	}
	return l.T("walk.kind." + string(k))
}
