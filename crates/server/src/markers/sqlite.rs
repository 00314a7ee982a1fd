//! The SQLite marker store: one database file under the cache dir, WAL mode, a few pooled
//! connections used on the blocking pool, writes in `BEGIN IMMEDIATE` transactions, and
//! `synchronous=FULL` so that a write the API acknowledged survives a crash or power loss.

use super::{AddError, Marker, MarkerStore, NewMarker, StoreError, MAX_PER_OWNER};
use crate::library::rfc3339;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

/// How long a statement waits for another connection's (or process's) write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Idle connections kept.
const POOL: usize = 4;
/// Schema version (PRAGMA user_version).
const SCHEMA: i64 = 1;

/// Markers in a SQLite database (cheap to clone).
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(format!("marker database: {e}"))
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError(format!("cannot create {}: {e}", dir.display())))?;
        }
        let conn = connect(path)?;
        migrate(&conn)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                idle: Mutex::new(vec![conn]),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` with a pooled connection on the blocking pool.
    fn with<T, E, F>(&self, f: F) -> BoxFuture<'static, Result<T, E>>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        async move {
            let joined = tokio::task::spawn_blocking(move || {
                let taken = inner.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let mut conn = match taken {
                    Some(c) => c,
                    None => connect(&inner.path)?,
                };
                let result = f(&mut conn);
                let mut idle = inner.idle.lock().unwrap_or_else(|p| p.into_inner());
                if idle.len() < POOL {
                    idle.push(conn);
                }
                result
            })
            .await;
            match joined {
                Ok(r) => r,
                Err(e) => Err(StoreError(format!("marker database task failed: {e}")).into()),
            }
        }
        .boxed()
    }
}

/// Opens one connection with the settings every connection needs.
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers never block the writer and a commit is one append to the log.
    let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError(format!(
            "marker database: cannot use WAL mode (got {mode})"
        )));
    }
    // FULL: every commit fsyncs the WAL before COMMIT returns. NORMAL would already survive
    // kill -9 (the log is written before COMMIT returns, and the kernel keeps it), but could
    // lose the last commits on power loss; markers are written by people, so one fsync per
    // write costs nothing that matters.
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(conn)
}

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA {
        return Err(StoreError(format!(
            "marker database schema {version} is newer than this server's ({SCHEMA})"
        )));
    }
    conn.execute_batch(
        "BEGIN IMMEDIATE;
         CREATE TABLE IF NOT EXISTS markers (
             id       INTEGER PRIMARY KEY AUTOINCREMENT,
             owner    TEXT NOT NULL,
             time     REAL NOT NULL,
             duration REAL,
             label    TEXT NOT NULL,
             class    TEXT,
             created  TEXT NOT NULL
         );
         CREATE INDEX IF NOT EXISTS markers_owner_time ON markers(owner, time);
         PRAGMA user_version = 1;
         COMMIT;",
    )?;
    Ok(())
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Marker> {
    Ok(Marker {
        id: r.get(0)?,
        time: r.get(1)?,
        duration: r.get(2)?,
        label: r.get(3)?,
        class: r.get(4)?,
        created: r.get(5)?,
    })
}

const COLUMNS: &str = "id, time, duration, label, class, created";

impl From<StoreError> for AddError {
    fn from(e: StoreError) -> Self {
        AddError::Store(e)
    }
}

impl MarkerStore for SqliteStore {
    fn list(&self, owner: &str) -> BoxFuture<'static, Result<Vec<Marker>, StoreError>> {
        let owner = owner.to_string();
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM markers WHERE owner = ?1 ORDER BY time, id"
            ))?;
            let rows = stmt.query_map(params![owner], row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn list_since(
        &self,
        owner: &str,
        from: f64,
    ) -> BoxFuture<'static, Result<Vec<Marker>, StoreError>> {
        let owner = owner.to_string();
        self.with(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM markers WHERE owner = ?1 AND time + IFNULL(duration, 0) >= ?2
                 ORDER BY time, id"
            ))?;
            let rows = stmt.query_map(params![owner, from], row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn add(&self, owner: &str, m: NewMarker) -> BoxFuture<'static, Result<Marker, AddError>> {
        let owner = owner.to_string();
        self.with(move |conn| {
            let created = rfc3339(SystemTime::now());
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(StoreError::from)?;
            let count: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM markers WHERE owner = ?1",
                    params![owner],
                    |r| r.get(0),
                )
                .map_err(StoreError::from)?;
            if usize::try_from(count).unwrap_or(usize::MAX) >= MAX_PER_OWNER {
                return Err(AddError::Full);
            }
            tx.execute(
                "INSERT INTO markers (owner, time, duration, label, class, created)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![owner, m.time, m.duration, m.label, m.class, created],
            )
            .map_err(StoreError::from)?;
            let id = tx.last_insert_rowid();
            tx.commit().map_err(StoreError::from)?;
            Ok(Marker {
                id,
                time: m.time,
                duration: m.duration,
                label: m.label,
                class: m.class,
                created,
            })
        })
    }

    fn delete(&self, owner: &str, id: i64) -> BoxFuture<'static, Result<bool, StoreError>> {
        let owner = owner.to_string();
        self.with(move |conn| {
            let n = conn.execute(
                "DELETE FROM markers WHERE owner = ?1 AND id = ?2",
                params![owner, id],
            )?;
            Ok(n > 0)
        })
    }

    fn delete_all(&self, owner: &str) -> BoxFuture<'static, Result<u64, StoreError>> {
        let owner = owner.to_string();
        self.with(move |conn| {
            let n = conn.execute("DELETE FROM markers WHERE owner = ?1", params![owner])?;
            Ok(n as u64)
        })
    }

    fn counts(
        &self,
        owners: Vec<String>,
    ) -> BoxFuture<'static, Result<HashMap<String, usize>, StoreError>> {
        self.with(move |conn| {
            let mut out = HashMap::new();
            let mut stmt = conn.prepare_cached("SELECT COUNT(*) FROM markers WHERE owner = ?1")?;
            for owner in owners {
                let n: Option<i64> = stmt.query_row(params![owner], |r| r.get(0)).optional()?;
                if let Some(n) = n.filter(|n| *n > 0) {
                    out.insert(owner, usize::try_from(n).unwrap_or(usize::MAX));
                }
            }
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_db(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("frameseek-markers-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir.join("markers.sqlite")
    }

    fn marker(time: f64, label: &str) -> NewMarker {
        NewMarker {
            time,
            duration: None,
            label: label.into(),
            class: None,
        }
    }

    #[tokio::test]
    async fn round_trip_and_reopen() {
        let path = temp_db("roundtrip");
        let store = SqliteStore::open(&path).expect("open");
        let b = store.add("v1", marker(2.0, "b")).await.expect("add");
        let a = store
            .add(
                "v1",
                NewMarker {
                    duration: Some(1.5),
                    class: Some("x".into()),
                    ..marker(1.0, "a")
                },
            )
            .await
            .expect("add");
        store.add("v2", marker(0.0, "other")).await.expect("add");
        let list = store.list("v1").await.expect("list");
        assert_eq!(list, vec![a.clone(), b.clone()]);
        assert_eq!(
            store.list_since("v1", 2.4).await.expect("since"),
            vec![a.clone()]
        );
        drop(store);
        let store = SqliteStore::open(&path).expect("reopen");
        assert_eq!(store.list("v1").await.expect("list").len(), 2);
        assert!(store.delete("v1", b.id).await.expect("delete"));
        assert!(!store.delete("v1", b.id).await.expect("delete again"));
        assert!(!store.delete("v2", a.id).await.expect("wrong owner"));
        let counts = store
            .counts(vec!["v1".into(), "v2".into(), "v3".into()])
            .await
            .expect("counts");
        assert_eq!(counts.get("v1"), Some(&1));
        assert_eq!(counts.get("v3"), None);
        assert_eq!(store.delete_all("v1").await.expect("all"), 1);
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_from_two_stores() {
        let path = temp_db("concurrent");
        // Two stores on one file behave like two server processes sharing a cache dir.
        let stores = [
            SqliteStore::open(&path).expect("open"),
            SqliteStore::open(&path).expect("open"),
        ];
        let mut tasks = Vec::new();
        for i in 0..64 {
            let store = stores[i % 2].clone();
            tasks.push(tokio::spawn(async move {
                store.add("v", marker(i as f64, &format!("m{i}"))).await
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            match t.await.expect("join") {
                Ok(m) => ids.push(m.id),
                Err(e) => panic!("write failed: {e:?}"),
            }
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 64);
        assert_eq!(stores[0].list("v").await.expect("list").len(), 64);
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
    }
}
