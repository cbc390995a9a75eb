package vtctld

import (
	"context"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	logutilpb "vitess.io/vitess/go/vt/proto/logutil"
	mysqlctlpb "vitess.io/vitess/go/vt/proto/mysqlctl"
	topodatapb "vitess.io/vitess/go/vt/proto/topodata"
	vtctldatapb "vitess.io/vitess/go/vt/proto/vtctldata"
	vtctlservicepb "vitess.io/vitess/go/vt/proto/vtctlservice"
	vttimepb "vitess.io/vitess/go/vt/proto/vttime"
)

// backupVtctld is a fake vtctld that lists backups and streams a backup's log, failing it after
// the log when told to.
type backupVtctld struct {
	*fakeVtctld
	backups  []*mysqlctlpb.BackupInfo
	detailed bool
	backedUp []string
	removed  []string
	fail     error
}

func (f *backupVtctld) RemoveBackup(ctx context.Context, req *vtctldatapb.RemoveBackupRequest) (*vtctldatapb.RemoveBackupResponse, error) {
	return answer(ctx, f.fakeVtctld, "RemoveBackup", func() (*vtctldatapb.RemoveBackupResponse, error) {
		if f.fail != nil {
			return nil, f.fail
		}
		f.removed = append(f.removed, req.GetKeyspace()+"/"+req.GetShard()+"/"+req.GetName())
		return &vtctldatapb.RemoveBackupResponse{}, nil
	})
}

func (f *backupVtctld) GetBackups(ctx context.Context, req *vtctldatapb.GetBackupsRequest) (*vtctldatapb.GetBackupsResponse, error) {
	return answer(ctx, f.fakeVtctld, "GetBackups", func() (*vtctldatapb.GetBackupsResponse, error) {
		f.detailed = req.GetDetailed()
		return &vtctldatapb.GetBackupsResponse{Backups: f.backups}, nil
	})
}

func (f *backupVtctld) Backup(req *vtctldatapb.BackupRequest, stream vtctlservicepb.Vtctld_BackupServer) error {
	f.mu.Lock()
	backedUp := aliasString(req.GetTabletAlias())
	if req.GetIncrementalFromPos() != "" {
		backedUp += " incrementally from " + req.GetIncrementalFromPos()
	}
	if req.GetAllowPrimary() {
		backedUp += " allowing the primary"
	}
	f.backedUp = append(f.backedUp, backedUp)
	fail := f.fail
	f.mu.Unlock()
	if req.GetConcurrency() <= 0 {
		// vttablet v24 copies files through a semaphore of this size: with 0, none ever is.
		return status.Errorf(codes.InvalidArgument, "concurrency %d: the backup would never copy a file", req.GetConcurrency())
	}
	for _, line := range []string{"Starting backup", "Backup completed"} {
		if err := stream.Send(&vtctldatapb.BackupResponse{Event: &logutilpb.Event{Value: line}}); err != nil {
			return err
		}
	}
	return fail
}

// TestBackups: the listing asks for the backups' details, and reads a backup as complete unless
// Vitess says it is incomplete or invalid (v24 says UNKNOWN of every backup); a backup is asked
// for with a concurrency that copies files (the default 0 hangs the tablet in BACKUP with mysqld
// stopped), incrementally from "auto" when asked, and returns when the tablet's stream ends, with
// the stream's error.
func TestBackups(t *testing.T) {
	fake := &backupVtctld{fakeVtctld: newFakeVtctld(), backups: []*mysqlctlpb.BackupInfo{
		{Name: "2026-12-07.120000.zone1-0000000101", TabletAlias: &topodatapb.TabletAlias{Cell: "zone1", Uid: 101},
			Time: &vttimepb.Time{Seconds: 1796644800}, Engine: "builtin", Status: mysqlctlpb.BackupInfo_COMPLETE},
		{Name: "2026-12-07.130000.zone1-0000000101", Status: mysqlctlpb.BackupInfo_INCOMPLETE},
		{Name: "2026-12-07.140000.zone1-0000000101", Status: mysqlctlpb.BackupInfo_VALID},
		// What Vitess v24 reports for every backup, complete or not.
		{Name: "2026-12-07.150000.zone1-0000000101", Status: mysqlctlpb.BackupInfo_UNKNOWN},
		{Name: "2026-12-07.160000.zone1-0000000101", Status: mysqlctlpb.BackupInfo_INVALID},
	}}
	c := startFake(t, fake)
	ctx := context.Background()
	backups, err := c.Backups(ctx, "commerce", "-")
	if err != nil {
		t.Fatal(err)
	}
	if !fake.detailed {
		t.Errorf("GetBackups was not asked for the backups' manifests")
	}
	var complete []bool
	var statuses []string
	for _, b := range backups {
		complete = append(complete, b.Complete)
		statuses = append(statuses, b.Status)
	}
	if !slices.Equal(statuses, []string{"COMPLETE", "INCOMPLETE", "VALID", "UNKNOWN", "INVALID"}) {
		t.Errorf("statuses %v", statuses)
	}
	if !slices.Equal(complete, []bool{true, false, true, true, false}) || backups[0].TabletAlias != "zone1-0000000101" || backups[0].TabletCell != "zone1" ||
		!backups[0].Time.Equal(time.Unix(1796644800, 0)) || backups[0].Engine != "builtin" {
		t.Errorf("backups %+v", backups)
	}

	if err := c.BackUp(ctx, "zone1-0000000102", BackupOptions{}); err != nil {
		t.Fatalf("BackUp: %v", err)
	}
	if err := c.BackUp(ctx, "zone1-0000000100", BackupOptions{AllowPrimary: true, Incremental: true}); err != nil {
		t.Fatalf("incremental BackUp: %v", err)
	}
	fake.mu.Lock()
	fake.fail = status.Error(codes.Unknown, "backup is not supported by this engine")
	fake.mu.Unlock()
	if err := c.BackUp(ctx, "zone1-0000000102", BackupOptions{}); err == nil || status.Code(err) != codes.Unknown {
		t.Errorf("a backup that failed after its log: %v", err)
	}
	if !slices.Equal(fake.backedUp, []string{"zone1-0000000102", "zone1-0000000100 incrementally from auto allowing the primary", "zone1-0000000102"}) {
		t.Errorf("backed up %v", fake.backedUp)
	}
}

// TestRemoveBackup: the backup named is removed, and Vitess' refusal is the error.
func TestRemoveBackup(t *testing.T) {
	fake := &backupVtctld{fakeVtctld: newFakeVtctld()}
	c := startFake(t, fake)
	ctx := context.Background()
	if err := c.RemoveBackup(ctx, "commerce", "-80", "2026-12-07.120000.zone1-0000000101"); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fake.removed, []string{"commerce/-80/2026-12-07.120000.zone1-0000000101"}) {
		t.Errorf("removed %v", fake.removed)
	}
	fake.mu.Lock()
	fake.fail = status.Error(codes.FailedPrecondition, "backup storage is read-only")
	fake.mu.Unlock()
	if err := c.RemoveBackup(ctx, "commerce", "-80", "2026-12-07.130000.zone1-0000000101"); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("a refused removal: %v", err)
	}
}
