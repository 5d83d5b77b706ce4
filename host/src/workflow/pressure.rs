//! Cache pressure: when the process nears the kernel's mapping limit
//! (`vm.max_map_count`), the least recently used cached runs are evicted
//! (they replay at their next task) before an allocation fails. Without
//! this, a host whose `max_cached_workflows` is above what its mappings
//! allow stops serving every task with "Cannot allocate memory" once the
//! limit is reached, since core evicts only at its configured maximum.

use std::time::Duration;

/// How often a worker checks the pressure.
pub(super) const CHECK_EVERY: Duration = Duration::from_secs(1);
/// The share of `vm.max_map_count` above which runs are evicted.
pub(super) const HIGH_WATER: f64 = 0.8;
/// The share of the cached runs evicted per check while above it.
pub(super) const EVICT_SHARE: f64 = 0.1;

/// The mapping budget of this process.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pressure {
    max_maps: usize,
}

impl Pressure {
    /// The budget from `/proc/sys/vm/max_map_count` (65,530, the kernel's
    /// default, when it cannot be read).
    pub(super) fn from_kernel() -> Pressure {
        let max_maps = std::fs::read_to_string("/proc/sys/vm/max_map_count")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(65_530);
        Pressure { max_maps }
    }

    /// How many of `cached` runs to evict now (0 when there is room).
    pub(super) fn evictions(&self, cached: usize) -> usize {
        if cached == 0 {
            return 0;
        }
        match current_maps() {
            Some(maps) => self.evictions_at(maps, cached),
            None => 0,
        }
    }

    fn evictions_at(&self, maps: usize, cached: usize) -> usize {
        if (maps as f64) < self.max_maps as f64 * HIGH_WATER || cached == 0 {
            return 0;
        }
        ((cached as f64 * EVICT_SHARE).ceil() as usize).max(1)
    }
}

/// The number of mappings this process has now.
fn current_maps() -> Option<usize> {
    let maps = std::fs::read("/proc/self/maps").ok()?;
    Some(maps.iter().filter(|&&b| b == b'\n').count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_a_share_of_the_cache_only_above_the_high_water_mark() {
        let p = Pressure { max_maps: 1000 };
        assert_eq!(p.evictions_at(799, 500), 0, "below the mark");
        assert_eq!(p.evictions_at(800, 500), 50, "a tenth of the cache");
        assert_eq!(p.evictions_at(990, 3), 1, "at least one");
        assert_eq!(p.evictions_at(990, 0), 0, "nothing to evict");
    }

    #[test]
    fn this_process_has_mappings_to_count() {
        assert!(current_maps().is_some_and(|n| n > 0));
        assert!(Pressure::from_kernel().max_maps > 0);
    }
}
