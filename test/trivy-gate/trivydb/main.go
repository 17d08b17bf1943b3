// Builds a tiny Trivy vulnerability DB (schema v2) for tests: trivy.db + metadata.json in the
// directory given as the first argument. Two advisory sources: "alpine 3.17", with advisories
// given as further arguments <origin package>:<CVE>:<fixed version or "">:<severity>, and npm
// (GitHub Security Advisory npm), with arguments npm/<package>:<CVE>:<fixed version>:<severity>
// (versions below the fixed one are vulnerable).
// A Go module of its own (go.mod, go.sum; bbolt v1.5.0 as trivy v0.74.0 requires), built by
// test/trivy-gate/lab.ts with GOTOOLCHAIN=local and cached by source hash.
//
// The layout is the one trivy v0.74.0 reads, checked in trivy-db v0.0.0-20260813095258-0e0340a01b57
// (the version trivy's go.mod requires): pkg/db/db.go SchemaVersion = 2; pkg/db/advisory.go reads
// bucket <source> -> bucket <package> -> key <vulnerability ID> -> types.Advisory JSON
// ("FixedVersion"); the "vulnerability" bucket holds types.Vulnerability (Title, Description,
// Severity); pkg/metadata/metadata.go: metadata.json {Version, NextUpdate, UpdatedAt, DownloadedAt}.
// trivy's pkg/detector/ospkg/alpine/alpine.go asks for release "3.17" (osver.Minor) and the
// package's origin (SrcName); pkg/detector/library/driver.go reads every bucket prefixed "npm::"
// (trivy-db pkg/db/db.go forEach) for types.Advisory VulnerableVersions/PatchedVersions.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	dir := os.Args[1]
	must(os.MkdirAll(dir, 0o755))
	db, err := bolt.Open(filepath.Join(dir, "trivy.db"), 0o644, nil)
	must(err)
	must(db.Update(func(tx *bolt.Tx) error {
		vulns, err := tx.CreateBucketIfNotExists([]byte("vulnerability"))
		if err != nil {
			return err
		}
		ds, err := tx.CreateBucketIfNotExists([]byte("data-source"))
		if err != nil {
			return err
		}
		for _, a := range os.Args[2:] {
			p := strings.SplitN(a, ":", 4)
			source, name := "alpine 3.17", p[0]
			var adv []byte
			if strings.HasPrefix(name, "npm/") {
				source, name = "npm::GitHub Security Advisory npm", strings.TrimPrefix(name, "npm/")
				adv, _ = json.Marshal(map[string][]string{"VulnerableVersions": {"<" + p[2]}, "PatchedVersions": {p[2]}})
				d, _ := json.Marshal(map[string]string{"ID": "ghsa", "Name": "GitHub Security Advisory npm", "URL": "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Anpm"})
				if err := ds.Put([]byte(source), d); err != nil {
					return err
				}
			} else {
				adv, _ = json.Marshal(map[string]string{"FixedVersion": p[2]})
			}
			src, err := tx.CreateBucketIfNotExists([]byte(source))
			if err != nil {
				return err
			}
			pkg, err := src.CreateBucketIfNotExists([]byte(name))
			if err != nil {
				return err
			}
			if err := pkg.Put([]byte(p[1]), adv); err != nil {
				return err
			}
			v, _ := json.Marshal(map[string]interface{}{"Title": "test advisory " + p[1], "Description": "built by the trivy-gate tests", "Severity": p[3]})
			if err := vulns.Put([]byte(p[1]), v); err != nil {
				return err
			}
		}
		d, _ := json.Marshal(map[string]string{"ID": "alpine", "Name": "Alpine Secdb", "URL": "https://secdb.alpinelinux.org/"})
		return ds.Put([]byte("alpine 3.17"), d)
	}))
	must(db.Close())
	now := time.Now().UTC()
	meta, _ := json.Marshal(map[string]interface{}{"Version": 2, "NextUpdate": now.Add(24 * time.Hour), "UpdatedAt": now, "DownloadedAt": now})
	must(os.WriteFile(filepath.Join(dir, "metadata.json"), meta, 0o644))
}
