//! Grade levels, normalised so that `"05"`, `"5"` and `5` are one grade and `K`/`KG`/`0`/`00`
//! are kindergarten (SPEC section 4).

use std::fmt;

/// A normalised grade: kindergarten is 0, pre-kindergarten -1; other text is kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Grade {
    Level(i8),
    Other(String),
}

impl Grade {
    /// Normalises the grade as districts write it. Returns `None` for a blank value.
    pub fn parse(text: &str) -> Option<Grade> {
        let t = text.trim();
        if t.is_empty() {
            return None;
        }
        let upper = t.to_ascii_uppercase();
        match upper.as_str() {
            "K" | "KG" => return Some(Grade::Level(0)),
            "PK" | "PREK" | "P" => return Some(Grade::Level(-1)),
            _ => {}
        }
        if t.bytes().all(|b| b.is_ascii_digit()) && t.len() <= 3 {
            if let Ok(n) = t.parse::<i8>() {
                return Some(Grade::Level(n));
            }
        }
        Some(Grade::Other(t.to_string()))
    }
}

impl Grade {
    /// Whether a roster's grade is in OneRoster's vocabulary (SPEC 3.1): `IT`, `PR`, `PK`, `TK`,
    /// `KG`, `01`-`13`, `PS`, `UG`, `Other`, also unpadded `1`-`13` and `K` (any case), and
    /// `0` / `00` for kindergarten as SIS exports write it (SPEC 4 normalises them everywhere).
    /// Blank is allowed too (an unknown grade); `seven` or `14` is not.
    pub fn in_vocabulary(text: &str) -> bool {
        const WORDS: [&str; 10] = ["", "IT", "PR", "PK", "TK", "KG", "K", "PS", "UG", "OTHER"];
        let t = text.trim();
        if WORDS.contains(&t.to_ascii_uppercase().as_str()) {
            return true;
        }
        let number = match t.as_bytes() {
            [d] if d.is_ascii_digit() => t,
            [b'0' | b'1', d] if d.is_ascii_digit() => t,
            _ => return false,
        };
        matches!(number.parse::<u8>(), Ok(0..=13))
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Grade::Level(0) => f.write_str("K"),
            Grade::Level(-1) => f.write_str("PK"),
            Grade::Level(n) => write!(f, "{n}"),
            Grade::Other(s) => f.write_str(s),
        }
    }
}

impl serde::Serialize for Grade {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Grade {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Grade::parse(&text).ok_or_else(|| serde::de::Error::custom("a grade"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_zeros_and_kindergarten_normalise() {
        assert_eq!(Grade::parse("05"), Grade::parse("5"));
        for k in ["K", "KG", "kg", "0", "00"] {
            assert_eq!(Grade::parse(k), Some(Grade::Level(0)), "{k}");
        }
        assert_eq!(Grade::parse(" "), None);
        assert_eq!(Grade::parse("12").unwrap().to_string(), "12");
        assert_eq!(
            Grade::parse("Ungraded"),
            Some(Grade::Other("Ungraded".into()))
        );
    }

    #[test]
    fn oneroster_vocabulary() {
        for ok in [
            "", " ", "IT", "PR", "PK", "TK", "KG", "kg", "K", "0", "00", "01", "1", "09", "10",
            "13", "PS", "UG", "Other",
        ] {
            assert!(Grade::in_vocabulary(ok), "{ok:?}");
        }
        for bad in [
            "seven", "14", "013", "-1", "+5", "1.0", "Ungraded", "Grade 5",
        ] {
            assert!(!Grade::in_vocabulary(bad), "{bad:?}");
        }
    }
}
