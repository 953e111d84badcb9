// Package examples holds real services that run `privileged: true` as people
// write them, one folder each, and the end-to-end tests that profile every
// one of them with the capprof binary and check the answer.
package examples
