// The tests' Trivy DB builder (main.go): its own module so it builds with the Go toolchain from
// the module proxy (GOTOOLCHAIN=local, no Debian golang-* packages). bbolt is the version
// trivy v0.74.0's go.mod requires.
module hallmark.test/trivydb

go 1.26

require go.etcd.io/bbolt v1.5.0

require golang.org/x/sys v0.45.0 // indirect
