// Package audit is capprof's static check of compose files: it loads a
// project the way docker compose does (every -f file, extends, include, all
// profiles, interpolation), runs rules over each merged service for
// privileged mode and the settings that are as dangerous, and reports each
// finding at the file and line that set it.
//
// It needs no root and no Docker. Accepted risk is written beside the
// setting, in an x-capprof extension on the service, with a reason.
package audit
