package baseline

import (
	"testing"
	"time"

	"github.com/secretwatch/secretwatch/detector"
	"github.com/secretwatch/secretwatch/internal/storetest"
)

const testRetention = 48 * time.Hour

func TestMemoryStoreContract(t *testing.T) {
	storetest.Store(t, storetest.Options{Retention: testRetention}, func(t *testing.T) detector.Store {
		return NewMemoryStore(testRetention)
	})
	storetest.Suppressor(t, func(t *testing.T) detector.Suppressor { return NewMemoryStore(testRetention) })
}
