//! A job's time limits: its execution duration (parsed, lowered to the
//! maximum) and its destruction time (lowered to the maximum, and the
//! reaper's pass that destroys jobs past it).

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::executor::Executor;
use super::service::Uws;
use crate::error::{Result, UwsError};
use crate::job::now;

fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

pub(super) fn add(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(delta(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// EXECUTIONDURATION: a whole number of seconds, 0 meaning unlimited.
/// Values beyond `xs:int` are lowered to its maximum.
pub fn parse_execution_duration(s: &str) -> Result<u32> {
    let bad = || {
        UwsError::BadRequest(format!(
            "EXECUTIONDURATION must be a whole number of seconds, 0 or more (0: unlimited), \
             not '{s}'"
        ))
    };
    let t = s.trim();
    if t.starts_with('-') {
        return Err(bad());
    }
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        // All digits: only too large to parse, so the xs:int maximum.
        let v: u64 = t.parse().unwrap_or(u64::MAX);
        return Ok(u32::try_from(v.min(i32::MAX as u64)).unwrap_or(i32::MAX as u32));
    }
    Err(bad())
}

impl<E: Executor> Uws<E> {
    pub(super) fn clamp_duration(&self, secs: u32) -> u32 {
        let max = self.config.max_execution_duration;
        if max > 0 && (secs == 0 || secs > max) {
            max
        } else {
            secs
        }
    }

    pub(super) fn clamp_destruction(
        &self,
        creation: DateTime<Utc>,
        t: DateTime<Utc>,
    ) -> DateTime<Utc> {
        t.min(add(creation, self.config.max_destruction))
    }

    /// Destroy every job past its destruction time (what the reaper does
    /// every `reap_interval`). Returns how many were destroyed.
    pub async fn reap(&self) -> Result<usize> {
        self.blocking(|u| {
            let mut n = 0;
            for id in u.store.expired(&now())? {
                if u.delete_sync(&id)? {
                    n += 1;
                }
            }
            Ok(n)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_execution_duration(" 60 ").unwrap(), 60);
        assert_eq!(parse_execution_duration("0").unwrap(), 0);
        assert_eq!(
            parse_execution_duration("99999999999999999999999").unwrap(),
            i32::MAX as u32
        );
        assert!(parse_execution_duration("-1").is_err());
        assert!(parse_execution_duration("1.5").is_err());
        assert!(parse_execution_duration("").is_err());
    }
}
