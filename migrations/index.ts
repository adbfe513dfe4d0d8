/**
 * Every migration, for the migrator (`Migrator.fromGlob`, in adapters/postgres/Database.ts),
 * each imported only when it is pending. A list, not a read of this directory: the server
 * `npm start` runs is a bundle (scripts/build-server.ts), and migrations listed here are bundled
 * with it and run on its own copy of Effect; a file found at run time would be loaded from source
 * with a second copy. A new migration is added here too: the CLI's `migrate` test compares what
 * is applied with the files in this directory.
 */
export const migrations: Record<string, () => Promise<unknown>> = {
  "0001_event_store.ts": () => import("./0001_event_store.ts"),
  "0002_projections.ts": () => import("./0002_projections.ts"),
  "0003_tenancy.ts": () => import("./0003_tenancy.ts"),
  "0004_shop_actors.ts": () => import("./0004_shop_actors.ts"),
  "0005_apply_messages.ts": () => import("./0005_apply_messages.ts"),
  "0006_jobs.ts": () => import("./0006_jobs.ts"),
  "0007_append_plan.ts": () => import("./0007_append_plan.ts"),
  "0008_secrets.ts": () => import("./0008_secrets.ts"),
  "0009_api_keys.ts": () => import("./0009_api_keys.ts"),
  "0010_members.ts": () => import("./0010_members.ts"),
  "0011_data_plane.ts": () => import("./0011_data_plane.ts"),
  "0012_shredded_subjects.ts": () => import("./0012_shredded_subjects.ts"),
  "0013_dedupe_by_message_id.ts": () => import("./0013_dedupe_by_message_id.ts"),
  "0014_immutable_log_and_fold_snapshots.ts": () => import("./0014_immutable_log_and_fold_snapshots.ts"),
  "0015_event_trace_context.ts": () => import("./0015_event_trace_context.ts"),
  "0016_intelligence_emissions.ts": () => import("./0016_intelligence_emissions.ts"),
  "0017_ai_gateway.ts": () => import("./0017_ai_gateway.ts"),
  "0018_group_commit.ts": () => import("./0018_group_commit.ts"),
  "0019_set_based_apply.ts": () => import("./0019_set_based_apply.ts"),
  "0020_job_snapshot_pages.ts": () => import("./0020_job_snapshot_pages.ts")
}
