package train

import (
	"errors"
	"fmt"
	"strings"
)

// Field names a setting in an error about it: a training configuration's
// JSON key ("epochs", "lr"), a model configuration's ("embed_dim"), a
// data option's ("text_column") or a RunSpec field's ("init", "resume",
// "out"). RunSpec's field comments give each setting's key.
type Field string

// FieldError is an error about one or more settings. Its message names
// each setting by its Field key; Named says it with the settings named
// otherwise, as a front end knows them (tapeml's command line maps keys to
// its flags: "epochs" to --epochs).
type FieldError struct {
	Field Field // the setting the error is about: the first one the message names
	// Invalid says the setting's value is out of its range or unknown, as
	// opposed to settings that conflict or a run folder that refuses.
	Invalid bool
	format  string
	args    []any
}

// Fieldf returns a FieldError formatted as fmt.Errorf formats: arguments
// of type Field are settings, and the first of them is the error's Field;
// a %w argument is what it wraps.
func Fieldf(format string, args ...any) *FieldError {
	e := &FieldError{format: format, args: args}
	for _, a := range args {
		if f, ok := a.(Field); ok {
			e.Field = f
			break
		}
	}
	return e
}

// Invalidf is Fieldf for an invalid value of the first setting named.
func Invalidf(format string, args ...any) *FieldError {
	e := Fieldf(format, args...)
	e.Invalid = true
	return e
}

func (e *FieldError) Error() string {
	return e.Named(func(key string) string { return key })
}

// Named is the message with each setting named by name(key), and the
// settings of the errors it wraps likewise.
func (e *FieldError) Named(name func(key string) string) string {
	args := make([]any, len(e.args))
	for i, a := range e.args {
		switch a := a.(type) {
		case Field:
			args[i] = name(string(a))
		case []Field:
			names := make([]string, len(a))
			for j, f := range a {
				names[j] = name(string(f))
			}
			args[i] = strings.Join(names, ", ")
		case error:
			args[i] = errors.New(NamedText(a, name))
		default:
			args[i] = a
		}
	}
	return fmt.Errorf(e.format, args...).Error()
}

// Unwrap returns the errors formatted with %w.
func (e *FieldError) Unwrap() []error {
	var errs []error
	for _, a := range e.args {
		if err, ok := a.(error); ok && strings.Contains(e.format, "%w") {
			errs = append(errs, err)
		}
	}
	return errs
}

// NamedError is an error that can name the settings it is about as its
// reader knows them; FieldError is one, and packages below train
// (checkpoint, textdata, quantize, predictio) have their own.
type NamedError interface {
	error
	Named(name func(key string) string) string
}

// NamedText is err's message with the settings of the outermost
// NamedError in its chain named by name.
func NamedText(err error, name func(key string) string) string {
	msg := err.Error()
	var ne NamedError
	if errors.As(err, &ne) {
		msg = strings.Replace(msg, ne.Error(), ne.Named(name), 1)
	}
	return msg
}
