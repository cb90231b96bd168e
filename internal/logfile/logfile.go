// Package logfile opens a storage node's log for reading without getting in
// the way of the node or of a log rotator.
//
// On Unix a file open for reading never stops others from renaming,
// deleting or writing it, and Open is os.Open. On Windows a file is opened
// with a share mode, and os.Open's leaves out FILE_SHARE_DELETE: while the
// exporter held the log open, the node (or a rotator) could not rename or
// delete it. Open there shares reading, writing and deleting
// (FILE_SHARE_READ|FILE_SHARE_WRITE|FILE_SHARE_DELETE), so the exporter's
// handle blocks nothing.
//
// Every open of a log that the exporter follows or reads goes through Open:
// the follower of package tail (and so source.File), the sink's ingest and
// its start position for serve, and report.
package logfile
