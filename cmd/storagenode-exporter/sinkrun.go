package main

import (
	"context"
	"sync"

	"github.com/storagenode-exporter/storagenode-exporter/exporter"
	"github.com/storagenode-exporter/storagenode-exporter/internal/pipeline"
	"github.com/storagenode-exporter/storagenode-exporter/nodeapi"
	"github.com/storagenode-exporter/storagenode-exporter/parser"
	"github.com/storagenode-exporter/storagenode-exporter/sink"
)

// pipelineSink runs serve's live sink in the pipeline (a pipeline.Sink).
type pipelineSink struct {
	*liveSink
	fromBeginning bool
}

// Hooks hands a stream's counted outcomes and events to the sink; a file
// node's are not, the sink reads the file itself.
func (s *pipelineSink) Hooks(n pipeline.NodeSpec) (func(exporter.Outcome), func(*parser.Event)) {
	if n.Kind == pipeline.SourceFile {
		return nil, nil
	}
	return s.forNode(n.Name), s.onEvent(n.Name)
}

// Run follows each file node's log for the sink and writes batches until
// ctx is done.
func (s *pipelineSink) Run(ctx context.Context, nodes []pipeline.NodeSpec, pollers []*nodeapi.Poller, geo sink.Countries) {
	s.pollers = pollers // set before the writer starts
	var followers sync.WaitGroup
	for _, n := range nodes {
		if n.Kind == pipeline.SourceFile {
			followers.Go(func() { s.followFile(ctx, n.Name, n.Source, s.fromBeginning, geo) })
		}
	}
	s.run(ctx)
	followers.Wait()
}
