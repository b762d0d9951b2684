//! Group commit for intake: many concurrent submissions share one transaction and one fsync.
//!
//! Every submission ([`crate::Desk::submit`], [`crate::Desk::ingest`],
//! [`crate::Desk::store_report`]) goes through one writer task per desk. The writer takes
//! whatever has queued up (at most [`MAX_BATCH`] submissions) and
//!
//! 1. **stores** the batch: for each report a `reports` row (status `received`) and, for a new
//!    one, its bytes in `raw_reports`, all in ONE transaction. Only after that commit is each
//!    submitter told "stored", so an acknowledgement (`202`, `250`) still never precedes
//!    durability, but one fsync covers the whole batch instead of four per report;
//! 2. **processes** the stored reports that asked for it: parsing (on a blocking thread),
//!    attribution, case assignment and outbox rows for the whole batch in a second transaction,
//!    each report claimed with `status = 'received'` so it is filed exactly once.
//!
//! When a batch transaction fails, each submission of the batch is retried on its own, so one bad
//! report cannot fail its neighbours and each submitter gets its own error. Under light load a
//! batch is one report and latency is that of a single transaction; under heavy load batches grow
//! by themselves (the queue fills while the previous batch commits), which is what makes the
//! throughput.

use crate::error::{DeskError, Result};
use crate::intake::{Channel, Desk};
use crate::store::Backend;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// The most submissions one batch takes. Bounds the transaction size and the time a submitter
/// waits behind others.
pub const MAX_BATCH: usize = 256;

/// Writer tasks on SQLite, which has one writer anyway: a second task could parse the next batch
/// while one commits, but measured (docs/benchmarks.md) it did not raise throughput on 2 cores
/// and it doubled the median HTTP latency.
const SQLITE_WRITERS: usize = 1;

/// Writer tasks on PostgreSQL, which commits concurrent transactions in parallel: every statement
/// is a network round trip, so batches in flight side by side hide that latency. Two batches
/// that lock the same case groups in a different order may deadlock; PostgreSQL aborts one, and
/// its reports are retried one by one.
const POSTGRES_WRITERS: usize = 4;

/// How many submissions may wait for the writer before submitters wait to enqueue.
const QUEUE: usize = 1024;

/// What the writer answers after the store step: whether the report is new, and the bytes back
/// when the submitter did not ask for processing (it may want to process them itself).
pub(crate) type StoredReply = Result<(bool, Option<Vec<u8>>)>;

/// One submission waiting for the writer.
pub(crate) struct Job {
    /// SHA-256 hex of `bytes`.
    pub id: String,
    pub bytes: Vec<u8>,
    pub channel: Channel,
    pub envelope_from: Option<String>,
    pub now: DateTime<Utc>,
    /// Told once the report is durable.
    pub stored: oneshot::Sender<StoredReply>,
    /// Told once the report is processed; `None`: store only.
    pub processed: Option<oneshot::Sender<Result<()>>>,
}

/// A report stored and queued for processing in the writer, as
/// [`crate::Desk::process_batch`] takes it.
pub(crate) struct ToProcess {
    pub id: String,
    pub bytes: Vec<u8>,
    /// False for a resend: it may have been processed already.
    pub new: bool,
    pub envelope_from: Option<String>,
    pub now: DateTime<Utc>,
    pub done: oneshot::Sender<Result<()>>,
}

/// The handle on a desk's writer task, started on first use (on the runtime of that use) and
/// restarted if its runtime went away.
#[derive(Default)]
pub(crate) struct Writer {
    tx: std::sync::Mutex<Option<mpsc::Sender<Job>>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

impl Writer {
    /// Queues `job` for `desk`'s writer.
    pub(crate) async fn send(&self, desk: &Desk, job: Job) -> Result<()> {
        let sender = {
            let mut slot = self.tx.lock().unwrap_or_else(|p| p.into_inner());
            match &*slot {
                Some(s) if !s.is_closed() => s.clone(),
                _ => {
                    let (s, r) = mpsc::channel(QUEUE);
                    let r = Arc::new(tokio::sync::Mutex::new(r));
                    // The tasks' desk has its own (never used) writer slot, so the tasks do not
                    // keep their own channel open: they end when the last desk handle is dropped.
                    let writers = match (desk.intake_writers(), desk.store().backend()) {
                        (Some(n), _) => n.max(1),
                        (None, Backend::Sqlite) => SQLITE_WRITERS,
                        (None, Backend::Postgres) => POSTGRES_WRITERS,
                    };
                    for _ in 0..writers {
                        tokio::spawn(run(desk.detached(), r.clone()));
                    }
                    *slot = Some(s.clone());
                    s
                }
            }
        };
        sender
            .send(job)
            .await
            .map_err(|_| DeskError::invalid("intake", "the intake writer task stopped"))
    }
}

async fn run(desk: Desk, rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        // One writer at a time takes a batch; the others meanwhile commit theirs.
        let got = rx.lock().await.recv_many(&mut batch, MAX_BATCH).await;
        if got == 0 {
            return;
        }
        commit(&desk, std::mem::take(&mut batch)).await;
    }
}

/// Stores then processes one batch, answering every submitter.
async fn commit(desk: &Desk, jobs: Vec<Job>) {
    let results: Vec<Result<bool>> = match desk.store_batch(&jobs).await {
        Ok(news) => news.into_iter().map(Ok).collect(),
        Err(e) if jobs.len() == 1 => vec![Err(e)],
        Err(e) => {
            tracing::warn!(error = %e, reports = jobs.len(), "batch store failed; storing one by one");
            let mut out = Vec::with_capacity(jobs.len());
            for j in &jobs {
                out.push(
                    desk.store_batch(std::slice::from_ref(j))
                        .await
                        .map(|v| v.first().copied().unwrap_or(false)),
                );
            }
            out
        }
    };
    let mut to_process = Vec::new();
    for (job, res) in jobs.into_iter().zip(results) {
        match res {
            Err(e) => {
                let _ = job.stored.send(Err(e));
            }
            Ok(new) => match job.processed {
                None => {
                    let _ = job.stored.send(Ok((new, Some(job.bytes))));
                }
                Some(done) => {
                    let _ = job.stored.send(Ok((new, None)));
                    to_process.push(ToProcess {
                        id: job.id,
                        bytes: job.bytes,
                        new,
                        envelope_from: job.envelope_from,
                        now: job.now,
                        done,
                    });
                }
            },
        }
    }
    if !to_process.is_empty() {
        desk.process_batch(to_process).await;
    }
}
