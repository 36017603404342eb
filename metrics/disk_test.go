package metrics

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// diskExposition is the disk collector's exposition with the values in
// the order full, floor, refused, reserve, dropped, queued, write errors.
const diskExposition = `# HELP switchtap_store_disk_full 1 while the store refuses writes because the free space is below its own floor; records wait in memory.
# TYPE switchtap_store_disk_full gauge
switchtap_store_disk_full %s
# HELP switchtap_store_disk_floor_bytes Free space below which the store refuses writes.
# TYPE switchtap_store_disk_floor_bytes gauge
switchtap_store_disk_floor_bytes %s
# HELP switchtap_store_disk_refused_writes_total Store writes refused because the free space was below the store's floor.
# TYPE switchtap_store_disk_refused_writes_total counter
switchtap_store_disk_refused_writes_total %s
# HELP switchtap_store_disk_reserve_bytes Space held by the store's reserve file, released to let the store flush and close on a full disk.
# TYPE switchtap_store_disk_reserve_bytes gauge
switchtap_store_disk_reserve_bytes %s
# HELP switchtap_store_dropped_records_total Call records lost because the store queue was full or the store still failed at shutdown.
# TYPE switchtap_store_dropped_records_total counter
switchtap_store_dropped_records_total %s
# HELP switchtap_store_queue_records Finished call records waiting in memory for the store.
# TYPE switchtap_store_queue_records gauge
switchtap_store_queue_records %s
# HELP switchtap_store_write_errors_total Failed store writes, each retried with backoff.
# TYPE switchtap_store_write_errors_total counter
switchtap_store_write_errors_total %s
`

func TestDiskCollector(t *testing.T) {
	cases := []struct {
		name string
		snap DiskSnapshot
		want []any
	}{
		{"healthy", DiskSnapshot{StoreFloorBytes: 64 << 20, ReserveBytes: 32 << 20},
			[]any{"0", "6.7108864e+07", "0", "3.3554432e+07", "0", "0", "0"}},
		{"full", DiskSnapshot{StoreFull: true, StoreFloorBytes: 64 << 20, RefusedWrites: 7, Queued: 120, Dropped: 3, WriteErrors: 7},
			[]any{"1", "6.7108864e+07", "7", "0", "3", "120", "7"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewPedanticRegistry()
			c := NewDiskCollector(func() DiskSnapshot { return tc.snap })
			if err := reg.Register(c); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf(diskExposition, tc.want...)
			if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
				t.Error(err)
			}
			if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
				t.Errorf("lint: %v %v", problems, err)
			}
		})
	}
}
