package vitess

import "time"

// BackupFrequencies are the frequencies a backup schedule may name: the periods a cron schedule
// repeats exactly, each shard at its own offset within it.
var BackupFrequencies = map[string]time.Duration{
	"1m": time.Minute, "5m": 5 * time.Minute, "15m": 15 * time.Minute, "30m": 30 * time.Minute,
	"1h": time.Hour, "2h": 2 * time.Hour, "4h": 4 * time.Hour, "6h": 6 * time.Hour, "12h": 12 * time.Hour, "24h": 24 * time.Hour,
}

// DefaultAllowedMissedRun is the only allowedMissedRun a schedule can have: Kubernetes' CronJob
// controller gives up on missed runs after this many.
const DefaultAllowedMissedRun = 100
