//! Exports of a contract in other data standards: INDIGO for outcomes contracts (SPEC 8) and
//! Ed-Fi for a district's operational data store. Pure mappings: the caller gathers the data.

pub mod edfi;
pub mod indigo;

use rust_decimal::Decimal;
use serde_json::{Number, Value};

/// An organisation as documents name it: its obc id and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub id: String,
    pub name: String,
}

/// An amount as a JSON number, written from its exact decimal text in cents (`1234.56`).
/// Amounts have at most 12 significant digits (below a billion dollars, in cents), which a
/// JSON reader's double holds exactly, so the number reads back as the same decimal.
pub fn money_number(amount: Decimal) -> Value {
    let text = crate::money::format_cents(amount);
    Value::Number(
        text.parse::<Number>()
            .expect("a decimal in cents is a JSON number"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_numbers_read_back_as_the_same_cents() {
        for text in ["0", "0.01", "1234.56", "600000", "999999999.99", "-20.50"] {
            let amount: Decimal = text.parse().unwrap();
            let written = money_number(amount).to_string();
            let read: Decimal = written.parse().unwrap();
            assert_eq!(read, amount, "{text} was written as {written}");
        }
    }
}
