package nodeapi

// DiskSpace is the node's disk usage with one meaning for every node
// version, in bytes (docs/node-api.md §4.3 and §10.2).
//
//	                generation 1 (< v1.143,       generation 2 (≥ v1.143,
//	                no "allocated" key)            "allocated" present)
//	Used            used + trash                   used
//	Free            max(0, available−used−trash)   available
//	Allocated       available                      allocated
//	Trash           trash (0 before v1.4)          trash
//	Overused        overused; before v1.19         overused
//	                max(0, used+trash−available)
//	Reclaimable     not reported: 0, Generation 1  reclaimable
//
// Used is everything the node occupies, trash included, and Free is what it
// may still fill. In generation 1 the node did not count hashstore files
// beyond live records (dead records, hash tables), so Used is somewhat
// lower than generation 2 would report for the same disk, and Reclaimable
// (dead hashstore records compaction can free) cannot be derived: it is 0
// there and must be treated as unknown, which Generation tells.
type DiskSpace struct {
	Used        int64
	Free        int64
	Allocated   int64
	Trash       int64
	Overused    int64
	Reclaimable int64
	// Generation is 1 for the diskSpace form before v1.143 and 2 after.
	Generation int
}

// Disk returns the disk figures normalised over both diskSpace generations.
func (d *Dashboard) Disk() DiskSpace {
	r := d.RawDisk
	trash := deref(r.Trash)
	if r.Allocated != nil {
		return DiskSpace{
			Used:        r.Used,
			Free:        r.Available,
			Allocated:   *r.Allocated,
			Trash:       trash,
			Overused:    deref(r.Overused),
			Reclaimable: deref(r.Reclaimable),
			Generation:  2,
		}
	}
	used := r.Used + trash
	overused := max(0, used-r.Available)
	if r.Overused != nil {
		overused = *r.Overused
	}
	return DiskSpace{
		Used:       used,
		Free:       max(0, r.Available-used),
		Allocated:  r.Available,
		Trash:      trash,
		Overused:   overused,
		Generation: 1,
	}
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}
