package tail

// No FIFOs or device files at a path on Windows.
func unixCancelStates(func(Stats) bool) []cancelState { return nil }
