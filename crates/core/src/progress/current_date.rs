//! The date progress and meetings are judged at when nobody names one: the contract's current
//! date. A contract that ended is looked at as of its end, so "next due" is never in the past
//! and action items of its meetings are not born overdue; one not started yet, as of its start.

use crate::contract::Contract;
use time::Date;

/// `today` clamped to the contract's period: its start before it starts, its end once it ended.
pub fn current_date(contract: &Contract, today: Date) -> Date {
    today.clamp(contract.period.start, contract.period.end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_kit::{contract, day};

    #[test]
    fn today_is_clamped_to_the_contract_period() {
        let k = contract(&[]);
        let (start, end) = (k.period.start, k.period.end);
        let inside = start + time::Duration::days(10);
        assert_eq!(current_date(&k, inside), inside);
        assert_eq!(current_date(&k, end + time::Duration::days(400)), end);
        assert_eq!(current_date(&k, start - time::Duration::days(1)), start);
        assert_eq!(current_date(&k, day("2200-01-01")), end);
    }
}
