// Builds a tiny Trivy vulnerability DB (schema v2) for tests: trivy.db + metadata.json in the
// directory given as the first argument. One advisory source, "alpine 3.17", with the advisories
// given as further arguments: <origin package>:<CVE>:<fixed version or "">:<severity>.
// GOPATH mode against Debian's golang-etcd-io-bbolt-dev (no module proxy needed).
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
		src, err := tx.CreateBucketIfNotExists([]byte("alpine 3.17"))
		if err != nil {
			return err
		}
		vulns, err := tx.CreateBucketIfNotExists([]byte("vulnerability"))
		if err != nil {
			return err
		}
		for _, a := range os.Args[2:] {
			p := strings.SplitN(a, ":", 4)
			pkg, err := src.CreateBucketIfNotExists([]byte(p[0]))
			if err != nil {
				return err
			}
			adv, _ := json.Marshal(map[string]string{"FixedVersion": p[2]})
			if err := pkg.Put([]byte(p[1]), adv); err != nil {
				return err
			}
			v, _ := json.Marshal(map[string]interface{}{"Title": "test advisory " + p[1], "Description": "built by the trivy-gate tests", "Severity": p[3]})
			if err := vulns.Put([]byte(p[1]), v); err != nil {
				return err
			}
		}
		ds, err := tx.CreateBucketIfNotExists([]byte("data-source"))
		if err != nil {
			return err
		}
		d, _ := json.Marshal(map[string]string{"ID": "alpine", "Name": "Alpine Secdb", "URL": "https://secdb.alpinelinux.org/"})
		return ds.Put([]byte("alpine 3.17"), d)
	}))
	must(db.Close())
	now := time.Now().UTC()
	meta, _ := json.Marshal(map[string]interface{}{"Version": 2, "NextUpdate": now.Add(24 * time.Hour), "UpdatedAt": now, "DownloadedAt": now})
	must(os.WriteFile(filepath.Join(dir, "metadata.json"), meta, 0o644))
}
