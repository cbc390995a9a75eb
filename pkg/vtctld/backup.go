package vtctld

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"vitess.io/vitess/go/protoutil"
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
	// Complete is false only for a backup Vitess reports as incomplete or invalid. Vitess v24
	// reports no status at all (GetBackups leaves it UNKNOWN even when asked for details: a TODO
	// in its server), and lists every backup directory; since a failed backup removes its own
	// (AbortBackup), a listed backup is complete, or still being made.
	Complete bool
}

// Confirmed tells whether Vitess reports the backup complete (COMPLETE, or VALID once checked),
// rather than leaving its status unknown, as v24 does even of one still being made.
func (b Backup) Confirmed() bool {
	return b.Status == mysqlctlpb.BackupInfo_COMPLETE.String() || b.Status == mysqlctlpb.BackupInfo_VALID.String()
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
			Complete:    status != mysqlctlpb.BackupInfo_INCOMPLETE && status != mysqlctlpb.BackupInfo_INVALID,
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
		return drain(stream.Recv)
	})
}

// drain reads a backup's or restore's stream, which carries the tablet's log of it, until it
// ends with the backup or restore: with its error, or nil.
func drain[T any](recv func() (T, error)) error {
	for {
		if _, err := recv(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// RestoreOptions are what a tablet is restored to.
type RestoreOptions struct {
	// BackupTime picks the newest backup taken at or before it; zero is the latest.
	BackupTime time.Time
	// ToTimestamp or ToPosition restore to a point in time through the incremental backups.
	ToTimestamp time.Time
	ToPosition  string
	// DryRun only checks that the restore can be done.
	DryRun bool
}

// RestoreTo is the options of a restore to the newest backup at or before backupTime, to the
// point in time toTimestamp, or to the position toPosition, whichever is given, and else to the
// latest backup.
func RestoreTo(backupTime, toTimestamp *metav1.Time, toPosition string) RestoreOptions {
	options := RestoreOptions{ToPosition: toPosition}
	if backupTime != nil {
		options.BackupTime = backupTime.Time
	}
	if toTimestamp != nil {
		options.ToTimestamp = toTimestamp.Time
	}
	return options
}

// String says what the restore is to, for Events.
func (o RestoreOptions) String() string {
	switch {
	case !o.BackupTime.IsZero():
		return "the newest backup at or before " + o.BackupTime.UTC().Format(time.RFC3339)
	case !o.ToTimestamp.IsZero():
		return "the point in time " + o.ToTimestamp.UTC().Format(time.RFC3339)
	case o.ToPosition != "":
		return "position " + o.ToPosition
	}
	return "the latest backup"
}

// Restore restores the tablet from its backup storage and returns once it is done.
func (c *Client) Restore(ctx context.Context, alias string, options RestoreOptions) error {
	tablet, err := parseAlias(alias)
	if err != nil {
		return err
	}
	request := &vtctldatapb.RestoreFromBackupRequest{TabletAlias: tablet, RestoreToPos: options.ToPosition, DryRun: options.DryRun}
	if !options.BackupTime.IsZero() {
		request.BackupTime = protoutil.TimeToProto(options.BackupTime)
	}
	if !options.ToTimestamp.IsZero() {
		request.RestoreToTimestamp = protoutil.TimeToProto(options.ToTimestamp)
	}
	return c.call(ctx, "RestoreFromBackup", write, func(ctx context.Context) error {
		stream, err := c.rpc.RestoreFromBackup(ctx, request)
		if err != nil {
			return err
		}
		return drain(stream.Recv)
	})
}
