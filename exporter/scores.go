package exporter

// Scores are a satellite's reputation scores (0..1) as a node's log
// reported them.
type Scores struct{ Audit, Suspension, Online float64 }

// ScoreSource gives the last scores a node's log reported, by satellite
// label value (name, or ID for unknown satellites). ScoreBoard is one; the
// node-API collector reads it for a node whose API is not served
// (NodeAPIOptions.LogScores).
type ScoreSource interface {
	LogScores(node string) map[string]Scores
}
