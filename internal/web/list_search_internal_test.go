package web

import (
	"net/url"
	"testing"
	"time"
)

// TestListPager: a searched list's pager says which rows of how many show,
// numbers written the reader's way, and links the pages before and after
// with the search and filters kept.
func TestListPager(t *testing.T) {
	f := listFilter{Query: "amox", Size: 50, Pager: Pager{Page: 3}}
	f.paged(50, 1812, "/lots", url.Values{"status": {"released"}, "empty": {""}})
	if got, want := f.Range("fr"), "101–150 sur 1\u202f812"; got != want {
		t.Errorf("French range %q, want %q", got, want)
	}
	if got, want := f.Range("en"), "101–150 of 1,812"; got != want {
		t.Errorf("English range %q, want %q", got, want)
	}
	if !f.Filtered {
		t.Error("a searched list is not marked filtered")
	}
	if f.Prev != "/lots?page=2&q=amox&status=released" || f.Next != "/lots?page=4&q=amox&status=released" {
		t.Errorf("links %q and %q", f.Prev, f.Next)
	}
	// The last page has no next; a page past the end shows no range and
	// leads back to the last page.
	last := listFilter{Size: 50, Pager: Pager{Page: 2}}
	last.paged(10, 60, "/people", nil)
	if last.Filtered {
		t.Error("a list with no search nor filter is marked filtered")
	}
	all := listFilter{Size: 50, Pager: Pager{Page: 1}}
	if all.paged(0, 0, "/batches", url.Values{"state": {"all"}}); all.Filtered {
		t.Error("the view of all rows is marked filtered")
	}
	if last.Next != "" || last.Prev != "/people" || last.Range("fr") != "51–60 sur 60" {
		t.Errorf("last page: %+v, %q", last.Pager, last.Range("fr"))
	}
	past := listFilter{Size: 50, Pager: Pager{Page: 9}}
	past.paged(0, 60, "/people", nil)
	if past.Next != "" || past.Prev != "/people?page=2" || past.Range("en") != "" {
		t.Errorf("past the end: %+v, %q", past.Pager, past.Range("en"))
	}
	// The period asked for is kept from page to page; a bad one is refused
	// and kept nowhere.
	dated := listFilter{Size: 50, Pager: Pager{Page: 1}}
	from, to, err := dated.period(url.Values{"from": {"2026-11-02"}, "to": {"2026-11-03"}}, time.UTC)
	if err != nil || !from.Equal(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("period: %v %v %v", from, to, err)
	}
	dated.paged(50, 120, "/orders", nil)
	if !dated.Filtered {
		t.Error("a dated list is not marked filtered")
	}
	if dated.Next != "/orders?from=2026-11-02&page=2&to=2026-11-03" {
		t.Errorf("dated link %q", dated.Next)
	}
	bad := listFilter{Size: 50, Pager: Pager{Page: 1}}
	if _, _, err := bad.period(url.Values{"from": {"2026-11-02"}, "to": {"tomorrow"}}, time.UTC); err == nil || bad.From != "" || bad.To != "" {
		t.Errorf("bad period: %v, kept %q %q", err, bad.From, bad.To)
	}
}
