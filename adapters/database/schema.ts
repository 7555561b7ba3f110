import type { ColumnType, Generated } from 'kysely';

/**
 * The tables as Kysely sees them. Event-store tables are the source of
 * truth; `rm_*` tables are read models that `brume projections rebuild`
 * empties and refills from the log.
 */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json = ColumnType<unknown, string, string>;

export interface EventsTable {
  global_position: Generated<number>;
  transaction_id: Generated<string>;
  stream_id: string;
  stream_type: string;
  version: number;
  type: string;
  schema_version: number;
  data: Json;
  actor: string;
  command_id: string;
  correlation_id: string;
  causation_id: string | null;
  reason: string | null;
  occurred_at: Generated<Date>;
}

export interface Schema {
  events: EventsTable;
  streams: { stream_id: string; stream_type: string; version: number };
  claims: { kind: string; value: string; owner_stream_id: string };
  commands: { command_id: string; result: Json; recorded_at: Generated<Date> };
  checkpoints: { name: string; transaction_id: string; global_position: number; updated_at: Generated<Date> };
  credentials: { user_id: string; password_hash: string };
  api_tokens: {
    token_id: string; user_id: string; token_hash: string; name: string;
    created_at: Generated<Date>; expires_at: Timestamp | null; revoked_at: Timestamp | null;
  };
  sessions: { session_hash: string; user_id: string; created_at: Generated<Date>; expires_at: Timestamp };
  rm_hosts: {
    host_id: string; name: string; description: string; primary_mac: string; ip: string | null;
    image_id: string | null; storage_node_id: string | null; site: string | null;
    macs: Json; inventory: Json | null; group_ids: Json;
    active_task_id: string | null; last_task_id: string | null;
    deployed_image_id: string | null; deployed_revision: number | null; deployed_at: Timestamp | null;
    created_at: Timestamp; updated_at: Timestamp; version: number;
  };
  rm_host_macs: { mac: string; host_id: string; role: string; ignore_for_imaging: boolean };
  rm_groups: {
    group_id: string; name: string; description: string; image_id: string | null;
    member_count: number; created_at: Timestamp; updated_at: Timestamp; version: number;
  };
  rm_group_members: { group_id: string; host_id: string };
  rm_images: {
    image_id: string; name: string; description: string; type: string; os: string; compression: number;
    current_revision: number | null; size_bytes: number | null; sha256: string | null;
    created_at: Timestamp; updated_at: Timestamp; version: number;
  };
  rm_storage_nodes: {
    storage_node_id: string; name: string; address: string; max_clients: number; master: boolean;
    site: string | null; enabled: boolean; created_at: Timestamp; updated_at: Timestamp; version: number;
  };
  rm_tasks: {
    task_id: string; host_id: string; host_name: string; type_id: number; type_name: string; state: string;
    image_id: string | null; storage_node_id: string | null; options: Json;
    group_run_id: string | null; replay_of: string | null; created_by: string;
    created_at: Timestamp; checked_in_at: Timestamp | null; started_at: Timestamp | null; finished_at: Timestamp | null;
    check_in_deadline: Timestamp | null;
    bytes_done: number | null; bytes_total: number | null; rate_bytes_per_second: number | null; partition: string | null;
    reason: string | null; image_revision: number | null; last_report_at: Timestamp | null; version: number;
  };
  rm_group_runs: {
    run_id: string; group_id: string; type_id: number; task_ids: Json; skipped: Json;
    created_by: string; created_at: Timestamp;
  };
  rm_users: { user_id: string; username: string; role: string; disabled: boolean; created_at: Timestamp };
  rm_event_subjects: { subject: string; global_position: number };
  dhcp_leases: {
    mac: string; ip: string; host_id: string | null; hostname: string | null;
    expires_at: Timestamp; updated_at: Generated<Date>;
  };
  rm_boot_stages: { mac: string; stage: string; host_id: string | null; at: Timestamp; detail: Json };
}
