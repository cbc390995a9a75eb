package shard

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clienttesting "k8s.io/client-go/testing"

	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/apis/vitess/v1alpha1"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/internal/objectstest"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/reconcile/topology"
	"github.com/vitess-apiserver/vitess-apiserver/pkg/vtctld"
)

// fakeVitess answers for a shard whose primary is primary and whose tablets registered, and
// records the reparents and elections asked of it.
type fakeVitess struct {
	primary    string
	registered []vtctld.Tablet

	backups   []vtctld.Backup
	backupErr error
	// removeErr fails the removal of the backups it names; removed are the backups removed.
	removeErr map[string]error
	removed   []string
	// afterRemove, if set, runs after each removal, in the caller's goroutine.
	afterRemove func()

	mu         sync.Mutex
	reparented []string
	candidates []string
	backedUp   []string
	// backupOptions are the options of each backup in backedUp.
	backupOptions []vtctld.BackupOptions
	restored      []string
	// stoppedReplication are the tablets that do not replicate; replicationRead the tablets whose
	// replication was read, replicationStarted those it was started on.
	stoppedReplication                  []string
	replicationRead, replicationStarted []string
}

func (f *fakeVitess) Shards(context.Context, string) ([]vtctld.Shard, error) {
	return []vtctld.Shard{{Name: "-", PrimaryAlias: f.primary, IsPrimaryServing: true}}, nil
}

func (f *fakeVitess) Tablets(context.Context, string, string) ([]vtctld.Tablet, error) {
	return f.registered, nil
}

func (f *fakeVitess) ElectPrimary(_ context.Context, _, _ string, candidates []string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.candidates = candidates
	return candidates[0], nil
}

func (f *fakeVitess) ReparentAwayFrom(_ context.Context, _, _, alias string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reparented = append(f.reparented, alias)
	return "", nil
}

func (f *fakeVitess) Backups(context.Context, string, string) ([]vtctld.Backup, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.backups), nil
}

// RemoveBackup records the removal, and lists the backup no more unless it fails.
func (f *fakeVitess) RemoveBackup(_ context.Context, _, _, name string) error {
	f.mu.Lock()
	if err := f.removeErr[name]; err != nil {
		f.mu.Unlock()
		return err
	}
	f.removed = append(f.removed, name)
	f.backups = slices.DeleteFunc(f.backups, func(b vtctld.Backup) bool { return b.Name == name })
	afterRemove := f.afterRemove
	f.mu.Unlock()
	if afterRemove != nil {
		afterRemove()
	}
	return nil
}

// BackUp records the backup, and lists it from then on unless it fails.
func (f *fakeVitess) BackUp(_ context.Context, alias string, options vtctld.BackupOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.backedUp = append(f.backedUp, alias)
	f.backupOptions = append(f.backupOptions, options)
	if f.backupErr == nil {
		now := time.Now().UTC()
		f.backups = append(f.backups, vtctld.Backup{Name: now.Format("2006-01-02.150405.") + alias, TabletAlias: alias, Time: now, Engine: "builtin", Complete: true})
	}
	return f.backupErr
}

// Restore records the restore.
func (f *fakeVitess) Restore(_ context.Context, alias string, options vtctld.RestoreOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.restored = append(f.restored, alias+" to "+options.String())
	return nil
}

// ReplicationStopped says whether the tablet is among stoppedReplication.
func (f *fakeVitess) ReplicationStopped(_ context.Context, alias string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replicationRead = append(f.replicationRead, alias)
	return slices.Contains(f.stoppedReplication, alias), nil
}

func (f *fakeVitess) StartReplication(_ context.Context, alias string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replicationStarted = append(f.replicationStarted, alias)
	return nil
}

// controllerAskingVitess is startedController for keyspace, shard and core objects, asking
// vitessShard of Vitess, with view as the cluster's topology reading (none when nil).
func controllerAskingVitess(t *testing.T, keyspace *v1alpha1.VitessKeyspace, shard *v1alpha1.VitessShard, core []runtime.Object,
	vitessShard *fakeVitess, view *topology.View) (*Controller, *objectstest.Fakes) {
	t.Helper()
	c, fakes := startedController(t, []runtime.Object{keyspace, shard}, core)
	c.vitess = func(string, time.Duration) (vitessShards, error) { return vitessShard, nil }
	if view != nil {
		c.topology.SetView(shard.Namespace+"/"+shard.Spec.Cluster, view)
	}
	return c, fakes
}

// TestRollReplacesTabletsByAFreshReadingOfThePrimary: tablets whose spec changed are replaced one
// at a time, and which one is the primary is read from Vitess when one is about to go, never taken
// from the shard's status, which may predate a failover. Without a reading of the topology nothing
// is deleted; the primary is reparented away from rather than deleted.
func TestRollReplacesTabletsByAFreshReadingOfThePrimary(t *testing.T) {
	keyspace, shard := keyspaceShard(t)
	shard.Spec.VitessOrchestrator = nil
	tablets := shardTablets(shard)
	aliases := make([]string, len(tablets))
	var pods []runtime.Object // and their claims
	for i, tablet := range tablets {
		aliases[i] = tablet.alias()
		pod := tabletPod(shard, tablet)
		pod.UID = "uid-" + types.UID(aliases[i])
		pod.Annotations[vitess.AnnotationSpecHash] = "an-older-spec"
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		pods = append(pods, pod, tabletPVC(shard, tablet))
	}
	for _, tc := range []struct {
		name string
		// read: whether the cluster's topology has been read; primary is what Vitess says now,
		// statusPrimary what the shard's status still says.
		read                   bool
		primary, statusPrimary string
		deleted, reparented    []string
	}{
		{name: "no reading", read: false, statusPrimary: aliases[2]},
		{name: "the status is stale: Vitess names the first tablet", read: true, primary: aliases[0], statusPrimary: aliases[2], reparented: aliases[:1]},
		{name: "a replica first, one at a time", read: true, primary: aliases[1], statusPrimary: aliases[1], deleted: aliases[:1]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shard := shard.DeepCopy()
			shard.Status.PrimaryAlias = tc.statusPrimary
			var view *topology.View
			if tc.read {
				view = &topology.View{Address: "vtctld:15999", Cells: map[string]bool{"zone1": true}}
			}
			vitessShard := &fakeVitess{primary: tc.primary}
			c, fakes := controllerAskingVitess(t, keyspace, shard, pods, vitessShard, view)
			ctx, cancel := context.WithCancel(t.Context())
			if err := c.reconcile(ctx, shard.Namespace+"/"+shard.Name); err != nil {
				t.Fatal(err)
			}
			cancel()
			c.background.Wait()

			var deleted []string
			for _, action := range fakes.Changes() {
				if action.GetVerb() == "delete" && action.GetResource().Resource == "pods" {
					name := action.(clienttesting.DeleteAction).GetName()
					deleted = append(deleted, aliases[slices.IndexFunc(tablets, func(t tablet) bool { return tabletPod(shard, t).Name == name })])
				}
			}
			if !slices.Equal(deleted, tc.deleted) {
				t.Errorf("deleted the Pods of %v, want %v", deleted, tc.deleted)
			}
			if !slices.Equal(vitessShard.reparented, tc.reparented) {
				t.Errorf("reparented away from %v, want %v", vitessShard.reparented, tc.reparented)
			}
			if tc.read {
				return
			}
			stored, err := fakes.Vitess.VitessV1alpha1().VitessShards(shard.Namespace).Get(t.Context(), shard.Name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			progressing := meta.FindStatusCondition(stored.Status.Conditions, v1alpha1.ConditionProgressing)
			if progressing == nil || !strings.Contains(progressing.Message, "once Vitess says which tablet is the primary") {
				t.Errorf("Progressing = %+v; want it to say the roll waits for Vitess", progressing)
			}
		})
	}
}

// TestFirstPrimaryIsElectedAmongTheReplicas: once every tablet of a new shard runs and has
// registered, and the topology names no primary, an election is asked among its replica tablets
// (never an rdonly one), in pool order; Vitess' positions decide (vtctld.ElectPrimary).
func TestFirstPrimaryIsElectedAmongTheReplicas(t *testing.T) {
	keyspace, shard := keyspaceShard(t)
	shard.Spec.VitessOrchestrator = nil
	shard.Spec.TabletPools[0].Replicas = 2
	rdonly := shard.Spec.TabletPools[0]
	rdonly.Type, rdonly.Replicas = v1alpha1.TabletPoolTypeRdonly, 1
	shard.Spec.TabletPools = []v1alpha1.VitessShardTabletPool{rdonly, shard.Spec.TabletPools[0]}
	var core []runtime.Object
	vitessShard := &fakeVitess{}
	var replicas []string
	for _, tablet := range shardTablets(shard) {
		pod := tabletPod(shard, tablet)
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: vitess.ComponentVttablet, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
		core = append(core, pod, tabletPVC(shard, tablet))
		vitessShard.registered = append(vitessShard.registered, vtctld.Tablet{Alias: tablet.alias()})
		if tablet.pool.Type == v1alpha1.TabletPoolTypeReplica {
			replicas = append(replicas, tablet.alias())
		}
	}
	c, _ := controllerAskingVitess(t, keyspace, shard, core, vitessShard, &topology.View{Address: "vtctld:15999", Cells: map[string]bool{"zone1": true},
		Shards: map[string]vtctld.Shard{"commerce/-": {Name: "-"}}})
	ctx, cancel := context.WithCancel(t.Context())
	if err := c.reconcile(ctx, shard.Namespace+"/"+shard.Name); err != nil {
		t.Fatal(err)
	}
	cancel()
	c.background.Wait()
	if len(replicas) != 2 || !slices.Equal(vitessShard.candidates, replicas) {
		t.Errorf("election among %v, want the replicas %v", vitessShard.candidates, replicas)
	}
}

// TestRollDoesNotReplaceATabletTwice: a pass that runs before the informer has seen the Pod it
// deleted (its own status update enqueues the shard again at once) must neither replace that Pod
// again nor count it as ready and so let the next tablet go too.
func TestRollDoesNotReplaceATabletTwice(t *testing.T) {
	keyspace, shard := keyspaceShard(t)
	shard.Spec.VitessOrchestrator = nil
	tablets := shardTablets(shard)
	var pods []runtime.Object
	for _, tablet := range tablets {
		pod := tabletPod(shard, tablet)
		pod.UID = "uid-" + types.UID(tablet.alias())
		pod.Annotations[vitess.AnnotationSpecHash] = "an-older-spec"
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		pods = append(pods, pod, tabletPVC(shard, tablet))
	}
	c, fakes := controllerAskingVitess(t, keyspace, shard, pods, &fakeVitess{primary: tablets[1].alias()},
		&topology.View{Address: "vtctld:15999", Cells: map[string]bool{"zone1": true}})
	// The deletion never reaches the cache: as if every pass ran before the informer's update.
	fakes.Core.PrependReactor("delete", "pods", func(clienttesting.Action) (bool, runtime.Object, error) { return true, nil, nil })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	for range 3 {
		if err := c.reconcile(ctx, shard.Namespace+"/"+shard.Name); err != nil {
			t.Fatal(err)
		}
	}
	var deleted []string
	for _, action := range fakes.Changes() {
		if action.GetVerb() == "delete" && action.GetResource().Resource == "pods" {
			deleted = append(deleted, action.(clienttesting.DeleteAction).GetName())
		}
	}
	if len(deleted) != 1 {
		t.Errorf("deleted tablet Pods %v over three passes, want one", deleted)
	}
	replacing := 0
	for len(fakes.Events.Events) > 0 {
		if strings.Contains(<-fakes.Events.Events, "ReplacingTablet") {
			replacing++
		}
	}
	if replacing != 1 {
		t.Errorf("%d ReplacingTablet Events, want 1", replacing)
	}
}

// TestPrimaryElectedWhenTheNamedPrimaryCameBackAsAReplica: a shard whose every tablet restored a
// backup (its claims were lost) has a record that still names the old primary, whose tablet is now
// a replica: nothing takes writes until a primary is elected among the replicas. A named primary
// that is registered as PRIMARY, or not registered at all, is never reparented away from here.
func TestPrimaryElectedWhenTheNamedPrimaryCameBackAsAReplica(t *testing.T) {
	keyspace, shard := keyspaceShard(t)
	shard.Spec.VitessOrchestrator = nil
	tablets := shardTablets(shard)
	named := tablets[1].alias()
	for _, tc := range []struct {
		name string
		// viewType and freshType are the named primary's type in the last reading and now; "" is
		// not registered.
		viewType, freshType string
		elected             bool
	}{
		{name: "came back as a replica", viewType: "REPLICA", freshType: "REPLICA", elected: true},
		{name: "serving as primary", viewType: "PRIMARY", freshType: "PRIMARY"},
		{name: "not registered in the reading", viewType: "", freshType: "REPLICA"},
		{name: "primary again by the time of the fresh reading", viewType: "REPLICA", freshType: "PRIMARY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var core []runtime.Object
			vitessShard := &fakeVitess{}
			viewTypes := map[string]string{}
			for _, tablet := range tablets {
				pod := tabletPod(shard, tablet)
				pod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: vitess.ComponentVttablet, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
				core = append(core, pod, tabletPVC(shard, tablet))
				tabletType := "REPLICA"
				if tablet.alias() == named {
					tabletType = tc.freshType
					if tc.viewType == "" {
						continue
					}
					viewTypes[tablet.alias()] = tc.viewType
				} else {
					viewTypes[tablet.alias()] = "REPLICA"
				}
				vitessShard.registered = append(vitessShard.registered, vtctld.Tablet{Alias: tablet.alias(), Type: tabletType})
			}
			if tc.viewType == "" {
				vitessShard.registered = append(vitessShard.registered, vtctld.Tablet{Alias: named, Type: tc.freshType})
			}
			c, _ := controllerAskingVitess(t, keyspace, shard, core, vitessShard, &topology.View{Address: "vtctld:15999", Cells: map[string]bool{"zone1": true},
				Shards: map[string]vtctld.Shard{"commerce/-": {Name: "-", PrimaryAlias: named}}, TabletTypes: viewTypes})
			ctx, cancel := context.WithCancel(t.Context())
			if err := c.reconcile(ctx, shard.Namespace+"/"+shard.Name); err != nil {
				t.Fatal(err)
			}
			cancel()
			c.background.Wait()
			if elected := vitessShard.candidates != nil; elected != tc.elected {
				t.Errorf("elected a primary among %v: %v, want %v", vitessShard.candidates, elected, tc.elected)
			}
		})
	}
}
