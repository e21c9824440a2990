package pgbackrest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Bindir finds PostgreSQL's server programs (pg_ctl): pg_config's
// --bindir, else the newest /usr/lib/postgresql/*/bin (Debian keeps them
// off the PATH).
func Bindir() (string, error) {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		dir := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(dir, "pg_ctl")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) < version(dirs[j]) })
	if len(dirs) > 0 {
		return filepath.Dir(dirs[len(dirs)-1]), nil
	}
	return "", errors.New("PostgreSQL's server programs (pg_ctl) are not found: install the postgresql package, or name their folder with --pg-bindir")
}

// version is the major version in a path /usr/lib/postgresql/N/bin/pg_ctl.
func version(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// Chown gives dir to the system user (when galenix runs as root), so that
// pgBackRest and PostgreSQL, run as that user, may write in it.
func Chown(dir, name string) error {
	if name == "" || os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(dir, uid, gid)
}

// Server is a throwaway PostgreSQL on a restored data directory: it listens
// on 127.0.0.1 on a port of its own, archives nothing (a drill's restore
// must never write into the site's repository), and is stopped after.
type Server struct {
	Bindir string
	Data   string
	User   string
	Port   int
	log    string
}

// StartServer starts PostgreSQL on the restored data directory data and
// waits, up to an hour, until it has replayed the archived log and accepts
// connections. The data directory lacking
// PostgreSQL's configuration files (kept in /etc/postgresql on Debian)
// gets minimal ones: nothing but loopback connections with a password.
func StartServer(ctx context.Context, bindir, data, as string) (*Server, error) {
	s := &Server{Bindir: bindir, Data: data, User: as, log: filepath.Join(data, "galenix-drill.log")}
	for name, body := range map[string]string{
		"postgresql.conf": "# written by galenix backup drill: the restore's data directory had none\n",
		"pg_hba.conf":     "# written by galenix backup drill: the restore's data directory had none\nhost all all 127.0.0.1/32 scram-sha-256\n",
		"pg_ident.conf":   "# written by galenix backup drill: the restore's data directory had none\n",
	} {
		p := filepath.Join(data, name)
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				return nil, err
			}
			if err := Chown(p, as); err != nil {
				return nil, err
			}
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	// hot_standby off: the server opens only once it has replayed the log
	// to the point, so that nothing reads a restore half-way; and a
	// restore may then run with settings lower than the primary's
	// (max_connections ...), which a hot standby refuses.
	//
	// A restore of a Patroni member carries the settings Patroni wrote into
	// its postgresql.conf: the synchronous standby's name (a commit would
	// wait for ever for a standby the drill does not have) and the paths of
	// the live member's pg_hba.conf and pg_ident.conf. The restore's own
	// files are used instead.
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k '%[2]s' -c archive_mode=off -c hot_standby=off -c cluster_name=galenix-drill"+
		" -c synchronous_standby_names= -c hba_file='%[2]s/pg_hba.conf' -c ident_file='%[2]s/pg_ident.conf'", s.Port, data)
	out, err := s.pgctl(ctx, "-D", data, "-l", s.log, "-w", "-t", "3600", "-o", opts, "start")
	if err != nil {
		return nil, fmt.Errorf("starting PostgreSQL on the restore: %v\n%s%s", err, out, s.LogTail())
	}
	return s, nil
}

func (s *Server) pgctl(ctx context.Context, args ...string) ([]byte, error) {
	cmd, err := Command(ctx, s.User, filepath.Join(s.Bindir, "pg_ctl"), args...)
	if err != nil {
		return nil, err
	}
	return cmd.CombinedOutput()
}

// LogTail is the end of the server's log, for a message.
func (s *Server) LogTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Running reports whether the server still runs.
func (s *Server) Running(ctx context.Context) bool {
	_, err := s.pgctl(ctx, "-D", s.Data, "status")
	return err == nil
}

// Stop stops the server, letting it finish cleanly for up to a minute.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := os.Stat(filepath.Join(s.Data, "postmaster.pid")); err != nil {
		return nil
	}
	if out, err := s.pgctl(ctx, "-D", s.Data, "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		if _, err2 := s.pgctl(ctx, "-D", s.Data, "-m", "immediate", "stop"); err2 != nil {
			return fmt.Errorf("stopping the drill's PostgreSQL: %v: %s", err, out)
		}
	}
	return nil
}
