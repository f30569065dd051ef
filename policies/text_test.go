package policies

import "testing"

func TestTextIn(t *testing.T) {
	both := Text{DE: "Hallo", EN: "Hello"}
	tests := []struct {
		t    Text
		lang string
		want string
	}{
		{both, "de", "Hallo"},
		{both, "en", "Hello"},
		{both, "EN", "Hello"},
		{both, "en-GB", "Hello"},
		{both, "", "Hallo"},
		{both, "fr", "Hallo"},
		{Text{DE: "Hallo"}, "en", "Hallo"},
		{Text{EN: "Hello"}, "de", "Hello"},
		{Text{}, "en", ""},
	}
	for _, tt := range tests {
		if got := tt.t.In(tt.lang); got != tt.want {
			t.Errorf("%+v.In(%q) = %q, want %q", tt.t, tt.lang, got, tt.want)
		}
	}
}
