package vitess

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/vitess-apiserver/vitess-apiserver/test/framework"
)

// unprivilegedStateRoot holds the Vitess data of the tests that run as root. Like the MySQL tree
// (MYSQL_ROOT in hack/lib.sh) it is a system-wide directory every user may enter, kept short for
// mysqld's socket path. VITESS_APISERVER_STATE overrides it.
const unprivilegedStateRoot = "/var/lib/vitess-apiserver"

// DataDir returns the directory for the Vitess processes of one test, named by elem under the
// checkout's .local, where the logs of a failed run are read afterwards.
//
// As root, Vitess runs as UnprivilegedUID, which must enter every directory above its data, and a
// checkout may sit under one only root can enter (root's home is mode 0700, and so is what
// mktemp -d makes). The data then lives under a directory of the harness, one per checkout and
// open to that user, and .local/<elem> is a symbolic link to it.
func DataDir(t testing.TB, elem ...string) string {
	t.Helper()
	repoRoot, err := framework.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := dataDir(repoRoot, elem...)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func dataDir(repoRoot string, elem ...string) (string, error) {
	inCheckout := filepath.Join(append([]string{repoRoot, ".local"}, elem...)...)
	if !asUnprivileged() {
		return inCheckout, nil
	}
	root := os.Getenv("VITESS_APISERVER_STATE")
	if root == "" {
		root = unprivilegedStateRoot
	}
	sum := sha256.Sum256([]byte(repoRoot))
	dir := filepath.Join(append([]string{root, hex.EncodeToString(sum[:5])}, elem...)...)
	if err := mkdirOpen(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(inCheckout), 0o755); err != nil {
		return "", err
	}
	// A directory left there by a run from before the data moved out is replaced too.
	if err := os.RemoveAll(inCheckout); err != nil {
		return "", err
	}
	if err := os.Symlink(dir, inCheckout); err != nil {
		return "", fmt.Errorf("linking the checkout to the test's data: %w", err)
	}
	return dir, nil
}

// mkdirOpen makes dir and its missing parents with mode 0755 whatever the umask, so that every
// user can enter them.
func mkdirOpen(dir string) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	if err := mkdirOpen(filepath.Dir(dir)); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	return os.Chmod(dir, 0o755)
}
