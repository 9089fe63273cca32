//! Money is `rust_decimal::Decimal`, never a float. Amounts are rounded once, to cents, half to
//! even (SPEC 5.6).

use rust_decimal::{Decimal, RoundingStrategy};

/// Rounds an unrounded amount to cents, half to even: 600.025 -> 600.02.
pub fn round_cents(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointNearestEven)
}

/// Formats a rounded amount with exactly two decimals (`360.10`, `0.00`).
pub fn format_cents(amount: Decimal) -> String {
    let mut a = round_cents(amount);
    a.rescale(2);
    if a.is_zero() {
        return "0.00".to_string();
    }
    a.to_string()
}

/// Converts an amount to integer cents for storage (exact after [`round_cents`]).
pub fn to_cents(amount: Decimal) -> i64 {
    let scaled = round_cents(amount) * Decimal::ONE_HUNDRED;
    i64::try_from(scaled).expect("amount in cents fits in i64")
}

/// Converts stored integer cents back to a decimal amount.
pub fn from_cents(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn rounds_half_to_even() {
        assert_eq!(round_cents(d("600.025")), d("600.02"));
        assert_eq!(round_cents(d("600.035")), d("600.04"));
        assert_eq!(round_cents(d("360.015")), d("360.02"));
        assert_eq!(round_cents(d("-0.005")), d("0.00"));
    }

    #[test]
    fn formats_two_decimals_and_round_trips_cents() {
        assert_eq!(format_cents(d("360.1")), "360.10");
        assert_eq!(format_cents(d("-0.00")), "0.00");
        assert_eq!(format_cents(d("12")), "12.00");
        assert_eq!(from_cents(to_cents(d("720.03"))), d("720.03"));
    }
}
