package main

import (
	"io"

	"github.com/sirupsen/logrus"
)

// compose-go reports what it tolerates (privileged: yes, an obsolete
// version key) through logrus; capprof prints those the way it prints its
// own warnings, not in logrus's key=value form.
func routeLibraryWarnings(w io.Writer) {
	logrus.SetOutput(w)
	logrus.SetLevel(logrus.WarnLevel)
	logrus.SetFormatter(warningFormatter{})
}

// warningFormatter writes an entry as "capprof: warning: message".
type warningFormatter struct{}

func (warningFormatter) Format(e *logrus.Entry) ([]byte, error) {
	level := e.Level.String()
	if e.Level == logrus.WarnLevel {
		level = "warning"
	}
	return []byte("capprof: " + level + ": " + e.Message + "\n"), nil
}
