/**
 * Numbered migrations, applied in order and never edited once released: add a new one instead.
 * Times are epoch milliseconds; ids are prefixed strings (`usr-`, `team-`, `key-`).
 */
export interface Migration { version: number, name: string, sql: string }

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'identity',
    sql: `
      CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        email         TEXT NOT NULL,
        name          TEXT NOT NULL,
        password_hash TEXT,
        is_admin      INTEGER NOT NULL DEFAULT 0,
        status        TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
        created_at    INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX users_email ON users (email);

      CREATE TABLE oauth_identities (
        provider    TEXT NOT NULL,
        provider_id TEXT NOT NULL,
        user_id     TEXT NOT NULL REFERENCES users (id),
        created_at  INTEGER NOT NULL,
        PRIMARY KEY (provider, provider_id)
      );

      CREATE TABLE teams (
        id         TEXT PRIMARY KEY,
        name       TEXT NOT NULL,
        slug       TEXT NOT NULL,
        is_default INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        deleted_at INTEGER
      );
      -- A deleted team keeps its row, so its slug stays reserved for good.
      CREATE UNIQUE INDEX teams_slug ON teams (slug);

      CREATE TABLE memberships (
        team_id   TEXT NOT NULL REFERENCES teams (id),
        user_id   TEXT NOT NULL REFERENCES users (id),
        role      TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
        joined_at INTEGER NOT NULL,
        PRIMARY KEY (team_id, user_id)
      );
      CREATE INDEX memberships_user ON memberships (user_id);

      CREATE TABLE api_keys (
        id         TEXT PRIMARY KEY,
        team_id    TEXT NOT NULL REFERENCES teams (id),
        created_by TEXT NOT NULL REFERENCES users (id),
        name       TEXT NOT NULL,
        key_hash   TEXT NOT NULL,
        key_prefix TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        last_used  INTEGER
      );
      CREATE UNIQUE INDEX api_keys_hash ON api_keys (key_hash);
      CREATE INDEX api_keys_team ON api_keys (team_id);
    `,
  },
  {
    version: 2,
    name: 'components',
    sql: `
      CREATE TABLE components (
        id         TEXT PRIMARY KEY,
        team_id    TEXT NOT NULL REFERENCES teams (id),
        env_id     TEXT NOT NULL,
        name       TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX components_name ON components (team_id, env_id, name);

      -- Every uploaded version; the bytes live in <data>/components/<id>/<version>.wasm.
      CREATE TABLE component_revisions (
        component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
        version      INTEGER NOT NULL,
        sha256       TEXT NOT NULL,
        size         INTEGER NOT NULL,
        metadata     TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        PRIMARY KEY (component_id, version)
      );

      -- wasmCloud links: which provider serves which of a component's imports.
      CREATE TABLE links (
        source_id     TEXT NOT NULL,
        target        TEXT NOT NULL,
        name          TEXT NOT NULL,
        wit_namespace TEXT NOT NULL,
        wit_package   TEXT NOT NULL,
        interfaces    TEXT NOT NULL,
        source_config TEXT NOT NULL,
        target_config TEXT NOT NULL,
        team_id       TEXT,
        created_at    INTEGER NOT NULL,
        PRIMARY KEY (source_id, wit_namespace, wit_package, name)
      );

      -- Named configurations (wasmCloud config.put): string maps referenced by links.
      CREATE TABLE configs (
        name       TEXT PRIMARY KEY,
        team_id    TEXT,
        entries    TEXT NOT NULL,
        updated_at INTEGER NOT NULL
      );

      -- The keyvalue provider's data.
      CREATE TABLE kv (
        scope  TEXT NOT NULL,
        bucket TEXT NOT NULL,
        key    TEXT NOT NULL,
        value  BLOB NOT NULL,
        PRIMARY KEY (scope, bucket, key)
      );
    `,
  },
  {
    version: 3,
    name: 'component scales',
    sql: `
      -- The scale each component was last given (REST, chat, NATS) and how its instances run: restored at start-up.
      CREATE TABLE component_scales (
        component_id TEXT PRIMARY KEY REFERENCES components (id) ON DELETE CASCADE,
        instances    INTEGER NOT NULL,
        settings     TEXT NOT NULL,
        origin       TEXT NOT NULL,
        updated_at   INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'retained messages',
    sql: `
      -- Retained MQTT messages clients published (outside the runtime's agents/ and system/ topics).
      CREATE TABLE retained_messages (
        topic      TEXT PRIMARY KEY,
        payload    BLOB NOT NULL,
        qos        INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'spawned actors',
    sql: `
      -- Actors users spawned at run time (REST, chat): restored at start-up with the same id, name, team and options.
      -- state is what the user last asked for (running, paused or stopped); a deleted actor's row is removed.
      CREATE TABLE spawned_actors (
        id         TEXT PRIMARY KEY,
        kind       TEXT NOT NULL,
        name       TEXT NOT NULL,
        team_id    TEXT,
        options    TEXT NOT NULL,
        state      TEXT NOT NULL CHECK (state IN ('running', 'paused', 'stopped')),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX spawned_actors_team ON spawned_actors (team_id);
    `,
  },
  {
    version: 6,
    name: 'started providers',
    sql: `
      -- Providers started at run time (over NATS: provider.start), started again at start-up before the component
      -- scales that link to them; provider.stop or deleting the provider's actor removes its row. id is the
      -- provider's actor name, annotations a JSON object of strings, origin who started it.
      CREATE TABLE started_providers (
        id          TEXT PRIMARY KEY,
        ref         TEXT NOT NULL,
        annotations TEXT NOT NULL,
        origin      TEXT NOT NULL,
        started_at  INTEGER NOT NULL
      );

      -- Until this version they were kept in the keyvalue table under a scope no component can have; an upgraded
      -- data dir keeps them. A value that cannot be read was forgotten at start-up before, so it is dropped here.
      INSERT INTO started_providers (id, ref, annotations, origin, started_at)
        SELECT key,
               json_extract(CAST(value AS TEXT), '$.ref'),
               CASE json_type(CAST(value AS TEXT), '$.annotations') WHEN 'object' THEN json_extract(CAST(value AS TEXT), '$.annotations') ELSE '{}' END,
               'nats',
               CAST(strftime('%s', 'now') AS INTEGER) * 1000
        FROM kv
        WHERE scope = '$colony' AND bucket = 'nats-providers'
          AND json_valid(CAST(value AS TEXT)) AND json_type(CAST(value AS TEXT), '$.ref') = 'text'
        ORDER BY key;
      DELETE FROM kv WHERE scope = '$colony' AND bucket = 'nats-providers';
    `,
  },
  {
    version: 7,
    name: 'started providers belong to a team',
    sql: `
      -- A provider started for a team (REST) is that team's actor, and comes back as that team's; NULL: the host's
      -- own (started over NATS, which acts as the platform admin).
      ALTER TABLE started_providers ADD COLUMN team_id TEXT;
    `,
  },
  {
    version: 8,
    name: 'durable workers',
    sql: `
      -- Golem durable workers. seq is the stable order the worker list pages by (a cursor is a seq), and the key the
      -- oplog, idempotency keys and snapshots hang on: a worker deleted and created again under the same name is a
      -- new worker with a new seq, so nothing of the old one can leak into it. args, env, updates and active_plugins
      -- are JSON; created_at is epoch milliseconds; status is the last recorded one (Golem's precise=false).
      CREATE TABLE workers (
        seq               INTEGER PRIMARY KEY AUTOINCREMENT,
        component_id      TEXT NOT NULL,
        name              TEXT NOT NULL,
        team_id           TEXT,
        component_version INTEGER NOT NULL,
        args              TEXT NOT NULL,
        env               TEXT NOT NULL,
        status            TEXT NOT NULL
          CHECK (status IN ('Running', 'Idle', 'Suspended', 'Interrupted', 'Retrying', 'Failed', 'Exited')),
        created_at        INTEGER NOT NULL,
        retry_count       INTEGER NOT NULL DEFAULT 0,
        last_error        TEXT,
        updates           TEXT NOT NULL DEFAULT '[]',
        active_plugins    TEXT NOT NULL DEFAULT '[]',
        UNIQUE (component_id, name)
      );
      CREATE INDEX workers_status ON workers (status);

      -- The append-only oplog: entry idx of worker seq (1 = Create), one JSON public oplog entry each.
      CREATE TABLE worker_oplog (
        worker_seq INTEGER NOT NULL REFERENCES workers (seq) ON DELETE CASCADE,
        idx        INTEGER NOT NULL,
        entry      TEXT NOT NULL,
        PRIMARY KEY (worker_seq, idx)
      ) WITHOUT ROWID;
      -- The entries that set a worker's component version, so the version at any oplog index (the oplog cursor's
      -- currentComponentVersion) is one index probe, not a scan of everything before it.
      CREATE INDEX worker_oplog_versions ON worker_oplog (worker_seq, idx)
        WHERE json_extract(entry, '$.type') IN ('Create', 'SuccessfulUpdate');

      -- Idempotency keys: a completed key answers from result (the stored success or error, JSON) without reading
      -- the oplog; invoked_index / completed_index point at its ExportedFunctionInvoked / ...Completed entries.
      CREATE TABLE worker_invocations (
        worker_seq      INTEGER NOT NULL REFERENCES workers (seq) ON DELETE CASCADE,
        idempotency_key TEXT NOT NULL,
        state           TEXT NOT NULL CHECK (state IN ('pending', 'completed')),
        invoked_index   INTEGER,
        completed_index INTEGER,
        result          TEXT,
        PRIMARY KEY (worker_seq, idempotency_key)
      ) WITHOUT ROWID;

      -- The latest snapshot of a worker's state (recovery loads it, then replays only the entries after covers_index).
      CREATE TABLE worker_snapshots (
        worker_seq   INTEGER PRIMARY KEY REFERENCES workers (seq) ON DELETE CASCADE,
        covers_index INTEGER NOT NULL,
        bytes        BLOB NOT NULL,
        created_at   INTEGER NOT NULL
      );
    `,
  },
  {
    version: 9,
    name: 'worker gateway',
    sql: `
      -- Worker Gateway API definitions (Golem's HttpApiDefinition): one row per team, id and version. routes is the
      -- JSON list of {method, path, binding} as accepted (compiled again when a site is built); draft is 1 until
      -- published, and a version a deployment names can no longer change.
      CREATE TABLE api_definitions (
        team_id    TEXT NOT NULL,
        id         TEXT NOT NULL,
        version    TEXT NOT NULL,
        draft      INTEGER NOT NULL,
        routes     TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (team_id, id, version)
      );

      -- A deployed site: site is subdomain.host (or host), lower case without a port, unique across teams;
      -- definitions the JSON list of {id, version} the site serves.
      CREATE TABLE api_deployments (
        site        TEXT PRIMARY KEY,
        host        TEXT NOT NULL,
        subdomain   TEXT,
        team_id     TEXT NOT NULL,
        definitions TEXT NOT NULL,
        created_at  INTEGER NOT NULL
      );
      CREATE INDEX api_deployments_team ON api_deployments (team_id);
    `,
  },
  {
    version: 10,
    name: 'plugins',
    sql: `
      -- Golem plugins a team registered. definition is the JSON of what was registered besides name and version
      -- (description, icon, homepage, specs, scope). Deleting one keeps its row (deleted_at, as Golem's deleted
      -- flag): its installations keep working, and the name and version may be registered again.
      CREATE TABLE plugins (
        id         TEXT PRIMARY KEY,
        team_id    TEXT NOT NULL REFERENCES teams (id),
        name       TEXT NOT NULL,
        version    TEXT NOT NULL,
        definition TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        deleted_at INTEGER
      );
      CREATE UNIQUE INDEX plugins_name ON plugins (team_id, name, version) WHERE deleted_at IS NULL;

      -- A plugin installed on a component; workers of the component activate and deactivate it by this id.
      -- parameters is a JSON object of strings. Deleting the component removes its installations.
      CREATE TABLE plugin_installations (
        id           TEXT PRIMARY KEY,
        component_id TEXT NOT NULL REFERENCES components (id) ON DELETE CASCADE,
        plugin_id    TEXT NOT NULL REFERENCES plugins (id),
        priority     INTEGER NOT NULL,
        parameters   TEXT NOT NULL,
        created_at   INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX plugin_installations_plugin ON plugin_installations (component_id, plugin_id);
    `,
  },
  {
    version: 11,
    name: 'capsules',
    sql: `
      -- Wrenn capsules: sandboxes on this host. The row is the truth for what exists and its last known status;
      -- the sandbox's files live under the data dir (capsules/<id>). spec is the JSON of what it was created with
      -- (template, limits, network, env). Destroyed capsules are deleted.
      CREATE TABLE capsules (
        id             TEXT PRIMARY KEY,
        team_id        TEXT REFERENCES teams (id),
        status         TEXT NOT NULL,
        spec           TEXT NOT NULL,
        reason         TEXT,
        created_at     INTEGER NOT NULL,
        started_at     INTEGER,
        last_active_at INTEGER,
        last_updated   INTEGER NOT NULL
      );
      CREATE INDEX capsules_team ON capsules (team_id);

      -- Snapshots (Wrenn templates): a capsule's writable layer frozen under a name, usable as a template.
      CREATE TABLE capsule_snapshots (
        id         TEXT PRIMARY KEY,
        team_id    TEXT REFERENCES teams (id),
        name       TEXT NOT NULL,
        spec       TEXT NOT NULL,
        size_bytes INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX capsule_snapshots_name ON capsule_snapshots (COALESCE(team_id, ''), name);
    `,
  },
  {
    version: 12,
    name: 'hosts',
    sql: `
      -- hosts
      -- Wrenn hosts: machines (or other Colonies) that run capsules for this one. Secrets are never stored in
      -- plaintext: registration and refresh tokens as SHA-256, a joined Colony's API key sealed (AES-256-GCM).
      CREATE TABLE hosts (
        id                TEXT PRIMARY KEY,
        type              TEXT NOT NULL,
        team_id           TEXT REFERENCES teams (id),
        provider          TEXT,
        availability_zone TEXT,
        arch              TEXT,
        cpu_cores         INTEGER,
        memory_mb         INTEGER,
        disk_gb           INTEGER,
        address           TEXT,
        lattice_host_id   TEXT,
        api_key_sealed    TEXT,
        status            TEXT NOT NULL,
        last_heartbeat_at INTEGER,
        created_by        TEXT NOT NULL,
        created_at        INTEGER NOT NULL,
        updated_at        INTEGER NOT NULL
      );
      CREATE TABLE host_tags (host_id TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE, tag TEXT NOT NULL, PRIMARY KEY (host_id, tag));
      -- One-time registration tokens (1 h); used_at set by the one consume.
      CREATE TABLE host_tokens (
        token_hash TEXT PRIMARY KEY,
        host_id    TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER
      );
      -- Refresh tokens (60 d), rotated on each use; family: every token descended from one registration.
      CREATE TABLE host_refresh_tokens (
        token_hash TEXT PRIMARY KEY,
        host_id    TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        family     TEXT NOT NULL,
        expires_at INTEGER NOT NULL,
        revoked_at INTEGER
      );
      CREATE INDEX host_refresh_tokens_family ON host_refresh_tokens (family);
      -- Capsules created on a joined Colony through this one: who owns them here, and their last known view.
      CREATE TABLE host_capsules (
        capsule_id TEXT PRIMARY KEY,
        host_id    TEXT NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        team_id    TEXT,
        view       TEXT NOT NULL
      );
    `,
  },
  {
    version: 13,
    name: 'channels',
    sql: `
      -- channels
      -- Wrenn's notification channels. config is a JSON object of AES-256-GCM sealed values (never plaintext; the key
      -- is channels.encryptionKey or <data.dir>/channels.key). events is a JSON array; alert_filter (Colony's) the
      -- JSON {min_severity?, agent_types?} for actor events; muted_until (epoch ms) set by chat's mute.
      CREATE TABLE channels (
        id           TEXT PRIMARY KEY,
        team_id      TEXT NOT NULL REFERENCES teams (id),
        name         TEXT NOT NULL,
        provider     TEXT NOT NULL,
        config       TEXT NOT NULL,
        events       TEXT NOT NULL,
        alert_filter TEXT,
        muted_until  INTEGER,
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX channels_name ON channels (team_id, name);

      -- The outbox: a delivery is written before its first attempt and deleted once delivered or out of attempts,
      -- so one pending at a crash (kill -9) is sent after the restart. id is the X-Wrenn-Delivery header.
      CREATE TABLE channel_deliveries (
        id         TEXT PRIMARY KEY,
        channel_id TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
        body       TEXT NOT NULL,
        attempts   INTEGER NOT NULL,
        next_at    INTEGER NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX channel_deliveries_next ON channel_deliveries (next_at);
    `,
  },
  {
    version: 14,
    name: 'oplog in append order',
    sql: `
      -- The oplog as a rowid table, its (worker_seq, idx) key a unique index. Keyed by (worker_seq, idx) itself
      -- (WITHOUT ROWID), each worker's newest entries sat on a leaf page of their own (~9 entries of ~400 bytes per
      -- page), so a group commit of 16 workers' appends wrote 16 pages to the WAL. In rowid order the entries of
      -- one commit share their data pages, and the key's index pages hold hundreds of keys each: the oplog bench's
      -- group commit at 16 appenders went from 3.4 to 5.4-5.6 times one transaction per append. Same rows, same
      -- constraints.
      CREATE TABLE worker_oplog_by_rowid (
        worker_seq INTEGER NOT NULL REFERENCES workers (seq) ON DELETE CASCADE,
        idx        INTEGER NOT NULL,
        entry      TEXT NOT NULL
      );
      INSERT INTO worker_oplog_by_rowid (worker_seq, idx, entry)
        SELECT worker_seq, idx, entry FROM worker_oplog ORDER BY worker_seq, idx;
      DROP TABLE worker_oplog;
      ALTER TABLE worker_oplog_by_rowid RENAME TO worker_oplog;
      CREATE UNIQUE INDEX worker_oplog_key ON worker_oplog (worker_seq, idx);
      CREATE INDEX worker_oplog_versions ON worker_oplog (worker_seq, idx)
        WHERE json_extract(entry, '$.type') IN ('Create', 'SuccessfulUpdate');
    `,
  },
]
