//! Compliance cases: the alerts and screening hits of one user, worked by reviewers from
//! `open` through `assigned` and `escalated` to `closed` with a disposition. A closed case is
//! never reopened; a new alert on the user opens a new case.

rialto_core::string_enum! {
    /// Where a case is.
    pub enum CaseStatus {
        /// New, in the queue.
        Open = "open",
        /// A reviewer has it.
        Assigned = "assigned",
        /// Sent up for a senior decision.
        Escalated = "escalated",
        /// Decided.
        Closed = "closed",
    }
}

rialto_core::string_enum! {
    /// How a case was decided.
    pub enum Disposition {
        /// Nothing suspicious after all.
        FalsePositive = "false_positive",
        /// A true match, handled without a report (for example an account closed).
        TrueMatch = "true_match",
        /// A suspicious activity report was filed.
        SarFiled = "sar_filed",
    }
}

impl CaseStatus {
    /// Whether a case may move from `self` to `to` (assigning again re-assigns).
    pub fn can_become(self, to: CaseStatus) -> bool {
        use CaseStatus::{Assigned, Closed, Escalated, Open};
        matches!((self, to), (Open | Assigned | Escalated, Assigned | Closed) | (Open | Assigned, Escalated))
    }
}

/// Longest note, characters.
pub const NOTE_MAX: usize = 4_000;

/// Most evidence references on one note.
pub const EVIDENCE_MAX: usize = 20;

#[cfg(test)]
mod tests {
    use super::CaseStatus::*;

    #[test]
    fn the_workflow_moves_forward_and_a_closed_case_stays_closed() {
        assert!(Open.can_become(Assigned) && Open.can_become(Escalated) && Open.can_become(Closed));
        assert!(Assigned.can_become(Assigned) && Assigned.can_become(Escalated));
        assert!(Escalated.can_become(Assigned) && Escalated.can_become(Closed));
        assert!(!Escalated.can_become(Escalated) && !Open.can_become(Open));
        for to in [Open, Assigned, Escalated, Closed] {
            assert!(!Closed.can_become(to));
        }
    }
}
