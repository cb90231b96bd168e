//go:build !unix

package main

// selfCPU is 0 where getrusage(2) does not exist: the benchmark scripts
// (bench/serve.sh) run on Linux only.
func selfCPU() float64 { return 0 }
