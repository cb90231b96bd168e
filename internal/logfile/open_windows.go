//go:build windows

package logfile

import (
	"os"

	"golang.org/x/sys/windows"
)

// Open opens the named file for reading, sharing reading, writing and
// deleting with everyone else, so that the node and log rotators can still
// append to, rename and delete it. Errors are *os.PathError, as os.Open's
// (errors.Is(err, fs.ErrNotExist) holds for a missing file).
func Open(name string) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	// FILE_FLAG_BACKUP_SEMANTICS lets a directory open too, as with
	// os.Open, so that callers can tell "is a directory" from its Stat.
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: name, Err: err}
	}
	return os.NewFile(uintptr(h), name), nil
}
