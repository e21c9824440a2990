// Package browser holds the browser tests of the web pages: a real galenix
// with the demo site, driven through Debian's Chromium with chromedp. It is a
// package of its own because it starts the whole application, which imports
// the web package.
package browser
