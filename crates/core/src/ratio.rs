//! Exact fractions for rates and measures. Thresholds are compared on the fraction itself,
//! never on a rounded display (SPEC 5.1): 7 of 10 equals 0.70 exactly.

use rust_decimal::{Decimal, RoundingStrategy};
use std::cmp::Ordering;

/// `num / den` with `den > 0`.
#[derive(Debug, Clone, Copy)]
pub struct Ratio {
    num: Decimal,
    den: Decimal,
}

impl Ratio {
    /// `None` when the denominator is zero: the rate is undefined and fails no threshold.
    pub fn new(num: impl Into<Decimal>, den: impl Into<Decimal>) -> Option<Ratio> {
        let (num, den) = (num.into(), den.into());
        match den.cmp(&Decimal::ZERO) {
            Ordering::Equal => None,
            Ordering::Greater => Some(Ratio { num, den }),
            Ordering::Less => Some(Ratio {
                num: -num,
                den: -den,
            }),
        }
    }

    pub fn whole(value: Decimal) -> Ratio {
        Ratio {
            num: value,
            den: Decimal::ONE,
        }
    }

    /// The numerator as given: a rate's count (`same_tutor` of `same_tutor / attended`).
    pub fn numerator(&self) -> Decimal {
        self.num
    }

    /// Exact comparison with a decimal threshold.
    pub fn cmp_decimal(&self, threshold: Decimal) -> Ordering {
        self.num.cmp(&(threshold * self.den))
    }

    pub fn lt(&self, threshold: Decimal) -> bool {
        self.cmp_decimal(threshold) == Ordering::Less
    }

    pub fn gt(&self, threshold: Decimal) -> bool {
        self.cmp_decimal(threshold) == Ordering::Greater
    }

    /// The mean of two fractions, exact (the median of an even count).
    pub fn mean(a: Ratio, b: Ratio) -> Ratio {
        Ratio {
            num: a.num * b.den + b.num * a.den,
            den: Decimal::TWO * a.den * b.den,
        }
    }

    /// Rounded to `dp` decimals, half to even, for display.
    pub fn round(&self, dp: u32) -> Decimal {
        let mut d =
            (self.num / self.den).round_dp_with_strategy(dp, RoundingStrategy::MidpointNearestEven);
        d.rescale(dp);
        d
    }

    /// The display form with 4 decimals (`0.8571`).
    pub fn display4(&self) -> String {
        let d = self.round(4);
        if d.is_zero() {
            "0.0000".to_string()
        } else {
            d.to_string()
        }
    }
}

impl PartialEq for Ratio {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ratio {}

impl PartialOrd for Ratio {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.num * other.den).cmp(&(other.num * self.den))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_are_exact_and_equal_passes() {
        let seven_tenths = Ratio::new(7, 10).unwrap();
        assert!(!seven_tenths.lt(Decimal::new(70, 2)));
        let two_thirds = Ratio::new(2, 3).unwrap();
        assert!(two_thirds.lt(Decimal::new(6667, 4)));
        assert!(two_thirds.gt(Decimal::new(6666, 4)));
        assert!(Ratio::new(1, 0).is_none());
        assert_eq!(Ratio::new(-1, -2).unwrap(), Ratio::new(1, 2).unwrap());
    }

    #[test]
    fn display_rounds_half_to_even() {
        assert_eq!(Ratio::new(6, 7).unwrap().display4(), "0.8571");
        assert_eq!(Ratio::new(1, 1).unwrap().display4(), "1.0000");
        assert_eq!(Ratio::new(1, 16).unwrap().display4(), "0.0625");
        assert_eq!(Ratio::new(1, 32).unwrap().display4(), "0.0312");
        assert_eq!(Ratio::new(-1, 8).unwrap().display4(), "-0.1250");
        let mid = Ratio::mean(Ratio::new(1, 2).unwrap(), Ratio::new(1, 3).unwrap());
        assert_eq!(mid, Ratio::new(5, 12).unwrap());
    }
}
