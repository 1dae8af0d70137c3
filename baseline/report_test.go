package baseline

import (
	"testing"

	"github.com/secretwatch/secretwatch/internal/storetest"
)

func TestMemoryStoreReportSource(t *testing.T) {
	storetest.ReportSource(t, storetest.Options{Retention: testRetention}, func(t *testing.T) storetest.ReportStore {
		return NewMemoryStore(testRetention)
	})
}
