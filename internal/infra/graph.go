package infra

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"

	"galenix/internal/errs"
)

// State is what an asset's supervision says of it.
type State string

// The states. An asset without a check is unknown; degraded is up with a
// warning (a certificate near its end); down fails what depends on it.
const (
	StateUnknown  State = "unknown"
	StateUp       State = "up"
	StateDegraded State = "degraded"
	StateDown     State = "down"
)

// States lists the states, the worst last.
var States = []State{StateUnknown, StateUp, StateDegraded, StateDown}

// Graph is the site's dependency graph: each asset up only while it has
// not failed and what it depends on is up (every dependency; a redundancy
// group: Need of its members).
type Graph struct {
	Assets []Asset
	index  map[string]int32
	deps   [][]int32
	users  [][]int32
	// order lists the assets, each after everything it depends on.
	order []int32
}

// NewGraph builds the graph of the assets. A dependency on no asset of the
// list, or a cycle (an asset that would depend on itself), is refused,
// naming the assets in words.
func NewGraph(assets []Asset) (*Graph, error) {
	g := &Graph{Assets: assets, index: make(map[string]int32, len(assets)), deps: make([][]int32, len(assets)), users: make([][]int32, len(assets))}
	for i := range assets {
		g.index[assets[i].ID] = int32(i)
	}
	for i := range assets {
		for _, d := range assets[i].DependsOn {
			j, ok := g.index[d]
			if !ok {
				return nil, errs.Field("depends_on", "infra.depends_unknown", assets[i].Code, d)
			}
			if j == int32(i) {
				return nil, errs.Field("depends_on", "infra.depends_self", assets[i].Code)
			}
			g.deps[i] = append(g.deps[i], j)
			g.users[j] = append(g.users[j], int32(i))
		}
	}
	// Kahn's order: an asset once every dependency is placed.
	waiting := make([]int, len(assets))
	g.order = make([]int32, 0, len(assets))
	for i := range assets {
		waiting[i] = len(g.deps[i])
		if waiting[i] == 0 {
			g.order = append(g.order, int32(i))
		}
	}
	for k := 0; k < len(g.order); k++ {
		for _, u := range g.users[g.order[k]] {
			if waiting[u]--; waiting[u] == 0 {
				g.order = append(g.order, u)
			}
		}
	}
	if len(g.order) < len(assets) {
		return nil, errs.Field("depends_on", "infra.cycle", strings.Join(g.cycle(waiting), " → "))
	}
	g.groupStates()
	return g, nil
}

// groupStates gives each redundancy group, which no check watches, the
// state its members' make: down when fewer than it needs can be up,
// degraded when a member is down or degraded but enough remain, up when
// every member is up, unknown otherwise.
func (g *Graph) groupStates() {
	for _, i := range g.order {
		a := &g.Assets[i]
		if a.Kind != Group {
			continue
		}
		up, down, weak := 0, 0, 0
		for _, d := range g.deps[i] {
			switch g.Assets[d].State {
			case StateUp:
				up++
			case StateDegraded:
				up, weak = up+1, weak+1
			case StateDown:
				down++
			}
		}
		switch n := len(g.deps[i]); {
		case n-down < a.Need:
			a.State = StateDown
		case down > 0 || weak > 0:
			a.State = StateDegraded
		case up == n:
			a.State = StateUp
		default:
			a.State = StateUnknown
		}
	}
}

// cycle names the codes of one cycle among the assets Kahn's order could
// not place (waiting > 0).
func (g *Graph) cycle(waiting []int) []string {
	start := int32(-1)
	for i, w := range waiting {
		if w > 0 {
			start = int32(i)
			break
		}
	}
	// Follow unplaced dependencies until one repeats: every unplaced asset
	// has one.
	seen := map[int32]int{}
	var path []int32
	for at := start; ; {
		if k, ok := seen[at]; ok {
			path = append(path[k:], at)
			break
		}
		seen[at] = len(path)
		path = append(path, at)
		for _, d := range g.deps[at] {
			if waiting[d] > 0 {
				at = d
				break
			}
		}
	}
	codes := make([]string, len(path))
	for i, p := range path {
		codes[i] = g.Assets[p].Code
	}
	return codes
}

// Index is the position of the asset with the id; false when none.
func (g *Graph) Index(id string) (int, bool) {
	i, ok := g.index[id]
	return int(i), ok
}

// Deps are the positions of what asset i depends on; Users of what
// depends on it.
func (g *Graph) Deps(i int) []int32  { return g.deps[i] }
func (g *Graph) Users(i int) []int32 { return g.users[i] }

// need is how many of its dependencies asset i needs up.
func (g *Graph) need(i int32) int {
	if g.Assets[i].Kind == Group {
		return g.Assets[i].Need
	}
	return len(g.deps[i])
}

// Down is what is down when the failed assets fail: each of them, and
// every asset short of what it needs.
func (g *Graph) Down(failed []bool) []bool {
	down := make([]bool, len(g.Assets))
	for _, i := range g.order {
		if failed[i] {
			down[i] = true
			continue
		}
		up := 0
		for _, d := range g.deps[i] {
			if !down[d] {
				up++
			}
		}
		down[i] = up < g.need(i)
	}
	return down
}

// Weight is what the loss of a target costs, by its GMP impact; any other
// asset's loss costs nothing of itself.
func (a *Asset) Weight() int {
	if !a.Kind.Target() {
		return 0
	}
	switch a.Impact {
	case ImpactCritical:
		return 100
	case ImpactRelevant:
		return 10
	}
	return 1
}

// bitset is a set of asset positions.
type bitset []uint64

func (b bitset) set(i int32) { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) or(c bitset) {
	for k := range b {
		b[k] |= c[k]
	}
}

// each calls fn with each position in the set.
func (b bitset) each(fn func(i int32)) {
	for k, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			fn(int32(k<<6 + t))
			w &= w - 1
		}
	}
}

// singleFailures is, for each asset, the set of assets whose loss alone
// takes it down (itself included): the whole of its dependencies' sets;
// for a redundancy group needing k of n, the assets found in more than
// n-k of its members' sets, so that two redundant members sharing one
// hidden dependency make that dependency a single point of failure.
func (g *Graph) singleFailures() []bitset {
	words := (len(g.Assets) + 63) / 64
	mem := make([]uint64, words*len(g.Assets))
	sets := make([]bitset, len(g.Assets))
	counts := make([]int32, len(g.Assets))
	for _, i := range g.order {
		s := bitset(mem[int(i)*words : (int(i)+1)*words : (int(i)+1)*words])
		sets[i] = s
		if g.Assets[i].Kind != Group {
			s.set(i)
			for _, d := range g.deps[i] {
				s.or(sets[d])
			}
			continue
		}
		// A group falls when more than n-k members fall.
		tolerate := int32(len(g.deps[i]) - g.need(i))
		var touched []int32
		for _, d := range g.deps[i] {
			sets[d].each(func(a int32) {
				if counts[a] == 0 {
					touched = append(touched, a)
				}
				counts[a]++
			})
		}
		for _, a := range touched {
			if counts[a] > tolerate {
				s.set(a)
			}
			counts[a] = 0
		}
	}
	return sets
}

// Point is a single point of failure: an asset whose loss alone stops
// targets (lines, rooms' monitoring, doors, services).
type Point struct {
	Asset int32
	// Stops are the targets it stops, the costliest first.
	Stops []int32
	// Score sums the stopped targets' weights.
	Score int
	// Own is true when it is a line's own equipment (its PLC) that stops
	// that line only: inherent to the line, listed after the others.
	Own bool
}

// SinglePoints lists the single points of failure: every asset other than
// a target or a group whose loss alone stops a target, ranked by GMP
// impact (the shared ones first, then by score, by number of targets
// stopped, by code).
func (g *Graph) SinglePoints() []Point {
	sets := g.singleFailures()
	stops := map[int32][]int32{}
	for t := range g.Assets {
		if !g.Assets[t].Kind.Target() {
			continue
		}
		sets[t].each(func(a int32) {
			if k := g.Assets[a].Kind; a != int32(t) && !k.Target() && k != Group {
				stops[a] = append(stops[a], int32(t))
			}
		})
	}
	out := make([]Point, 0, len(stops))
	for a, ts := range stops {
		p := Point{Asset: a, Stops: g.rank(ts)}
		line := g.Assets[a].LineID
		p.Own = line != ""
		for _, t := range ts {
			p.Score += g.Assets[t].Weight()
			if g.Assets[t].LineID != line {
				p.Own = false
			}
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(x, y Point) int {
		if x.Own != y.Own {
			if x.Own {
				return 1
			}
			return -1
		}
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(len(y.Stops), len(x.Stops)),
			strings.Compare(g.Assets[x.Asset].Code, g.Assets[y.Asset].Code))
	})
	return out
}

// rank orders targets the costliest first, then by kind and code.
func (g *Graph) rank(ts []int32) []int32 {
	slices.SortFunc(ts, func(x, y int32) int {
		a, b := &g.Assets[x], &g.Assets[y]
		return cmp.Or(cmp.Compare(b.Weight(), a.Weight()), cmp.Compare(slices.Index(Kinds, a.Kind), slices.Index(Kinds, b.Kind)),
			strings.Compare(a.Code, b.Code))
	})
	return ts
}

// Outcome is what a set of failures stops.
type Outcome struct {
	// Failed are the assets failed; Down every other asset down with them.
	Failed, Down []int32
	// Stopped are the targets down, the costliest first; Score sums their
	// weights.
	Stopped []int32
	Score   int
	// Weakened are the redundancy groups still up with fewer members than
	// they have: one more loss may stop them.
	Weakened []int32
	// Causes names, for each target stopped, the failed assets it
	// depends on through what is down (at most five).
	Causes map[int32][]int32
}

// Fail is the outcome of the failure of the assets at the positions.
func (g *Graph) Fail(failed []int32) Outcome {
	f := make([]bool, len(g.Assets))
	for _, i := range failed {
		f[i] = true
	}
	down := g.Down(f)
	o := Outcome{Failed: slices.Clone(failed), Causes: map[int32][]int32{}}
	slices.SortFunc(o.Failed, func(x, y int32) int { return strings.Compare(g.Assets[x].Code, g.Assets[y].Code) })
	for i, d := range down {
		a := &g.Assets[i]
		switch {
		case d && a.Kind.Target():
			o.Stopped = append(o.Stopped, int32(i))
			o.Score += a.Weight()
			o.Causes[int32(i)] = g.causes(int32(i), f, down)
		case d && !f[i]:
			o.Down = append(o.Down, int32(i))
		case !d && a.Kind == Group:
			for _, m := range g.deps[i] {
				if down[m] {
					o.Weakened = append(o.Weakened, int32(i))
					break
				}
			}
		}
	}
	o.Stopped = g.rank(o.Stopped)
	return o
}

// causes walks up from a down asset through what is down to the failed
// assets that took it down, the nearest first, at most five.
func (g *Graph) causes(t int32, failed, down []bool) []int32 {
	var out []int32
	seen := map[int32]bool{t: true}
	queue := []int32{t}
	for len(queue) > 0 && len(out) < 5 {
		at := queue[0]
		queue = queue[1:]
		if failed[at] {
			out = append(out, at)
			continue
		}
		for _, d := range g.deps[at] {
			if down[d] && !seen[d] {
				seen[d] = true
				queue = append(queue, d)
			}
		}
	}
	return out
}

// Place is a building or a room whose loss (a fire, a flood, a planned
// shutdown of its power) the analysis weighs.
type Place struct {
	BuildingID, RoomID string
}

// In reports whether the asset stands in the place.
func (p Place) In(a *Asset) bool {
	if p.RoomID != "" {
		return a.RoomID == p.RoomID
	}
	return p.BuildingID != "" && a.BuildingID == p.BuildingID
}

// InPlace lists the positions of the assets standing in the place.
func (g *Graph) InPlace(p Place) []int32 {
	var out []int32
	for i := range g.Assets {
		if p.In(&g.Assets[i]) {
			out = append(out, int32(i))
		}
	}
	return out
}

// PlaceLoss is what the loss of a whole place stops beyond itself.
type PlaceLoss struct {
	Place Place
	// Assets is how many assets stand there.
	Assets int
	// Beyond are the targets stopped that stand elsewhere, the costliest
	// first, and Score their weight; Within counts those in the place.
	Beyond []int32
	Score  int
	Within int
}

// PlaceLosses weighs the loss of each place that holds infrastructure
// (not only targets), ranked by what it stops beyond itself. The assets
// are sorted by place once, and each loss walks only what falls with it
// (spread), so that the site's size costs once, not once per place.
func (g *Graph) PlaceLosses(places []Place) []PlaceLoss {
	byRoom, byBuilding := map[string][]int32{}, map[string][]int32{}
	for i := range g.Assets {
		a := &g.Assets[i]
		if a.RoomID != "" {
			byRoom[a.RoomID] = append(byRoom[a.RoomID], int32(i))
		}
		if a.BuildingID != "" {
			byBuilding[a.BuildingID] = append(byBuilding[a.BuildingID], int32(i))
		}
	}
	sp := g.newSpread()
	var out []PlaceLoss
	for _, p := range places {
		in := byBuilding[p.BuildingID]
		if p.RoomID != "" {
			in = byRoom[p.RoomID]
		}
		if !slices.ContainsFunc(in, func(i int32) bool { return !g.Assets[i].Kind.Target() }) {
			continue
		}
		l := PlaceLoss{Place: p, Assets: len(in)}
		for _, t := range sp.fail(in) {
			switch a := &g.Assets[t]; {
			case !a.Kind.Target():
			case p.In(a):
				l.Within++
			default:
				l.Beyond = append(l.Beyond, t)
				l.Score += a.Weight()
			}
		}
		sp.reset()
		if len(l.Beyond) > 0 {
			l.Beyond = g.rank(l.Beyond)
			out = append(out, l)
		}
	}
	slices.SortStableFunc(out, func(x, y PlaceLoss) int {
		return cmp.Or(cmp.Compare(y.Score, x.Score), cmp.Compare(len(y.Beyond), len(x.Beyond)))
	})
	return out
}

// spread finds what falls with a set of failures by walking from them to
// what uses them: a user falls once more of its dependencies are down
// than it can spare (a group: more than n-k). What goes down is the same
// as Down's, but the walk visits only what falls and its users, not the
// whole graph; reset readies it for the next set.
type spread struct {
	g        *Graph
	downDeps []int32
	down     []bool
	list     []int32
}

func (g *Graph) newSpread() *spread {
	return &spread{g: g, downDeps: make([]int32, len(g.Assets)), down: make([]bool, len(g.Assets))}
}

// fail lists the assets down when the failed ones fail, those first.
func (s *spread) fail(failed []int32) []int32 {
	for _, i := range failed {
		if !s.down[i] {
			s.down[i], s.list = true, append(s.list, i)
		}
	}
	for k := 0; k < len(s.list); k++ {
		for _, u := range s.g.users[s.list[k]] {
			s.downDeps[u]++
			if !s.down[u] && len(s.g.deps[u])-int(s.downDeps[u]) < s.g.need(u) {
				s.down[u], s.list = true, append(s.list, u)
			}
		}
	}
	return s.list
}

func (s *spread) reset() {
	for _, i := range s.list {
		s.down[i] = false
		for _, u := range s.g.users[i] {
			s.downDeps[u] = 0
		}
	}
	s.list = s.list[:0]
}
