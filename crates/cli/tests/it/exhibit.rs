//! `obc exhibit`: the printable rate-card exhibit of a contract document.

use crate::support::{example, Obc};

#[test]
fn exhibit_writes_a_printable_page_with_the_contract_hash_and_engine_amounts() {
    let obc = Obc::new();
    let contract = example("contract.toml");
    let source = std::fs::read(&contract).unwrap();
    let hash = obc_core::engine::sha256_hex(&source);
    let out = obc.path("exhibit.html");
    obc.ok(&["exhibit", &contract, "--out", out.to_str().unwrap()]);
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        html.contains(&hash),
        "the contract's SHA-256 is on the page"
    );
    assert!(html.contains("@media print"));
    assert!(html.contains("Worked examples"));

    // The JSON form carries the same worked examples, each paid by the engine.
    let json: serde_json::Value =
        serde_json::from_str(&obc.ok(&["exhibit", &contract, "--format", "json"])).unwrap();
    assert_eq!(json["contract_hash"], hash.as_str());
    let examples = json["examples"].as_array().unwrap();
    assert!(examples.len() >= 3);
    for x in examples {
        let total = x["total"].as_str().unwrap();
        let shown = obc_core::money::format_dollars(total.parse().unwrap());
        assert!(html.contains(&shown), "{shown} is printed in the page");
    }
}

#[test]
fn exhibit_refuses_an_invalid_contract_with_its_line() {
    let obc = Obc::new();
    let bad = obc.write("bad.toml", "id = \"x\"\nprice_per_student = 12\n");
    let err = obc.fails(&["exhibit", &bad]);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("line "), "{err}");
}
