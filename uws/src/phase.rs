//! The execution phases of a UWS job (UWS 1.1 §2.1.3).

use std::fmt;
use std::str::FromStr;

use crate::error::UwsError;

/// The execution phase of a job, as the UWS schema's `ExecutionPhase`
/// enumerates them.
///
/// This service moves jobs through PENDING → QUEUED → EXECUTING →
/// COMPLETED / ERROR, and to ABORTED from any of the first three. UNKNOWN,
/// HELD, SUSPENDED and ARCHIVED are never entered by this crate but are
/// understood (a HELD job can be run; PHASE=ARCHIVED is a valid list filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Created, accepting parameter changes, not yet asked to run.
    Pending,
    /// Asked to run, waiting for a free execution slot.
    Queued,
    /// Running.
    Executing,
    /// Finished successfully; the results are available.
    Completed,
    /// Finished with an error; see the error summary.
    Error,
    /// Aborted by the client (or the server) before it finished.
    Aborted,
    /// The phase is unknown.
    Unknown,
    /// Held by the server; will not run until asked again.
    Held,
    /// Suspended by the server during execution.
    Suspended,
    /// Archived at destruction time: metadata kept, results gone.
    Archived,
}

impl Phase {
    /// Every phase, in the order of the UWS schema's enumeration.
    pub const ALL: [Phase; 10] = [
        Phase::Pending,
        Phase::Queued,
        Phase::Executing,
        Phase::Completed,
        Phase::Error,
        Phase::Unknown,
        Phase::Held,
        Phase::Suspended,
        Phase::Aborted,
        Phase::Archived,
    ];

    /// The phase's name as UWS writes it (`PENDING`, `EXECUTING`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "PENDING",
            Phase::Queued => "QUEUED",
            Phase::Executing => "EXECUTING",
            Phase::Completed => "COMPLETED",
            Phase::Error => "ERROR",
            Phase::Aborted => "ABORTED",
            Phase::Unknown => "UNKNOWN",
            Phase::Held => "HELD",
            Phase::Suspended => "SUSPENDED",
            Phase::Archived => "ARCHIVED",
        }
    }

    /// Whether a job in this phase will never change phase again
    /// (COMPLETED, ERROR, ABORTED, ARCHIVED).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Phase::Completed | Phase::Error | Phase::Aborted | Phase::Archived
        )
    }

    /// Whether UWS 1.1 blocking (`WAIT`) may wait on a job in this phase
    /// (PENDING, QUEUED, EXECUTING); in any other phase it returns at once.
    pub fn is_active(self) -> bool {
        matches!(self, Phase::Pending | Phase::Queued | Phase::Executing)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Phase {
    type Err = UwsError;

    /// A phase name, ignoring ASCII case and surrounding whitespace.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Phase::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                UwsError::BadRequest(format!(
                    "'{s}' is not a UWS phase (expected one of PENDING, QUEUED, EXECUTING, \
                     COMPLETED, ERROR, ABORTED, UNKNOWN, HELD, SUSPENDED, ARCHIVED)"
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for p in Phase::ALL {
            assert_eq!(p.to_string().parse::<Phase>().unwrap(), p);
            assert_eq!(p.as_str().to_lowercase().parse::<Phase>().unwrap(), p);
        }
        assert!("RUN".parse::<Phase>().is_err());
        assert!(Phase::Completed.is_final() && !Phase::Completed.is_active());
        assert!(Phase::Queued.is_active() && !Phase::Queued.is_final());
    }
}
