package vtctld

import (
	"context"
	"errors"
	"io"
	"strings"
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
	TabletCell  string // that tablet's cell
	Time        time.Time
	Engine      string
	// Status is Vitess' status of the backup: INCOMPLETE without a manifest (being made, or
	// abandoned), COMPLETE with one, VALID or INVALID once checked, UNKNOWN when not read.
	Status string
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
			TabletCell:  info.GetTabletAlias().GetCell(),
			Time:        time.Unix(info.GetTime().GetSeconds(), int64(info.GetTime().GetNanoseconds())).UTC(),
			Engine:      info.GetEngine(),
			Status:      status.String(),
			Complete:    status == mysqlctlpb.BackupInfo_COMPLETE || status == mysqlctlpb.BackupInfo_VALID,
		})
	}
	return backups, nil
}

// IsNoBackupStorage tells whether the error is vtctld's answer to a backup call when it was started
// without a backup storage (no --backup-storage-implementation): a cluster that keeps no backups.
// Vitess raises it as a plain error, so only its message tells it apart.
func IsNoBackupStorage(err error) bool {
	return err != nil && strings.Contains(Message(err), "no registered implementation of BackupStorage")
}

// RemoveBackup removes a shard's backup, by its name in Backups, from vtctld's backup storage.
func (c *Client) RemoveBackup(ctx context.Context, keyspace, shard, name string) error {
	_, err := invoke(ctx, c, "RemoveBackup", write, c.rpc.RemoveBackup, &vtctldatapb.RemoveBackupRequest{Keyspace: keyspace, Shard: shard, Name: name})
	return err
}

// BackUp backs the tablet up to its own backup storage and returns once the backup is complete.
// The tablet leaves serving meanwhile, so it is never the primary.
func (c *Client) BackUp(ctx context.Context, alias string) error {
	tablet, err := parseAlias(alias)
	if err != nil {
		return err
	}
	return c.call(ctx, "Backup", write, func(ctx context.Context) error {
		stream, err := c.rpc.Backup(ctx, &vtctldatapb.BackupRequest{TabletAlias: tablet, Concurrency: backupConcurrency})
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
