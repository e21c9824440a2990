package web

import "time"

// SetEventsPoll sets how often the live streams read the change mark: a
// test sets it beyond its own length to see what wakes a stream at once.
func (s *Server) SetEventsPoll(d time.Duration) { s.eventsPoll = d }
