//! Money is `rust_decimal::Decimal`, never a float. Amounts are rounded once, to cents, half to
//! even (SPEC 5.6).

use rust_decimal::{Decimal, RoundingStrategy};

/// Every decimal a contract states (prices, the NTE, shares, thresholds, tiers, bands,
/// projections) and every score the engine computes with is below this in magnitude, with at
/// most [`MAX_DECIMAL_PLACES`] decimals. These bounds keep every product and quotient the engine
/// forms far inside `Decimal`'s range, so its arithmetic cannot overflow.
pub const MAX_MAGNITUDE: Decimal = Decimal::from_parts(1_000_000_000, 0, 0, false, 0);

/// See [`MAX_MAGNITUDE`].
pub const MAX_DECIMAL_PLACES: u32 = 6;

/// What is wrong with a decimal outside [`MAX_MAGNITUDE`] or [`MAX_DECIMAL_PLACES`], if anything.
pub fn bounds_problem(value: Decimal) -> Option<String> {
    if value.abs() >= MAX_MAGNITUDE {
        Some(format!("must be below {MAX_MAGNITUDE} in magnitude"))
    } else if value.normalize().scale() > MAX_DECIMAL_PLACES {
        Some(format!("has more than {MAX_DECIMAL_PLACES} decimal places"))
    } else {
        None
    }
}

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

/// Formats an amount as a finance office reads it: a dollar sign, thousands separators and
/// exactly two decimals, rounded half to even like every amount (`$1,234.56`, `-$0.05`,
/// `$0.00`). For documents people file; machine-readable files keep [`format_cents`].
pub fn format_dollars(amount: Decimal) -> String {
    let plain = format_cents(amount);
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain.as_str()),
    };
    let (whole, cents) = digits
        .split_once('.')
        .expect("format_cents writes two decimals");
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}${grouped}.{cents}")
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

    #[test]
    fn dollars_have_a_sign_thousands_separators_and_cents() {
        assert_eq!(format_dollars(d("1234.56")), "$1,234.56");
        assert_eq!(format_dollars(d("600000")), "$600,000.00");
        assert_eq!(format_dollars(d("999.999")), "$1,000.00");
        assert_eq!(format_dollars(d("999.99")), "$999.99");
        assert_eq!(format_dollars(d("123456789.015")), "$123,456,789.02");
        assert_eq!(format_dollars(d("0")), "$0.00");
        assert_eq!(format_dollars(d("-0.004")), "$0.00");
        assert_eq!(format_dollars(d("-1234.5")), "-$1,234.50");
        assert_eq!(format_dollars(d("-1234567.89")), "-$1,234,567.89");
        assert_eq!(format_dollars(d("-0.05")), "-$0.05");
        assert_eq!(format_dollars(d("600.025")), "$600.02");
    }

    #[test]
    fn bounds_are_a_billion_and_six_decimals() {
        assert_eq!(bounds_problem(d("999999999.999999")), None);
        assert_eq!(bounds_problem(d("-999999999.999999")), None);
        assert_eq!(bounds_problem(d("0.4000000")), None);
        assert!(bounds_problem(d("1000000000"))
            .unwrap()
            .contains("below 1000000000"));
        assert!(bounds_problem(d("-1000000000")).is_some());
        assert!(bounds_problem(d("0.0000001"))
            .unwrap()
            .contains("6 decimal places"));
    }
}
