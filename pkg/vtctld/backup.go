package vtctld

import (
	"context"
	"errors"
	"io"
	"time"

	mysqlctlpb "vitess.io/vitess/go/vt/proto/mysqlctl"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
)

// backupConcurrency is how many files a backup compresses and checksums at once: vtctldclient's
// default. Vitess takes 0 literally, and a backup asked for with 0 never copies a file.
const backupConcurrency = 4

// Backup is one backup of a shard, as vtctld reads it from its backup storage.
type Backup struct {
	Name        string
	TabletAlias string // the tablet it was taken from
	Time        time.Time
	Engine      string
	// Complete is true once the backup's manifest says it was finished.
	Complete bool
}

// Backups lists a shard's backups in vtctld's backup storage, oldest first.
func (c *Client) Backups(ctx context.Context, keyspace, shard string) ([]Backup, error) {
	resp, err := invoke(ctx, c, "GetBackups", read, c.rpc.GetBackups, &vtctldatapb.GetBackupsRequest{Keyspace: keyspace, Shard: shard, Detailed: true})
	if err != nil {
		return nil, err
	}
	var backups []Backup
	for _, info := range resp.GetBackups() {
		status := info.GetStatus()
		backups = append(backups, Backup{
			Name:        info.GetName(),
			TabletAlias: aliasString(info.GetTabletAlias()),
			Time:        time.Unix(info.GetTime().GetSeconds(), int64(info.GetTime().GetNanoseconds())).UTC(),
			Engine:      info.GetEngine(),
			Complete:    status == mysqlctlpb.BackupInfo_COMPLETE || status == mysqlctlpb.BackupInfo_VALID,
		})
	}
	return backups, nil
}

// BackupOptions are how a tablet is backed up.
type BackupOptions struct {
	// AllowPrimary lets the tablet be the primary, which Vitess otherwise refuses.
	AllowPrimary bool
	// Incremental backs up only the binary logs since the shard's last backup (Vitess'
	// incremental backup from position "auto"), without stopping the tablet's mysqld.
	Incremental bool
}

// BackUp backs the tablet up to its own backup storage and returns once the backup is complete.
// A full backup with the builtin engine takes the tablet out of serving while it copies.
func (c *Client) BackUp(ctx context.Context, alias string, options BackupOptions) error {
	tablet, err := parseAlias(alias)
	if err != nil {
		return err
	}
	request := &vtctldatapb.BackupRequest{TabletAlias: tablet, Concurrency: backupConcurrency, AllowPrimary: options.AllowPrimary}
	if options.Incremental {
		request.IncrementalFromPos = "auto"
	}
	return c.call(ctx, "Backup", write, func(ctx context.Context) error {
		stream, err := c.rpc.Backup(ctx, request)
		if err != nil {
			return err
		}
		// The stream carries the tablet's log of the backup; it ends when the backup does.
		for {
			if _, err := stream.Recv(); err != nil {
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
		}
	})
}
