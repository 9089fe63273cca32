//! Unit tests of the rules of SPEC section 5, amounts computed by hand.
use super::*;
