//! Sessions and denials from a stream of events, per license server.
//!
//! - An OUT opens a session; an IN closes the oldest open session (earliest start) of the same
//!   feature, user and host that started no later than it; Start/Shutdown of the license server
//!   close every open import session of the server at that time.
//! - A denial is a *retry* when the same user checked out the same feature within the window
//!   `[denial - before, denial + after]` (SPEC §4, default 5 s / 2 s); otherwise a true denial.
//!
//! The state that must survive between batches — open sessions, recent checkouts, denials whose
//! window is still open — is exactly what the database holds after each commit, so a resumed
//! import rebuilds it with [`licmon_store::ImportStore::import_resume`] and goes on as if it had
//! never stopped. Checkouts and denials are only used while they are within the window plus
//! [`SLACK`] of the newest event seen, the same rule the reload uses, so a resumed and an
//! uninterrupted import agree even when lines from several daemons are slightly out of order.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};

use chrono::{DateTime, Duration, Utc};
use licmon_parse::{EventKind, EventRef};
use licmon_store::{ImportResume, NewDenial, NewSession};

use crate::summary::Totals;

/// Extra look-back for events logged slightly out of order.
pub const SLACK: Duration = Duration::seconds(60);
/// How often (in events) old checkouts are dropped from memory.
const SWEEP_EVERY: u32 = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// A checkout up to this long before the denial makes it a retry.
    pub before: Duration,
    /// A checkout up to this long after the denial makes it a retry.
    pub after: Duration,
}

impl Default for Window {
    fn default() -> Self {
        Self {
            before: Duration::seconds(5),
            after: Duration::seconds(2),
        }
    }
}

impl Window {
    pub fn contains(&self, denial: DateTime<Utc>, checkout: DateTime<Utc>) -> bool {
        checkout >= denial - self.before && checkout <= denial + self.after
    }
}

type SessionKey = (String, String, String);
/// A hash of (feature, user): recent checkouts are looked up by it without copying names.
type UserKey = u64;

/// FxHash (rustc's): the maps here are hot, and their keys are not attacker-chosen in a way
/// that matters (a log can only slow its own import down).
#[derive(Default, Clone, Copy)]
pub struct Fx(u64);

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut v = [0u8; 8];
            v[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(v));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Fx {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<Fx>>;

fn session_key(e: &EventRef<'_>) -> SessionKey {
    (e.feature.to_owned(), e.user.to_owned(), e.host.to_owned())
}

/// The stored reason of a denial. A request for a feature (or a version, or a key) the server
/// does not serve — FlexNet `UNSUPPORTED` — is a denial too, and says so: a client that tries
/// several license sources logs one before the OUT it gets elsewhere (a retry), and one that
/// never gets a license tells the administrator what users ask for and nobody bought.
fn denial_reason(e: &EventRef<'_>) -> Option<String> {
    match (e.kind, e.reason) {
        (EventKind::Unsupported, Some(reason)) => Some(format!("unsupported: {reason}")),
        (EventKind::Unsupported, None) => Some("unsupported".to_string()),
        (_, reason) => reason.map(str::to_owned),
    }
}

fn user_key(feature: &str, user: &str) -> UserKey {
    let mut h = Fx::default();
    feature.hash(&mut h);
    user.hash(&mut h);
    h.finish()
}

struct Open {
    seq: u64,
    id: Option<i64>,
    /// In a batch whose commit has not answered yet: its id is still unknown.
    written: bool,
    started: DateTime<Utc>,
    count: u64,
}

struct Pending {
    seq: u64,
    /// Sent in a batch whose commit has not answered yet.
    written: bool,
    key: UserKey,
    at: DateTime<Utc>,
    /// Written already (and not a retry so far).
    id: Option<i64>,
    /// Not written yet.
    row: Option<NewDenial>,
}

/// What one batch writes (see [`licmon_store::ImportBatch`]).
#[derive(Default)]
pub struct BatchRows {
    pub closed_sessions: Vec<NewSession>,
    pub open_sessions: Vec<NewSession>,
    pub session_ends: Vec<(i64, DateTime<Utc>)>,
    pub denials: Vec<NewDenial>,
    pub pending_denials: Vec<NewDenial>,
    pub retried_denials: Vec<i64>,
    open_refs: Vec<(SessionKey, u64)>,
    pending_refs: Vec<u64>,
}

impl BatchRows {
    /// Empty, with room for a batch like `last` (batches are alike: growing tens of thousands
    /// of rows from nothing every batch cost the rebuild a tenth of its time in copies).
    fn sized_like(last: &BatchRows) -> Self {
        let room = |n: usize| n + n / 8;
        Self {
            closed_sessions: Vec::with_capacity(room(last.closed_sessions.len())),
            open_sessions: Vec::new(),
            session_ends: Vec::with_capacity(room(last.session_ends.len())),
            denials: Vec::with_capacity(room(last.denials.len())),
            pending_denials: Vec::new(),
            retried_denials: Vec::with_capacity(room(last.retried_denials.len())),
            open_refs: Vec::new(),
            pending_refs: Vec::new(),
        }
    }
}

pub struct Rebuilder {
    window: Window,
    open: FxMap<SessionKey, VecDeque<Open>>,
    recent_outs: FxMap<UserKey, Vec<DateTime<Utc>>>,
    /// Denials in arrival order; those older than the window are moved out as events come.
    pending: VecDeque<Pending>,
    max_time: Option<DateTime<Utc>>,
    seq: u64,
    since_sweep: u32,
    rows: BatchRows,
    /// Sessions closed while their batch was still being committed: seq → end.
    late_ends: FxMap<u64, DateTime<Utc>>,
    /// Denials found to be retries while their batch was still being committed.
    late_retries: FxMap<u64, ()>,
}

impl Rebuilder {
    /// The look-back horizons to load a server's state with.
    pub fn horizons(window: Window) -> (Duration, Duration) {
        (window.before + SLACK, window.after + SLACK)
    }

    pub fn resume(state: ImportResume, window: Window) -> Self {
        let mut r = Self {
            window,
            open: FxMap::default(),
            recent_outs: FxMap::default(),
            pending: VecDeque::new(),
            max_time: state.last_event_at,
            seq: 0,
            since_sweep: 0,
            rows: BatchRows::default(),
            late_ends: FxMap::default(),
            late_retries: FxMap::default(),
        };
        for s in state.open_sessions {
            r.seq += 1;
            r.open
                .entry((s.feature, s.user, s.host))
                .or_default()
                .push_back(Open {
                    seq: r.seq,
                    id: Some(s.id),
                    written: true,
                    started: s.started_at,
                    count: s.count,
                });
        }
        for (feature, user, at) in state.recent_outs {
            r.recent_outs
                .entry(user_key(&feature, &user))
                .or_default()
                .push(at);
        }
        for (id, feature, user, at) in state.pending_denials {
            r.seq += 1;
            r.pending.push_back(Pending {
                seq: r.seq,
                written: true,
                key: user_key(&feature, &user),
                at,
                id: Some(id),
                row: None,
            });
        }
        r
    }

    pub fn max_time(&self) -> Option<DateTime<Utc>> {
        self.max_time
    }

    pub fn open_sessions(&self) -> usize {
        self.open.values().map(VecDeque::len).sum()
    }

    pub fn push(&mut self, e: EventRef<'_>, totals: &mut Totals, line: u64) {
        totals.count_event(e.kind);
        let now = self.max_time.map_or(e.time, |m| m.max(e.time));
        self.max_time = Some(now);
        self.expire_denials(now);
        match e.kind {
            EventKind::Out => self.out(e, totals),
            EventKind::In => self.checkin(e, totals, line),
            EventKind::Denied | EventKind::Unsupported => self.denied(e, totals),
            EventKind::Start | EventKind::Shutdown => self.close_all(e.time, totals),
            // A queued request ends in an OUT (or nothing): the wait is not a denial.
            EventKind::Queued | EventKind::Dequeued => {}
        }
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP_EVERY {
            self.since_sweep = 0;
            self.sweep();
        }
    }

    fn out(&mut self, e: EventRef<'_>, totals: &mut Totals) {
        totals.sessions += 1;
        let window = self.window;
        let oldest_denial = self.max_time.unwrap_or(e.time) - window.after - SLACK;
        let key = user_key(e.feature, e.user);
        let mut retried = Vec::new();
        let mut late = Vec::new();
        self.pending.retain_mut(|p| {
            let hit = p.key == key && p.at >= oldest_denial && window.contains(p.at, e.time);
            if !hit {
                return true;
            }
            match (&mut p.row, p.id) {
                (Some(row), _) => {
                    row.retry = true;
                    true
                }
                (None, Some(id)) => {
                    retried.push(id);
                    false
                }
                (None, None) => {
                    late.push(p.seq);
                    false
                }
            }
        });
        self.rows.retried_denials.extend(retried);
        self.late_retries
            .extend(late.into_iter().map(|seq| (seq, ())));
        self.recent_outs.entry(key).or_default().push(e.time);
        self.seq += 1;
        self.open
            .entry(session_key(&e))
            .or_default()
            .push_back(Open {
                seq: self.seq,
                id: None,
                written: false,
                started: e.time,
                count: e.count,
            });
    }

    fn checkin(&mut self, e: EventRef<'_>, totals: &mut Totals, line: u64) {
        let key = session_key(&e);
        let Some(queue) = self.open.get_mut(&key) else {
            totals.skip(
                "IN without an open OUT (checked out before the imported log)",
                line,
                1,
            );
            return;
        };
        let oldest = queue
            .iter()
            .enumerate()
            .filter(|(_, o)| o.started <= e.time)
            .min_by_key(|(_, o)| (o.started, o.seq))
            .map(|(i, _)| i);
        let Some(i) = oldest else {
            totals.skip(
                "IN without an open OUT (checked out before the imported log)",
                line,
                1,
            );
            return;
        };
        let open = queue.remove(i).expect("index from the same queue");
        let key = if queue.is_empty() {
            self.open.remove_entry(&key).map(|(k, _)| k).unwrap_or(key)
        } else {
            key
        };
        self.close(key, open, e.time, totals);
    }

    fn close(&mut self, key: SessionKey, open: Open, at: DateTime<Utc>, totals: &mut Totals) {
        totals.sessions_closed += 1;
        match (open.id, open.written) {
            (Some(id), _) => self.rows.session_ends.push((id, at)),
            (None, true) => {
                self.late_ends.insert(open.seq, at);
            }
            (None, false) => self.rows.closed_sessions.push(NewSession {
                feature: key.0,
                user: key.1,
                host: key.2,
                count: open.count,
                started_at: open.started,
                ended_at: Some(at),
            }),
        }
    }

    fn close_all(&mut self, at: DateTime<Utc>, totals: &mut Totals) {
        let mut all: Vec<(SessionKey, Open)> = self
            .open
            .drain()
            .flat_map(|(k, q)| q.into_iter().map(move |o| (k.clone(), o)))
            .collect();
        all.sort_by_key(|(_, o)| o.seq);
        for (key, open) in all {
            let end = at.max(open.started);
            self.close(key, open, end, totals);
        }
    }

    fn denied(&mut self, e: EventRef<'_>, totals: &mut Totals) {
        totals.denials += 1;
        let oldest_out = self.max_time.unwrap_or(e.time) - self.window.before - SLACK;
        let key = user_key(e.feature, e.user);
        let retry = self.recent_outs.get(&key).is_some_and(|outs| {
            outs.iter()
                .any(|&o| o >= oldest_out && self.window.contains(e.time, o))
        });
        self.seq += 1;
        self.pending.push_back(Pending {
            seq: self.seq,
            written: false,
            key,
            at: e.time,
            id: None,
            row: Some(NewDenial {
                at: e.time,
                feature: e.feature.to_owned(),
                user: e.user.to_owned(),
                host: e.host.to_owned(),
                count: e.count,
                reason: denial_reason(&e),
                retry,
            }),
        });
    }

    /// Denials whose window (plus slack) is over are final: out of the pending list.
    fn expire_denials(&mut self, now: DateTime<Utc>) {
        let oldest = now - self.window.after - SLACK;
        while self.pending.front().is_some_and(|p| p.at < oldest) {
            if let Some(row) = self.pending.pop_front().and_then(|p| p.row) {
                self.rows.denials.push(row);
            }
        }
    }

    fn sweep(&mut self) {
        let Some(now) = self.max_time else { return };
        let oldest = now - self.window.before - SLACK;
        self.recent_outs.retain(|_, outs| {
            outs.retain(|&o| o >= oldest);
            !outs.is_empty()
        });
    }

    /// The rows of the batch so far; pass the ids the commit returns to [`Self::committed`].
    pub fn take_batch(&mut self) -> BatchRows {
        let oldest = self.max_time.map(|m| m - self.window.after - SLACK);
        let next = BatchRows::sized_like(&self.rows);
        let mut rows = std::mem::replace(&mut self.rows, next);
        // Denials: a retry or one whose window is over is final; the others are written now
        // (not a retry so far) and may still become one.
        let mut keep = VecDeque::with_capacity(self.pending.len());
        for mut p in self.pending.drain(..) {
            let expired = oldest.is_some_and(|o| p.at < o);
            match p.row.take() {
                Some(row) if row.retry || expired => rows.denials.push(row),
                Some(row) => {
                    rows.pending_refs.push(p.seq);
                    rows.pending_denials.push(row);
                    p.written = true;
                    keep.push_back(p);
                }
                None if expired => {}
                None => keep.push_back(p),
            }
        }
        self.pending = keep;
        // Written in the order they were opened, so ids follow the log.
        let mut opened: Vec<(u64, &SessionKey, u64, DateTime<Utc>)> = Vec::new();
        for (key, queue) in self.open.iter_mut() {
            for o in queue.iter_mut().filter(|o| o.id.is_none() && !o.written) {
                o.written = true;
                opened.push((o.seq, key, o.count, o.started));
            }
        }
        opened.sort_unstable_by_key(|&(seq, ..)| seq);
        rows.open_refs.reserve_exact(opened.len());
        rows.open_sessions.reserve_exact(opened.len());
        for (seq, key, count, started_at) in opened {
            rows.open_refs.push((key.clone(), seq));
            rows.open_sessions.push(NewSession {
                feature: key.0.clone(),
                user: key.1.clone(),
                host: key.2.clone(),
                count,
                started_at,
                ended_at: None,
            });
        }
        rows
    }

    /// Records the ids the database gave to the batch's open sessions and pending denials.
    /// Events pushed since that batch may have closed some of them or marked them retries:
    /// those changes go into the next batch now that the ids are known.
    pub fn committed(&mut self, rows: &BatchRows, session_ids: &[i64], denial_ids: &[i64]) {
        for ((key, seq), id) in rows.open_refs.iter().zip(session_ids) {
            if let Some(o) = self
                .open
                .get_mut(key)
                .and_then(|q| q.iter_mut().find(|o| o.seq == *seq))
            {
                o.id = Some(*id);
            } else if let Some(at) = self.late_ends.remove(seq) {
                self.rows.session_ends.push((*id, at));
            }
        }
        for (seq, id) in rows.pending_refs.iter().zip(denial_ids) {
            if let Some(p) = self.pending.iter_mut().find(|p| p.seq == *seq) {
                p.id = Some(*id);
            } else if self.late_retries.remove(seq).is_some() {
                self.rows.retried_denials.push(*id);
            }
        }
    }
}
