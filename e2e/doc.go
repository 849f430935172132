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
//
// TestCognitoLocal holds ssoserver against an independent Cognito:
// cognito-local (npm, 5.3.0) on loopback. It creates a pool, app clients
// and a user through Cognito's JSON API, signs in with USER_PASSWORD_AUTH,
// and calls GenerateSSOToken with the access token as the seed's fetch
// sample does: 200, and the ID token, another app client's token, another
// pool's and a forged one refused. It finds cognito-local through
// SSOKIT_COGNITO_LOCAL (a running one), SSOKIT_COGNITO_LOCAL_DIR (an npm
// install), .ci/run's cache directory or PATH, and skips without it.
package e2e
