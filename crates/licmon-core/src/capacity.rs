//! The capacity limit (SPEC §2 "License Exceeded"): servers with at least one data source
//! enabled count; the oldest by creation fill `max_license_servers`; the rest are over capacity
//! until room is made.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::server::ServerId;

/// What capacity needs to know of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapacityEntry {
    pub id: ServerId,
    pub created_at: DateTime<Utc>,
    pub any_source_enabled: bool,
}

/// The ids of servers the limit leaves no room for. `None` means unlimited.
pub fn over_capacity(entries: &[CapacityEntry], max: Option<u32>) -> HashSet<ServerId> {
    let Some(max) = max else {
        return HashSet::new();
    };
    let mut counted: Vec<&CapacityEntry> =
        entries.iter().filter(|e| e.any_source_enabled).collect();
    // Ties in creation time fall back to the id, which grows with creation order.
    counted.sort_by_key(|e| (e.created_at, e.id));
    counted
        .into_iter()
        .skip(max as usize)
        .map(|e| e.id)
        .collect()
}

/// Used / limit, for the Administration › Capacity page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CapacityUsage {
    pub used: u32,
    pub limit: Option<u32>,
}

impl CapacityUsage {
    pub fn of(entries: &[CapacityEntry], max: Option<u32>) -> Self {
        let used = entries.iter().filter(|e| e.any_source_enabled).count() as u32;
        Self { used, limit: max }
    }

    /// SPEC §2: the admin page shows capacity red from 90 %.
    pub fn is_critical(self) -> bool {
        self.limit
            .is_some_and(|limit| limit == 0 || self.used as u64 * 10 >= limit as u64 * 9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn entry(id: ServerId, minute: u32, enabled: bool) -> CapacityEntry {
        CapacityEntry {
            id,
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, minute, 0).unwrap(),
            any_source_enabled: enabled,
        }
    }

    #[test]
    fn unlimited_leaves_everyone_in() {
        let entries = [entry(1, 0, true), entry(2, 1, true)];
        assert!(over_capacity(&entries, None).is_empty());
    }

    #[test]
    fn oldest_fill_the_capacity_and_room_brings_the_rest_back() {
        let mut entries = vec![entry(3, 5, true), entry(1, 1, true), entry(2, 2, true)];
        assert_eq!(over_capacity(&entries, Some(2)), HashSet::from([3]));
        // Disabling an older server makes room: the newest comes back by itself.
        entries[1].any_source_enabled = false;
        assert!(over_capacity(&entries, Some(2)).is_empty());
        // Lowering the limit pushes out the newest first.
        entries[1].any_source_enabled = true;
        assert_eq!(over_capacity(&entries, Some(1)), HashSet::from([2, 3]));
    }

    #[test]
    fn disabled_servers_do_not_count_and_are_never_over() {
        let entries = [entry(1, 0, false), entry(2, 1, true)];
        assert!(over_capacity(&entries, Some(1)).is_empty());
        assert_eq!(over_capacity(&entries, Some(0)), HashSet::from([2]));
    }

    #[test]
    fn usage_turns_red_from_ninety_percent() {
        let entries: Vec<_> = (0..9).map(|i| entry(i, i as u32, true)).collect();
        assert!(CapacityUsage::of(&entries, Some(10)).is_critical());
        assert!(!CapacityUsage::of(&entries[..8], Some(10)).is_critical());
        assert!(!CapacityUsage::of(&entries, None).is_critical());
    }
}
