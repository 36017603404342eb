package web

import (
	"net/url"
	"strconv"
)

// pagerWindow is how many page links are shown each side of the current.
const pagerWindow = 3

// pager is the nav.pager of a paged list; every link keeps the filters.
type pager struct {
	Page, Pages int
	Prev, Next  string
	Links       []pageLink
}

// pageLink is one page number (or a gap "…").
type pageLink struct {
	N       int
	URL     string
	Current bool
	Gap     bool
}

// newPager returns the links of page (from 1) of total items, per page,
// at path with the filters q.
func newPager(page, total, per int, path string, q url.Values) pager {
	pages := max(1, (total+per-1)/per)
	link := func(n int) string {
		v := url.Values{}
		for k, vals := range q {
			v[k] = vals
		}
		v.Set("page", strconv.Itoa(n))
		return path + "?" + v.Encode()
	}
	p := pager{Page: page, Pages: pages}
	if page > 1 {
		p.Prev = link(min(page-1, pages))
	}
	if page < pages {
		p.Next = link(page + 1)
	}
	last := 0
	for n := 1; n <= pages; n++ {
		if n != 1 && n != pages && (n < page-pagerWindow || n > page+pagerWindow) {
			continue
		}
		if last != 0 && n > last+1 {
			p.Links = append(p.Links, pageLink{Gap: true})
		}
		p.Links = append(p.Links, pageLink{N: n, URL: link(n), Current: n == page})
		last = n
	}
	return p
}
