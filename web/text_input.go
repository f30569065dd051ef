package web

import (
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/tresor-evidence/tresor/incident"
)

// checkText refuses a bound form or JSON body whose text fields hold
// bytes no person types: invalid UTF-8, NUL or other control characters
// (tab, newline and carriage return excepted). PostgreSQL refuses both
// invalid UTF-8 and NUL in text, and neither belongs in a description or
// a name, so they are invalid input naming the field, never a database
// error. v is a pointer to a struct; nested structs and string slices
// are checked too.
func checkText(v any) error {
	return checkValue(reflect.ValueOf(v), "")
}

func checkValue(v reflect.Value, field string) error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return checkValue(v.Elem(), field)
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if err := checkValue(v.Field(i), fieldName(f)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if err := checkValue(v.Index(i), field); err != nil {
				return err
			}
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			if err := checkValue(k, field); err != nil {
				return err
			}
			if err := checkValue(v.MapIndex(k), field); err != nil {
				return err
			}
		}
	case reflect.String:
		return textField(field, v.String())
	}
	return nil
}

// textField checks one value; field names it in the error.
func textField(field, s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: field %q is not valid UTF-8 text", incident.ErrInvalidInput, field)
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return fmt.Errorf("%w: field %q contains a control character", incident.ErrInvalidInput, field)
		}
	}
	return nil
}

// fieldName is the name a client used for f: its form or JSON name.
func fieldName(f reflect.StructField) string {
	for _, tag := range []string{"form", "json"} {
		if name, _, _ := strings.Cut(f.Tag.Get(tag), ","); name != "" && name != "-" {
			return name
		}
	}
	return f.Name
}
