package central

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// benchBatch is the batch size of the benchmarks (the uplink's default).
const benchBatch = 500

// BenchmarkIngestHTTP is the whole receiver: one gzipped batch of 500 new
// records per op over HTTP, decoded, upserted and committed.
func BenchmarkIngestHTTP(b *testing.B) {
	e := newEnv(b, nil, nil)
	bx := e.addBox("caja-bench", "Oficina")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		first := uint64(len(bx.outbox) + 1)
		bx.writeN(benchBatch * 3 / 4) // with the updates: ~500 entries
		for len(bx.outbox) < int(first)+benchBatch-1 {
			bx.write(fmt.Sprintf("extra-%d", len(bx.outbox)), t0)
		}
		last := first + benchBatch - 1
		bx.outbox = bx.outbox[:last]
		body := bx.body(first, last)
		b.StartTimer()
		r, err := bx.post(body, bx.token)
		if err != nil || r.status != 200 || r.acked != last {
			b.Fatalf("%+v %v", r, err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkIngestDB is Ingest alone: the transaction of one batch.
func BenchmarkIngestDB(b *testing.B) {
	e := newEnv(b, nil, nil)
	ctx := context.Background()
	if _, err := e.s.AddBox(ctx, "caja-db", "Oficina"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		batch := Batch{FirstSeq: uint64(i*benchBatch + 1), LastSeq: uint64((i + 1) * benchBatch)}
		for k := range benchBatch {
			id := fmt.Sprintf("leg-%d-%d", i, k)
			batch.Entries = append(batch.Entries, Entry{Seq: batch.FirstSeq + uint64(k), RecordID: id, Revision: 1,
				Record: record(id, 1, t0.Add(time.Duration(k)*time.Second))})
		}
		b.StartTimer()
		if _, out, err := e.s.Ingest(ctx, "caja-db", &batch); err != nil || out != Applied {
			b.Fatal(out, err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkFixNUL is the scan every record goes through.
func BenchmarkFixNUL(b *testing.B) {
	raw := record("leg-1", 1, t0)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		_ = fixNUL(raw)
	}
}
