package certs

import (
	"bytes"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// fileWriter writes certificates and keys into one directory, each file replaced atomically (a
// new file renamed over the old one), so that a reader such as the server's dynamic serving
// content sees either the old or the new content, never a part.
type fileWriter struct {
	dir string
	// mu orders writes from the informer's handler and from Sync.
	mu *sync.Mutex
}

func newFileWriter(dir string) fileWriter {
	return fileWriter{dir: dir, mu: &sync.Mutex{}}
}

func (w fileWriter) path(name string) string {
	return filepath.Join(w.dir, name)
}

// write makes each named file hold its content, in the order of the names, and reports whether
// any changed. A file that already holds its content is left alone, so that no reload is
// triggered for nothing.
func (w fileWriter) write(files map[string][]byte) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := os.MkdirAll(w.dir, 0o700); err != nil {
		return false, err
	}
	changed := false
	for _, name := range slices.Sorted(maps.Keys(files)) {
		content := files[name]
		if len(content) == 0 {
			return changed, errors.New("no content for " + name)
		}
		old, err := os.ReadFile(w.path(name))
		if err == nil && bytes.Equal(old, content) {
			continue
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return changed, err
		}
		if err := writeAtomic(w.path(name), content); err != nil {
			return changed, err
		}
		changed = true
	}
	return changed, nil
}

func writeAtomic(path string, content []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // only left when something failed before the rename
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
