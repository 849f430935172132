//go:build !unix

package main

import "errors"

const caseCoverageSupported = false

func installGoWrapper(string) (string, []string, error) {
	return "", nil, errors.New("case coverage needs a Unix system")
}

func goWrapper([]string) int { return 2 }
