package keyworker

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"

	"golang.org/x/crypto/argon2"
)

// Bounds of a request a worker accepts: the parameters those of
// identity.Passwords.Check; a longer password is hashed in the process.
const (
	maxKeyMemory = 1 << 20
	maxKeyTime   = 16
	maxKeyLanes  = 64
	maxKeyInput  = 1 << 12
	maxKeyLen    = 64
)

// serveKeys is a worker's loop: it reads requests from in and writes each
// key to out until in closes. It returns the exit status.
func serveKeys(in io.Reader, out io.Writer) int {
	r := bufio.NewReader(in)
	var head [13]byte
	for {
		if _, err := io.ReadFull(r, head[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return 0
			}
			return 2
		}
		time := binary.LittleEndian.Uint32(head[0:])
		memory := binary.LittleEndian.Uint32(head[4:])
		threads := head[8]
		keyLen := binary.LittleEndian.Uint32(head[9:])
		password, err := readField(r)
		if err != nil {
			return 2
		}
		salt, err := readField(r)
		if err != nil {
			return 2
		}
		if time == 0 || time > maxKeyTime || memory == 0 || memory > maxKeyMemory || threads == 0 || threads > maxKeyLanes ||
			keyLen == 0 || keyLen > maxKeyLen {
			return 2
		}
		key := argon2.IDKey(password, salt, time, memory, threads, keyLen)
		clear(password)
		if _, err := out.Write(key); err != nil {
			return 2
		}
	}
}

// readField reads a length-prefixed field of at most maxKeyInput bytes.
func readField(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint32(n[:])
	if size > maxKeyInput {
		return nil, errors.New("field too long")
	}
	b := make([]byte, size)
	_, err := io.ReadFull(r, b)
	return b, err
}
