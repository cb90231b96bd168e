package nodeapi

// Scores are a satellite's reputation scores (0..1).
type Scores struct{ Audit, Suspension, Online float64 }

// ScoreSource gives the last scores a node's log reported, by satellite
// label value (name, or ID for unknown satellites). exporter.ScoreBoard is
// one; the node-API collector of package exporter reads it for a node whose
// API is not served.
type ScoreSource interface {
	LogScores(node string) map[string]Scores
}
