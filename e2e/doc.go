// Package e2e drives the example programs through both journeys of the
// API documents in a real headless Chromium, with chromedp: the portal's
// fetch sample and the hand-over to the linked LOB, and the forum's cookie
// exchange. It is a module of its own, so that hosts importing
// github.com/ssokit/ssokit never download chromedp.
//
//	cd e2e && go test ./...
//
// The tests build examples/ssoserver and examples/lobapp from the parent
// module and start them on loopback. They need Chromium (Debian: apt-get
// install chromium; or SSOKIT_CHROME=/path/to/chrome) and skip without
// it. Screenshots of every step go to SSOKIT_SCREENSHOTS, or to a new
// temporary folder that the test names in its output.
package e2e
